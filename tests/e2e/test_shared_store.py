"""Several active hubs on one PostgreSQL (`serve --shared-store`, SPEC §10, issue 12): work spread
over the hubs runs exactly once, a job submitted on one hub runs on another hub's agent and is
waited on, followed and cancelled from the first, and a hub killed with -9 mid-load loses nothing:
its agents move to another hub and the database's fence keeps every result recorded once. The
ledger is both what the shell jobs wrote and the events in the database. Real processes on
127.0.0.1, a real PostgreSQL (skipped only when it is not installed)."""

import collections
import json
import os
import queue
import threading
import time

import pytest

from sse_client import SseClient
from workflow_helpers import wait_run, write_ledger_flow
from e2e_helpers import (FAST_RECONNECT, assert_one_error_line, assert_ran_once_each, psql_rows, read_events, terminal_events_by_job,
                         wait_until)

# The agents' heartbeat (3 missed: gone) and the reassign delay short, so a dead hub's jobs move
# within seconds; the hubs' own heartbeat is 1 s, dead after 3 s.
SHARED = ["--shared-store", "--heartbeat", "1s", "--reassign-after", "2s"]


def start_hubs(mesh, pg_url, n):
    mesh.store_url = pg_url
    return [mesh.start_hub(args=[*SHARED, "--hub-id", f"hub-{i}"]) for i in range(n)]


def others(hubs, home):
    """`--server` for an agent of `home`: its hub first, then the rest to fail over to."""
    return ["--server", ",".join(h.url for h in hubs if h is not home), *FAST_RECONNECT]


def assert_exactly_once(pg_url, ledger, token_of):
    assert_ran_once_each(ledger, token_of.values())
    jobs = list(token_of)
    terminal, all_types = terminal_events_by_job(pg_url, jobs)
    bad = {token_of[j]: all_types.get(j) for j, t in terminal.items() if len(t) != 1}
    assert not bad, f"jobs without exactly one terminal event: {list(bad.items())[:5]}"
    events = read_events(pg_url, jobs)
    submitted = collections.Counter(r[1] for r in events if r[3] == "job.submitted")
    assert len(submitted) == len(jobs) and set(submitted.values()) == {1}, submitted
    # Every stream's versions are 1..n with no collision, whichever hub appended them.
    versions = collections.defaultdict(list)
    for _, stream, version, _ in events:
        versions[stream].append(version)
    gaps = {s: v for s, v in versions.items() if v != list(range(1, len(v) + 1))}
    assert not gaps, f"streams whose versions are not 1..n: {list(gaps.items())[:3]}"


@pytest.mark.deadline(150)
@pytest.mark.parametrize("n_hubs", [2, 3])
def test_hubs_share_1000_jobs_submitted_round_robin_and_each_runs_exactly_once(mesh, pg_url, n_hubs):
    hubs = start_hubs(mesh, pg_url, n_hubs)
    for i, h in enumerate(hubs):
        for k in range(2):
            mesh.start_agent(h, f"a{i}{k}", concurrency=4, args=others(hubs, h))
    ledger = mesh.path("ledger")
    token_of = {}
    for i in range(1000):
        h = hubs[i % n_hubs]
        token_of[h.submit({"command": "shell", "payload": f"echo j{i} >> {ledger}"})["id"]] = f"j{i}"
    # Waited on another hub than the one that took it: the follower brings every result there.
    for n, job_id in enumerate(token_of):
        rec = hubs[(n + 1) % n_hubs].wait_job(job_id, timeout=60)
        assert rec["state"] == "succeeded", rec
    for job_id in list(token_of)[:20]:  # and `job get` agrees on every hub
        assert {h.job(job_id)["state"] for h in hubs} == {"succeeded"}
    ran_on = collections.Counter((hubs[0].job(j).get("agent") or {}).get("name") for j in token_of)
    assert len(ran_on) == 2 * n_hubs, f"every agent of every hub took work: {ran_on}"
    assert_exactly_once(pg_url, ledger, token_of)


@pytest.mark.deadline(120)
def test_a_job_for_another_hubs_agent_runs_there_and_is_waited_followed_and_cancelled_here(mesh, pg_url):
    a, b = start_hubs(mesh, pg_url, 2)
    mesh.start_agent(a, "plain", concurrency=2)
    mesh.start_agent(b, "gpu", tags={"kind": "gpu"}, concurrency=4)
    # Agent locations travel too: hub A lists B's agent as connected.
    a.wait_agent_state("gpu", "connected", timeout=10)

    rc, out, err = mesh.cli("job", "submit", "--tag", "kind=gpu", "--wait", "-o", "json", "--", "echo", "cross",
                            hub=a, timeout=30)
    assert rc == 0, (rc, out, err)
    assert json.loads(out)["agent"]["name"] == "gpu", out

    rc, out, err = mesh.cli("job", "submit", "--tag", "kind=gpu", "--", "shell", "echo first; sleep 1; echo second",
                            hub=a)
    assert rc == 0, (rc, out, err)
    job_id = out.strip()
    follower = mesh.cli_background("job", "logs", job_id, "-f", hub=a, name="logs-f")
    lines = queue.Queue()
    threading.Thread(target=lambda: [lines.put(raw.decode("utf-8", "replace").rstrip("\n"))
                                     for raw in follower.popen.stdout], daemon=True).start()
    seen = []
    deadline = time.monotonic() + 20
    while "second" not in seen and time.monotonic() < deadline:
        try:
            seen.append(lines.get(timeout=max(0.1, deadline - time.monotonic())))
        except queue.Empty:
            break
    assert seen[:2] == ["first", "second"], seen
    follower.popen.wait(timeout=15)
    assert follower.popen.returncode == 0, follower.popen.returncode

    job_id = a.submit({"command": "shell", "payload": "sleep 600", "target": {"tags": {"kind": "gpu"}}})["id"]
    wait_until(lambda: a.job(job_id)["state"] == "running", 15, "the job running on B, seen from A")
    rc, out, err = mesh.cli("job", "cancel", job_id, hub=a)
    assert rc == 0, (rc, out, err)
    for h in (a, b):
        rec = h.wait_job(job_id, timeout=20)
        assert rec["state"] == "cancelled", rec
    terminal, _ = terminal_events_by_job(pg_url, [job_id])
    assert len(terminal[job_id]) == 1, terminal


@pytest.mark.deadline(150)
def test_three_hubs_one_killed_mid_load_nothing_lost_nothing_twice(mesh, registry, pg_url):
    hubs = start_hubs(mesh, pg_url, 3)
    agents = [mesh.start_agent(h, f"a{i}", concurrency=4, args=others(hubs, h)) for i, h in enumerate(hubs)]
    victim = hubs[1]
    ledger = mesh.path("ledger")
    token_of = {}
    for i in range(1000):
        live = [h for h in hubs if h is not victim] if i >= 500 else hubs
        h = live[i % len(live)]
        token_of[h.submit({"command": "shell", "payload": f"sleep 0.02; echo k{i} >> {ledger}"})["id"]] = f"k{i}"
        if i == 499:
            registry.kill9(victim.proc)
    survivor = hubs[0]
    moved = agents[1].agent_id()

    def moved_to_a_live_hub():
        rows = psql_rows(pg_url, f"SELECT origin FROM events WHERE stream = 'agent-{moved}'"
                                 " AND type = 'agent.connected' ORDER BY seq DESC LIMIT 1")
        return rows and rows[0][0] in ("hub-0", "hub-2")
    wait_until(moved_to_a_live_hub, 30, "the killed hub's agent to connect to a live hub", interval=0.2)
    for job_id in token_of:
        rec = survivor.wait_job(job_id, timeout=60)
        assert rec["state"] == "succeeded", rec
    assert_exactly_once(pg_url, ledger, token_of)


def test_shared_store_without_a_postgres_store_is_exit_2(mesh):
    rc, out, err = mesh.cli("serve", "--shared-store", "--listen", "127.0.0.1:0", "--data-dir", mesh.path("d"),
                            timeout=20)
    assert_one_error_line(rc, out, err, 2, "serve --shared-store")
    assert "--store postgres://" in err, err


@pytest.mark.deadline(90)
def test_a_run_driven_by_one_hub_runs_its_steps_on_another_hubs_agent(mesh, pg_url):
    a, b = start_hubs(mesh, pg_url, 2)
    mesh.start_agent(b, "only", concurrency=2)  # hub A has no agent at all
    ledger = mesh.path("ledger")
    flow = write_ledger_flow(mesh, "across", ledger)
    rc, out, err = mesh.cli("run", flow, "--detach", hub=a)
    assert rc == 0, err
    run_id = out.strip()
    # A hub started while the run is in flight folds it but does not drive it too (no step twice).
    mesh.start_hub(args=[*SHARED, "--hub-id", "hub-late"])

    run = wait_run(a, run_id, timeout=40)
    assert run["state"] == "succeeded", run
    assert_ran_once_each(ledger, {"wf-first", "wf-second"})


@pytest.mark.deadline(60)
def test_the_event_stream_of_one_hub_carries_the_other_hubs_events(mesh, pg_url):
    a, b = start_hubs(mesh, pg_url, 2)
    mesh.start_agent(a, "only-on-a", concurrency=2)
    c = SseClient(b.port, "/api/v1/events?type=job.")
    time.sleep(0.3)  # the feed places the client at the log's end on its next pass
    job = a.submit({"command": "echo", "payload": "seen from b"})["id"]
    got = c.read_until(lambda m: m["data"]["stream"] == f"job-{job}" and m["event"] == "job.finished", timeout=20)
    c.close()
    mine = [m for m in got if m["data"]["stream"] == f"job-{job}"]
    assert [m["event"] for m in mine][0] == "job.submitted", mine
    # The same seq as the shared log's, in order, once each.
    expected = [r[0] for r in read_events(pg_url, [job])]
    assert [int(m["id"]) for m in mine] == expected


@pytest.mark.deadline(120)
def test_a_run_whose_hub_is_killed_is_taken_over_by_another_hub_and_finishes_once(mesh, registry, pg_url):
    hubs = start_hubs(mesh, pg_url, 3)
    driver, others_ = hubs[0], hubs[1:]
    for i, h in enumerate(hubs):
        mesh.start_agent(h, f"w{i}", concurrency=2, args=others(hubs, h))
    ledger = mesh.path("ledger")
    flow = write_ledger_flow(mesh, "orphaned", ledger)
    rc, out, err = mesh.cli("run", flow, "--detach", hub=driver)
    assert rc == 0, err
    run_id = out.strip()
    wait_until(lambda: os.path.exists(ledger) or any(r[3] == "job.started" for r in read_events(pg_url)), 10,
               "the first step to start")
    registry.kill9(driver.proc)

    # Its heartbeat stops; after 3 s one of the survivors (the database decides which) drives the run.
    def finished_somewhere():
        for h in others_:
            status, body = h.get(f"/api/v1/runs/{run_id}")
            if status == 200 and body["state"] in ("succeeded", "failed", "cancelled", "timed_out"):
                return body
        return None
    run = wait_until(finished_somewhere, 60, f"run {run_id} to finish on a surviving hub", interval=0.2)
    assert run["state"] == "succeeded", run
    assert_ran_once_each(ledger, {"wf-first", "wf-second"})
    leases = psql_rows(pg_url, f"SELECT hub_id FROM run_leases WHERE run_id = '{run_id}'")
    assert len(leases) == 1 and leases[0][0] in ("hub-1", "hub-2"), leases
    # Exactly one run.finished, and each step's job submitted once.
    types = [r[3] for r in read_events(pg_url) if r[1] == f"run-{run_id}"]
    assert types.count("run.finished") == 1, types
