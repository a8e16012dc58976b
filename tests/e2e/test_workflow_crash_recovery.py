"""A hub killed with SIGKILL mid-run resumes the run on restart (same data dir and port) and no
finished step runs twice (SPEC §4 "Runs are durable")."""

import json
import os
import textwrap

import pytest

from e2e_helpers import FAST_RECONNECT, assert_store_verifies, wait_until
from pg_server import both_stores
from workflow_helpers import RUN_DONE



def count(path, word):
    if not os.path.exists(path):
        return 0
    with open(path, encoding="utf-8") as f:
        return sum(1 for l in f if l.strip() == word)


@both_stores
@pytest.mark.deadline(150)
def test_killed_hub_resumes_the_run_without_rerunning_finished_steps(mesh):
    hub = mesh.start_hub()
    mesh.start_agent(hub, "w1", concurrency=2, args=FAST_RECONNECT)
    marks = mesh.path("marks.log")
    path = mesh.path("durable.yaml")
    with open(path, "w", encoding="utf-8") as f:
        f.write(textwrap.dedent(f"""
            id: durable
            steps:
              - id: before
                run: echo before >> {marks}
              - id: slow
                needs: [before]
                run: "echo slow-start >> {marks}; sleep 3; echo slow-end >> {marks}"
              - id: after
                needs: [slow]
                run: echo after >> {marks}
        """).lstrip())
    rc, out, err = mesh.cli("run", path, "--detach", hub=hub)
    assert rc == 0, err
    run_id = out.strip()
    wait_until(lambda: count(marks, "slow-start") == 1, 30, "the slow step to start")
    mesh.registry.kill9(hub.proc)
    hub2 = mesh.restart_hub(hub)

    def finished():
        status, body = hub2.get(f"/api/v1/runs/{run_id}?wait=2s", timeout=10)
        return body if status == 200 and body["state"] in RUN_DONE else None

    run = wait_until(finished, 60, f"run {run_id} to finish after the restart", interval=0.2)
    assert run["state"] == "succeeded", json.dumps(run, indent=1)
    assert count(marks, "before") == 1, "a step finished before the crash ran again"
    assert count(marks, "slow-end") == 1, "the in-flight step ran twice"
    assert count(marks, "after") == 1
    rc, out, err = mesh.cli("status", run_id, "-o", "json", hub=hub2)
    assert rc == 0 and json.loads(out)["state"] == "succeeded"
    assert_store_verifies(mesh, hub.data_dir)  # beside the running hub, after the kill -9
