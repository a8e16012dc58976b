"""More workflow behaviour with real processes (SPEC §1, §4): a `notify` step POSTs its message,
`workflow pause`/`resume`, `workflow rerun --from` reuses upstream outputs, `serve --workflows
DIR` registers a directory at start (and refuses a bad file), `fan_out: all` over tagged agents."""

import http.server
import json
import os
import textwrap
import threading

import pytest

from e2e_helpers import stderr_lines, wait_until
from workflow_helpers import run_record, wait_run, write_wf



def write_file(path, text):
    with open(path, "w", encoding="utf-8") as f:
        f.write(textwrap.dedent(text).lstrip())
    return path





def step(run, step_id):
    for s in run["steps"]:
        if s["id"] == step_id:
            return s
    return None


def step_state(run, step_id):
    s = step(run, step_id)
    return s["state"] if s else None


def count_lines(path):
    if not os.path.exists(path):
        return 0
    with open(path, encoding="utf-8") as f:
        return sum(1 for line in f if line.strip())


def start_detached(mesh, hub, path):
    rc, out, err = mesh.cli("run", path, "--detach", hub=hub)
    assert rc == 0, f"run --detach: rc={rc} err={err!r}"
    run_id = out.strip()
    assert run_id, f"run --detach printed no run id: {out!r}"
    return run_id


def run_json(mesh, hub, path):
    rc, out, err = mesh.cli("run", path, "-o", "json", hub=hub, timeout=90)
    try:
        return rc, json.loads(out), err
    except ValueError:
        raise AssertionError(f"run -o json printed no JSON: rc={rc} out={out!r} err={err!r}") from None


@pytest.fixture
def mesh1(mesh, hub):
    mesh.start_agent(hub, "w1", concurrency=4)
    return mesh, hub


# --- (a) notify ---------------------------------------------------------------------------------

class _Recorder(http.server.BaseHTTPRequestHandler):
    def do_POST(self):  # noqa: N802 - http.server's naming
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length)
        self.server.received.append({"path": self.path, "body": body.decode("utf-8", "replace"),
                                     "content_type": self.headers.get("Content-Type", "")})
        self.send_response(204)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def webhook():
    server = http.server.HTTPServer(("127.0.0.1", 0), _Recorder)
    server.received = []
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


def test_notify_step_posts_its_json_message_to_the_webhook(mesh1, webhook):
    mesh, hub = mesh1
    port = webhook.server_address[1]
    path = write_wf(mesh, "notify", f"""
        id: notify-e2e
        inputs:
          who: {{type: string, default: ops}}
        steps:
          - id: build
            command: echo
            payload: built-42
          - id: tell
            type: notify
            needs: [build]
            channel: webhook
            target: http://127.0.0.1:{port}/hooks/build
            message:
              text: "build done for ${{{{ inputs.who }}}}"
              result: "${{{{ steps.build.output }}}}"
    """)
    rc, run, err = run_json(mesh, hub, path)
    assert rc == 0, f"rc={rc} err={err!r} run={run!r}"
    assert step_state(run, "tell") == "succeeded", run
    assert len(webhook.received) == 1, webhook.received
    got = webhook.received[0]
    assert got["path"] == "/hooks/build"
    body = json.loads(got["body"])
    assert body["text"] == "build done for ops", body
    assert body["result"] == "built-42", body
    assert body["run"] == run["id"] and body["step"] == "tell", body


# --- (b) pause / resume -------------------------------------------------------------------------

def test_pause_stops_new_steps_and_resume_lets_the_run_finish(mesh1):
    mesh, hub = mesh1
    a_done, b_started = mesh.path("a-done"), mesh.path("b-started")
    path = write_wf(mesh, "pausable", f"""
        id: pausable
        steps:
          - id: a
            run: sleep 2; touch {a_done}
          - id: b
            needs: [a]
            run: touch {b_started}
    """)
    run_id = start_detached(mesh, hub, path)
    wait_until(lambda: step_state(run_record(hub, run_id), "a") == "running", 20, "step a running")

    rc, out, err = mesh.cli("workflow", "pause", run_id, "-o", "json", hub=hub)
    assert rc == 0, f"workflow pause: rc={rc} err={err!r}"
    assert json.loads(out)["state"] == "paused", out

    # The step that was running finishes; nothing new starts while paused.
    wait_until(lambda: step_state(run_record(hub, run_id), "a") == "succeeded", 20, "step a to finish")
    assert os.path.exists(a_done)
    # The runner decides on b in the same strand turn that records a's end: the record we read
    # after that already shows whether b started.
    rec = run_record(hub, run_id)
    assert rec["state"] == "paused", rec
    assert step_state(rec, "b") in (None, "pending"), f"step b started while the run was paused: {rec}"
    assert not os.path.exists(b_started), "step b ran while the run was paused"

    rc, out, err = mesh.cli("workflow", "resume", run_id, hub=hub)
    assert rc == 0, f"workflow resume: rc={rc} err={err!r}"
    assert run_id in out
    rec = wait_run(hub, run_id, timeout=30)
    assert rec["state"] == "succeeded", rec
    assert step_state(rec, "b") == "succeeded"
    assert os.path.exists(b_started)


# --- (c) rerun --from ---------------------------------------------------------------------------

def test_rerun_from_a_step_reuses_upstream_outputs(mesh1):
    mesh, hub = mesh1
    counts = {s: mesh.path(f"{s}.count") for s in ("fetch", "build", "test")}
    seen = mesh.path("build-saw")
    path = write_wf(mesh, "pipeline", f"""
        id: pipeline
        steps:
          - id: fetch
            run: echo x >> {counts['fetch']}; echo "rev-$(wc -l < {counts['fetch']})"
          - id: build
            needs: [fetch]
            run: echo x >> {counts['build']}; echo "${{{{ steps.fetch.output }}}}" >> {seen}
          - id: test
            needs: [build]
            run: echo x >> {counts['test']}
    """)
    rc, first, err = run_json(mesh, hub, path)
    assert rc == 0 and first["state"] == "succeeded", f"rc={rc} err={err!r} run={first!r}"
    assert [count_lines(counts[s]) for s in ("fetch", "build", "test")] == [1, 1, 1]

    rc, out, err = mesh.cli("workflow", "rerun", first["id"], "--from", "build", "--wait", "-o", "json",
                            hub=hub, timeout=90)
    assert rc == 0, f"workflow rerun: rc={rc} err={err!r}"
    second = json.loads(out)
    assert second["id"] != first["id"] and second["state"] == "succeeded", second
    # Upstream of `build` did not run again; `build` and everything after it did.
    assert [count_lines(counts[s]) for s in ("fetch", "build", "test")] == [1, 2, 2]
    assert step(second, "fetch")["output"] == step(first, "fetch")["output"], (first, second)
    with open(seen, encoding="utf-8") as f:
        saw = [line.strip() for line in f if line.strip()]
    assert len(saw) == 2 and saw[0] == saw[1] and "rev-1" in saw[0], saw


# --- (d) serve --workflows DIR ------------------------------------------------------------------

GOOD_YAML = """
    id: nightly
    name: Nightly build
    steps:
      - id: build
        run: echo build
"""

GOOD_JSON = """
    {"id": "cleanup", "steps": [{"id": "sweep", "type": "transform", "expression": "1 + 1"}]}
"""


def listed(mesh, hub):
    rc, out, err = mesh.cli("workflow", "list", "-o", "json", hub=hub)
    assert rc == 0, f"workflow list: rc={rc} err={err!r}"
    return {w["id"]: w for w in json.loads(out)["workflows"]}


def test_serve_workflows_registers_the_files_of_a_directory(mesh):
    wf_dir = mesh.path("workflows")
    os.makedirs(wf_dir)
    write_file(os.path.join(wf_dir, "nightly.yaml"), GOOD_YAML)
    write_file(os.path.join(wf_dir, "cleanup.json"), GOOD_JSON)
    write_file(os.path.join(wf_dir, "README.txt"), "not a workflow\n")
    hub = mesh.start_hub(args=["--workflows", wf_dir])
    got = listed(mesh, hub)
    assert set(got) == {"nightly", "cleanup"}, got
    assert got["nightly"]["name"] == "Nightly build" and got["nightly"]["version"] == "1"

    # Restarted on the same data dir with unchanged files: nothing new is registered.
    assert mesh.registry.stop(hub.proc) == 0
    hub = mesh.restart_hub(hub)
    again = listed(mesh, hub)
    assert {k: v["version"] for k, v in again.items()} == {"nightly": "1", "cleanup": "1"}, again
    assert again["nightly"]["registered_at"] == got["nightly"]["registered_at"]


def test_serve_workflows_stops_at_start_on_a_bad_file(mesh):
    wf_dir = mesh.path("workflows")
    os.makedirs(wf_dir)
    write_file(os.path.join(wf_dir, "nightly.yaml"), GOOD_YAML)
    bad = write_file(os.path.join(wf_dir, "broken.yaml"), """
        id: broken
        steps:
          - id: build
            run: echo build
          - id: deploy
            needs: [biuld]
            run: echo deploy
    """)
    hub = mesh.start_hub(args=["--workflows", wf_dir], wait_ready=False)
    try:
        rc = hub.proc.popen.wait(timeout=20)
    except Exception:  # noqa: BLE001 - reported below
        raise AssertionError(f"serve kept running with a bad workflow file:\n{hub.proc.log_tail()}") from None
    log = hub.proc.log_tail()
    assert rc == 2, f"serve exited {rc}, expected 2:\n{log}"
    errors = [line for line in stderr_lines(log) if line.startswith("orbitmesh: error:")]
    assert len(errors) == 1, log
    assert errors[0].startswith(f"orbitmesh: error: {bad}:6: "), errors[0]
    assert '"biuld"' in errors[0] and "did you mean" in errors[0], errors[0]
    assert not os.path.exists(hub.port_file), "the hub listened although a workflow file was bad"


# --- (e) fan_out: all ---------------------------------------------------------------------------

def test_fan_out_all_runs_on_every_matching_agent(mesh, hub):
    for name, role in (("web1", "web"), ("web2", "web"), ("db1", "db")):
        mesh.start_agent(hub, name, tags={"role": role}, concurrency=2)
    path = write_wf(mesh, "fanout", """
        id: fanout
        steps:
          - id: everywhere
            command: echo
            payload: ping
            tags: {role: web}
            fan_out: all
    """)
    rc, run, err = run_json(mesh, hub, path)
    assert rc == 0 and run["state"] == "succeeded", f"rc={rc} err={err!r} run={run!r}"
    out = step(run, "everywhere")["output"]
    assert isinstance(out, list) and len(out) == 2, out
    prefix = f"run-{run['id']}/everywhere/"
    agents = sorted((j.get("agent") or {}).get("name") for j in hub.jobs()
                    if j.get("idempotency_key", "").startswith(prefix))
    assert agents == ["web1", "web2"], agents
