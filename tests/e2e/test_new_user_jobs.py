"""What a new user trips over, with jobs and the CLI (issue 18): why a job is pending (job get,
status, stderr of --wait), --pending-timeout, mistyped flags, unknown commands, plugin names,
unknown HTTP job fields, status --watch off a terminal and the status summary's runs line."""

import json
import os
import stat
import time

from e2e_helpers import assert_one_error_line, stderr_lines, wait_until
from workflow_helpers import step, write_wf


def pending_reason(hub, spec):
    job_id = hub.submit(spec)["id"]
    return wait_until(lambda: hub.job(job_id).get("pending_reason"), 10, f"a pending_reason for {spec}")


def test_job_get_says_why_no_agent_takes_a_job(mesh, hub):
    assert pending_reason(hub, {"command": "echo", "payload": "x"}) == "no agent is connected"
    mesh.start_agent(hub, "safe", capabilities=["linux"], tags={"zone": "eu"}, args=["--no-shell"])
    cases = [
        ({"command": "echo", "target": {"capabilities": ["gpu"]}}, 'no connected agent has capability "gpu"'),
        ({"command": "echo", "target": {"tags": {"zone": "us"}}}, "no connected agent has tag zone=us"),
        ({"command": "echo", "target": {"agent": "db-*"}}, 'no connected agent is named "db-*"'),
        ({"command": "file.download"}, 'no connected agent offers handler "file.download"'),
        ({"command": "shell", "payload": "true"},
         'no connected agent offers handler "shell" (the connected agents run with --no-shell)'),
        ({"command": "echo", "target": {"agent": "nobody", "capabilities": ["gpu"]}},
         'no connected agent is named "nobody"; no connected agent has capability "gpu"'),
    ]
    for spec, want in cases:
        assert pending_reason(hub, spec) == want, spec
    rc, out, err = mesh.cli("job", "list", hub=hub)
    assert rc == 0, err
    assert "WHY PENDING" in out.splitlines()[0], out
    assert 'no connected agent has capability "gpu"' in out, out


def test_job_submit_wait_says_why_it_is_pending_and_pending_timeout_fails_it(mesh, hub):
    mesh.start_agent(hub, "w1")
    started = time.monotonic()
    rc, out, err = mesh.cli("job", "submit", "--capability", "gpu", "--pending-timeout", "5s", "--wait",
                            "-o", "json", "--", "echo", "hi", hub=hub, timeout=40)
    job = json.loads(out)
    assert rc == 1, f"rc={rc} err={err!r}"
    assert job["state"] == "failed", job
    assert job["error"] == ('no agent took the job within its pending_timeout of 5.0s: '
                            'no connected agent has capability "gpu"'), job
    assert stderr_lines(err) == [
        f'orbitmesh: job {job["id"]} is still pending: no connected agent has capability "gpu"'], err
    assert time.monotonic() - started >= 4.5
    rc, out, err = mesh.cli("job", "submit", "--pending-timeout", "soon", "--", "echo", "hi", hub=hub)
    assert_one_error_line(rc, out, err, 2, "job submit --pending-timeout soon")


def test_a_workflow_step_with_pending_timeout_fails_with_the_reason(mesh, hub):
    mesh.start_agent(hub, "w1")
    path = write_wf(mesh, "pt", """
        id: pt
        steps:
          - id: lonely
            command: echo
            target: nobody
            pending_timeout: 2s
    """)
    rc, out, err = mesh.cli("workflow", "validate", "--strict", path)
    assert rc == 0, err
    rc, out, err = mesh.cli("run", path, "-o", "json", hub=hub, timeout=40)
    assert rc == 1, err
    s = step(json.loads(out), "lonely")
    assert s["state"] == "failed", s
    assert s["error"].endswith('failed: no agent took the job within its pending_timeout of 2.0s: '
                               'no connected agent is named "nobody"'), s


def test_a_mistyped_flag_that_takes_a_value_is_named_with_a_suggestion(mesh):
    for args in (["--priorty", "3"], ["--priorty=3"]):
        rc, out, err = mesh.cli("job", "submit", *args, "--", "echo", "hi", server="http://127.0.0.1:9")
        line = assert_one_error_line(rc, out, err, 2, "job submit " + " ".join(args))
        assert line == ("orbitmesh: error: unknown flag --priorty for `orbitmesh job submit` "
                        "(did you mean --priority?) (see `orbitmesh job submit --help`)"), line


def test_help_of_an_unknown_command_is_an_unknown_command(mesh):
    cases = [
        (["stauts", "--help"], 'orbitmesh: error: unknown command "stauts" for `orbitmesh` '
                               '(did you mean "status"?) (see `orbitmesh --help`)'),
        (["frobnicate", "--help"], 'orbitmesh: error: unknown command "frobnicate" for `orbitmesh` '
                                   '(see `orbitmesh --help`)'),
        (["job", "sumbit", "--help"], 'orbitmesh: error: unknown command "sumbit" for `orbitmesh job` '
                                      '(did you mean "submit"?) (see `orbitmesh job --help`)'),
        (["--server", "http://127.0.0.1:9", "frobnicate", "-h"],
         'orbitmesh: error: unknown command "frobnicate" for `orbitmesh` (see `orbitmesh --help`)'),
    ]
    for args, want in cases:
        rc, out, err = mesh.cli(*args)
        assert out == "", f"{args}: help printed for an unknown command: {out[:200]!r}"
        assert assert_one_error_line(rc, out, err, 2, " ".join(args)) == want
    rc, out, err = mesh.cli("token", "--help")
    assert rc == 0 and "token" in out and err == "", (rc, err)


def test_plugin_handlers_are_named_after_the_whole_file_name(mesh, hub):
    hdir = mesh.path("handlers")
    os.makedirs(hdir)
    for name in ("file.download", "file.sync"):
        p = os.path.join(hdir, name)
        with open(p, "w", encoding="utf-8") as f:
            f.write(f"#!/bin/sh\necho '{{\"handler\": \"{name}\"}}'\n")
        os.chmod(p, os.stat(p).st_mode | stat.S_IXUSR)
    mesh.start_agent(hub, "plug", args=["--handlers", hdir])
    for name in ("file.download", "file.sync"):
        rec = hub.wait_job(hub.submit({"command": name})["id"], timeout=20)
        assert rec["state"] == "succeeded" and rec["output"] == {"handler": name}, rec
    assert pending_reason(hub, {"command": "file"}) == 'no connected agent offers handler "file"'


def test_unknown_http_job_fields_are_refused_with_400_naming_them(hub):
    status, body = hub.post("/api/v1/jobs", {"command": "echo", "colour": "red"})
    assert status == 400, body
    assert body["error"] == "invalid_input", body
    assert body["message"].startswith('job field "colour" is not supported (known fields: command, '), body
    status, body = hub.post("/api/v1/jobs", {"command": "echo", "target": {"nmae": "x"}, "prio": 1})
    assert status == 400, body
    assert body["message"].startswith('job field "target.nmae" is not supported (known fields of target: '
                                      'agent, capabilities, tags)'), body
    status, body = hub.post("/api/v1/jobs/batch", {"jobs": [{"command": "echo"}, {"command": "echo", "x": 1}]})
    assert status == 400 and body["message"].startswith('jobs[1] field "x" is not supported'), body
    status, body = hub.get("/api/v1/jobs")
    assert status == 200 and body["jobs"] == [], "a refused body must create no job"
    status, body = hub.post("/api/v1/jobs", {"command": "echo", "pending_timeout": "30s", "payload": "ok"})
    assert status == 201 and body["pending_timeout_ms"] == 30000, body


def test_status_watch_off_a_terminal_writes_no_screen_codes_and_the_summary_has_runs(mesh, hub):
    rc, out, err = mesh.cli("status", hub=hub)
    assert rc == 0, err
    lines = out.splitlines()
    assert [l.split()[0] for l in lines] == ["hub", "agents", "jobs", "runs"], out
    assert lines[3] == "runs     none", out
    proc = mesh.cli_background("status", "--watch", hub=hub, name="watch")
    try:
        time.sleep(4.5)  # the refresh period is 2 s: at least two screens
    finally:
        mesh.registry.stop(proc)
    text = proc.popen.stdout.read().decode()
    assert "\033" not in text, repr(text[:200])
    assert text.count("hub      ") >= 2, text
    assert "\n\nhub      " in text, "refreshes are separated by a blank line"
