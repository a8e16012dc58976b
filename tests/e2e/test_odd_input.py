"""Odd but legal input harms nothing: SQL metacharacters in names and keys, non-UTF-8 and
large output, retries that run out."""

import json

import pytest


def test_sql_metacharacters_in_names_tags_and_keys_are_just_text(mesh, hub):
    name = "a'; DROP TABLE jobs;--"
    mesh.start_agent(hub, name, tags={"k'\"": "v'); --"})
    key = "key' OR '1'='1"
    rec = hub.submit({"command": "echo", "payload": "'; DELETE FROM events; --",
                      "idempotency_key": key, "target": {"agent": name}})
    rec = hub.wait_job(rec["id"])
    assert rec["state"] == "succeeded" and rec["agent"]["name"] == name, rec
    assert rec["output"] == "'; DELETE FROM events; --", rec
    other = hub.submit({"command": "echo", "payload": "x", "idempotency_key": "key"})
    assert other["id"] != rec["id"]
    assert len(hub.jobs()) == 2


def test_non_utf8_output_still_gives_valid_json(mesh, hub):
    mesh.start_agent(hub, "a1")
    rec = hub.wait_job(hub.submit({"command": "shell",
                                   "payload": "printf 'ok \\377\\376 bytes\\n'"})["id"])
    assert rec["state"] == "succeeded", rec
    assert "ok" in str(rec["output"]) and "bytes" in str(rec["output"]), rec
    rc, out, err = mesh.cli("job", "get", rec["id"], "-o", "json", hub=hub)
    assert rc == 0, (rc, err)
    json.loads(out)
    status, body = hub.get(f"/api/v1/jobs/{rec['id']}/logs?after=0")
    assert status == 200 and isinstance(body, dict), (status, body)


@pytest.mark.deadline(90)
def test_large_output_does_not_hurt_the_hub(mesh, hub):
    mesh.start_agent(hub, "a1")
    rec = hub.wait_job(hub.submit({"command": "shell",
                                   "payload": "head -c 3000000 /dev/zero | tr '\\0' a; echo; echo END"})
                       ["id"], timeout=60)
    assert rec["state"] == "succeeded", {k: v for k, v in rec.items() if k != "output"}
    assert hub.healthy()
    small = hub.wait_job(hub.submit({"command": "echo", "payload": "after"})["id"])
    assert small["state"] == "succeeded"


def test_retries_that_run_out_end_dead_and_wait_exits_1(mesh, hub):
    mesh.start_agent(hub, "a1")
    rc, out, err = mesh.cli("job", "submit", "--retries", "1", "--wait", "-o", "json", "--",
                            "shell", "exit", "4", hub=hub)
    rec = json.loads(out)
    assert rc == 1, (rc, rec, err)
    assert rec["state"] == "dead", rec
    assert rec["attempt"] == 2 and rec["exit_code"] == 4, rec
    rc, out, err = mesh.cli("job", "retry", rec["id"], hub=hub)
    assert rc == 0, (rc, err)
    again = hub.wait_job(rec["id"], timeout=30)
    assert again["state"] in ("dead", "failed") and again["attempt"] >= 3, again


def test_logs_follow_of_a_pending_job_waits_for_it(mesh, hub):
    job_id = hub.submit({"command": "shell", "payload": "echo from-late-agent",
                         "target": {"capabilities": ["late"]}})["id"]
    follower = mesh.cli_background("job", "logs", job_id, "-f", hub=hub, name="logs-f")
    from e2e_helpers import wait_until
    wait_until(lambda: not follower.alive() or hub.get("/api/v1/stats")[1]["held"]["log_waits"] >= 1, 15,
               "`job logs -f` to be waiting on the hub")
    assert follower.alive(), "`job logs -f` of a pending job exited before the job ran"
    mesh.start_agent(hub, "late-box", capabilities=["late"])
    out, _ = follower.popen.communicate(timeout=20)
    assert follower.popen.returncode == 0 and b"from-late-agent" in out, (follower.popen.returncode, out)
