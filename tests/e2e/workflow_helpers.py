"""Shared helpers for the workflow end-to-end tests: write a definition, read and await runs."""

import textwrap

from e2e_helpers import wait_until

RUN_DONE = ("succeeded", "failed", "cancelled", "timed_out")


def write_wf(mesh, name, text):
    """Writes a dedented workflow file into the test's temp dir; returns its path."""
    path = mesh.path(name + ".yaml")
    with open(path, "w", encoding="utf-8") as f:
        f.write(textwrap.dedent(text).lstrip())
    return path


def write_ledger_flow(mesh, wf_id, ledger):
    """Two steps, the first a second long, each appending its mark (wf-first, wf-second) to `ledger`."""
    return write_wf(mesh, wf_id, f"""
        id: {wf_id}
        steps:
          - id: first
            run: "sleep 1; echo wf-first >> {ledger}"
          - id: second
            needs: [first]
            run: echo wf-second >> {ledger}
    """)


def run_record(hub, run_id):
    status, body = hub.get(f"/api/v1/runs/{run_id}")
    assert status == 200, f"GET /api/v1/runs/{run_id} -> {status} {body!r}"
    return body


def wait_run(hub, run_id, timeout=60.0, states=RUN_DONE):
    return wait_until(lambda: (lambda r: r if r["state"] in states else None)(run_record(hub, run_id)),
                      timeout, f"run {run_id} to reach {states}", interval=0.1)


def step(run, step_id):
    """The record of step `step_id` in a run record."""
    for s in run["steps"]:
        if s["id"] == step_id:
            return s
    raise AssertionError(f"no step {step_id!r}: {[s['id'] for s in run['steps']]}")
