"""What a new user trips over, in runs (issue 18): a failing run with a step nobody can take still
ends on `run --timeout` and on `workflow cancel`; agent globs and a computed `*` target; the
original's `${path}` left as text is warned about; run tables in file order; approval messages
and approvers outside the list; `run --local` with the agent's flags and `-q`."""

import json
import os
import stat

from e2e_helpers import assert_one_error_line, stderr_lines, wait_until
from workflow_helpers import run_record, step, wait_run, write_wf

STUCK_WF = """
    id: stuck
    steps:
      - id: bad
        run: "exit 3"
      - id: stuck
        command: echo
        target: nobody
        payload: never
"""


def test_run_timeout_ends_a_failing_run_whose_other_step_no_agent_can_take(mesh, hub):
    mesh.start_agent(hub, "w1")
    path = write_wf(mesh, "stuck", STUCK_WF)
    rc, out, err = mesh.cli("run", path, "--timeout", "4s", "-o", "json", hub=hub, timeout=40)
    run = json.loads(out)
    # The run failed first (step bad); the timeout then stopped the step that waited for "nobody".
    assert rc == 1, f"rc={rc} err={err!r}"
    assert run["state"] == "failed", run
    assert step(run, "bad")["state"] == "failed"
    assert step(run, "stuck")["state"] == "cancelled", step(run, "stuck")
    job_id = step(run, "stuck")["job_id"]
    assert (f'orbitmesh: step stuck: job {job_id} is still pending: no connected agent is named "nobody"'
            in stderr_lines(err)), err
    assert stderr_lines(err)[-1].startswith(f"orbitmesh: run {run['id']} failed: step bad failed"), err


def test_workflow_cancel_ends_a_failing_run_whose_other_step_no_agent_can_take(mesh, hub):
    mesh.start_agent(hub, "w1")
    path = write_wf(mesh, "stuck", STUCK_WF)
    rc, out, err = mesh.cli("run", path, "--detach", hub=hub)
    assert rc == 0, err
    run_id = out.strip()
    wait_until(lambda: step(run_record(hub, run_id), "bad")["state"] == "failed", 20, "step bad to fail")
    assert run_record(hub, run_id)["state"] == "running", "the run waits for its running step"
    rc, out, err = mesh.cli("workflow", "cancel", run_id, hub=hub)
    assert rc == 0, err
    run = wait_run(hub, run_id, timeout=20)
    assert run["state"] == "failed", run
    assert step(run, "stuck")["state"] == "cancelled", run
    job = hub.job(step(run, "stuck")["job_id"])
    assert job["state"] == "cancelled", job


def test_target_globs_and_a_computed_star_reach_agents_by_name(mesh, hub):
    for name in ("a1", "b1"):
        mesh.start_agent(hub, name)
    path = write_wf(mesh, "globs", """
        id: globs
        inputs:
          p: {type: string, default: "*"}
        steps:
          - id: one-letter
            command: echo
            target: "a?"
            payload: hi
          - id: star
            command: echo
            target: "a*"
            payload: hi
          - id: computed
            command: echo
            pattern: "${{ inputs.p }}"
            payload: hi
    """)
    rc, out, err = mesh.cli("run", path, "-o", "json", "--timeout", "30s", hub=hub, timeout=60)
    assert rc == 0, f"rc={rc} err={err!r}"
    run = json.loads(out)
    assert step(run, "one-letter")["agent"] == "a1", run
    assert step(run, "star")["agent"] == "a1", run
    assert step(run, "computed")["agent"] in ("a1", "b1"), run


MIXED_WF = """
    id: mixed
    inputs:
      service_name: {type: string, default: web}
    steps:
      - id: a
        command: echo
        payload:
          serviceName: "${input.service_name}"
          ours: "${{ inputs.service_name }}"
      - id: b
        run: "echo ${HOME} ${x.y}"
"""


def test_validate_warns_with_file_and_line_about_the_originals_path_left_as_text(mesh):
    path = write_wf(mesh, "mixed", MIXED_WF)
    rc, out, err = mesh.cli("workflow", "validate", path)
    assert rc == 0, err
    warnings = [l for l in stderr_lines(err) if "warning" in l]
    assert warnings == [
        f'{path}:8: warning: step "a" payload: "${{input.service_name}}" is the original format\'s expression; '
        "this file is read in OrbitMesh's format (it writes ${{ … }}), so it stays literal text "
        "(write ${{ input.service_name }})"], err
    rc, out, err = mesh.cli("workflow", "validate", "--strict", path)
    assert rc == 2, err


def test_run_tables_list_steps_in_file_order(mesh, hub):
    mesh.start_agent(hub, "w1")
    path = write_wf(mesh, "order", """
        id: order
        steps:
          - id: zulu
            command: echo
            payload: z
            depends_on: [alpha]
          - id: alpha
            command: echo
            payload: a
    """)
    rc, out, err = mesh.cli("run", path, "-o", "json", hub=hub)
    assert rc == 0, err
    run = json.loads(out)
    assert [s["id"] for s in run["steps"]] == ["zulu", "alpha"], run["steps"]
    rc, out, err = mesh.cli("status", run["id"], hub=hub)
    assert rc == 0, err
    rows = [l.split()[0] for l in out.splitlines()[2:] if l.strip()]
    assert rows[:2] == ["zulu", "alpha"], out


APPROVAL_WF = """
    id: gated
    inputs:
      env: {type: string, default: prod}
    steps:
      - id: gate
        type: approval
        approvers: [alice, bob]
        message: "Deploy to ${{ inputs.env }}?"
"""


def test_approval_message_is_shown_and_an_approver_outside_the_list_is_exit_2(mesh, hub):
    path = write_wf(mesh, "gated", APPROVAL_WF)
    rc, out, err = mesh.cli("run", path, "--detach", hub=hub)
    assert rc == 0, err
    run_id = out.strip()
    wait_until(lambda: step(run_record(hub, run_id), "gate")["state"] == "waiting", 20, "the approval to wait")
    assert step(run_record(hub, run_id), "gate")["message"] == "Deploy to prod?"
    rc, out, err = mesh.cli("status", run_id, hub=hub)
    assert rc == 0, err
    assert (f"approval gate: Deploy to prod?  (orbitmesh workflow approve {run_id} --step gate)"
            in out.splitlines()), out
    rc, out, err = mesh.cli("workflow", "approve", run_id, "--step", "gate", "--approver", "mallory", hub=hub)
    line = assert_one_error_line(rc, out, err, 2, "workflow approve --approver mallory")
    assert line == ('orbitmesh: error: approver "mallory" may not approve step gate '
                    '(allowed: ["alice","bob"])'), line
    rc, out, err = mesh.cli("workflow", "approve", run_id, "--step", "gate", "--approver", "alice", hub=hub)
    assert rc == 0, err
    assert wait_run(hub, run_id, timeout=20)["state"] == "succeeded"


def test_run_local_takes_the_agents_handlers_tags_capabilities_and_q_silences_it(mesh):
    hdir = mesh.path("handlers")
    os.makedirs(hdir)
    plugin = os.path.join(hdir, "greet.local")
    with open(plugin, "w", encoding="utf-8") as f:
        f.write("#!/bin/sh\nread -r p\necho \"{\\\"greeted\\\": $p}\"\n")
    os.chmod(plugin, os.stat(plugin).st_mode | stat.S_IXUSR)
    path = write_wf(mesh, "local", """
        id: local
        steps:
          - id: hi
            command: greet.local
            payload: {who: you}
            capabilities: [gpu]
            tags: {zone: x}
    """)
    data = mesh.path("local-data")
    rc, out, err = mesh.cli("run", path, "--local", "--data-dir", data, "--handlers", hdir, "--tag", "zone=x",
                            "--capability", "gpu", "-q", "-o", "json", timeout=60)
    assert rc == 0, f"rc={rc} err={err!r}"
    assert err == "", f"-q must silence the in-process hub and agent: {err!r}"
    assert step(json.loads(out), "hi")["output"] == {"greeted": {"who": "you"}}
    rc, out, err = mesh.cli("run", path, "--handlers", hdir)
    line = assert_one_error_line(rc, out, err, 2, "run --handlers without --local")
    assert line.startswith("orbitmesh: error: --handlers, --tag and --capability describe the private agent "
                           "of --local"), line
