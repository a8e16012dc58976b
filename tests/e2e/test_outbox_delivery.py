"""A job that finishes while the hub is down is delivered from the agent's outbox after the
hub comes back on the same port and data dir, and is not run again."""

import os

import pytest

from e2e_helpers import (FAST_RECONNECT, assert_store_verifies, descendant_cmdlines, descendants, job_agent_name,
                         terminal_events_by_job, wait_until)


def file_state(path):
    """(size, mtime in ns) of a file, (0, 0) while it does not exist."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return (0, 0)
    return (st.st_size, st.st_mtime_ns)


def line_count(path):
    try:
        with open(path, encoding="utf-8") as f:
            return sum(1 for line in f if line.strip())
    except FileNotFoundError:
        return 0


@pytest.mark.deadline(90)
@pytest.mark.parametrize("how", ["sigterm", "sigkill"])
def test_result_of_a_job_finished_while_hub_down_is_delivered_once(mesh, registry, how):
    hub = mesh.start_hub()
    agent = mesh.start_agent(hub, "a1", concurrency=2, args=FAST_RECONNECT)
    counter = mesh.path("counter")
    job_id = hub.submit({"command": "shell", "payload": f"sleep 3; echo x >> {counter}"})["id"]
    wait_until(lambda: hub.job(job_id)["state"] == "running", 15, "job running")

    if how == "sigkill":
        registry.kill9(hub.proc)
    else:
        rc = registry.stop(hub.proc)
        assert rc == 0, f"hub exit code after SIGTERM: {rc}"
    assert line_count(counter) == 0, \
        "the job (sleep 3) finished before the hub was down: stopping the hub took too long"
    # the job ends while there is no hub; the agent keeps running
    wait_until(lambda: line_count(counter) == 1, 15, "the job to finish while the hub is down")
    assert agent.proc.alive(), f"agent died while the hub was down:\n{agent.proc.log_tail()}"
    assert os.path.exists(os.path.join(agent.data_dir, "outbox.db")), \
        f"no outbox.db in {agent.data_dir}: {os.listdir(agent.data_dir)}"

    hub2 = mesh.restart_hub(hub)
    rec = hub2.wait_job(job_id, timeout=30)
    assert rec["state"] == "succeeded", rec
    assert rec["attempt"] == 1, rec
    assert job_agent_name(rec) == "a1", rec
    # The job is recorded; a second run still going would be a child process of the agent.
    assert not descendants(agent.pid), f"the agent still runs something: {descendant_cmdlines(agent.pid)}"
    assert line_count(counter) == 1, f"counter has {line_count(counter)} lines: the job ran again"

    registry.stop(hub2.proc)
    terminal, all_types = terminal_events_by_job(hub.db_path, [job_id])
    assert len(terminal[job_id]) == 1, f"terminal events: {all_types.get(job_id)}"
    assert_store_verifies(mesh, hub.data_dir)


@pytest.mark.deadline(90)
def test_outbox_survives_an_agent_restart_while_the_hub_is_down(mesh, registry):
    hub = mesh.start_hub()
    agent = mesh.start_agent(hub, "a1", concurrency=2, args=FAST_RECONNECT)
    counter = mesh.path("counter")
    job_id = hub.submit({"command": "shell", "payload": f"sleep 2; echo x >> {counter}"})["id"]
    wait_until(lambda: hub.job(job_id)["state"] == "running", 15, "job running")
    registry.kill9(hub.proc)
    wal = os.path.join(agent.data_dir, "outbox.db-wal")
    before = file_state(wal)
    wait_until(lambda: line_count(counter) == 1, 15, "the job to finish while the hub is down")
    # The outbox commits the result after the process ends: its WAL changes once that is on disk.
    wait_until(lambda: file_state(wal) != before, 15, "the result to be committed to the outbox")
    registry.kill9(agent.proc)
    hub2 = mesh.restart_hub(hub)
    restarted = mesh.start_agent(hub2, "a1", concurrency=2, args=FAST_RECONNECT, data_dir=agent.data_dir)
    rec = hub2.wait_job(job_id, timeout=30)
    assert rec["state"] == "succeeded", rec
    assert rec["attempt"] == 1, f"the result in the outbox was not used: {rec}"
    assert not descendants(restarted.pid), f"the agent still runs something: {descendant_cmdlines(restarted.pid)}"
    assert line_count(counter) == 1, f"counter has {line_count(counter)} lines: the job ran again"
    assert_store_verifies(mesh, hub.data_dir)
