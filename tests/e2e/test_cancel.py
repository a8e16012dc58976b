"""Cancellation reaches the process: the job's process is gone, the job is cancelled and
`job submit --wait` exits 5."""

import json
import os

import pytest

from e2e_helpers import find_sleep_procs, wait_until
from pg_server import both_stores


@both_stores
@pytest.mark.deadline(60)
def test_cancel_running_shell_job_kills_it_and_wait_exits_5(mesh, hub):
    agent = mesh.start_agent(hub, "a1", concurrency=2)
    waiter = mesh.cli_background("job", "submit", "--wait", "-o", "json", "--",
                                 "shell", "sleep", "600", hub=hub, name="submit-wait")
    job_id = wait_until(lambda: (hub.jobs() or [{}])[0].get("id"), 15, "the job to be listed")
    wait_until(lambda: hub.job(job_id)["state"] == "running", 15, "job running")
    wait_until(lambda: find_sleep_procs(agent.pid, "600"), 10,
               "a `sleep 600` process under the agent")

    rc, out, err = mesh.cli("job", "cancel", job_id, hub=hub)
    assert rc == 0, f"job cancel: exit {rc}, stderr={err!r}"

    wait_until(lambda: not find_sleep_procs(agent.pid, "600"), 12,
               "the `sleep 600` process to be gone (grace period 10s)")
    rec = hub.wait_job(job_id, timeout=15)
    assert rec["state"] == "cancelled", rec
    try:
        out, _ = waiter.popen.communicate(timeout=15)
    except Exception:
        raise AssertionError("`job submit --wait` did not end after the cancel") from None
    assert waiter.popen.returncode == 5, \
        f"job submit --wait exit {waiter.popen.returncode} (expected 5); stdout={out!r}"
    final = json.loads(out)
    assert final["state"] == "cancelled" and final["id"] == job_id, final


@pytest.mark.deadline(60)
def test_cancel_kills_a_process_that_ignores_sigterm_after_the_grace_period(mesh, hub):
    agent = mesh.start_agent(hub, "a1", concurrency=2)
    job_id = hub.submit({"command": "shell", "payload": "trap '' TERM; sleep 601"})["id"]
    wait_until(lambda: find_sleep_procs(agent.pid, "601"), 15, "`sleep 601` under the agent")
    status, body = hub.post(f"/api/v1/jobs/{job_id}/cancel", {"reason": "e2e"})
    assert status == 200, (status, body)
    wait_until(lambda: not find_sleep_procs(agent.pid, "601"), 20,
               "the SIGTERM-ignoring `sleep 601` to be SIGKILLed after the grace period")
    rec = hub.wait_job(job_id, timeout=15)
    assert rec["state"] == "cancelled", rec


@both_stores
@pytest.mark.deadline(60)
def test_cancelled_pending_job_never_runs(mesh, hub):
    mesh.start_agent(hub, "plain")
    marker = mesh.path("must-not-exist")
    job_id = hub.submit({"command": "shell", "payload": f"touch {marker}",
                         "target": {"capabilities": ["later"]}})["id"]
    rc, out, err = mesh.cli("job", "cancel", job_id, hub=hub)
    assert rc == 0, (rc, out, err)
    assert hub.job(job_id)["state"] == "cancelled"
    mesh.start_agent(hub, "later-box", capabilities=["later"])
    # A job submitted after it for the same agent runs: dispatch (FIFO) has passed the cancelled one.
    after = hub.wait_job(hub.submit({"command": "echo", "payload": "after",
                                     "target": {"capabilities": ["later"]}})["id"])
    assert after["state"] == "succeeded", after
    rec = hub.job(job_id)
    assert rec["state"] == "cancelled", rec
    assert not os.path.exists(marker), "a cancelled job ran"
