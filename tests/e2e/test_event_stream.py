"""GET /api/v1/events: the event log as server-sent events — resumable by id with none missing or
repeated (across a hub kill -9 too), filterable, live, and a slow client is dropped, never waited on."""

import json
import time

import pytest

import auth_helpers as auth
from e2e_helpers import read_events, wait_until
from pg_server import both_stores
from sse_client import SseClient


def job_seqs(db_path, after=0):
    return [r[0] for r in read_events(db_path) if r[3].startswith("job.") and r[0] > after]


def check_wire(msgs):
    for m in msgs:
        d = m["data"]
        assert int(m["id"]) == d["seq"], m
        assert m["event"] == d["type"], m
        assert set(d) == {"seq", "stream", "type", "time", "data"}, m
        assert isinstance(d["data"], dict) and d["time"] > 0, m


def echo_jobs(hub, n, tag):
    ids = [hub.submit({"command": "echo", "payload": f"{tag}-{i}"})["id"] for i in range(n)]
    for j in ids:
        assert hub.wait_job(j)["state"] == "succeeded"
    # The record says succeeded once decided; wait until the log has every job.finished too.
    streams = {f"job-{j}" for j in ids}
    wait_until(lambda: len([r for r in read_events(hub.db_path) if r[1] in streams and r[3] == "job.finished"]) == n,
               10, "the jobs' job.finished events in the log")
    return ids


def assert_no_more(client, wait=0.7):
    try:
        extra = client.next_message(timeout=wait)
    except TimeoutError:
        return
    raise AssertionError(f"an event the store does not have past the end: {extra!r}")


@both_stores
@pytest.mark.deadline(100)
def test_resume_by_last_event_id_none_missing_or_repeated_also_across_kill9(mesh):
    hub = mesh.start_hub()
    mesh.start_agent(hub, "a1")
    echo_jobs(hub, 40, "first")
    expected = job_seqs(hub.db_path)
    assert len(expected) >= 150, f"only {len(expected)} job events"

    c = SseClient(hub.port, "/api/v1/events?after=0&type=job.")
    assert c.status == 200 and c.headers["content-type"] == "text/event-stream", (c.status, c.headers)
    first = c.read(100)
    c.close()
    check_wire(first)
    got = [int(m["id"]) for m in first]

    c = SseClient(hub.port, "/api/v1/events?type=job.", headers={"Last-Event-ID": str(got[-1])})
    rest = c.read(len(expected) - 100)
    check_wire(rest)
    got += [int(m["id"]) for m in rest]
    assert got == expected, "the two connections together must be the log's job events, in order, once each"
    assert_no_more(c)
    # The same connection carries what is committed from now on.
    live = hub.submit({"command": "echo", "payload": "live"})["id"]
    tail = c.read_until(lambda m: m["data"]["stream"] == f"job-{live}" and m["event"] == "job.finished")
    got += [int(m["id"]) for m in tail]
    c.close()
    assert got == job_seqs(hub.db_path)

    mesh.registry.kill9(hub.proc)
    hub2 = mesh.restart_hub(hub)
    hub2.wait_agent_state("a1")
    echo_jobs(hub2, 5, "after-restart")
    after_restart = job_seqs(hub2.db_path, after=got[-1])
    assert len(after_restart) >= 20
    c = SseClient(hub2.port, "/api/v1/events?type=job.", headers={"Last-Event-ID": str(got[-1])})
    resumed = c.read(len(after_restart))
    check_wire(resumed)
    assert [int(m["id"]) for m in resumed] == after_restart
    assert_no_more(c)
    c.close()


@both_stores
@pytest.mark.deadline(60)
def test_unfiltered_stream_is_the_event_log_and_live_only_without_a_resume_point(mesh):
    hub = mesh.start_hub()
    mesh.start_agent(hub, "a1")
    echo_jobs(hub, 5, "x")
    rows = read_events(hub.db_path)
    c = SseClient(hub.port, "/api/v1/events?after=0")
    msgs = c.read(len(rows))
    c.close()
    assert [(int(m["id"]), m["data"]["stream"], m["event"]) for m in msgs] == [(r[0], r[1], r[3]) for r in rows]

    # No Last-Event-ID and no ?after=: only what is committed after connecting.
    c = SseClient(hub.port, "/api/v1/events")
    time.sleep(0.3)  # the feed places the client at the log's end on its next pass
    j = hub.submit({"command": "echo", "payload": "now"})["id"]
    live = c.read_until(lambda m: m["event"] == "job.finished")
    c.close()
    assert {m["data"]["stream"] for m in live} == {f"job-{j}"}, live
    assert min(int(m["id"]) for m in live) > rows[-1][0]


WORKFLOW = """
id: sse-two-steps
steps:
  - id: one
    command: echo
    payload: "1"
  - id: two
    needs: [one]
    command: echo
    payload: "2"
"""


@pytest.mark.deadline(90)
def test_filters_by_job_run_agent_and_type(mesh):
    hub = mesh.start_hub()
    a1 = mesh.start_agent(hub, "a1")
    a2 = mesh.start_agent(hub, "a2")
    id1, id2 = a1.agent_id(), a2.agent_id()
    on1 = [hub.submit({"command": "echo", "payload": "p", "target": {"agent": id1}})["id"] for _ in range(3)]
    on2 = [hub.submit({"command": "echo", "payload": "p", "target": {"agent": id2}})["id"] for _ in range(3)]
    for j in on1 + on2:
        hub.wait_job(j)
    status, body = hub.post("/api/v1/workflows", {"source": WORKFLOW, "file": "sse.yaml"})
    assert status in (200, 201), body
    status, run = hub.post("/api/v1/runs", {"workflow_id": "sse-two-steps"})
    assert status in (200, 201), run
    run_id = run["id"]
    wait_until(lambda: hub.get(f"/api/v1/runs/{run_id}")[1].get("state") == "succeeded", 30, "run to succeed")
    time.sleep(0.2)
    rows = read_events(hub.db_path)

    def stream_of(query):
        n = len(rows)
        c = SseClient(hub.port, "/api/v1/events?after=0&" + query)
        out = []
        try:
            while True:
                m = c.next_message(timeout=1.0)
                assert m is not None
                out.append(m)
                assert len(out) <= n, f"more events than the log holds for {query}"
        except TimeoutError:
            pass
        c.close()
        check_wire(out)
        return out

    # ?job=: that job's stream only, all of it.
    got = stream_of(f"job={on1[0]}")
    assert [int(m["id"]) for m in got] == [r[0] for r in rows if r[1] == f"job-{on1[0]}"]

    # ?run=: the run's own events and its steps' jobs, nothing else.
    got = stream_of(f"run={run_id}")
    run_rows = [r for r in rows if r[1] == f"run-{run_id}"]
    assert [int(m["id"]) for m in got if m["data"]["stream"] == f"run-{run_id}"] == [r[0] for r in run_rows]
    job_streams = {m["data"]["stream"] for m in got if m["data"]["stream"].startswith("job-")}
    assert len(job_streams) == 2, job_streams
    assert not job_streams & {f"job-{j}" for j in on1 + on2}
    for s in job_streams:
        assert [int(m["id"]) for m in got if m["data"]["stream"] == s] == [r[0] for r in rows if r[1] == s]
    assert {m["data"]["stream"] for m in got} == job_streams | {f"run-{run_id}"}

    # ?agent=: the agent's stream and the jobs assigned to it.
    got = stream_of(f"agent={id2}")
    streams = {m["data"]["stream"] for m in got}
    assert f"agent-{id2}" in streams
    assert {f"job-{j}" for j in on2} <= streams
    assert not streams & {f"job-{j}" for j in on1}
    assert f"agent-{id1}" not in streams

    # ?type=: comma list of prefixes; combined with another filter, both must hold.
    got = stream_of("type=run.,step.")
    assert got and all(m["event"].startswith(("run.", "step.")) for m in got)
    assert len(got) == len([r for r in rows if r[3].startswith(("run.", "step."))])
    got = stream_of(f"type=job.finished&agent={id1}")
    assert sorted(m["data"]["stream"] for m in got) == sorted(f"job-{j}" for j in on1)

    # Bad filters and resume points: 400 with the one error shape, before any stream opens.
    for query, headers in (("type=job.,", {}), ("job=", {}), ("after=-3", {}), ("", {"Last-Event-ID": "abc"}),
                           ("keepalive=10ms", {})):
        c = SseClient(hub.port, "/api/v1/events?" + query, headers=headers)
        assert c.status == 400, (query, c.status)
        body = json.loads(c.body_text())
        assert body["error"] == "invalid_input" and body["message"], body
        c.close()


@pytest.mark.deadline(90)
def test_a_slow_client_is_dropped_without_stalling_others_and_resumes_by_id(mesh):
    hub = mesh.start_hub(args=("--event-write-timeout", "1s"))
    slow = SseClient(hub.port, "/api/v1/events?after=0", rcvbuf=4096)
    fast = SseClient(hub.port, "/api/v1/events?after=0&keepalive=1s")
    assert slow.status == 200 and fast.status == 200
    # Far more than the kernel buffers hold (~1 MiB of events), with no agent: they stay pending.
    total = 0
    for batch in range(4):
        jobs = [{"command": "echo", "payload": "x" * 300, "idempotency_key": f"slow-{batch}-{i}"} for i in range(1000)]
        status, body = hub.post("/api/v1/jobs/batch", {"jobs": jobs})
        assert status in (200, 201), body
        total += 1000
    rows = read_events(hub.db_path)
    assert len(rows) >= total
    # The fast reader gets everything promptly while the slow one does not read at all.
    got = fast.read(len(rows), timeout=30)
    assert [int(m["id"]) for m in got] == [r[0] for r in rows]
    # The slow one stalled when its buffers filled, during the submits; past the 1 s write timeout
    # the hub cut it off: what it holds ends before the log does, then the connection ends.
    time.sleep(2.5)
    deadline = time.monotonic() + 20
    seen = []
    while time.monotonic() < deadline:
        m = slow.next_message(timeout=max(0.01, deadline - time.monotonic()))
        if m is None:
            break
        seen.append(int(m["id"]))
    assert slow.eof, "the hub should have closed a client that stopped reading"
    slow.close()
    assert len(seen) < len(rows), "a client that never read must not have been sent the whole log"
    assert seen == [r[0] for r in rows][:len(seen)]
    # It resumes by id, with nothing missing or repeated.
    again = SseClient(hub.port, "/api/v1/events", headers={"Last-Event-ID": str(seen[-1] if seen else 0)})
    rest = again.read(len(rows) - len(seen), timeout=30)
    assert seen + [int(m["id"]) for m in rest] == [r[0] for r in rows]
    again.close()
    # The fast client is still open and served: a keepalive comment within its interval.
    with pytest.raises(TimeoutError):
        fast.next_message(timeout=2.5)
    assert ": keepalive" in fast.comments
    fast.close()
    assert hub.proc.alive()


@pytest.mark.deadline(60)
def test_keepalive_comment_and_token_roles(mesh):
    hub, admin = auth.start_token_hub(mesh)
    operator = auth.mint(mesh, hub.data_dir, "operator")[0]
    agent = auth.mint(mesh, hub.data_dir, "agent")[0]
    c = SseClient(hub.port, "/api/v1/events")
    assert c.status == 401
    c.close()
    c = SseClient(hub.port, "/api/v1/events", headers=auth.bearer(agent))
    assert c.status == 403, c.status
    assert json.loads(c.body_text())["error"] == "forbidden"
    c.close()
    # EventSource cannot set headers: ?access_token= works too.
    c = SseClient(hub.port, f"/api/v1/events?keepalive=1s&access_token={operator}")
    assert c.status == 200
    with pytest.raises(TimeoutError):
        c.next_message(timeout=2.5)  # no events, only comments
    assert ": keepalive" in c.comments, c.comments
    c.close()
    c = SseClient(hub.port, "/api/v1/events?after=0", headers=auth.bearer(admin))
    assert c.status == 200
    c.next_message(timeout=10)  # the token events at least
    c.close()
