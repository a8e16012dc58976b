"""500 echo jobs submitted concurrently to two agents: all succeed, each exactly once."""

import collections
import concurrent.futures

import pytest

from e2e_helpers import (TERMINAL_STATES, KeepAliveClient, job_agent_name,
                         terminal_events_by_job, wait_until)

N_JOBS = 500
THREADS = 16


@pytest.mark.deadline(170)
def test_500_concurrent_echo_jobs_all_succeed_once_on_both_agents(mesh, hub, registry):
    mesh.start_agent(hub, "a1", concurrency=8)
    mesh.start_agent(hub, "a2", concurrency=8)

    def submit_range(start):
        client = KeepAliveClient(hub.port)
        out = []
        try:
            for i in range(start, N_JOBS, THREADS):
                spec = {"command": "echo", "payload": f"job-{i}",
                        "idempotency_key": f"e2e-concurrent-{i}"}
                status, body = client.request("POST", "/api/v1/jobs", spec)
                assert status == 201, f"POST /api/v1/jobs job-{i} -> {status} {body!r}"
                out.append((i, body["id"]))
        finally:
            client.close()
        return out

    with concurrent.futures.ThreadPoolExecutor(THREADS) as pool:
        results = [f.result() for f in [pool.submit(submit_range, s) for s in range(THREADS)]]
    payload_of = {}
    for chunk in results:
        for i, job_id in chunk:
            payload_of[job_id] = f"job-{i}"
    assert len(payload_of) == N_JOBS, f"{N_JOBS} submits gave {len(payload_of)} distinct ids"

    records = {}

    def all_terminal():
        jobs = hub.jobs(limit=2000)
        for j in jobs:
            if j["id"] in payload_of:
                records[j["id"]] = j
        done = sum(1 for j in records.values() if j["state"] in TERMINAL_STATES)
        return done == N_JOBS and len(records) == N_JOBS

    wait_until(all_terminal, 120, f"all {N_JOBS} jobs terminal", interval=0.5)

    problems = []
    per_agent = collections.Counter()
    for job_id, rec in records.items():
        if rec["state"] != "succeeded" or rec["attempt"] != 1 or rec["output"] != payload_of[job_id]:
            problems.append(rec)
        per_agent[job_agent_name(rec)] += 1
    assert not problems, f"{len(problems)} jobs not succeeded-once-with-their-payload: {problems[:5]}"
    assert set(per_agent) == {"a1", "a2"}, f"work per agent: {dict(per_agent)}"

    # one outcome per job in the event log
    registry.stop(hub.proc)
    terminal, all_types = terminal_events_by_job(hub.db_path, list(payload_of))
    bad = {j: all_types.get(j) for j, t in terminal.items() if len(t) != 1}
    assert not bad, (f"{len(bad)} jobs without exactly one terminal event; e.g. "
                     f"{list(bad.items())[:3]}")
