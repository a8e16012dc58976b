"""The dashboard at `/` (issue 11, docs/dashboard.md): its files are served from the binary with
the right headers, and in Debian's headless chromium it shows both agents, runs a workflow whose
DAG turns green step by step, follows a job's log live, cancels a running job, approves an
approval step, pages and filters jobs, and asks for a token when the hub wants one. Screenshots
go to build/tests/e2e/artifacts/dashboard/ (or $ORBITMESH_ARTIFACTS)."""

import json
import os
import re

import pytest

import auth_helpers as a
from browser_helpers import Browser, chromium_present
from e2e_helpers import find_sleep_procs, http_request, wait_until
from workflow_helpers import run_record, wait_run

ARTIFACTS = os.environ.get("ORBITMESH_ARTIFACTS") or os.path.join(os.getcwd(), "artifacts", "dashboard")
needs_chromium = pytest.mark.skipif(not chromium_present(), reason="Debian's /usr/bin/chromium is not installed")

SHIP_WF = """
id: ship
name: ship
steps:
  - id: build
    run: "sleep 0.8; echo built"
  - id: test
    needs: [build]
    run: "sleep 0.3; echo tested"
  - id: lint
    needs: [build]
    command: echo
    payload: clean
  - id: package
    needs: [test, lint]
    run: "echo packaged"
"""

GATED_WF = """
id: gated
steps:
  - id: gate
    type: approval
    approvers: [alice]
    message: "Ship it?"
  - id: after
    needs: [gate]
    command: echo
    payload: shipped
"""


def register(hub, text, file, token=None):
    status, body = a.request(hub, "POST", "/api/v1/workflows", token=token, body={"source": text, "file": file})
    assert status in (200, 201), body
    return body["id"]


def start_run(hub, workflow_id):
    status, body = hub.post("/api/v1/runs", {"workflow_id": workflow_id})
    assert status == 201, body
    return body["id"]


def node_states(browser):
    return browser.eval("Object.fromEntries([...document.querySelectorAll('#dag g.node')]"
                        ".map(g => [g.dataset.step, g.dataset.state]))")


@pytest.fixture
def browser(registry, tmp_path):
    b = Browser(registry, str(tmp_path))
    yield b
    b.close()


# --- served from the binary -----------------------------------------------------------------

def raw_get(hub, path, headers=None):
    import http.client
    conn = http.client.HTTPConnection("127.0.0.1", hub.port, timeout=10)
    try:
        conn.request("GET", path, headers=headers or {})
        r = conn.getresponse()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()
    finally:
        conn.close()


def test_the_page_and_its_files_come_from_the_binary_with_types_etags_and_304(hub):
    status, headers, body = raw_get(hub, "/")
    assert status == 200
    assert headers["content-type"] == "text/html; charset=utf-8"
    assert b'<script type="module" src="/ui/app.js">' in body
    assert "default-src 'self'" in headers["content-security-policy"]
    assert headers["cache-control"] == "no-cache" and headers["x-content-type-options"] == "nosniff"
    etag = headers["etag"]
    assert re.fullmatch(r'"[0-9a-f]{20}"', etag), etag
    status, headers2, body = raw_get(hub, "/", {"If-None-Match": etag})
    assert status == 304 and body == b"" and headers2["etag"] == etag
    for name, kind in (("app.js", "text/javascript"), ("style.css", "text/css"), ("dag.js", "text/javascript")):
        status, headers, body = raw_get(hub, "/ui/" + name)
        assert status == 200 and headers["content-type"].startswith(kind), (name, status, headers)
        assert len(body) > 200 and headers["etag"] != etag
    # Every module the page imports is served (a missing one would break the page in the browser).
    _, _, app = raw_get(hub, "/ui/app.js")
    for module in re.findall(rb"from '\./([a-z_]+\.js)'", app):
        assert raw_get(hub, "/ui/" + module.decode())[0] == 200, module
    status, body = http_request(hub.port, "GET", "/ui/nothing.js")
    assert status == 404 and body == {"error": "not_found", "message": "no dashboard file nothing.js"}


def test_with_auth_token_the_page_is_open_but_the_api_it_calls_is_not(mesh):
    hub, admin = a.start_token_hub(mesh)
    status, _, body = raw_get(hub, "/")
    assert status == 200 and b"<dialog id=\"login\">" in body
    assert raw_get(hub, "/ui/api.js")[0] == 200
    assert a.request(hub, "GET", "/api/v1/agents")[0] == 401


def test_the_jobs_list_pages_by_cursor_and_filters_by_command_and_agent(mesh, hub):
    mesh.start_agent(hub, "pager")
    status, body = hub.post("/api/v1/jobs/batch", {"jobs": [{"command": "echo", "payload": str(i)} for i in range(30)]
                                                   + [{"command": "sleep", "payload": "1ms"} for _ in range(5)]})
    assert status == 201, body
    ids = [j["id"] for j in body["jobs"]]
    wait_until(lambda: all(j["state"] == "succeeded" for j in hub.jobs(limit=100)), 20, "the batch to finish")
    status, page1 = hub.get("/api/v1/jobs?limit=20")
    assert status == 200 and [j["id"] for j in page1["jobs"]] == ids[::-1][:20]
    status, page2 = hub.get("/api/v1/jobs?limit=20&before=" + page1["jobs"][-1]["id"])
    assert [j["id"] for j in page2["jobs"]] == ids[::-1][20:]
    status, sleeps = hub.get("/api/v1/jobs?command=sleep")
    assert [j["id"] for j in sleeps["jobs"]] == ids[::-1][:5]
    status, mine = hub.get("/api/v1/jobs?agent=pager&state=succeeded&command=echo&limit=1000")
    assert len(mine["jobs"]) == 30 and all(j["agent"]["name"] == "pager" for j in mine["jobs"])
    assert hub.get("/api/v1/jobs?agent=nobody")[1] == {"jobs": []}


def test_a_run_record_lists_each_steps_needs(mesh, hub):
    mesh.start_agent(hub, "dag")
    run_id = start_run(hub, register(hub, SHIP_WF, "ship.yaml"))
    run = wait_run(hub, run_id, timeout=30)
    assert run["state"] == "succeeded", run
    assert {s["id"]: s["needs"] for s in run["steps"]} == {
        "build": [], "test": ["build"], "lint": ["build"], "package": ["test", "lint"]}


# --- in the browser ---------------------------------------------------------------------------

def see_the_fleet(browser, hub):
    browser.goto(hub.url + "/#/fleet")
    browser.wait_js("[...document.querySelectorAll('#fleet tr[data-agent]')].filter(r => r.querySelector('[data-state=connected]')).length === 2",
                    15, "both agents connected in the fleet table")
    assert browser.eval("[...document.querySelectorAll('#fleet tr[data-agent]')].map(r => r.dataset.agent)") == ["db-1", "web-1"]
    assert "zone=eu" in browser.text("#fleet tr[data-agent=web-1]")
    browser.screenshot(os.path.join(ARTIFACTS, "fleet.png"))


def start_and_watch_a_run(browser, hub):
    browser.set_hash("#/runs")
    browser.wait_js("document.querySelector('#start-run select').options.length > 0", 10, "the workflows in the start form")
    browser.eval("document.querySelector('#start-run select').value = 'ship'")
    browser.click("#start-run button[type=submit]")
    browser.wait_js("location.hash.startsWith('#/run/')", 10, "the new run's page")
    run_id = browser.eval("location.hash.slice(6)")
    seen = []
    def all_green():
        states = node_states(browser)
        if states and states not in seen:
            seen.append(states)
        return len(states) == 4 and all(s == "succeeded" for s in states.values())
    wait_until(all_green, 30, "every step of the run to turn green", interval=0.1)
    assert any(s.get("package") != "succeeded" for s in seen), f"the page never showed a step before it succeeded: {seen}"
    assert run_record(hub, run_id)["state"] == "succeeded"
    # Layered by dependency depth: build, then test and lint side by side, then package.
    x = browser.eval("Object.fromEntries([...document.querySelectorAll('#dag g.node')].map(g => [g.dataset.step, g.transform.baseVal.getItem(0).matrix.e]))")
    assert x["build"] < x["test"] == x["lint"] < x["package"], x
    assert browser.eval("document.querySelectorAll('#dag path.edge').length") == 4
    assert browser.eval("getComputedStyle(document.querySelector('#dag g.node[data-step=build] rect')).fill") == "rgb(220, 243, 229)"
    browser.wait_js("document.querySelectorAll('svg.timeline rect.bar.state-succeeded').length === 4", 10, "four attempts on the timeline")
    browser.click("#dag g.node[data-step=test]")
    browser.wait_js("(document.querySelector('#step-panel') || {}).textContent?.includes('tested')", 10, "the test step's output")
    browser.screenshot(os.path.join(ARTIFACTS, "run-dag.png"))
    return run_id


def follow_a_live_log(browser, hub, mesh):
    go = mesh.path("go-on")
    job_id = hub.submit({"command": "shell", "payload":
                         f"echo first-line; for i in $(seq 600); do [ -e {go} ] && break; sleep 0.05; done; echo second-line"})["id"]
    browser.set_hash("#/job/" + job_id)
    browser.wait_js("document.querySelector('#job-log')?.textContent.includes('first-line')", 15, "the first log line")
    assert hub.job(job_id)["state"] == "running", "the line must show while the job still runs"
    assert "second-line" not in browser.text("#job-log")
    open(go, "w").close()
    browser.wait_js("document.querySelector('#job-log')?.textContent.includes('— succeeded —')", 15, "the rest of the log and its end")
    assert browser.text("#job-log").index("first-line") < browser.text("#job-log").index("second-line")
    browser.screenshot(os.path.join(ARTIFACTS, "job-log.png"))


def cancel_a_running_job(browser, hub, agents):
    job_id = hub.submit({"command": "shell", "payload": "sleep 617"})["id"]
    wait_until(lambda: hub.job(job_id)["state"] == "running", 15, "the sleep job to run")
    agent = agents[hub.job(job_id)["agent"]["name"]]
    wait_until(lambda: find_sleep_procs(agent.pid, 617), 10, "the sleep process to start")
    browser.set_hash("#/job/" + job_id)
    browser.wait_js("document.querySelector('dl.fields [data-state]')?.dataset.state === 'running'", 10, "the job shown running")
    browser.click("button[data-action=cancel]")
    wait_until(lambda: hub.job(job_id)["state"] == "cancelled", 15, "the job to be cancelled")
    browser.wait_js("document.querySelector('dl.fields [data-state]')?.dataset.state === 'cancelled'", 10, "the page to show it cancelled")
    wait_until(lambda: not find_sleep_procs(agent.pid, 617), 10, "the sleep process to be gone")
    assert browser.eval("document.querySelector('button[data-action=cancel]').hidden") is True


def approve_a_step(browser, hub):
    run_id = start_run(hub, "gated")
    browser.set_hash("#/run/" + run_id)
    browser.wait_js("document.querySelector('[data-approval=gate]')?.textContent.includes('Ship it?')", 15, "the approval prompt")
    browser.type_into("[data-approval=gate] input[name=approver]", "alice")
    browser.type_into("[data-approval=gate] input[name=comment]", "looks good")
    browser.screenshot(os.path.join(ARTIFACTS, "approval.png"))
    browser.click("[data-approval=gate] button[data-action=approve]")
    run = wait_run(hub, run_id, timeout=20)
    assert run["state"] == "succeeded", run
    gate = next(s for s in run["steps"] if s["id"] == "gate")
    assert gate["approvals"] == [{"approver": "alice", "reject": False, "comment": "looks good"}]
    browser.wait_js("document.querySelector('#dag g.node[data-step=after]')?.dataset.state === 'succeeded'", 10, "the step after the gate green")
    assert browser.eval("document.querySelector('[data-approval]')") is None


def page_and_filter_jobs(browser, hub):
    status, body = hub.post("/api/v1/jobs/batch", {"jobs": [{"command": "echo", "payload": str(i)} for i in range(60)]})
    assert status == 201, body
    wait_until(lambda: not hub.jobs(state="pending") and not hub.jobs(state="running"), 20, "the batch to end")
    browser.set_hash("#/jobs")
    browser.wait_js("document.querySelectorAll('#jobs tr[data-job]').length === 50", 10, "a page of 50 jobs")
    first = browser.eval("[...document.querySelectorAll('#jobs tr[data-job]')].map(r => r.dataset.job)")
    assert first == [j["id"] for j in hub.jobs(limit=50)]
    browser.click("form.filters button[data-action=older]")
    browser.wait_js(f"document.querySelector('#jobs tr[data-job]')?.dataset.job !== {json.dumps(first[0])}", 10, "the next page")
    second = browser.eval("[...document.querySelectorAll('#jobs tr[data-job]')].map(r => r.dataset.job)")
    assert second[0] == hub.jobs(limit=51)[50]["id"] and not set(first) & set(second)
    browser.type_into("form.filters input[name=command]", "shell")
    browser.click("form.filters button[type=submit]")
    shell = [j["id"] for j in hub.get("/api/v1/jobs?command=shell&limit=50")[1]["jobs"]]
    assert len(shell) >= 5  # three `run:` steps, the log job, the cancelled one
    browser.wait_js(f"JSON.stringify([...document.querySelectorAll('#jobs tr[data-job]')].map(r => r.dataset.job)) === {json.dumps(json.dumps(shell, separators=(',', ':')))}",
                    10, "only the shell jobs")
    browser.screenshot(os.path.join(ARTIFACTS, "jobs.png"))


@needs_chromium
@pytest.mark.deadline(150)
def test_the_dashboard_drives_a_mesh_in_headless_chromium(mesh, hub, browser):
    agents = {"web-1": mesh.start_agent(hub, "web-1", tags={"zone": "eu"}, concurrency=4),
              "db-1": mesh.start_agent(hub, "db-1", capabilities=("postgres",), concurrency=2)}
    register(hub, SHIP_WF, "ship.yaml")
    register(hub, GATED_WF, "gated.yaml")
    see_the_fleet(browser, hub)
    start_and_watch_a_run(browser, hub)
    follow_a_live_log(browser, hub, mesh)
    cancel_a_running_job(browser, hub, agents)
    approve_a_step(browser, hub)
    page_and_filter_jobs(browser, hub)
    browser.check_no_js_errors()


@needs_chromium
@pytest.mark.deadline(90)
def test_the_dashboard_asks_for_a_token_when_the_hub_requires_one(mesh, browser):
    hub, admin = a.start_token_hub(mesh)
    operator = a.mint(mesh, hub.data_dir, "operator")[0]
    browser.goto(hub.url + "/")
    browser.wait_js("document.getElementById('login').open", 10, "the token dialog")
    assert browser.text("#login-error") == ""
    browser.screenshot(os.path.join(ARTIFACTS, "token-dialog.png"))
    browser.type_into("#token-input", "not-a-token")
    browser.click("#token-save")
    browser.wait_js("document.getElementById('login').open && document.getElementById('login-error').textContent.length > 0",
                    10, "the dialog back, saying the token was refused")
    browser.type_into("#token-input", operator)
    browser.click("#token-save")
    browser.wait_js("!document.getElementById('login').open && !!document.querySelector('#fleet .empty')", 10,
                    "the fleet, loaded with the token")
    assert browser.eval("localStorage.getItem('orbitmesh.token')") == operator
    # The stored token is used after a reload without asking again.
    browser.goto(hub.url + "/#/runs")
    browser.wait_js("!!document.querySelector('#runs .empty')", 10, "the runs view")
    assert browser.eval("document.getElementById('login').open") is False
    browser.check_no_js_errors()
