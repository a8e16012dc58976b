"""Resource limits per job and per workflow step (SPEC §3 `limits`): enforced by the agent in the
job's own process (rlimits) and by the agent itself (output); a job over a limit is killed and
ends `failed` with the limit named."""

import json
import os
import textwrap

import pytest

from e2e_helpers import assert_one_error_line


def submit_wait(mesh, hub, *args, timeout=60):
    rc, out, err = mesh.cli("job", "submit", "--wait", "-o", "json", *args, hub=hub, timeout=timeout)
    assert out.strip(), f"no job record on stdout: rc={rc} stderr={err}"
    return rc, json.loads(out)


@pytest.fixture
def hub_agent(mesh):
    hub = mesh.start_hub()
    mesh.start_agent(hub, "limited", concurrency=2)
    return hub


def test_cpu_limit_kills_a_busy_loop_and_names_the_limit(mesh, hub_agent):
    rc, job = submit_wait(mesh, hub_agent, "--limit", "cpu_seconds=1", "--", "shell", "while :; do :; done")
    assert rc == 1 and job["state"] == "failed", job
    assert "over its CPU limit (cpu_seconds: 1)" in job["error"], job["error"]
    assert job["limits"] == {"cpu_seconds": 1}


def test_memory_limit_refuses_an_allocation_past_it(mesh, hub_agent):
    script = "python3 -c 'b = bytearray(400 * 1024 * 1024); print(len(b))'"
    rc, job = submit_wait(mesh, hub_agent, "--limit", "memory_mb=100", "--", "shell", script)
    assert rc == 1 and job["state"] == "failed", job
    assert "over its memory limit (memory_mb: 100)" in job["error"], job["error"]
    # The same allocation without the limit succeeds: the limit, not the machine, stopped it.
    rc, job = submit_wait(mesh, hub_agent, "--", "shell", script)
    assert rc == 0 and job["state"] == "succeeded", job


def test_output_limit_kills_a_chatty_job_and_keeps_output_within_it(mesh, hub_agent):
    rc, job = submit_wait(mesh, hub_agent, "--limit", "output_bytes=20000", "--", "shell", "yes orbitmesh")
    assert rc == 1 and job["state"] == "failed", job
    assert "over its output limit (output_bytes: 20000)" in job["error"], job["error"]
    assert len(job["output"]) <= 20000


def test_files_limit_caps_open_files(mesh, hub_agent):
    script = "python3 -c 'fs = [open(\"/dev/null\") for _ in range(64)]'"
    rc, job = submit_wait(mesh, hub_agent, "--limit", "files=16", "--", "shell", script)
    assert rc == 1 and "Too many open files" in job["error"], job
    rc, job = submit_wait(mesh, hub_agent, "--limit", "files=256", "--", "shell", script)
    assert rc == 0, job


def test_a_workflow_step_has_limits_of_its_own(mesh, hub_agent):
    wf = mesh.path("limited.yaml")
    with open(wf, "w", encoding="utf-8") as f:
        f.write(textwrap.dedent("""\
            id: limited
            steps:
              - id: free
                run: echo fine
              - id: spin
                depends_on: [free]
                run: "while :; do :; done"
                limits: {cpu_seconds: 1}
            """))
    rc, out, err = mesh.cli("run", wf, "-o", "json", hub=hub_agent, timeout=60)
    assert rc == 1, (rc, out, err)
    run = json.loads(out)
    steps = {s["id"]: s for s in run["steps"]}
    assert steps["free"]["state"] == "succeeded"
    assert steps["spin"]["state"] == "failed"
    assert "cpu_seconds: 1" in json.dumps(steps["spin"]), steps["spin"]


def test_bad_limits_are_refused_before_anything_runs(mesh, hub_agent):
    rc, out, err = mesh.cli("job", "submit", "--limit", "memry_mb=5", "--", "echo", "x", hub=hub_agent)
    line = assert_one_error_line(rc, out, err, 2, "job submit --limit memry_mb=5")
    assert '"limits.memry_mb" is not a limit' in line and 'did you mean "memory_mb"' in line, line
    rc, out, err = mesh.cli("job", "submit", "--limit", "cpu_seconds=-1", "--", "echo", "x", hub=hub_agent)
    assert_one_error_line(rc, out, err, 2, "job submit --limit cpu_seconds=-1")
    wf = mesh.path("bad-limits.yaml")
    with open(wf, "w", encoding="utf-8") as f:
        f.write("id: bad\nsteps:\n  - id: a\n    run: 'true'\n    limits: {cpu_secs: 1}\n")
    rc, out, err = mesh.cli("workflow", "validate", wf)
    assert rc == 2 and "cpu_secs" in (out + err) and "cpu_seconds" in (out + err), (rc, out, err)
