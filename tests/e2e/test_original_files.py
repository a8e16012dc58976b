"""What the original OrbitMesh's own 29 workflow files use beyond the basics, in files of ours
written in its format (tests/data/workflows/original): step timeouts computed from the run,
pattern: jobs whose output the file reads as one result (one job, as its engine ran them), inputs
and variables as bare names, new URL() in scripts, and per-agent lists of a handler we do not ship
(orbit:system.exec), with --handlers plugins standing in for the handlers."""

import json
import os
import stat
import time

from test_original_format import original, run_json
from workflow_helpers import step

UPDATE_PLUGIN = """#!/usr/bin/python3
# Stands in for the original agent's orbit:update.* handlers: answers as AGENT, echoing its payload.
import json, sys
payload = json.load(sys.stdin)
kind = {kind!r}
if kind == "check":
    out = {{"updateAvailable": True, "current": "1.0", "latest": "1.1", "channel": payload["channel"], "agent": {agent!r}}}
elif kind == "download":
    out = {{"ok": True, "path": "/var/cache/pkg-" + payload["version"], "agent": {agent!r}}}
else:
    out = {{"version": payload["path"].rsplit("-", 1)[1], "agent": {agent!r}}}
print(json.dumps(out))
"""

EXEC_PLUGIN = """#!/usr/bin/python3
# Stands in for the original agent's orbit:system.exec: sh -c COMMAND within `timeout` seconds,
# answering {exitCode, stdout, stderr}; a non-zero exit is still a completed job, as there.
import json, subprocess, sys
p = json.load(sys.stdin)
r = subprocess.run(["/bin/sh", "-c", p["command"]], capture_output=True, text=True, timeout=float(p.get("timeout", 60)))
print(json.dumps({"exitCode": r.returncode, "stdout": r.stdout, "stderr": r.stderr}))
"""


def plugins(mesh, name, files):
    """A --handlers directory holding `files` (handler name -> script), executable."""
    d = mesh.path("handlers-" + name)
    os.makedirs(d, exist_ok=True)
    for handler, text in files.items():
        path = os.path.join(d, handler)
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
        os.chmod(path, os.stat(path).st_mode | stat.S_IXUSR)
    return d


def test_every_file_validates_and_says_how_it_reads_pattern_jobs(mesh):
    files = [original(n) for n in ("batch-timeouts", "single-agent-update", "endpoint-report")]
    rc, out, err = mesh.cli("workflow", "validate", *files)
    assert rc == 0, err
    assert out.count(": ok,") == 3
    assert ('single-agent-update.yaml:50: note: step "check" pattern: runs one job on one matching agent and its output '
            "is that job's result, as the original's engine did, because the file reads it as one result "
            "(updateInfo.updateAvailable, line 60)") in err
    assert 'step "probe" pattern: runs one job' not in err  # endpoint-report reads a list
    assert 'batch-timeouts.yaml:60: note: step "count-lines" timeout: ${input.commands.filter(' in err


def test_timeouts_computed_from_the_run_bound_each_job(mesh, hub):
    mesh.start_agent(hub, "batch-1")
    start = time.monotonic()
    rc, run, err = run_json(mesh, hub, original("batch-timeouts"), "--input", "per_command=4")
    assert rc == 0, (run, err)
    assert run["state"] == "succeeded"
    batch = step(run, "run-batch")
    assert batch["output"] == "first\nsecond"
    assert hub.job(batch["job_id"])["timeout_ms"] == 8000  # 4 s for each of 2 commands
    assert hub.job(step(run, "count-lines")["job_id"])["timeout_ms"] == 4000  # JavaScript: 2 commands x 2 s
    slow = step(run, "too-slow")
    assert slow["state"] == "timed_out"
    assert slow["error"] == "step too-slow timed out after 1.0s"
    assert step(run, "report")["output"] == {"out": "first\nsecond", "lines": 2}
    assert time.monotonic() - start < 25  # the 30 s sleep was stopped
    # A computed timeout that is no duration fails its step and says what it gave.
    rc, run, err = run_json(mesh, hub, original("batch-timeouts"), "--input", "slow_seconds=-3")
    assert rc == 0, (run, err)
    assert step(run, "too-slow")["state"] == "failed"
    assert step(run, "too-slow")["error"] == ('step too-slow: timeout ${input.slow_seconds}s gave "-3s", which is not a '
                                              "duration (use 250ms, 30s, 5m, 1h, 2d, 1m30s or HH:MM:SS)")


def test_a_file_that_reads_pattern_outputs_as_one_result_runs_one_job_each_on_the_pattern(mesh, hub):
    for agent in ("upd-a", "upd-b"):
        mesh.start_agent(hub, agent, args=["--handlers", plugins(mesh, agent, {
            f"update:{kind}": UPDATE_PLUGIN.format(kind=kind, agent=agent) for kind in ("check", "download", "apply")})])
    rc, run, err = run_json(mesh, hub, original("single-agent-update"), "--input", "agent_pattern=upd-b",
                            "--input", "require_approval=false", "--input", 'notify={"prefix": "[fleet]"}')
    assert rc == 0, (run, err)
    check = step(run, "check")
    assert check["agent"] == "upd-b"
    assert check["output"] == {"updateAvailable": True, "current": "1.0", "latest": "1.1", "channel": "stable",
                               "agent": "upd-b"}  # one result, not a list; ${channel} is the workflow variable
    assert step(run, "download")["output"] == {"ok": True, "path": "/var/cache/pkg-1.1", "agent": "upd-b"}
    assert step(run, "approve")["state"] == "skipped"  # ${require_approval}: an input read as a bare name
    assert step(run, "apply")["output"] == {"version": "1.1", "agent": "upd-b"}
    tell = step(run, "tell")["output"]
    assert tell["title"] == "[fleet] Update on upd-b"
    assert tell["message"] == "upd-b: 1.0 -> 1.1 (stable)"
    assert tell["severity"] == "info"
    assert [j["agent"]["name"] for j in hub.jobs() if j["command"].startswith("update")] == ["upd-b"] * 3


def test_a_handler_we_do_not_ship_answers_per_agent_through_a_plugin_and_scripts_parse_urls(mesh, hub):
    for agent in ("probe-a", "probe-b"):
        mesh.start_agent(hub, agent, args=["--handlers", plugins(mesh, agent, {"system:exec": EXEC_PLUGIN})])
    endpoints = ["https://API.example.com:8443/health?deep=1", "db.internal:5432", "http://cache.local/"]
    rc, run, err = run_json(mesh, hub, original("endpoint-report"), "--input", "endpoints=" + json.dumps(endpoints))
    assert rc == 0, (run, err)
    plan = step(run, "prepare")["output"]
    assert [(t["host"], t["port"], t["path"]) for t in plan["tests"]] == [
        ("api.example.com", 8443, "/health"), ("db.internal", 5432, "/"), ("cache.local", 80, "/")]
    probe = step(run, "probe")
    assert sorted((r["agentName"], r["status"], r["result"]["exitCode"]) for r in probe["output"]) == [
        ("probe-a", "Completed", 0), ("probe-b", "Completed", 0)]
    assert hub.job(probe["output"][0]["jobId"])["timeout_ms"] == 14000  # 3 s x 3 endpoints + 5 s
    seen = ["api.example.com:8443", "db.internal:5432", "cache.local:80"]
    assert sorted(step(run, "analyze")["output"], key=lambda a: a["agent"]) == [
        {"agent": "probe-a", "ok": True, "seen": seen}, {"agent": "probe-b", "ok": True, "seen": seen}]
    summary = step(run, "summary")["output"]
    assert summary["severity"] == "info"
    assert sorted(summary["message"].split("; ")) == [f"probe-a: {', '.join(seen)}", f"probe-b: {', '.join(seen)}"]
