"""Output produced while the agent cannot reach the hub is kept and delivered after it reconnects
(the agent's output buffer and outbox), so `job logs` is complete and has each line once."""

import time

import pytest

from e2e_helpers import FAST_RECONNECT, wait_until


@pytest.mark.deadline(120)
def test_job_logs_are_complete_after_the_hub_was_down_mid_job(mesh, registry):
    hub = mesh.start_hub(args=["--reassign-after", "30s"])
    mesh.start_agent(hub, "w1", args=FAST_RECONNECT)
    rec = hub.submit({"command": "shell", "payload": "for i in 1 2 3 4 5 6 7 8; do echo line $i; sleep 0.3; done"})

    def lines(h):
        status, body = h.get(f"/api/v1/jobs/{rec['id']}/logs")
        return [l["data"] for l in body["lines"]] if status == 200 else []

    wait_until(lambda: len(lines(hub)) >= 2, 20, "the first lines")
    registry.kill9(hub.proc)
    time.sleep(1.2)  # lines produced now cannot reach anyone
    hub2 = mesh.restart_hub(hub)
    done = hub2.wait_job(rec["id"], timeout=60)
    assert done["state"] == "succeeded", done
    got = wait_until(lambda: (lambda l: l if len(l) >= 8 else None)(lines(hub2)), 20, "all eight lines")
    assert got == [f"line {i}" for i in range(1, 9)], got
    rc, out, err = mesh.cli("job", "logs", rec["id"], hub=hub2)
    assert rc == 0 and out.split("\n")[:8] == [f"line {i}" for i in range(1, 9)], (out, err)


@pytest.mark.deadline(120)
def test_a_result_finished_offline_brings_its_output_after_an_agent_restart(mesh, registry):
    hub = mesh.start_hub()
    agent = mesh.start_agent(hub, "w1", args=FAST_RECONNECT)
    rec = hub.submit({"command": "shell", "payload": "sleep 1; echo made-offline; echo second"})
    wait_until(lambda: hub.job(rec["id"])["state"] == "running", 20, "the job to run")
    registry.kill9(hub.proc)
    time.sleep(2.0)  # the job ends while the hub is gone: result and output go to the outbox
    registry.stop(agent.proc)  # and the agent stops before it could deliver them
    hub2 = mesh.restart_hub(hub)
    mesh.start_agent(hub2, "w1", args=FAST_RECONNECT, data_dir=agent.data_dir)
    done = hub2.wait_job(rec["id"], timeout=60)
    assert done["state"] == "succeeded", done
    status, body = hub2.get(f"/api/v1/jobs/{rec['id']}/logs")
    assert [l["data"] for l in body["lines"]] == ["made-offline", "second"], body
