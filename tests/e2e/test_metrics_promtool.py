"""/metrics passes `promtool check metrics` (Debian's prometheus package) and carries build info
and run counts per workflow and outcome."""

import json
import re
import shutil
import subprocess

import pytest

from e2e_helpers import wait_until

WF = """
id: {id}
steps:
  - id: s
    command: {command}
    payload: "{payload}"
"""


@pytest.mark.deadline(90)
def test_metrics_pass_promtool_and_count_runs_per_workflow(mesh, hub):
    promtool = shutil.which("promtool")
    assert promtool, "promtool is not installed (scripts/install-deps.sh installs prometheus)"
    mesh.start_agent(hub, "m1")
    for wf, command, payload in (("good", "echo", "x"), ("bad", "shell", "exit 3")):
        source = WF.format(id=wf, command=command, payload=payload)
        status, body = hub.post("/api/v1/workflows", {"source": source, "file": f"{wf}.yaml"})
        assert status in (200, 201), body
    runs = []
    for wf, n in (("good", 2), ("bad", 1)):
        for _ in range(n):
            status, run = hub.post("/api/v1/runs", {"workflow_id": wf})
            assert status in (200, 201), run
            runs.append(run["id"])
    for r in runs:
        wait_until(lambda: hub.get(f"/api/v1/runs/{r}")[1].get("state") in ("succeeded", "failed"), 30, f"run {r} to end")
    status, text = hub.get("/metrics")
    assert status == 200 and isinstance(text, str), text
    cp = subprocess.run([promtool, "check", "metrics"], input=text, capture_output=True, text=True, timeout=30)
    assert cp.returncode == 0, f"promtool: {cp.stdout}{cp.stderr}\n{text}"
    rc, out, _ = mesh.cli("version", "-o", "json")
    assert rc == 0
    v = json.loads(out)
    assert re.search(r'^orbitmesh_build_info\{version="%s",commit="%s"\} 1$' % (re.escape(v["version"]), re.escape(v["commit"])),
                     text, re.M), text
    assert re.search(r'^orbitmesh_workflow_runs\{workflow="good",state="succeeded"\} 2$', text, re.M), text
    assert re.search(r'^orbitmesh_workflow_runs\{workflow="bad",state="failed"\} 1$', text, re.M), text
    assert not re.search(r'^orbitmesh_workflow_runs\{workflow="good",state="failed"\}', text, re.M)
