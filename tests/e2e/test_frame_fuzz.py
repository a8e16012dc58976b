"""Issue 17, "Show it": malformed agent messages over real /mesh connections, MessagePack and
JSON, fields of the wrong type nested anywhere, while a real agent beside them keeps running jobs.
The hub never exits, every bad connection is closed with 1007 and the reason naming the field,
and every job submitted meanwhile succeeds.

The ctest run sends ORBITMESH_FUZZ_MESSAGES (default 3000) so it takes seconds; the full size:
  ORBITMESH_FUZZ_MESSAGES=100000 /usr/bin/python3 -m pytest -q -p no:cacheprovider \\
      tests/e2e/test_frame_fuzz.py --orbitmesh-bin build/cli/orbitmesh
"""

import json
import os
import time

import pytest

from e2e_helpers import wait_until

FUZZ_MESSAGES = int(os.environ.get("ORBITMESH_FUZZ_MESSAGES", "3000"))


def fuzzer_of(orbitmesh_bin):
    path = os.path.join(os.path.dirname(os.path.dirname(orbitmesh_bin)), "bench", "frame_fuzz")
    if not os.access(path, os.X_OK):
        pytest.fail(f"{path} is missing: build it beside orbitmesh (ninja frame_fuzz)")
    return path


@pytest.mark.deadline(max(120, FUZZ_MESSAGES // 100))
def test_malformed_frames_never_stop_the_hub_while_an_agent_runs_jobs(mesh, hub, registry, orbitmesh_bin):
    mesh.start_agent(hub, "worker", concurrency=8)
    report_path = mesh.path("fuzz.json")
    fuzz = registry.start("frame_fuzz", [fuzzer_of(orbitmesh_bin), "--port", str(hub.port),
                                         "--messages", str(FUZZ_MESSAGES), "--json", report_path])
    submitted = []
    deadline = time.monotonic() + max(100, FUZZ_MESSAGES // 100)
    while fuzz.alive() and time.monotonic() < deadline:  # jobs all along, in small batches
        status, body = hub.post("/api/v1/jobs/batch",
                                {"jobs": [{"command": "echo", "payload": f"j{len(submitted) + i}"}
                                          for i in range(10)]})
        assert status in (200, 201), (status, body)
        submitted.extend(j["id"] for j in body["jobs"])
        assert hub.proc.alive(), f"hub died:\n{hub.proc.log_tail()}"
    assert not fuzz.alive(), "frame_fuzz did not finish in time"
    assert fuzz.popen.returncode == 0, fuzz.log_tail()
    with open(report_path, encoding="utf-8") as f:
        report = json.load(f)
    assert report["value"] == FUZZ_MESSAGES and report["extra"]["failed"] == 0, report
    assert report["extra"]["json_frames"] > 0, report

    assert hub.proc.alive() and hub.healthy(), hub.proc.log_tail()
    assert submitted, "no job was submitted while the fuzzer ran"

    def all_succeeded():
        status, stats = hub.get("/api/v1/stats")
        jobs = stats["jobs"]
        assert jobs["failed"] + jobs["dead"] + jobs["cancelled"] + jobs["timed_out"] == 0, jobs
        return jobs["succeeded"] == len(submitted)
    wait_until(all_succeeded, 60, f"all {len(submitted)} jobs submitted during the fuzz to succeed")
    for job_id in submitted[:: max(1, len(submitted) // 50)]:
        rec = hub.job(job_id)
        assert rec["state"] == "succeeded" and rec["agent"]["name"] == "worker", rec  # fuzz agents get no job
    assert hub.agent_record("worker")["state"] == "connected"
    log = hub.proc.log_tail(1 << 30)
    assert log.count(": closing 1007: ") == FUZZ_MESSAGES, "the hub did not log each 1007 close once"
    assert "terminate called" not in log and "internal error" not in log, log[-3000:]
