"""GET /api/v1/stats (per-state counts kept as the hub goes), POST /api/v1/jobs?wait= (submit and
wait in one request), and projection rows of in-flight jobs reaching the jobs table."""

import json
import sqlite3

from e2e_helpers import wait_until

OPEN = ("pending", "assigned", "running")


def stats(hub):
    status, body = hub.get("/api/v1/stats")
    assert status == 200, body
    return body


def test_stats_count_jobs_by_state_agents_and_commits(mesh, hub):
    mesh.start_agent(hub, "a1")
    ids = [hub.submit({"command": "echo", "payload": i})["id"] for i in range(20)]
    for i in ids:
        assert hub.wait_job(i)["state"] == "succeeded"
    failed = hub.wait_job(hub.submit({"command": "shell", "payload": "exit 3"})["id"])
    assert failed["state"] == "failed", failed
    stuck = hub.submit({"command": "echo", "payload": "x", "target": {"capabilities": ["nowhere"]}})
    s = stats(hub)
    assert s["jobs"]["succeeded"] == 20 and s["jobs"]["failed"] == 1, s
    assert s["jobs"]["pending"] == 1 and s["jobs"]["total"] == 22, s
    assert s["queue_depth"] == 1, s
    assert s["agents"] == {"connected": 1, "total": 1}, s
    assert s["store"]["commits"] > 0 and s["store"]["events"] >= 21 * 4, s
    # the counters agree with the job list, state by state
    for state, n in s["jobs"].items():
        if state != "total":
            assert len(hub.jobs(state=state)) == n, (state, n)
    assert hub.jobs(state="pending")[0]["id"] == stuck["id"]


def test_counts_are_rebuilt_after_a_kill_9(mesh, registry, hub):
    mesh.start_agent(hub, "a1")
    for i in range(5):
        hub.wait_job(hub.submit({"command": "echo", "payload": i})["id"])
    hub.submit({"command": "echo", "payload": "x", "target": {"capabilities": ["nowhere"]}})
    registry.kill9(hub.proc)
    hub2 = mesh.restart_hub(hub)
    s = stats(hub2)
    assert s["jobs"]["succeeded"] == 5 and s["jobs"]["pending"] == 1 and s["jobs"]["total"] == 6, s


def test_submit_with_wait_answers_with_the_final_record(mesh, hub):
    mesh.start_agent(hub, "a1")
    status, rec = hub.post("/api/v1/jobs?wait=20s", {"command": "echo", "payload": "one trip"})
    assert status == 201, rec
    assert rec["state"] == "succeeded" and rec["output"] == "one trip", rec
    # a wait that runs out answers with the record as it is
    status, rec = hub.post("/api/v1/jobs?wait=200ms",
                           {"command": "echo", "payload": "x", "target": {"capabilities": ["nowhere"]}})
    assert status == 201 and rec["state"] == "pending", rec
    status, body = hub.post("/api/v1/jobs?wait=soon", {"command": "echo", "payload": "x"})
    assert status == 400 and "wait" in body["message"], body


def test_an_in_flight_job_gets_its_projection_row_while_it_runs(mesh, hub):
    mesh.start_agent(hub, "a1")
    job = hub.submit({"command": "sleep", "payload": "3s"})
    hub.wait_job(job["id"], states=("running",), timeout=10)

    def row_state():
        conn = sqlite3.connect(f"file:{hub.db_path}?mode=ro", uri=True, timeout=10)
        try:
            row = conn.execute("SELECT state FROM jobs WHERE id = ?", (job["id"],)).fetchone()
        finally:
            conn.close()
        return row[0] if row else None

    wait_until(lambda: row_state() == "running", 2.5, "the running job's row in the jobs table")
    hub.wait_job(job["id"], timeout=15)
    wait_until(lambda: row_state() == "succeeded", 5, "the ended job's row")


def test_metrics_are_prometheus_text_with_jobs_histograms_and_runs(mesh, hub):
    mesh.start_agent(hub, "a1")
    for i in range(4):
        hub.wait_job(hub.submit({"command": "echo", "payload": i})["id"])
    status, text = hub.get("/metrics")
    assert status == 200 and isinstance(text, str), text
    samples = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, value = line.rsplit(" ", 1)
            samples[name] = float(value)
    assert samples['orbitmesh_jobs{state="succeeded"}'] == 4, samples
    assert samples["orbitmesh_agents_connected"] == 1
    assert samples["orbitmesh_queue_depth"] == 0
    assert samples["orbitmesh_events_appended_total"] >= 16
    assert samples["orbitmesh_store_commits_total"] >= 1
    assert samples["orbitmesh_dispatch_latency_seconds_count"] == 4
    assert samples['orbitmesh_dispatch_latency_seconds_bucket{le="+Inf"}'] == 4
    assert samples["orbitmesh_job_duration_seconds_count"] == 4
    buckets = [v for k, v in samples.items() if k.startswith("orbitmesh_job_duration_seconds_bucket")]
    assert buckets == sorted(buckets), "cumulative buckets never decrease"
    assert 'orbitmesh_runs{state="succeeded"}' in samples
    for kind in ("# TYPE orbitmesh_jobs gauge", "# TYPE orbitmesh_store_commits_total counter",
                 "# TYPE orbitmesh_dispatch_latency_seconds histogram"):
        assert kind in text, kind


def test_status_summary_reads_the_counts(mesh, hub):
    mesh.start_agent(hub, "a1")
    for i in range(3):
        hub.wait_job(hub.submit({"command": "echo", "payload": i})["id"])
    hub.wait_job(hub.submit({"command": "shell", "payload": "exit 4"})["id"])
    rc, out, err = mesh.cli("status", "-o", "json", hub=hub)
    assert rc == 0, err
    summary = json.loads(out)
    assert summary == {"agents": {"total": 1, "connected": 1}, "jobs": {"succeeded": 3, "failed": 1},
                       "runs": {}}, summary
    rc, out, err = mesh.cli("status", hub=hub)
    assert rc == 0, err
    assert "1 connected, 0 disconnected" in out and "failed=1 succeeded=3" in out, out
