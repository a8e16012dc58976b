"""Golden event logs (tests/data/golden/*/, made by real runs of the build that wrote them with
tests/data/golden/make_golden.py): every build must replay them to the state recorded beside
them, verify their projections, and start a hub on them that answers the same. A changed event
schema gets an upcaster; it never breaks these."""

import glob
import json
import os
import shutil

import pytest

GOLDEN = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir, "data", "golden"))
SETS = sorted(d for d in glob.glob(os.path.join(GOLDEN, "*")) if os.path.isfile(os.path.join(d, "orbitmesh.db")))


def test_there_is_a_golden_log():
    assert SETS, f"no golden logs in {GOLDEN}"


def copy_store(mesh, golden, name):
    data_dir = mesh.path(name)
    os.makedirs(data_dir)
    shutil.copy(os.path.join(golden, "orbitmesh.db"), os.path.join(data_dir, "orbitmesh.db"))
    return data_dir


def replay_json(mesh, *args):
    rc, out, err = mesh.cli("replay", *args, "-o", "json")
    assert rc == 0, f"replay {args}: exit {rc}: {err}"
    return json.loads(out)


@pytest.mark.deadline(150)
@pytest.mark.parametrize("golden", SETS, ids=[os.path.basename(d) for d in SETS])
def test_a_golden_log_replays_to_its_recorded_state(mesh, golden):
    with open(os.path.join(golden, "expected.json"), encoding="utf-8") as f:
        expected = json.load(f)
    with open(os.path.join(golden, "events.ndjson"), encoding="utf-8") as f:
        recorded_events = [json.loads(line) for line in f if line.strip()]
    data_dir = copy_store(mesh, golden, "replayed")

    summary = replay_json(mesh, "--data-dir", data_dir)
    summary.pop("store")
    assert summary == expected["summary"]

    seen = {}
    for kind in ("jobs", "runs", "agents", "workflows"):
        for object_id, state in expected[kind].items():
            t = replay_json(mesh, object_id, "--data-dir", data_dir)
            assert t["state"] == state, f"{kind[:-1]} {object_id} replays to another state"
            for e in t["events"]:
                seen[e["seq"]] = {k: e[k] for k in ("seq", "time", "stream", "version", "type", "data")}
    assert [seen[s] for s in sorted(seen)] == recorded_events, "the log's events read differently"

    rc, out, err = mesh.cli("replay", "--verify", "--data-dir", data_dir)
    assert rc == 0 and "the store matches its events" in out, f"{out}\n{err}"


@pytest.mark.deadline(150)
@pytest.mark.parametrize("golden", SETS, ids=[os.path.basename(d) for d in SETS])
def test_a_hub_started_on_a_golden_log_answers_from_it(mesh, registry, golden):
    with open(os.path.join(golden, "expected.json"), encoding="utf-8") as f:
        expected = json.load(f)
    hub = mesh.start_hub(data_dir=copy_store(mesh, golden, "served"))  # migrates it if the schema moved on
    for job_id, state in expected["jobs"].items():
        assert hub.job(job_id) == state, f"job {job_id}"
    for run_id, state in expected["runs"].items():
        status, body = hub.get(f"/api/v1/runs/{run_id}")
        assert status == 200 and body == state, f"run {run_id}: {status}"
    status, stats = hub.get("/api/v1/stats")
    assert stats["jobs"]["total"] == len(expected["jobs"])
    assert {k: v for k, v in stats["jobs"].items() if k != "total" and v} == expected["summary"]["jobs"]
    registry.stop(hub.proc)
    rc, out, err = mesh.cli("replay", "--verify", "--data-dir", hub.data_dir)
    assert rc == 0, f"{out}\n{err}"
