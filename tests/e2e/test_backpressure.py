"""A bounded pending queue: past --max-pending, submits fail with 429 queue_full and no
accepted job is lost."""

import pytest

from e2e_helpers import assert_one_error_line


@pytest.mark.deadline(60)
def test_submits_past_max_pending_get_queue_full_and_nothing_is_lost(mesh):
    hub = mesh.start_hub(args=["--max-pending", "5"])
    accepted = [hub.submit({"command": "echo", "payload": f"p{i}"})["id"] for i in range(5)]
    status, body = hub.post("/api/v1/jobs", {"command": "echo", "payload": "one too many"})
    assert status == 429 and body.get("error") == "queue_full", (status, body)
    rc, out, err = mesh.cli("job", "submit", "--", "echo", "cli too many", hub=hub)
    assert rc != 0, f"a refused submit must not exit 0: stdout={out!r} stderr={err!r}"
    line = assert_one_error_line(rc, out, err, rc, "orbitmesh job submit (queue full)")
    assert "queue full" in line.lower() or "queue_full" in line.lower(), line
    assert len(hub.jobs()) == 5, [j["id"] for j in hub.jobs()]
    mesh.start_agent(hub, "drain", concurrency=4)
    for job_id in accepted:
        assert hub.wait_job(job_id)["state"] == "succeeded"
    rec = hub.submit({"command": "echo", "payload": "room again"})
    assert hub.wait_job(rec["id"])["state"] == "succeeded"
