"""The store as operators see it: plain projection tables, readable while the hub runs,
durability modes, and a damaged database stopping the hub with a clear message."""

import os
import sqlite3

import pytest

from e2e_helpers import RawClient, hello, stderr_lines


def test_jobs_projection_is_queryable_while_the_hub_runs(mesh, hub):
    mesh.start_agent(hub, "a1")
    rec = hub.wait_job(hub.submit({"command": "echo", "payload": "sql"})["id"])
    conn = sqlite3.connect(f"file:{hub.db_path}?mode=ro", uri=True, timeout=10)
    try:
        row = conn.execute("SELECT state FROM jobs WHERE id = ?", (rec["id"],)).fetchone()
        types = [r[0] for r in conn.execute(
            "SELECT type FROM events WHERE stream = ? ORDER BY version", (f"job-{rec['id']}",))]
        journal = conn.execute("PRAGMA journal_mode").fetchone()[0]
    finally:
        conn.close()
    assert row == ("succeeded",), row
    assert types[0] == "job.submitted" and types[-1] == "job.finished", types
    assert journal.lower() == "wal", journal


@pytest.mark.parametrize("durability", ["full", "normal"])
def test_both_durability_modes_run_jobs_and_keep_them(mesh, registry, durability):
    hub = mesh.start_hub(args=["--durability", durability])
    mesh.start_agent(hub, "a1")
    rec = hub.wait_job(hub.submit({"command": "echo", "payload": durability})["id"])
    assert rec["state"] == "succeeded", rec
    registry.kill9(hub.proc)
    hub2 = mesh.restart_hub(hub)
    assert hub2.job(rec["id"])["state"] == "succeeded"


def test_a_damaged_database_stops_the_hub_with_a_clear_message(mesh, registry):
    hub = mesh.start_hub()
    for i in range(200):
        hub.submit({"command": "echo", "payload": "x" * 200, "target": {"capabilities": ["z"]}})
    assert registry.stop(hub.proc) == 0
    size = os.path.getsize(hub.db_path)
    assert size > 16384, f"database unexpectedly small: {size}"
    with open(hub.db_path, "r+b") as f:  # keep the header, scramble the pages after it
        f.seek(4096)
        f.write(os.urandom(size - 4096))
    rc, out, err = mesh.cli("serve", "--listen", "127.0.0.1:0", "--data-dir", hub.data_dir,
                            "--port-file", mesh.path("damaged-port"), timeout=20)
    lines = stderr_lines(err)
    assert rc != 0, f"hub started on a damaged database (exit {rc}); stderr={err!r}"
    assert any(l.startswith("orbitmesh: error:") for l in lines), lines
    assert not os.path.exists(mesh.path("damaged-port")) or \
        not open(mesh.path("damaged-port")).read().strip(), "the damaged hub wrote a port file"


def test_recovery_skips_an_event_with_a_malformed_field_logging_its_seq(mesh, registry):
    """docs/architecture.md: an event that does not apply is logged with its seq and skipped;
    the hub starts and every other job carries on."""
    import msgpack
    hub = mesh.start_hub()
    ids = [hub.submit({"command": "echo", "payload": n, "target": {"capabilities": ["z"]}})["id"]
           for n in ("kept", "bad-spec", "bad-assign")]
    assert registry.stop(hub.proc) == 0
    conn = sqlite3.connect(hub.db_path, timeout=10)
    try:
        seq, data = conn.execute("SELECT seq, data FROM events WHERE stream = ? AND version = 1",
                                 (f"job-{ids[1]}",)).fetchone()
        event = msgpack.unpackb(data, raw=False)
        event["spec"]["priority"] = "high"  # the submitted job's spec: a field of the wrong type
        conn.execute("UPDATE events SET data = ? WHERE seq = ?", (msgpack.packb(event), seq))
        bad = conn.execute(
            "INSERT INTO events(stream, version, type, data, time) VALUES (?, 2, 'job.assigned', ?, 1)",
            (f"job-{ids[2]}", msgpack.packb({"attempt": "1", "agent_id": "x"})))
        bad_seq = bad.lastrowid
        conn.execute("INSERT INTO events(stream, version, type, data, time) "
                     "VALUES ('agent-0190aaaa-0000-7000-8000-00000000beef', 1, 'agent.connected', ?, 1)",
                     (msgpack.packb({"name": "odd", "tags": {"role": 7}}),))
        garbled = conn.execute(  # bytes that are not MessagePack at all
            "INSERT INTO events(stream, version, type, data, time) VALUES (?, 2, 'job.cancel_requested', ?, 1)",
            (f"job-{ids[0]}", b"\xc1\xc1 not msgpack")).lastrowid
        # The clean stop took a snapshot past the edited event; a start from it would not read
        # that event again. Whoever edits the log drops the snapshots taken over it.
        conn.execute("DELETE FROM snapshots")
        conn.commit()
    finally:
        conn.close()
    hub2 = mesh.restart_hub(hub)
    log = hub2.proc.log_tail(1 << 20)
    assert f"recovery: skipped event {seq} (job.submitted of job-{ids[1]}): " in log, log
    assert 'field "spec": job field "priority" must be an integer' in log, log
    assert f"recovery: skipped event {bad_seq} (job.assigned of job-{ids[2]}): " in log, log
    assert f"recovery: skipped event {garbled} (job.cancel_requested of job-{ids[0]}): its data is not readable" in log, log
    assert "4 skipped" in log, log
    assert hub2.get(f"/api/v1/jobs/{ids[1]}")[0] == 404
    mesh.start_agent(hub2, "z1", capabilities=["z"])
    for job_id, payload in ((ids[0], "kept"), (ids[2], "bad-assign")):
        rec = hub2.wait_job(job_id)
        assert rec["state"] == "succeeded" and rec["output"] == payload, rec
    # The agent whose only event was skipped comes back: its next event follows the skipped one.
    client = RawClient(hub2.ws_url)
    try:
        client.send(hello("0190aaaa-0000-7000-8000-00000000beef", "odd"))
        welcome, seen = client.wait_for(lambda m: m.get("t") == "welcome", 5, "welcome")
        assert welcome is not None, seen
        hub2.wait_agent_state("odd", "connected", timeout=5)
    finally:
        client.close()
    assert hub2.proc.alive() and hub2.healthy(), hub2.proc.log_tail()
