"""`orbitmesh replay RUN --what-if FILE`: a recorded run of examples/build-test-deploy.yaml against
an edited copy (a step added, a condition that now skips a step) reports exactly those
differences, executes nothing (the added step's marker file never appears, the store gains no
event), and exits 0 when the outcome stays the same, 1 when it changes."""

import json
import os
import sqlite3

import pytest

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir, os.pardir))
EXAMPLE = os.path.join(ROOT, "examples", "build-test-deploy.yaml")

ADDED = """
  - id: announce
    needs: [deploy]
    run: touch "{marker}"
"""


def record(mesh, monkeypatch, name, *inputs):
    tmp = mesh.path("jobs-tmp")
    os.makedirs(tmp, exist_ok=True)
    monkeypatch.setenv("TMPDIR", tmp)  # the example writes only under $TMPDIR
    data = mesh.path(name)
    args = ["run", "--local", "--data-dir", data, "-o", "json", "-q", EXAMPLE, "--input", "version=1.4.2"]
    for i in inputs:
        args += ["--input", i]
    rc, out, err = mesh.cli(*args, timeout=90)
    run = json.loads(out)
    return data, run, rc


def edited_copy(mesh, marker):
    with open(EXAMPLE, encoding="utf-8") as f:
        text = f.read()
    # the smoke test now runs only for production (the recorded run deployed to staging)
    text = text.replace("  - id: smoke-test\n    name: Smoke test\n",
                        "  - id: smoke-test\n    name: Smoke test\n    condition: inputs.environment == 'production'\n")
    assert "condition: inputs.environment == 'production'" in text
    text = text.replace("\nerror_handling:", ADDED.format(marker=marker) + "\nerror_handling:")
    path = mesh.path("build-test-deploy-v2.yaml")
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
    return path


def last_seq(data):
    db = sqlite3.connect(os.path.join(data, "orbitmesh.db"))
    try:
        return db.execute("SELECT max(seq) FROM events").fetchone()[0]
    finally:
        db.close()


@pytest.mark.deadline(150)
def test_what_if_reports_the_added_step_and_the_flipped_condition_and_runs_nothing(mesh, monkeypatch):
    data, run, rc = record(mesh, monkeypatch, "recorded")
    assert rc == 0 and run["state"] == "succeeded", run
    marker = mesh.path("announced")
    v2 = edited_copy(mesh, marker)
    before = last_seq(data)

    rc, out, err = mesh.cli("replay", run["id"], "--what-if", v2, "--data-dir", data, "-o", "json", timeout=60)
    assert rc == 0, f"{out}\n{err}"
    report = json.loads(out)
    assert report["outcome"] == {"before": "succeeded", "after": "succeeded"} and report["same_outcome"]
    assert [(c["step"], c["change"]) for c in report["changes"]] == [("smoke-test", "skipped"), ("announce", "added")]
    added = report["changes"][1]
    assert added["after"] == "would run, no recorded result"
    assert report["changes"][0]["before"] == "succeeded" and report["changes"][0]["after"] == "skipped"
    assert report["jobs_answered_from_record"] == 4 and report["jobs_without_record"] == 1
    assert not os.path.exists(marker), "what-if executed a step"
    assert last_seq(data) == before, "what-if wrote to the store"

    rc, out, err = mesh.cli("replay", run["id"], "--what-if", v2, "--data-dir", data, timeout=60)
    assert rc == 0
    assert "would run, no recorded result" in out
    assert "outcome: succeeded -> succeeded (the same)" in out

    # the unchanged definition: nothing differs
    rc, out, err = mesh.cli("replay", run["id"], "--what-if", EXAMPLE, "--data-dir", data, "-o", "json", timeout=60)
    assert rc == 0 and json.loads(out)["changes"] == [], out


@pytest.mark.deadline(150)
def test_what_if_exits_1_when_the_outcome_would_differ(mesh, monkeypatch):
    data, run, rc = record(mesh, monkeypatch, "failed-run", "fail_smoke=true")
    assert rc == 1 and run["state"] == "failed", run
    v2 = edited_copy(mesh, mesh.path("announced"))
    rc, out, err = mesh.cli("replay", run["id"], "--what-if", v2, "--data-dir", data, "-o", "json", timeout=60)
    assert rc == 1, f"{out}\n{err}"
    report = json.loads(out)
    assert report["outcome"] == {"before": "failed", "after": "succeeded"}
    changes = {c["step"]: c["change"] for c in report["changes"]}
    assert changes["smoke-test"] == "skipped" and changes["announce"] == "added"
    assert changes.get("deploy") == "different outcome"  # compensated before, succeeded now


@pytest.mark.deadline(30)
def test_what_if_usage_errors(mesh):
    rc, out, err = mesh.cli("replay", "--what-if", EXAMPLE, "--data-dir", mesh.path("x"))
    assert rc == 2 and "replay RUN --what-if FILE --data-dir DIR" in err
    rc, out, err = mesh.cli("replay", "some-run", "--what-if", EXAMPLE)
    assert rc == 2 and "--data-dir" in err
