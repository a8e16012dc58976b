"""The store as operators see it: plain projection tables, readable while the hub runs,
durability modes, and a damaged database stopping the hub with a clear message."""

import os
import sqlite3

import pytest

from e2e_helpers import stderr_lines


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
