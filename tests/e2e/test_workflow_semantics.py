"""Workflow semantics through `orbitmesh run` (SPEC §4): retry then success, compensation in
reverse completion order, a false condition skips, continue_on_error."""

import json
import os

import pytest

from workflow_helpers import write_wf


def step(run, step_id):
    for s in run["steps"]:
        if s["id"] == step_id:
            return s
    raise AssertionError(f"no step {step_id!r}: {[s['id'] for s in run['steps']]}")


def lines(path):
    if not os.path.exists(path):
        return []
    with open(path, encoding="utf-8") as f:
        return [l.strip() for l in f if l.strip()]


@pytest.fixture
def mesh1(mesh, hub):
    mesh.start_agent(hub, "w1", concurrency=4)
    return mesh, hub


def run_json(mesh, hub, path, *args):
    rc, out, err = mesh.cli("run", path, "-o", "json", *args, hub=hub, timeout=90)
    try:
        record = json.loads(out)
    except ValueError:
        raise AssertionError(f"run -o json printed no JSON: rc={rc} out={out!r} err={err!r}") from None
    return rc, record, err


def test_a_step_that_fails_once_succeeds_on_retry(mesh1):
    mesh, hub = mesh1
    counter = mesh.path("counter")
    path = write_wf(mesh, "retry", f"""
        id: retry-once
        steps:
          - id: flaky
            run: |
              n=$(cat {counter} 2>/dev/null || echo 0); n=$((n + 1)); echo $n > {counter}
              if [ $n -lt 2 ]; then echo "attempt $n fails" >&2; exit 1; fi
              echo "attempt $n ok"
            retry: {{max: 2, delay: 500ms}}
    """)
    rc, run, err = run_json(mesh, hub, path)
    assert rc == 0, err
    assert lines(counter) == ["2"], "exactly two attempts"
    assert step(run, "flaky")["attempts"] == 2


def test_compensations_run_in_reverse_completion_order(mesh1):
    mesh, hub = mesh1
    log = mesh.path("saga.log")
    path = write_wf(mesh, "saga", f"""
        id: saga
        steps:
          - id: a
            run: echo do-a >> {log}
            compensation:
              run: echo undo-a >> {log}
          - id: b
            needs: [a]
            run: echo do-b >> {log}
            compensation:
              run: echo undo-b >> {log}
          - id: c
            needs: [b]
            run: echo do-c >> {log}
            compensation:
              run: echo undo-c >> {log}
          - id: d
            needs: [c]
            run: "echo do-d >> {log}; exit 1"
    """)
    rc, run, err = run_json(mesh, hub, path)
    assert rc == 1, err
    assert run["state"] == "failed"
    assert lines(log) == ["do-a", "do-b", "do-c", "do-d", "undo-c", "undo-b", "undo-a"]
    assert [c["step"] for c in run["compensations"]] == ["c", "b", "a"]
    assert all(c["state"] in ("succeeded", "compensated") for c in run["compensations"]), run["compensations"]


def test_a_false_condition_skips_the_step(mesh1):
    mesh, hub = mesh1
    marker = mesh.path("skipped-ran")
    path = write_wf(mesh, "cond", f"""
        id: cond
        inputs:
          deploy: {{type: boolean, default: false}}
        steps:
          - id: maybe
            condition: inputs.deploy
            run: touch {marker}
          - id: always
            command: echo
            payload: hi
    """)
    rc, run, err = run_json(mesh, hub, path)
    assert rc == 0, err
    assert step(run, "maybe")["state"] == "skipped"
    assert step(run, "always")["state"] == "succeeded"
    assert not os.path.exists(marker)
    rc, run, err = run_json(mesh, hub, path, "--input", "deploy=true")
    assert rc == 0 and step(run, "maybe")["state"] == "succeeded" and os.path.exists(marker)


def test_continue_on_error_lets_the_run_succeed(mesh1):
    mesh, hub = mesh1
    marker = mesh.path("after-ran")
    path = write_wf(mesh, "coe", f"""
        id: coe
        steps:
          - id: optional
            run: exit 7
            continue_on_error: true
          - id: next
            needs: [optional]
            run: touch {marker}
    """)
    rc, run, err = run_json(mesh, hub, path)
    assert rc == 0, err
    assert step(run, "optional")["state"] == "failed"
    assert step(run, "next")["state"] == "succeeded"
    assert os.path.exists(marker)
