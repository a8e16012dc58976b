"""Every workflow in examples/ validates and runs end to end against a real hub and agents
(the approval of rolling-restart given with `workflow approve`). The examples write only under
$TMPDIR, which the agents here get pointed at the test's temp dir."""

import glob
import json
import os

import pytest

from e2e_helpers import wait_until
from workflow_helpers import RUN_DONE

EXAMPLES = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir, os.pardir,
                                         "examples"))


def example(name):
    return os.path.join(EXAMPLES, name + ".yaml")


def step(run, step_id):
    for s in run["steps"]:
        if s["id"] == step_id:
            return s
    raise AssertionError(f"no step {step_id!r}: {[s['id'] for s in run['steps']]}")


def lines(path):
    with open(path, encoding="utf-8") as f:
        return [l.rstrip("\n") for l in f if l.strip()]


@pytest.fixture
def tmpdir_env(mesh, monkeypatch):
    """Agents started after this see TMPDIR=<test temp dir>/jobs-tmp."""
    d = mesh.path("jobs-tmp")
    os.makedirs(d)
    monkeypatch.setenv("TMPDIR", d)
    return d


@pytest.fixture
def fleet(mesh, hub, tmpdir_env):
    mesh.start_agent(hub, "web1", tags={"role": "web"}, concurrency=4)
    mesh.start_agent(hub, "web2", tags={"role": "web"}, concurrency=4)
    mesh.start_agent(hub, "db1", tags={"role": "db"}, concurrency=4)
    return mesh, hub, tmpdir_env


def run_json(mesh, hub, name, *args):
    rc, out, err = mesh.cli("run", example(name), "-o", "json", *args, hub=hub, timeout=100)
    try:
        return rc, json.loads(out), err
    except ValueError:
        raise AssertionError(f"run {name}: rc={rc} out={out!r} err={err!r}") from None


def workdir(tmp, name, run_id):
    return os.path.join(tmp, "orbitmesh-examples", name, run_id)


def test_every_example_validates(mesh):
    files = sorted(glob.glob(os.path.join(EXAMPLES, "*.yaml")))
    assert len(files) >= 5, files
    rc, out, err = mesh.cli("workflow", "validate", *files)
    assert rc == 0, f"{out}\n{err}"


@pytest.mark.deadline(100)
def test_build_test_deploy_succeeds(fleet):
    mesh, hub, tmp = fleet
    rc, run, err = run_json(mesh, hub, "build-test-deploy", "--input", "version=1.4.2")
    assert rc == 0, err
    d = workdir(tmp, "build-test-deploy", run["id"])
    assert lines(os.path.join(d, "current")) == ["1.4.2"]
    assert not os.path.exists(os.path.join(d, "rollback.log"))


@pytest.mark.deadline(100)
def test_build_test_deploy_rolls_back_when_the_smoke_test_fails(fleet):
    mesh, hub, tmp = fleet
    rc, run, err = run_json(mesh, hub, "build-test-deploy", "--input", "version=2.0.0", "--input", "fail_smoke=true")
    assert rc == 1, err
    assert step(run, "smoke-test")["state"] == "failed"
    d = workdir(tmp, "build-test-deploy", run["id"])
    assert lines(os.path.join(d, "rollback.log")) == ["rolled back demo-service 2.0.0"]
    assert not os.path.exists(os.path.join(d, "current")), "the rollback must remove the release"
    assert "deploy" in [c["step"] for c in run["compensations"]]


@pytest.mark.deadline(100)
def test_fleet_health_check_asks_every_web_agent(fleet):
    mesh, hub, tmp = fleet
    rc, run, err = run_json(mesh, hub, "fleet-health-check")
    assert rc == 0, err
    assert step(run, "summary")["output"]["agents_checked"] == 2, step(run, "summary")


@pytest.mark.deadline(100)
def test_data_pipeline_joins_every_dataset(fleet):
    mesh, hub, tmp = fleet
    rc, run, err = run_json(mesh, hub, "data-pipeline", "--input", "rows=3")
    assert rc == 0, err
    d = workdir(tmp, "data-pipeline", run["id"])
    assert len(glob.glob(os.path.join(d, "*-*.csv"))) == 4
    assert len(lines(os.path.join(d, "all.csv"))) == 12
    assert step(run, "report")["output"]["datasets"] == "orders,customers,invoices,shipments"


@pytest.mark.deadline(100)
def test_nightly_maintenance_retries_and_delays(fleet):
    mesh, hub, tmp = fleet
    rc, run, err = run_json(mesh, hub, "nightly-maintenance")
    assert rc == 0, err
    d = workdir(tmp, "nightly-maintenance", run["id"])
    assert lines(os.path.join(d, "attempts")) == ["2"]
    assert step(run, "rotate-logs")["attempts"] == 2
    assert step(run, "settle")["state"] == "succeeded"
    assert len(os.listdir(os.path.join(d, "logs"))) == 3


@pytest.mark.deadline(100)
def test_rolling_restart_waits_for_approval_between_batches(fleet):
    mesh, hub, tmp = fleet
    rc, out, err = mesh.cli("run", example("rolling-restart"), "--detach", "--input", "pause=0", hub=hub)
    assert rc == 0, err
    run_id = out.strip()

    def waiting():
        rc2, out2, _ = mesh.cli("status", run_id, "-o", "json", hub=hub)
        return rc2 == 0 and step(json.loads(out2), "approve-batch-2")["state"] == "waiting"

    wait_until(waiting, 40, "the approval step to wait", interval=0.3)
    log = os.path.join(workdir(tmp, "rolling-restart", run_id), "restarts.log")
    assert sorted(lines(log)) == ["batch-1 web1", "batch-1 web2"], "batch 2 must not start before approval"
    rc, out, err = mesh.cli("workflow", "approve", run_id, "--step", "approve-batch-2", "--approver", "e2e",
                            "--comment", "batch 1 fine", hub=hub)
    assert rc == 0, err
    rc, out, err = mesh.cli("status", run_id, "-o", "json", hub=hub)

    def finished():
        status, body = hub.get(f"/api/v1/runs/{run_id}?wait=2s", timeout=10)
        return body if status == 200 and body["state"] in RUN_DONE else None

    run = wait_until(finished, 40, "the run to finish", interval=0.2)
    assert run["state"] == "succeeded", run
    got = lines(log)
    assert len(got) == 5 and all(l.startswith("batch-1") for l in got[:2]), got
