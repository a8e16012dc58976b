"""W3C traceparent from submit to the job's process and back (SPEC §9): accepted as a header or a
field, validated, made when absent, in the job's environment as TRACEPARENT, in the Chrome trace
of `replay`, and exported as OTLP/HTTP JSON to `serve --otlp-endpoint` (a real HTTP server here)."""

import http.server
import json
import re
import threading

import pytest

from e2e_helpers import http_request, wait_until

TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
PARENT = "00f067aa0ba902b7"
TP = f"00-{TRACE}-{PARENT}-01"
TP_RE = re.compile(r"^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$")


def env_of(hub, spec, headers=None):
    status, rec = http_request(hub.port, "POST", "/api/v1/jobs?wait=20s", body=spec, headers=headers)
    assert status == 201 and rec["state"] == "succeeded", (status, rec)
    return rec, str(rec["output"]).strip()


def test_traceparent_header_or_field_reaches_the_job_environment(mesh, hub):
    mesh.start_agent(hub, "t1")
    shell = {"command": "shell", "payload": "printf %s \"$TRACEPARENT\""}
    # As the W3C header: same trace, the job's own span, the caller's span recorded as parent.
    rec, seen = env_of(hub, shell, headers={"traceparent": TP})
    m = TP_RE.match(seen)
    assert m, seen
    assert m.group(1) == TRACE and m.group(2) != PARENT and m.group(3) == "01", seen
    assert rec["trace"] == TP, rec
    job_span = m.group(2)
    # Stable: the job's span is derived from its id, so a replay or a restart gives the same one.
    assert hub.job(rec["id"])["trace"] == TP
    # As a body field (`traceparent` or `trace`).
    rec2, seen2 = env_of(hub, {**shell, "traceparent": TP})
    assert TP_RE.match(seen2).group(1) == TRACE and TP_RE.match(seen2).group(2) not in (PARENT, job_span)
    # Absent: the hub makes a trace, and the job still runs in one.
    rec3, seen3 = env_of(hub, shell)
    m3 = TP_RE.match(seen3)
    assert m3 and m3.group(1) != TRACE, seen3
    assert TP_RE.match(rec3["trace"]).group(1) == m3.group(1), rec3


@pytest.mark.parametrize("bad", ["nonsense", f"00-{TRACE}-{PARENT}", f"00-{'0' * 32}-{PARENT}-01",
                                 f"00-{TRACE}-{'0' * 16}-01", f"ff-{TRACE}-{PARENT}-01", f"00-{TRACE.upper()}-{PARENT}-01"])
def test_a_bad_traceparent_is_refused_with_one_error(mesh, hub, bad):
    status, body = http_request(hub.port, "POST", "/api/v1/jobs", body={"command": "echo"}, headers={"traceparent": bad})
    assert status == 400 and body["error"] == "invalid_input" and "traceparent" in body["message"], body
    status, body = http_request(hub.port, "POST", "/api/v1/jobs", body={"command": "echo", "trace": bad})
    assert status == 400 and body["error"] == "invalid_input" and "traceparent" in body["message"], body
    assert hub.jobs() == []


class _Collector(http.server.BaseHTTPRequestHandler):
    posts = []

    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(n)
        type(self).posts.append((self.path, self.headers.get("Content-Type"), json.loads(body)))
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args):
        pass


WORKFLOW = """
id: traced
steps:
  - id: a
    command: echo
    payload: "a"
  - id: b
    needs: [a]
    command: shell
    payload: printf %s "$TRACEPARENT"
"""


@pytest.mark.deadline(90)
def test_finished_jobs_are_exported_as_otlp_spans_and_a_run_is_one_trace(mesh):
    _Collector.posts = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Collector)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        hub = mesh.start_hub(args=("--otlp-endpoint", f"http://127.0.0.1:{server.server_port}/v1/traces"))
        mesh.start_agent(hub, "o1")
        rec, seen = env_of(hub, {"command": "shell", "payload": "printf %s \"$TRACEPARENT\""}, headers={"traceparent": TP})
        job_span = TP_RE.match(seen).group(2)

        def spans():
            return [s for _, _, body in _Collector.posts for rs in body["resourceSpans"]
                    for ss in rs["scopeSpans"] for s in ss["spans"]]

        span = wait_until(lambda: next((s for s in spans() if s["spanId"] == job_span), None), 15, "the job's OTLP span")
        assert span["traceId"] == TRACE and span["parentSpanId"] == PARENT, span
        assert int(span["endTimeUnixNano"]) >= int(span["startTimeUnixNano"]) > 0
        assert span["status"]["code"] == 1
        attrs = {a["key"]: a["value"] for a in span["attributes"]}
        assert attrs["orbitmesh.job.id"] == {"stringValue": rec["id"]}
        assert attrs["orbitmesh.job.state"] == {"stringValue": "succeeded"}
        path, ctype, _ = _Collector.posts[0]
        assert path == "/v1/traces" and ctype.startswith("application/json")

        # A workflow run is one trace: each step's job is a span of it.
        status, body = hub.post("/api/v1/workflows", {"source": WORKFLOW, "file": "traced.yaml"})
        assert status in (200, 201), body
        status, run = hub.post("/api/v1/runs", {"workflow_id": "traced"})
        assert status in (200, 201), run
        done = wait_until(lambda: (lambda r: r if r.get("state") in ("succeeded", "failed") else None)(
            hub.get(f"/api/v1/runs/{run['id']}")[1]), 30, "the run to end")
        assert done["state"] == "succeeded", done
        steps = {s["id"]: s for s in done["steps"]}
        job_ids = [s["job_id"] for s in steps.values()]
        assert len(job_ids) == 2, steps
        traces = {hub.job(j)["trace"] for j in job_ids}
        assert len(traces) == 1, traces
        run_trace = TP_RE.match(traces.pop()).group(1)
        assert TP_RE.match(str(steps["b"]["output"]).strip()).group(1) == run_trace
        wait_until(lambda: len([s for s in spans() if s["traceId"] == run_trace]) == 2, 15, "both step spans")

        # replay's Chrome trace carries the job's trace context.
        trace_file = mesh.path("run-trace.json")
        rc, out, err = mesh.cli("replay", run["id"], "--export", "chrome-trace", trace_file, hub=hub)
        assert rc == 0, err
        with open(trace_file, encoding="utf-8") as f:
            events = json.load(f)["traceEvents"]
        attempts = [e for e in events if e.get("cat") == "attempt"]
        assert attempts and all(e["args"]["trace_id"] == run_trace for e in attempts), attempts
        assert {TP_RE.match(e["args"]["traceparent"]).group(2) for e in attempts} == {
            s["spanId"] for s in spans() if s["traceId"] == run_trace}
    finally:
        server.shutdown()
        server.server_close()


def test_otlp_endpoint_must_be_plain_http(mesh):
    rc, out, err = mesh.cli("serve", "--listen", "127.0.0.1:0", "--data-dir", mesh.path("d"),
                            "--otlp-endpoint", "https://collector:4318/v1/traces")
    assert rc == 2 and "--otlp-endpoint" in err and len(err.strip().splitlines()) == 1, (rc, err)
