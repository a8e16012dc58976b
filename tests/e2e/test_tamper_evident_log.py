"""The tamper-evident log (docs/security.md): every event's hash is chained over its stream's
previous one and every commit group gets a log_chain checkpoint. Editing one event's data in the
SQLite file by hand makes `replay --verify` exit 1 naming that event's seq; `--chain-head`
prints the head an operator keeps elsewhere; old logs (schema 2) still load and verify."""

import json
import os
import shutil
import sqlite3

import pytest

GOLDEN = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir, "data", "golden",
                                       "2026-12-03-schema2"))


def make_log(mesh, registry, jobs=6):
    hub = mesh.start_hub()
    mesh.start_agent(hub, "chain1")
    for i in range(jobs):
        rc, out, err = mesh.cli("job", "submit", "--wait", "-o", "json", "--", "echo", f"hello {i}", hub=hub)
        assert rc == 0, err
    registry.stop(hub.proc)
    return hub


def verify(mesh, data_dir, *args):
    return mesh.cli("replay", "--verify", "--data-dir", data_dir, *args)


@pytest.mark.deadline(60)
def test_editing_one_events_data_by_hand_is_named_by_its_seq(mesh, registry):
    hub = make_log(mesh, registry)
    rc, out, err = verify(mesh, hub.data_dir)
    assert rc == 0, f"{out}\n{err}"
    assert "hash chain from seq 1" in out

    db = sqlite3.connect(os.path.join(hub.data_dir, "orbitmesh.db"))
    try:
        seq, stream, data = db.execute(
            "SELECT seq, stream, data FROM events WHERE type = 'job.finished' ORDER BY seq LIMIT 1 OFFSET 2").fetchone()
        edited = bytes(data).replace(b"hello 2", b"hello X")
        assert edited != bytes(data), "the output to edit is in the event"
        db.execute("UPDATE events SET data = ? WHERE seq = ?", (edited, seq))
        db.commit()
    finally:
        db.close()

    rc, out, err = verify(mesh, hub.data_dir)
    assert rc == 1, f"{out}\n{err}"
    assert f"first not matching its hash: event {seq} ({stream} v" in err, err
    rc, out, err = verify(mesh, hub.data_dir, "-o", "json")
    report = json.loads(out)
    first = report["first_differences"][0]
    assert first["object"].startswith(f"event {seq} ({stream} v") and first["field"] == "hash"
    assert first["stored"] != first["rebuilt"] and len(first["rebuilt"]) == 64
    assert report["chain"]["mismatches"] == 1  # that event only: the checkpoints cover stored hashes


@pytest.mark.deadline(60)
def test_a_rewritten_hash_breaks_the_chain_after_it_and_the_head_shows_it(mesh, registry):
    hub = make_log(mesh, registry, jobs=3)
    rc, out, err = mesh.cli("replay", "--chain-head", "--data-dir", hub.data_dir, "-o", "json")
    assert rc == 0, err
    head = json.loads(out)
    assert head["seq"] == head["last_event_seq"] and len(head["hash"]) == 64
    rc, line, err = mesh.cli("replay", "--chain-head", "--data-dir", hub.data_dir)
    assert rc == 0 and line.strip() == f"seq {head['seq']} sha256 {head['hash']}"

    db = sqlite3.connect(os.path.join(hub.data_dir, "orbitmesh.db"))
    try:
        db.execute("UPDATE events SET hash = zeroblob(32) WHERE seq = 3")
        db.commit()
    finally:
        db.close()
    rc, out, err = verify(mesh, hub.data_dir, "-o", "json")
    assert rc == 1
    objects = [d["object"] for d in json.loads(out)["first_differences"] if d["field"] == "hash"]
    assert objects[0].startswith("event 3 ("), objects
    assert any(o.startswith("log_chain checkpoint") for o in objects), objects


@pytest.mark.deadline(60)
def test_chain_head_needs_a_data_dir_and_an_old_store_has_no_chain(mesh):
    rc, out, err = mesh.cli("replay", "--chain-head")
    assert rc == 2 and "--data-dir" in err and err.count("\n") == 1
    data_dir = mesh.path("old")
    os.makedirs(data_dir)
    shutil.copy(os.path.join(GOLDEN, "orbitmesh.db"), os.path.join(data_dir, "orbitmesh.db"))
    rc, out, err = mesh.cli("replay", "--chain-head", "--data-dir", data_dir)
    assert rc == 2 and "no hash chain yet" in err, err


@pytest.mark.deadline(90)
def test_an_old_log_migrated_keeps_its_events_and_the_chain_starts_after_them(mesh, registry):
    data_dir = mesh.path("migrated")
    os.makedirs(data_dir)
    shutil.copy(os.path.join(GOLDEN, "orbitmesh.db"), os.path.join(data_dir, "orbitmesh.db"))
    db = sqlite3.connect(os.path.join(data_dir, "orbitmesh.db"))
    old_last = db.execute("SELECT max(seq) FROM events").fetchone()[0]
    db.close()
    hub = mesh.start_hub(data_dir=data_dir)  # migrates to schema 3
    mesh.start_agent(hub, "chain2")
    rc, out, err = mesh.cli("job", "submit", "--wait", "--", "echo", "after the migration", hub=hub)
    assert rc == 0, err
    registry.stop(hub.proc)
    rc, out, err = verify(mesh, data_dir)
    assert rc == 0, f"{out}\n{err}"
    assert f"hash chain from seq {old_last + 1}" in out
    db = sqlite3.connect(os.path.join(data_dir, "orbitmesh.db"))
    try:
        assert db.execute("SELECT count(*) FROM events WHERE seq <= ? AND hash IS NOT NULL", (old_last,)).fetchone()[0] == 0
        assert db.execute("SELECT count(*) FROM events WHERE seq > ? AND hash IS NULL", (old_last,)).fetchone()[0] == 0
    finally:
        db.close()
