"""Higher priority first, FIFO within a priority."""

import pytest

from e2e_helpers import wait_until


@pytest.mark.deadline(60)
def test_waiting_jobs_run_by_priority_then_in_submit_order(mesh, hub):
    mesh.start_agent(hub, "single", concurrency=1)
    ledger = mesh.path("order")
    blocker = hub.submit({"command": "shell", "payload": "sleep 2"})["id"]
    wait_until(lambda: hub.job(blocker)["state"] == "running", 15, "blocker running")
    ids = []
    for name, prio in [("low1", 0), ("low2", 0), ("high1", 10), ("low3", 0), ("high2", 10),
                       ("mid1", 5)]:
        ids.append(hub.submit({"command": "shell", "payload": f"echo {name} >> {ledger}",
                               "priority": prio})["id"])
    for i in ids:
        assert hub.wait_job(i, timeout=30)["state"] == "succeeded"
    with open(ledger, encoding="utf-8") as f:
        order = [l.strip() for l in f if l.strip()]
    assert order == ["high1", "high2", "mid1", "low1", "low2", "low3"], order
