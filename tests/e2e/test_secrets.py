"""Workflow secrets (SPEC §8): names resolved on the hub — from `serve --secrets-dir DIR` files
or its environment — reach jobs as environment variables, and the values never appear in job
logs, results, events, `status -o json`, the run's event feed, the hub's log, the agent's log or
anything stored (the hub's database files and the agent's outbox are grepped byte for byte).
Webhook secrets are never returned by the API.
"""

import glob
import hashlib
import json
import os
import uuid

import pytest

from e2e_helpers import assert_one_error_line, wait_until
from workflow_helpers import write_wf


def fresh_secret(prefix):
    return f"{prefix}-{uuid.uuid4().hex}"


@pytest.fixture
def secrets_mesh(mesh):
    """A hub with DB_PASSWORD in its environment and API_TOKEN (plus a multi-line CERT) in
    --secrets-dir, and one agent."""
    values = {"DB_PASSWORD": fresh_secret("pw"), "API_TOKEN": fresh_secret("tok"),
              "CERT_LINE1": fresh_secret("l1"), "CERT_LINE2": fresh_secret("l2")}
    secrets_dir = mesh.path("secrets")
    os.makedirs(secrets_dir)
    with open(os.path.join(secrets_dir, "API_TOKEN"), "w", encoding="utf-8") as f:
        f.write(values["API_TOKEN"] + "\n")  # one trailing newline is dropped
    with open(os.path.join(secrets_dir, "CERT"), "w", encoding="utf-8") as f:
        f.write(values["CERT_LINE1"] + "\n" + values["CERT_LINE2"] + "\n")
    hub = mesh.start_hub(args=["--secrets-dir", secrets_dir],
                         env={"DB_PASSWORD": values["DB_PASSWORD"]})
    agent = mesh.start_agent(hub, "w1", concurrency=4)
    return mesh, hub, agent, values


def sha256(text):
    return hashlib.sha256(text.encode()).hexdigest()


def assert_nowhere(values, where, text):
    for name, value in values.items():
        assert value not in text, f"secret {name} appears in {where}: ...{text[max(0, text.find(value) - 80):text.find(value) + 80]!r}..."


def stored_bytes(path_glob):
    out = {}
    for path in glob.glob(path_glob):
        with open(path, "rb") as f:
            out[path] = f.read()
    assert out, f"nothing matched {path_glob}"
    return out


SECRET_WF = """
    id: uses-secrets
    secrets: [DB_PASSWORD, API_TOKEN, CERT]
    steps:
      - id: use
        run: |
          echo "db=$DB_PASSWORD"
          echo "token=$API_TOKEN" >&2
          printf '%s\\n' "$CERT"
          [ "$(printf '%s' "$DB_PASSWORD" | sha256sum | cut -d' ' -f1)" = "{db}" ] && echo "db value arrived"
          [ "$(printf '%s' "$API_TOKEN" | sha256sum | cut -d' ' -f1)" = "{tok}" ] && echo "token value arrived"
          printf '%s' "$API_TOKEN"
      - id: report
        needs: [use]
        command: shell
        payload:
          script: 'echo "progress $DB_PASSWORD"; echo "dying with $API_TOKEN" >&2; exit 3'
        continue_on_error: true
"""


def test_a_secret_reaches_the_job_and_never_appears_anywhere(secrets_mesh):
    mesh, hub, agent, values = secrets_mesh
    # The job proves it got the values by comparing their SHA-256 with ours: the workflow names
    # the secrets only, so the values can be looked for everywhere, the stored source included.
    path = write_wf(mesh, "secrets", SECRET_WF.replace("{db}", sha256(values["DB_PASSWORD"]))
                    .replace("{tok}", sha256(values["API_TOKEN"])))
    rc, out, err = mesh.cli("run", path, "-o", "json", hub=hub, timeout=90)
    run = json.loads(out)
    steps = {s["id"]: s for s in run["steps"]}
    assert steps["use"]["state"] == "succeeded", run
    assert steps["report"]["state"] == "failed", run

    use_jobs = [j for j in hub.jobs() if "db=" in json.dumps(j.get("payload"))]
    assert len(use_jobs) == 1, use_jobs
    use_job = use_jobs[0]
    report_job = [j for j in hub.jobs() if "dying with" in json.dumps(j.get("payload"))][0]
    assert use_job["secrets"] == ["DB_PASSWORD", "API_TOKEN", "CERT"], use_job

    # The job saw the real values: it compared them itself.
    rc, logs, err = mesh.cli("job", "logs", use_job["id"], hub=hub)
    assert rc == 0, err
    assert "db value arrived" in logs and "token value arrived" in logs, logs
    assert "db=***" in logs and "token=***" in logs, logs
    assert use_job["output"].endswith("***"), use_job["output"]
    # The failing step's error carries its last stderr line, masked.
    rc, out, err = mesh.cli("job", "get", report_job["id"], "-o", "json", hub=hub)
    report = json.loads(out)
    assert "dying with ***" in report["error"], report

    seen = {"run -o json": json.dumps(run), "job logs": logs, "job get": out}
    rc, out, err = mesh.cli("status", "-o", "json", hub=hub)
    seen["status -o json"] = out
    for job in (use_job, report_job):
        rc, out, err = mesh.cli("status", job["id"], "-o", "json", hub=hub)
        assert rc == 0, err
        seen[f"status {job['id']} -o json"] = out
        rc, out, err = mesh.cli("job", "logs", job["id"], "-o", "json", hub=hub)
        seen[f"job logs {job['id']} -o json"] = out
    rc, out, err = mesh.cli("status", run["id"], "-o", "json", hub=hub)
    seen["status RUN -o json"] = out
    status, feed = hub.get(f"/api/v1/runs/{run['id']}/events")
    assert status == 200, feed
    seen["GET /runs/ID/events"] = json.dumps(feed)
    status, jobs = hub.get("/api/v1/jobs")
    seen["GET /api/v1/jobs"] = json.dumps(jobs)
    for where, text in seen.items():
        assert_nowhere(values, where, text)

    # Stop the hub and the agent so every byte is on disk, then grep what they wrote.
    mesh.registry.stop(agent.proc)
    mesh.registry.stop(hub.proc)
    assert_nowhere(values, "the hub's log", hub.proc.log_tail(10_000_000))
    assert_nowhere(values, "the agent's log", agent.proc.log_tail(10_000_000))
    for path, data in {**stored_bytes(hub.db_path + "*"),
                       **stored_bytes(os.path.join(agent.data_dir, "outbox.db*"))}.items():
        for name, value in values.items():
            assert value.encode() not in data, f"secret {name} is stored in {path}"
    # The masked forms are there: this grep would see a value if one were written.
    db = stored_bytes(hub.db_path)[hub.db_path]
    assert b"db=***" in db, "job_logs rows are in the database file"


def test_job_submit_secret_and_unknown_secrets_are_refused_before_anything_runs(secrets_mesh):
    mesh, hub, agent, values = secrets_mesh
    rc, out, err = mesh.cli("job", "submit", "--wait", "-o", "json", "--secret", "DB_PASSWORD",
                            "--", "shell", 'echo "got $DB_PASSWORD"; printf %s "$DB_PASSWORD" | wc -c',
                            hub=hub)
    assert rc == 0, err
    job = json.loads(out)
    assert job["output"] == f"got ***\n{len(values['DB_PASSWORD'])}", job

    rc, out, err = mesh.cli("job", "submit", "--secret", "NOT_THERE", "--", "shell", "true", hub=hub)
    line = assert_one_error_line(rc, out, err, 2, "job submit --secret NOT_THERE")
    assert 'secret "NOT_THERE" is not defined on the hub' in line and "secrets" in line, line
    rc, out, err = mesh.cli("job", "submit", "--secret", "no/slash", "--", "shell", "true", hub=hub)
    line = assert_one_error_line(rc, out, err, 2, "job submit --secret no/slash")
    assert "not usable as an environment variable" in line, line
    assert not [j for j in hub.jobs() if "true" == j.get("payload")], "a refused job must not exist"

    path = write_wf(mesh, "missing", """
        id: needs-missing
        secrets: [NOT_THERE]
        steps:
          - id: a
            run: echo never
    """)
    rc, out, err = mesh.cli("run", path, "-o", "json", hub=hub, timeout=60)
    assert rc == 1, (rc, out, err)
    run = json.loads(out)
    assert 'secret "NOT_THERE" is not defined on the hub' in run["error"], run


def test_workflow_validate_checks_secret_names(mesh):
    path = write_wf(mesh, "badnames", """
        id: bad-secret-names
        secrets: [GOOD, "1BAD", "has-dash"]
        steps:
          - id: a
            run: echo hi
    """)
    rc, out, err = mesh.cli("workflow", "validate", path)
    assert rc == 2, (rc, out, err)
    text = out + err
    assert '"1BAD" is not a usable secret name' in text and '"has-dash"' in text, text
    assert "GOOD" not in text.replace("bad-secret-names", ""), text


def test_webhook_secrets_are_never_returned_by_the_api(mesh, hub):
    key = fresh_secret("hook")
    path = write_wf(mesh, "hooked", f"""
        id: hooked
        triggers:
          - id: push
            type: webhook
            secret: {key}
        steps:
          - id: a
            run: echo hi
    """)
    rc, out, err = mesh.cli("workflow", "register", path, hub=hub)
    assert rc == 0, err
    status, body = hub.get("/api/v1/workflows/hooked")
    assert status == 200, body
    assert key not in json.dumps(body), body
    assert "secret: ***" in body["source"], body["source"]
    status, body = hub.get("/api/v1/workflows")
    assert key not in json.dumps(body)
