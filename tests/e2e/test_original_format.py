"""Workflow files in the original OrbitMesh's format (tests/data/workflows/original) validate and
run end to end against a real hub and agents: JavaScript script steps and ${…} expressions,
notification channels, http steps from the hub, args:, steps in list order, agent file watches.
And the sandbox holds: runaway scripts are stopped, require/process are out of reach, the hub
keeps running, a missing node is a clear error."""

import http.server
import json
import os
import threading
import time

import pytest

from e2e_helpers import wait_until
from workflow_helpers import run_record, step, wait_run, write_wf

ORIGINAL = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir, "data", "workflows",
                                         "original"))


def original(name):
    return os.path.join(ORIGINAL, name + ".yaml")


def run_json(mesh, hub, path, *args, timeout=90):
    rc, out, err = mesh.cli("run", path, "-o", "json", *args, hub=hub, timeout=timeout)
    try:
        return rc, json.loads(out), err
    except ValueError:
        raise AssertionError(f"run {path}: rc={rc} out={out!r} err={err!r}") from None


class Recorder(http.server.BaseHTTPRequestHandler):
    """A small API on 127.0.0.1 for http steps and webhook channels; keeps what it was sent."""
    seen = []

    def log_message(self, *args):
        pass

    def _send(self, status, body, ctype="application/json"):
        data = body.encode() if isinstance(body, str) else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        Recorder.seen.append(("GET", self.path, dict(self.headers), None))
        if self.path.startswith("/status"):
            return self._send(200, {"service": "api", "version": "2.4.1", "healthy": True,
                                    "checks": [{"name": "db", "ok": True}, {"name": "cache", "ok": False},
                                               {"name": "queue", "ok": True}]})
        if self.path == "/big":
            return self._send(200, "x" * 5000, "text/plain")
        return self._send(404, {"error": "not_found"})

    def do_POST(self):
        length = int(self.headers.get("Content-Length", "0"))
        body = json.loads(self.rfile.read(length) or b"null")
        Recorder.seen.append(("POST", self.path, dict(self.headers), body))
        if self.path == "/reports":
            return self._send(201, {"id": "r-17", "received": body})
        return self._send(200, {"ok": True})


@pytest.fixture
def api():
    Recorder.seen = []
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    yield f"http://127.0.0.1:{srv.server_address[1]}", Recorder.seen
    srv.shutdown()
    srv.server_close()


def test_every_original_file_validates_and_validate_names_the_engines(mesh):
    files = sorted(os.path.join(ORIGINAL, f) for f in os.listdir(ORIGINAL) if f.endswith(".yaml"))
    assert len(files) >= 8
    rc, out, err = mesh.cli("workflow", "validate", *files)
    assert rc == 0, err
    assert out.count(": ok,") == len(files)
    assert "disk-report.yaml: note: read as the original OrbitMesh format" in err
    assert "step \"alert\" message: ${diskAnalysis.critical.concat(" in err and "uses JavaScript" in err
    assert "step \"analyze\" script runs in JavaScript on the hub" in err
    rc, out, err = mesh.cli("workflow", "validate", "-o", "json", original("http-notify"))
    assert rc == 0
    notes = [d for d in json.loads(out) if d["severity"] == "note"]
    assert any("headers: ${'trace-' + input.token.length} uses JavaScript" in n["message"] for n in notes), notes


def test_a_javascript_syntax_error_is_reported_with_its_file_line(mesh):
    path = write_wf(mesh, "broken", """
        id: broken-script
        steps:
          - id: calc
            type: script
            language: javascript
            script: |
              const a = 1;
              const b = = 2;
              return a;
        """)
    rc, out, err = mesh.cli("workflow", "validate", path)
    assert rc == 2
    assert f"{path}:8: error: step \"calc\" script line 2: SyntaxError" in err


def test_disk_report_runs_job_script_and_notification_in_list_order(mesh, hub):
    mesh.start_agent(hub, "web1")
    mesh.start_agent(hub, "web2")
    rc, run, err = run_json(mesh, hub, original("disk-report"), "--input", "agent_pattern=web2")
    assert rc == 0, (run, err)
    assert run["state"] == "succeeded"
    facts = step(run, "collect-facts")  # a pattern: job answers per agent, as the original's did
    assert facts["agent"] == "web2"
    assert [(f["agentName"], f["status"]) for f in facts["output"]] == [("web2", "Completed")]
    host = facts["output"][0]["result"]["host"]
    assert facts["output"][0]["result"]["cores"] >= 1
    disks = step(run, "collect-disks")["output"]
    assert disks["source"] == "inventory" and disks["host"] == host  # args merged, ${} evaluated
    analysis = step(run, "analyze")["output"]
    assert analysis["criticalCount"] == 1 and analysis["warningCount"] == 1 and analysis["threshold"] == 50
    assert analysis["agents"] == ["web2"]
    assert analysis["summary"] == "/=91% /var=62% /home=12%"
    assert step(run, "all-clear")["state"] == "skipped"
    alert = step(run, "alert")
    assert alert["state"] == "succeeded"
    assert alert["output"]["channel"] == "log" and alert["output"]["severity"] == "critical"
    assert alert["output"]["title"] == f"Disk space on {analysis['host']}"
    assert alert["output"]["message"] == ("1 critical, 1 warning (threshold 50%):\n- /: 91% (critical)\n"
                                          "- /var: 62% (warning)\n")
    assert step(run, "report")["output"] == {"host": analysis["host"], "status": "critical",
                                             "summary": "/=91% /var=62% /home=12%"}
    order = ["collect-facts", "collect-disks", "analyze", "alert", "report"]
    for before, after in zip(order, order[1:]):
        assert step(run, before)["finished_at"] <= step(run, after)["started_at"], (before, after)
    wait_until(lambda: "notification [critical]" in hub.proc.log_tail(), 10, "the notification in the hub log")


def test_steps_without_depends_on_run_one_after_another(mesh, hub):
    mesh.start_agent(hub, "a1", concurrency=4)
    log = mesh.path("order.log")
    rc, run, err = run_json(mesh, hub, original("ordered-deploy"), "--input", f"log_file={log}")
    assert rc == 0, (run, err)
    assert step(run, "plan")["output"]["target"] == "green"
    assert step(run, "optional-check")["state"] == "skipped"
    assert step(run, "optional-check")["error"] == "condition is false: ${plan.target === 'nowhere'}"
    assert step(run, "flaky")["state"] == "failed"  # continue_on_error: the next step still runs
    assert step(run, "verify")["output"]["order"] == ["stop-blue", "deploy-green", "flaky", "start-green"]
    with open(log, encoding="utf-8") as f:
        assert f.read().split() == ["stop-blue", "deploy-green", "flaky", "start-green"]


def test_http_steps_and_a_configured_notification_channel(mesh, api):
    base, seen = api
    hub = mesh.start_hub(args=["--notify-channel", f"ops={base}/hook"])
    rc, run, err = run_json(mesh, hub, original("http-notify"), "--input", f"base_url={base}")
    assert rc == 0, (run, err)
    status = step(run, "get-status")["output"]
    assert status["status"] == 200 and status["body"]["version"] == "2.4.1"
    assert status["headers"]["content-type"] == "application/json"
    get = [s for s in seen if s[0] == "GET" and s[1].startswith("/status")][0]
    assert get[1] == "/status?service=api"
    assert get[2]["Authorization"] == "Bearer secret-token" and get[2]["X-Trace"] == "trace-12"
    report = [s for s in seen if s[1] == "/reports"][0]
    assert report[3] == {"service": "api", "healthy": True, "checks": 2}  # types kept, JavaScript counted
    assert step(run, "post-report")["output"]["status"] == 201
    assert step(run, "missing")["output"]["status"] == 404  # expected_status: 404
    summary = step(run, "summarize")["output"]
    assert summary == {"service": "api", "version": "2.4.1", "contentType": "application/json", "failing": ["cache"],
                       "reportId": "r-17", "missingStatus": 404}
    hook = wait_until(lambda: [s for s in seen if s[1] == "/hook"], 10, "the ops webhook")[0]
    assert hook[3]["title"] == "api 2.4.1" and hook[3]["message"] == "Failing: cache"
    assert hook[3]["severity"] == "warning" and hook[3]["run"] == run["id"] and hook[3]["step"] == "notify-ops"


def test_http_steps_cannot_reach_the_hub_metadata_or_unlisted_targets(mesh, api):
    base, seen = api
    hub = mesh.start_hub(args=["--http-max-response", "1000"])
    path = write_wf(mesh, "reach", f"""
        id: reach
        format: original
        steps:
          - id: hub-itself
            type: http
            url: "http://127.0.0.1:${{input.hub_port}}/healthz"
            continue_on_error: true
          - id: metadata
            type: http
            url: http://169.254.169.254/latest/meta-data/
            continue_on_error: true
          - id: too-big
            type: http
            url: "{base}/big"
            continue_on_error: true
          - id: fine
            type: http
            url: "{base}/status"
        """)
    rc, run, err = run_json(mesh, hub, path, "--input", f"hub_port={hub.port}")
    assert rc == 0, (run, err)
    assert "is the hub itself" in step(run, "hub-itself")["error"]
    assert "link-local or cloud metadata" in step(run, "metadata")["error"]
    assert "larger than 1000 bytes" in step(run, "too-big")["error"], json.dumps(step(run, "too-big"))
    assert step(run, "fine")["output"]["status"] == 200
    port = base.rsplit(":", 1)[1]
    strict = mesh.start_hub(args=["--http-allow", f"127.0.0.1:{int(port) + 1}"])
    rc, run, err = run_json(mesh, strict, path, "--input", f"hub_port={strict.port}")
    assert rc == 1
    assert "is not in the hub's allow-list" in step(run, "fine")["error"]


def test_an_agent_file_watch_posts_a_debounced_change_the_run_waits_for(mesh, hub):
    drop = mesh.path("drop")
    os.makedirs(drop)
    mesh.start_agent(hub, "watcher-1", args=["--allow-root", drop])
    rc, out, err = mesh.cli("run", original("file-watch"), "--detach", "--input", f"dir={drop}",
                            "--input", "watch_id=w-42", "--input", "agent=watcher-1", hub=hub)
    assert rc == 0, err
    run_id = out.strip()
    wait_until(lambda: any(s["id"] == "wait-change" and s["state"] == "waiting"
                           for s in run_record(hub, run_id)["steps"]), 30, "the run to wait for the change")
    with open(os.path.join(drop, "ignored.txt"), "w") as f:
        f.write("not a csv\n")
    target = os.path.join(drop, "report.csv")
    for i in range(5):  # one change after the debounce, not five
        with open(target, "a") as f:
            f.write(f"{i}\n")
        time.sleep(0.02)
    run = wait_run(hub, run_id, timeout=30)
    assert run["state"] == "succeeded", run
    change = step(run, "wait-change")["output"]
    assert change["name"] == "report.csv" and change["change"] == "created" and change["watch_id"] == "w-42"
    assert change["path"] == target and change["agent"]["name"] == "watcher-1"
    assert step(run, "describe")["output"] == {"file": "report.csv", "change": "created", "agent": "watcher-1",
                                               "watching": True}
    stopped = step(run, "stop-watch")["output"]
    assert [(r["agentName"], r["status"], r["result"]) for r in stopped] == [
        ("watcher-1", "Completed", {"stopped": True, "watch_id": "w-42"})]


def test_a_watch_outside_the_agents_allowed_roots_is_refused(mesh, hub):
    mesh.start_agent(hub, "watcher-2", args=["--allow-root", mesh.path("only-here")])
    rc, run, err = run_json(mesh, hub, original("file-watch"), "--input", "dir=/etc", "--input", "watch_id=w-1",
                            "--input", "agent=watcher-2")
    assert rc == 1
    assert "filewatch.start" in step(run, "start-watch")["error"]


RUNAWAY = """
    id: runaway
    format: original
    steps:
      - id: loop
        type: script
        timeout: 2s
        continue_on_error: true
        script: "while (true) {}"
      - id: hog
        type: script
        continue_on_error: true
        script: |
          const keep = [];
          for (;;) keep.push({ a: Math.random(), b: 'x'.repeat(100) });
      - id: fs
        type: script
        continue_on_error: true
        script: "return require('fs').readFileSync('/etc/passwd', 'utf8')"
      - id: proc
        type: script
        continue_on_error: true
        script: "process.exit(0)"
      - id: escape
        type: script
        continue_on_error: true
        script: "return this.constructor.constructor('return process')().pid"
      - id: typo
        type: script
        continue_on_error: true
        script: |
          const a = { b: 1 };
          // the next line fails
          return a.c.d;
      - id: after
        type: script
        script: "return { alive: true, n: [1, 2, 3].reduce((s, x) => s + x, 0) }"
    """


def test_runaway_scripts_are_stopped_and_the_hub_keeps_running(mesh):
    hub = mesh.start_hub(args=["--script-memory", "32", "--script-timeout", "10s"])
    path = write_wf(mesh, "runaway", RUNAWAY)
    start = time.monotonic()
    rc, run, err = run_json(mesh, hub, path, timeout=120)
    assert rc == 0, (run, err)
    assert "ran longer than its time limit of 2s" in step(run, "loop")["error"]
    assert step(run, "loop")["duration_ms"] < 8000
    assert "used more than its memory limit of 32 MiB" in step(run, "hog")["error"]
    assert "ReferenceError: require is not defined" in step(run, "fs")["error"]
    assert "ReferenceError: process is not defined" in step(run, "proc")["error"]
    assert "EvalError" in step(run, "escape")["error"]
    assert f"{os.path.basename(path)}:" in step(run, "typo")["error"]
    assert "(script line 3): TypeError" in step(run, "typo")["error"]
    assert step(run, "after")["output"] == {"alive": True, "n": 6}
    assert hub.healthy() and hub.proc.alive()
    assert time.monotonic() - start < 60


def test_without_a_javascript_engine_a_script_step_fails_with_how_to_get_one(mesh):
    hub = mesh.start_hub(args=["--node", "/nonexistent/node"])
    path = write_wf(mesh, "needs-node", """
        id: needs-node
        steps:
          - id: calc
            type: script
            script: "return 1"
        """)
    rc, run, err = run_json(mesh, hub, path)
    assert rc == 1
    error = step(run, "calc")["error"]
    assert "needs a JavaScript engine" in error and "apt-get install nodejs" in error and "/nonexistent/node" in error
    assert hub.healthy()
