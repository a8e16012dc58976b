"""`orbitmesh run` against a real hub and agent: exit codes 0/1/2/3/4/5/130, -o ndjson/json,
--detach, --timeout, inputs, status runs / status RUN_ID, event post, rerun (SPEC §1, §4)."""

import json
import os
import signal
import time

import pytest

from e2e_helpers import assert_one_error_line, free_port, stderr_lines, wait_until
from pg_server import both_stores
from workflow_helpers import run_record, wait_run, write_wf






def step(run, step_id):
    for s in run["steps"]:
        if s["id"] == step_id:
            return s
    raise AssertionError(f"no step {step_id!r} in run {run.get('id')}: {[s['id'] for s in run['steps']]}")


@pytest.fixture
def mesh1(mesh, hub):
    mesh.start_agent(hub, "w1", concurrency=4)
    return mesh, hub


OK_WF = """
    id: cli-ok
    inputs:
      who: {type: string, default: world}
      count: {type: integer, default: 1}
    steps:
      - id: hello
        command: echo
        payload: "hello ${{ inputs.who }} x${{ inputs.count }}"
      - id: after
        needs: [hello]
        run: echo after
"""


@both_stores
def test_run_succeeds_exit_0_and_json_is_the_final_record(mesh1):
    mesh, hub = mesh1
    path = write_wf(mesh, "ok", OK_WF)
    rc, out, err = mesh.cli("run", path, "-o", "json", "--input", "who=mesh", "--input", "count=3", hub=hub)
    assert rc == 0, f"rc={rc} err={err!r}"
    run = json.loads(out)
    assert run["state"] == "succeeded"
    assert run["workflow"]["id"] == "cli-ok"
    assert run["inputs"]["count"] == 3, "--input count=3 must reach the hub as the number 3"
    assert "hello mesh x3" in json.dumps(step(run, "hello")["output"])
    assert step(run, "after")["state"] == "succeeded"


def test_table_mode_prints_a_step_summary_on_stdout(mesh1):
    mesh, hub = mesh1
    path = write_wf(mesh, "ok", OK_WF)
    rc, out, err = mesh.cli("run", path, hub=hub)
    assert rc == 0, err
    assert "hello" in out and "after" in out and "succeeded" in out
    assert "\r" not in err, "no live progress line when stdout is not a terminal"


def test_ndjson_every_line_is_an_event_and_the_last_is_run_finished(mesh1):
    mesh, hub = mesh1
    path = write_wf(mesh, "ok", OK_WF)
    rc, out, err = mesh.cli("run", path, "-o", "ndjson", hub=hub)
    assert rc == 0, err
    lines = [l for l in out.splitlines() if l.strip()]
    events = [json.loads(l) for l in lines]  # every line must parse
    types = [e["type"] for e in events]
    assert types[-1] == "run.finished", types
    assert types[0] == "run.started", types
    assert "step.started" in types and "step.finished" in types
    seqs = [e["seq"] for e in events]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs), f"events repeated or out of order: {seqs}"


def test_failing_step_exits_1(mesh1):
    mesh, hub = mesh1
    path = write_wf(mesh, "bad", """
        id: cli-fail
        steps:
          - id: boom
            run: "echo about to fail; exit 3"
    """)
    rc, out, err = mesh.cli("run", path, hub=hub)
    assert rc == 1, f"rc={rc} err={err!r}"
    assert "boom" in out
    assert any("failed" in l for l in stderr_lines(err)), err


def test_invalid_file_exits_2_with_one_line_naming_the_line(mesh1):
    mesh, hub = mesh1
    path = write_wf(mesh, "broken", """
        id: cli-broken
        steps:
          - id: build
            run: echo b
          - id: deploy
            needs: [biuld]
            run: echo d
    """)
    rc, out, err = mesh.cli("run", path, hub=hub)
    line = assert_one_error_line(rc, out, err, 2, "run broken.yaml")
    assert "broken.yaml:6" in line and "biuld" in line and "did you mean" in line, line
    assert out == ""


def test_bad_input_is_refused_by_the_hub_with_exit_2(mesh1):
    mesh, hub = mesh1
    path = write_wf(mesh, "typed", """
        id: cli-typed
        inputs:
          env: {type: string, required: true, allowed_values: [staging, production]}
        steps:
          - id: s
            command: echo
            payload: "${{ inputs.env }}"
    """)
    rc, out, err = mesh.cli("run", path, "--input", "env=moon", hub=hub)
    line = assert_one_error_line(rc, out, err, 2, "run --input env=moon")
    assert "env" in line, line
    rc, out, err = mesh.cli("run", path, hub=hub)
    assert_one_error_line(rc, out, err, 2, "run without a required input")


def test_unreachable_hub_exits_3(mesh):
    path = write_wf(mesh, "ok", OK_WF)
    rc, out, err = mesh.cli("run", path, server=f"http://127.0.0.1:{free_port()}")
    assert_one_error_line(rc, out, err, 3, "run against a closed port")


def test_timeout_exits_4(mesh1):
    mesh, hub = mesh1
    path = write_wf(mesh, "slow", """
        id: cli-slow
        steps:
          - id: nap
            command: sleep
            payload: 60
    """)
    t0 = time.monotonic()
    rc, out, err = mesh.cli("run", path, "--timeout", "2s", hub=hub, timeout=40)
    assert rc == 4, f"rc={rc} err={err!r}"
    assert time.monotonic() - t0 < 20


def test_cancel_from_another_process_exits_5(mesh1):
    mesh, hub = mesh1
    path = write_wf(mesh, "slow", """
        id: cli-cancel
        steps:
          - id: nap
            command: sleep
            payload: 60
    """)
    proc = mesh.cli_background("run", path, "-o", "ndjson", hub=hub, name="run-bg")
    run_id = json.loads(proc.popen.stdout.readline())["run"]
    wait_until(lambda: step(run_record(hub, run_id), "nap")["state"] == "running", 20, "step nap running")
    rc, out, err = mesh.cli("workflow", "cancel", run_id, hub=hub)
    assert rc == 0, err
    assert proc.popen.wait(timeout=30) == 5
    assert run_record(hub, run_id)["state"] == "cancelled"


def test_detach_prints_the_run_id_and_status_shows_it(mesh1):
    mesh, hub = mesh1
    path = write_wf(mesh, "ok", OK_WF)
    rc, out, err = mesh.cli("run", path, "--detach", hub=hub)
    assert rc == 0, err
    run_id = out.strip()
    assert run_id and "\n" not in run_id
    wait_run(hub, run_id)
    rc, out, err = mesh.cli("status", "runs", "-o", "json", hub=hub)
    assert rc == 0, err
    assert run_id in [r["id"] for r in json.loads(out)["runs"]]
    rc, out, err = mesh.cli("status", "runs", hub=hub)
    assert rc == 0 and run_id in out and "2/2" in out, out
    rc, out, err = mesh.cli("status", run_id, "-o", "json", hub=hub)
    assert rc == 0 and json.loads(out)["id"] == run_id
    rc, out, err = mesh.cli("status", run_id, hub=hub)
    assert rc == 0 and "hello" in out and "succeeded" in out, out


def test_ctrl_c_exits_130_and_the_run_goes_on(mesh1):
    mesh, hub = mesh1
    path = write_wf(mesh, "nap", """
        id: cli-nap
        steps:
          - id: nap
            command: sleep
            payload: 2
    """)
    proc = mesh.cli_background("run", path, "-o", "ndjson", hub=hub, name="run-int")
    run_id = json.loads(proc.popen.stdout.readline())["run"]
    os.kill(proc.pid, signal.SIGINT)
    assert proc.popen.wait(timeout=10) == 130
    with open(proc.log_path, encoding="utf-8") as f:
        err = f.read()
    assert f"orbitmesh workflow cancel {run_id}" in err, err
    assert wait_run(hub, run_id)["state"] == "succeeded"


def test_event_post_wakes_a_waiting_run(mesh1):
    mesh, hub = mesh1
    path = write_wf(mesh, "wait", """
        id: cli-event
        steps:
          - id: wait
            type: wait_for_event
            event_type: smoke.finished
            correlation_key: ${{ run.id }}
            timeout: 1m
          - id: after
            needs: [wait]
            command: echo
            payload: woke
    """)
    rc, out, err = mesh.cli("run", path, "--detach", hub=hub)
    assert rc == 0, err
    run_id = out.strip()
    wait_until(lambda: step(run_record(hub, run_id), "wait")["state"] == "waiting", 20, "step wait waiting")
    rc, out, err = mesh.cli("event", "post", "smoke.finished", "--data", '{"ok": true}',
                            "--correlation-key", run_id, hub=hub)
    assert rc == 0, err
    assert out.strip() == "1"
    assert wait_run(hub, run_id)["state"] == "succeeded"


def test_register_list_and_rerun_from_a_step(mesh1):
    mesh, hub = mesh1
    path = write_wf(mesh, "ok", OK_WF)
    rc, out, err = mesh.cli("workflow", "register", path, hub=hub)
    assert rc == 0 and out.startswith("cli-ok"), (out, err)
    rc, out, err = mesh.cli("workflow", "list", "-o", "json", hub=hub)
    assert "cli-ok" in [w["id"] for w in json.loads(out)["workflows"]]
    rc, out, err = mesh.cli("run", path, "-o", "json", hub=hub)
    first = json.loads(out)
    rc, out, err = mesh.cli("workflow", "rerun", first["id"], "--from", "after", "--wait", "-o", "json", hub=hub)
    assert rc == 0, err
    second = json.loads(out)
    assert second["id"] != first["id"] and second["state"] == "succeeded"


def test_local_runs_without_a_server(mesh):
    path = write_wf(mesh, "ok", OK_WF)
    data = mesh.path("local-data")
    rc, out, err = mesh.cli("run", "--local", "--data-dir", data, "-o", "json", path,
                            server="http://127.0.0.1:1", timeout=90)
    assert rc == 0, f"rc={rc} err={err!r}"
    assert json.loads(out)["state"] == "succeeded"
    assert os.path.isfile(os.path.join(data, "orbitmesh.db"))
