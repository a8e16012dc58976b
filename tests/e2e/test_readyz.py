"""GET /readyz: the hub listens at once but is ready only after recovery — 503 {"status":"starting"}
(and 503 for every other route and /mesh) while it folds its log, 200 after."""

import time

import pytest

from e2e_helpers import http_request, wait_until


def poll(port):
    try:
        return http_request(port, "GET", "/readyz", timeout=5)
    except OSError:
        return None  # not bound yet


@pytest.mark.deadline(120)
def test_readyz_is_starting_during_recovery_then_ready(mesh):
    hub = mesh.start_hub(args=("--snapshot-every", "0"))
    # A log whose fold takes a moment: many pending jobs, and no snapshot (kill -9).
    for batch in range(8):
        jobs = [{"command": "echo", "payload": "x", "idempotency_key": f"r{batch}-{i}"} for i in range(10000)]
        status, body = hub.post("/api/v1/jobs/batch", {"jobs": jobs}, timeout=60)
        assert status in (200, 201), body
    mesh.registry.kill9(hub.proc)
    again = mesh.start_hub(data_dir=hub.data_dir, port=hub.port, args=("--snapshot-every", "0"), wait_ready=False)
    seen = []
    refused_submit = None
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        r = poll(hub.port)
        if r is None:
            assert again.proc.alive(), again.proc.log_tail()
            time.sleep(0.002)
            continue
        seen.append(r)
        if r[0] == 200:
            break
        if refused_submit is None:
            refused_submit = http_request(hub.port, "POST", "/api/v1/jobs", body={"command": "echo"}, timeout=5)
    assert seen and seen[-1] == (200, {"status": "ready"}), seen[-3:]
    starting = [r for r in seen if r[0] != 200]
    assert starting, "the hub never answered while it recovered 80,000 jobs"
    assert all(r == (503, {"status": "starting"}) for r in starting), starting[:3]
    if refused_submit is not None and refused_submit[0] != 201:  # recovery may have ended in between
        assert refused_submit[0] == 503 and refused_submit[1]["error"] == "unavailable", refused_submit
        assert "starting" in refused_submit[1]["message"]
    # Nothing was lost, and the port file is written once ready.
    wait_until(lambda: open(again.port_file).read().strip() == str(hub.port), 10, "the port file")
    status, stats = http_request(hub.port, "GET", "/api/v1/stats")
    assert status == 200 and stats["jobs"]["pending"] == 80000, stats["jobs"]
