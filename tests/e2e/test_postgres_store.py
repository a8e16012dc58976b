"""The PostgreSQL store (SPEC §5, §10, issue 12): bad and unreachable URLs, replay --verify on
PostgreSQL, offline token minting into it, and a standby hub on the same database taking over
from a hub killed with -9 mid-load while agents fail over to it with their outboxes. The core
job scenarios run on PostgreSQL too: see `@both_stores` in the other files."""

import collections
import os

import pytest

from workflow_helpers import RUN_DONE, write_ledger_flow
from e2e_helpers import (FAST_RECONNECT, assert_one_error_line, assert_ran_once_each, assert_store_verifies, free_port, psql_rows,
                         read_events, terminal_events_by_job, wait_until)


def test_a_malformed_postgres_url_is_one_line_and_exit_2(mesh):
    rc, out, err = mesh.cli("serve", "--listen", "127.0.0.1:0", "--data-dir", mesh.path("d"),
                            "--store", "postgresql://u:secret@127.0.0.1:5/db?nosuchoption=1", timeout=20)
    assert_one_error_line(rc, out, err, 2, "serve --store malformed")
    assert "not a valid PostgreSQL URL" in err, err
    assert "secret" not in err, f"the password leaked into the message: {err}"


def test_an_unknown_store_scheme_is_exit_2(mesh):
    rc, out, err = mesh.cli("serve", "--listen", "127.0.0.1:0", "--data-dir", mesh.path("d"),
                            "--store", "mysql://127.0.0.1/db", timeout=20)
    assert_one_error_line(rc, out, err, 2, "serve --store mysql://")
    assert "postgres://" in err and "sqlite://" in err, err


def test_an_unreachable_postgres_server_is_one_line_and_exit_3(mesh):
    port = free_port()  # nothing listens there
    url = f"postgres://orbitmesh:hunter2@127.0.0.1:{port}/orbitmesh"
    rc, out, err = mesh.cli("serve", "--listen", "127.0.0.1:0", "--data-dir", mesh.path("d"), "--store", url,
                            timeout=20)
    assert_one_error_line(rc, out, err, 3, "serve --store unreachable")
    assert "cannot reach the PostgreSQL store" in err and str(port) in err, err
    assert "hunter2" not in err, f"the password leaked into the message: {err}"
    rc, out, err = mesh.cli("replay", "--verify", "--store", url, timeout=20)
    assert_one_error_line(rc, out, err, 3, "replay --verify --store unreachable")


@pytest.mark.deadline(60)
def test_replay_verify_reads_the_postgres_store_and_finds_a_tampered_row(mesh, pg_url):
    mesh.store_url = pg_url
    hub = mesh.start_hub()
    mesh.start_agent(hub, "w1", concurrency=2)
    ids = [hub.submit({"command": "echo", "payload": {"n": i}})["id"] for i in range(10)]
    for j in ids:
        assert hub.wait_job(j, timeout=30)["state"] == "succeeded"
    assert_store_verifies(mesh, hub.data_dir)
    rc, out, err = mesh.cli("replay", "--store", pg_url, "-o", "json", timeout=60)
    assert rc == 0, err
    assert '"jobs"' in out, out
    rc, out, err = mesh.cli("replay", ids[0], "--store", pg_url, timeout=60)
    assert rc == 0 and "job.finished" in out, out + err
    # The hub's own /api/v1/verify reads the same store through its copy.
    status, report = hub.get("/api/v1/verify", timeout=60)
    assert status == 200 and report["ok"] is True, report
    # A projection row that no longer matches its events is found.
    psql_rows(pg_url, f"UPDATE jobs SET state = 'failed' WHERE id = '{ids[3]}'")
    rc, out, err = mesh.cli("replay", "--verify", "--store", pg_url, timeout=60)
    assert rc == 1, f"verify should find the tampered row: {rc}\n{out}\n{err}"
    assert ids[3] in out + err, out + err


def test_token_create_offline_records_the_token_in_postgres(mesh, pg_url):
    rc, out, err = mesh.cli("token", "create", "--data-dir", mesh.path("hubdata"), "--store", pg_url,
                            "--role", "admin", "--name", "first", "-o", "json", timeout=30)
    assert rc == 0, err
    rows = psql_rows(pg_url, "SELECT type FROM events WHERE stream LIKE 'token-%'")
    assert ["token.created"] in rows, rows


@pytest.mark.deadline(120)
def test_standby_hub_takes_over_a_killed_hub_and_agents_fail_over_with_nothing_lost(mesh, registry, pg_url):
    mesh.store_url = pg_url
    active = mesh.start_hub()
    standby_port = free_port()
    standby = mesh.start_hub(port=standby_port, wait_ready=False)
    # The standby waits for the hub lock: it says so and does not listen.
    wait_until(lambda: "waiting as a standby" in standby.proc.log_tail(), 15, "the standby's waiting line")
    assert not os.path.exists(standby.port_file)

    servers = ["--server", f"http://127.0.0.1:{standby_port}", *FAST_RECONNECT]
    for name in ("a1", "a2"):
        mesh.start_agent(active, name, concurrency=3, args=servers)
    ledger = mesh.path("ledger")
    token_of = {}
    for i in range(3):
        token_of[active.submit({"command": "shell", "payload": f"sleep 1; echo slow-{i} >> {ledger}"})["id"]] = f"slow-{i}"
    for i in range(40):
        token_of[active.submit({"command": "shell", "payload": f"echo quick-{i} >> {ledger}"})["id"]] = f"quick-{i}"
    # A workflow run the active hub is driving when it dies: the standby finishes it.
    flow = write_ledger_flow(mesh, "takeover", ledger)
    rc, out, err = mesh.cli("run", flow, "--detach", hub=active)
    assert rc == 0, err
    run_id = out.strip()
    registry.kill9(active.proc)

    def standby_port_file():
        if not standby.proc.alive():
            raise AssertionError(f"standby exited:\n{standby.proc.log_tail()}")
        return os.path.exists(standby.port_file)
    wait_until(standby_port_file, 30, "the standby to take over and listen")
    standby.port = standby_port
    wait_until(standby.healthy, 15, "the standby's /healthz")
    for name in ("a1", "a2"):
        standby.wait_agent_state(name, "connected", timeout=30)
    for i in range(20):  # and new work goes to the new hub
        token_of[standby.submit({"command": "shell", "payload": f"echo after-{i} >> {ledger}"})["id"]] = f"after-{i}"

    for job_id in token_of:
        rec = standby.wait_job(job_id, timeout=60)
        assert rec["state"] == "succeeded", rec

    def run_done():
        status, body = standby.get(f"/api/v1/runs/{run_id}?wait=2s", timeout=10)
        return body if status == 200 and body["state"] in RUN_DONE else None
    run = wait_until(run_done, 60, f"run {run_id} to finish on the standby", interval=0.2)
    assert run["state"] == "succeeded", run

    assert_ran_once_each(ledger, set(token_of.values()) | {"wf-first", "wf-second"})
    jobs = list(token_of)
    terminal, all_types = terminal_events_by_job(pg_url, jobs)
    bad = {token_of[j]: all_types.get(j) for j, t in terminal.items() if len(t) != 1}
    assert not bad, f"jobs without exactly one terminal event: {list(bad.items())[:5]}"
    submitted = collections.Counter(r[1] for r in read_events(pg_url, jobs) if r[3] == "job.submitted")
    assert len(submitted) == len(jobs) and set(submitted.values()) == {1}, submitted
    assert_store_verifies(mesh, standby.data_dir)
