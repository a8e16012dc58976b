"""Races between hubs on one PostgreSQL (`serve --shared-store`, SPEC §10, issue 12) that the
database decides: one idempotency key sent to two hubs at once makes one job; a schedule trigger
every hub arms starts one run per fire time; a workflow registered on one hub runs from another;
`job logs -f` on a hub other than the agent's gets each line while the job runs; a driver hub
paused past its heartbeat and resumed does not drive the run its successor took over. Real
processes on 127.0.0.1, a real PostgreSQL."""

import collections
import os
import queue
import signal
import threading
import time

import msgpack
import pytest

from e2e_helpers import psql_rows, read_events, wait_until
from test_shared_store import others, start_hubs
from test_triggers import TICK
from workflow_helpers import wait_run, write_ledger_flow, write_wf


def run_started_keys(pg_url, workflow):
    """The idempotency key of every run.started of `workflow`, as the database holds them."""
    rows = psql_rows(pg_url, "SELECT encode(data, 'hex') FROM events WHERE type = 'run.started' ORDER BY seq")
    keys = []
    for (hexdata,) in rows:
        d = msgpack.unpackb(bytes.fromhex(hexdata), raw=False)
        if d.get("workflow", {}).get("id") == workflow:
            keys.append(d.get("idempotency_key"))
    return keys


@pytest.mark.deadline(120)
def test_one_idempotency_key_sent_to_two_hubs_at_once_makes_one_job(mesh, pg_url):
    a, b = start_hubs(mesh, pg_url, 2)
    for h in (a, b):
        mesh.start_agent(h, f"w-{h.port}", concurrency=4)
    answers = collections.defaultdict(dict)
    for i in range(15):
        key = f"race-{i}"
        gate = threading.Barrier(2, timeout=10)

        def send(h, key=key, gate=gate):
            gate.wait()
            answers[key][h.port] = h.submit({"command": "echo", "payload": key, "idempotency_key": key})["id"]
        threads = [threading.Thread(target=send, args=(h,)) for h in (a, b)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=30)
    split = {k: v for k, v in answers.items() if len(set(v.values())) != 1}
    assert not split, f"one key answered with two jobs: {split}"
    for key, by_hub in answers.items():
        assert len(by_hub) == 2, (key, by_hub)
        job_id = next(iter(by_hub.values()))
        for h in (a, b):
            assert h.wait_job(job_id, timeout=30)["state"] == "succeeded"
    submitted = [r for r in read_events(pg_url) if r[3] == "job.submitted"]
    assert len(submitted) == 15, f"{len(submitted)} jobs for 15 keys"

    # Later, one after the other: the second hub answers with the first hub's job, 200 not 201.
    first = a.submit({"command": "echo", "payload": "once", "idempotency_key": "later"})["id"]
    wait_until(lambda: b.get(f"/api/v1/jobs/{first}")[0] == 200, 10, "hub B to fold the job")
    status, body = b.post("/api/v1/jobs", {"command": "echo", "payload": "twice", "idempotency_key": "later"})
    assert status == 200 and body["id"] == first, (status, body)


@pytest.mark.deadline(120)
def test_a_schedule_trigger_every_hub_arms_starts_one_run_per_fire_time(mesh, pg_url):
    a, b = start_hubs(mesh, pg_url, 2)
    # Registered on A after both hubs run: B learns it from the log and arms it too.
    status, body = a.post("/api/v1/workflows", {"source": TICK, "file": "tick.yaml"})
    assert status == 201, body

    def armed_on_b():
        status, body = b.get("/api/v1/triggers?workflow=tick")
        return status == 200 and any(t["trigger"] == "every-second" for t in body["triggers"])
    wait_until(armed_on_b, 10, "hub B to arm the trigger registered on A")
    wait_until(lambda: len(run_started_keys(pg_url, "tick")) >= 5, 30, "five fires")
    time.sleep(1.5)  # fire times both hubs reach while the test reads
    keys = run_started_keys(pg_url, "tick")
    twice = [k for k, n in collections.Counter(keys).items() if n > 1]
    assert not twice, f"fire times that started two runs: {twice} of {keys}"
    assert all(k and k.startswith("trigger:tick/every-second@") for k in keys), keys
    origins = collections.Counter(r[0] for r in psql_rows(pg_url, "SELECT origin FROM events WHERE type = 'run.started'"))
    assert len(keys) >= 5 and sum(origins.values()) == len(keys), origins


@pytest.mark.deadline(90)
def test_a_workflow_registered_on_one_hub_runs_from_another(mesh, pg_url):
    a, b = start_hubs(mesh, pg_url, 2)
    mesh.start_agent(b, "only", concurrency=2)
    flow = """
        id: elsewhere
        steps:
          - id: hello
            run: echo hello
    """
    status, body = a.post("/api/v1/workflows", {"source": flow.replace("\n        ", "\n").strip() + "\n",
                                               "file": "elsewhere.yaml"})
    assert status == 201, body
    wait_until(lambda: b.get("/api/v1/workflows/elsewhere")[0] == 200, 10, "hub B to know the workflow")
    status, run = b.post("/api/v1/runs", {"workflow_id": "elsewhere"})
    assert status == 201, run
    assert wait_run(b, run["id"], timeout=30)["state"] == "succeeded"


@pytest.mark.deadline(90)
def test_logs_follow_on_another_hub_gets_each_line_while_the_job_runs(mesh, pg_url):
    a, b = start_hubs(mesh, pg_url, 2)
    mesh.start_agent(b, "far", tags={"kind": "far"}, concurrency=2)
    a.wait_agent_state("far", "connected", timeout=10)
    job_id = a.submit({"command": "shell", "payload": "echo first; sleep 5; echo second",
                       "target": {"tags": {"kind": "far"}}})["id"]
    follower = mesh.cli_background("job", "logs", job_id, "-f", hub=a, name="logs-f-far")
    lines = queue.Queue()
    threading.Thread(target=lambda: [lines.put(raw.decode("utf-8", "replace").rstrip("\n"))
                                     for raw in follower.popen.stdout], daemon=True).start()
    assert lines.get(timeout=15) == "first"
    # The line came through hub A while the job still runs on hub B's agent, not at its end.
    assert a.job(job_id)["state"] == "running", a.job(job_id)
    assert lines.get(timeout=20) == "second"
    follower.popen.wait(timeout=15)
    assert follower.popen.returncode == 0


@pytest.mark.deadline(150)
def test_a_paused_driver_hub_stops_driving_the_run_its_successor_took_over(mesh, pg_url):
    hubs = start_hubs(mesh, pg_url, 2)
    driver, successor = hubs
    for i, h in enumerate(hubs):
        mesh.start_agent(h, f"p{i}", concurrency=2, args=others(hubs, h))
    ledger = mesh.path("ledger")
    flow = write_wf(mesh, "paused", f"""
        id: paused
        steps:
          - id: first
            run: "sleep 6; echo wf-first >> {ledger}"
          - id: second
            needs: [first]
            run: echo wf-second >> {ledger}
          - id: third
            needs: [second]
            run: echo wf-third >> {ledger}
    """)
    rc, out, err = mesh.cli("run", flow, "--detach", hub=driver)
    assert rc == 0, err
    run_id = out.strip()
    wait_until(lambda: any(r[3] == "job.started" for r in read_events(pg_url)), 10, "the first step to start")
    os.kill(driver.proc.pid, signal.SIGSTOP)
    try:
        wait_until(lambda: psql_rows(pg_url, f"SELECT hub_id FROM run_leases WHERE run_id = '{run_id}'"), 20,
                   "the successor to take the run over", interval=0.2)
    finally:
        os.kill(driver.proc.pid, signal.SIGCONT)  # it wakes believing it still drives the run
    run = wait_run(successor, run_id, timeout=60)
    assert run["state"] == "succeeded", run
    time.sleep(1.5)  # the resumed hub has caught up with the log by now
    assert sorted(open(ledger).read().split()) == ["wf-first", "wf-second", "wf-third"]
    lease = psql_rows(pg_url, f"SELECT hub_id FROM run_leases WHERE run_id = '{run_id}'")
    assert lease == [["hub-1"]], lease
    origins = [o for (o,) in psql_rows(pg_url, f"SELECT origin FROM events WHERE stream = 'run-{run_id}' ORDER BY seq")]
    taken = origins.index("hub-1")
    assert set(origins[taken:]) == {"hub-1"}, f"the paused hub appended to the run after the takeover: {origins}"
    types = [r[3] for r in read_events(pg_url) if r[1] == f"run-{run_id}"]
    assert types.count("run.finished") == 1, types
    assert driver.proc.alive(), driver.proc.log_tail()


@pytest.mark.deadline(120)
def test_jobs_queued_on_a_hub_without_agents_are_claimed_once_by_the_hubs_with_agents(mesh, pg_url):
    a, b, c = start_hubs(mesh, pg_url, 3)  # A has no agent: B and C claim every job it queues
    for h in (b, c):
        mesh.start_agent(h, f"c-{h.port}", concurrency=4)
    wait_until(lambda: a.get("/api/v1/stats")[1]["agents"]["total"] >= 2, 10, "hub A to see both agents")
    ledger = mesh.path("ledger")
    token_of = {a.submit({"command": "shell", "payload": f"echo q{i} >> {ledger}"})["id"]: f"q{i}" for i in range(100)}
    for job_id in token_of:
        assert a.wait_job(job_id, timeout=60)["state"] == "succeeded"
    stats = [h.get("/api/v1/stats")[1]["shared_store"] for h in (b, c)]
    won = sum(s["claims_won"] for s in stats)
    assert won == 100, f"each job claimed by exactly one hub before it was assigned: {stats}"
    assert all(s["claims_won"] > 0 for s in stats), f"both hubs with agents took work: {stats}"
    # The claims decided the race: no assignment had to be refused by the fence.
    assert sum(s["refused_events"] for s in stats) == 0, stats
    assert sorted(open(ledger).read().split()) == sorted(token_of.values())
    assert not psql_rows(pg_url, "SELECT job_id FROM job_fence WHERE claimed_by IS NOT NULL"), \
        "a claim outlived the job's assignment"


@pytest.mark.deadline(120)
def test_the_hash_chain_holds_over_two_hubs_and_names_an_event_edited_by_hand(mesh, pg_url):
    a, b = start_hubs(mesh, pg_url, 2)
    mesh.start_agent(b, "chain-b", concurrency=2)  # jobs submitted on A run on B: their streams have both hubs' events
    ids = [a.submit({"command": "echo", "payload": f"chained {i}"})["id"] for i in range(10)]
    for j in ids:
        assert a.wait_job(j, timeout=30)["state"] == "succeeded"
    origins = {o for (o,) in psql_rows(pg_url, f"SELECT DISTINCT origin FROM events WHERE stream = 'job-{ids[0]}'")}
    assert origins == {"hub-0", "hub-1"}, origins
    assert not psql_rows(pg_url, "SELECT seq FROM events WHERE hash IS NULL"), "an event without its hash"
    rc, out, err = mesh.cli("replay", "--verify", "--store", pg_url, timeout=60)
    assert rc == 0, f"{out}\n{err}"
    assert "hash chain from seq 1" in out, out

    seq = int(psql_rows(pg_url, f"SELECT seq FROM events WHERE stream = 'job-{ids[4]}' AND type = 'job.finished'")[0][0])
    psql_rows(pg_url, f"UPDATE events SET data = data || '\\x00'::bytea WHERE seq = {seq}")
    rc, out, err = mesh.cli("replay", "--verify", "--store", pg_url, timeout=60)
    assert rc == 1, f"{out}\n{err}"
    assert f"first not matching its hash: event {seq} (job-{ids[4]} v" in err, err


@pytest.mark.deadline(90)
def test_a_run_driven_by_one_hub_is_read_and_waited_on_from_another(mesh, pg_url):
    a, b = start_hubs(mesh, pg_url, 2)
    mesh.start_agent(a, "runs-here", concurrency=2)
    ledger = mesh.path("ledger")
    flow = write_ledger_flow(mesh, "watched", ledger)
    rc, out, err = mesh.cli("run", flow, "--detach", hub=a)
    assert rc == 0, err
    run_id = out.strip()
    # At once, before any row of the run exists: hub B reads it from the log.
    wait_until(lambda: b.get(f"/api/v1/runs/{run_id}")[0] == 200, 5, "hub B to read the run", interval=0.05)
    status, feed = b.get(f"/api/v1/runs/{run_id}/events")
    assert status == 200 and feed["events"][0]["type"] == "run.started", feed
    t0 = time.monotonic()
    status, run = b.get(f"/api/v1/runs/{run_id}?wait=30s", timeout=40)
    assert status == 200 and run["state"] == "succeeded", run
    assert time.monotonic() - t0 < 15, "the wait ended with the run, not at its deadline"
