"""One-off jobs through the CLI: outputs, exit codes, JSON records, handlers, retries."""

import json
import os

import pytest

from e2e_helpers import find_sleep_procs, list_from, wait_until
from pg_server import both_stores


@pytest.fixture
def agent(mesh, hub):
    return mesh.start_agent(hub, "a1", concurrency=4)


def submit_json(mesh, hub, *args, timeout=60):
    rc, out, err = mesh.cli("job", "submit", "--wait", "-o", "json", *args, hub=hub,
                            timeout=timeout)
    try:
        rec = json.loads(out)
    except ValueError:
        raise AssertionError(f"`job submit --wait -o json {' '.join(args)}`: exit {rc}, "
                             f"stdout is not JSON: {out!r}; stderr={err!r}") from None
    return rc, rec, err


@both_stores
def test_submit_wait_prints_the_echo_output(mesh, hub, agent):
    rc, out, err = mesh.cli("job", "submit", "--wait", "--", "echo", "hello", "world", hub=hub)
    assert rc == 0, f"exit {rc}, stderr={err!r}"
    assert out.strip() == "hello world", f"stdout={out!r}"


def test_submit_wait_json_is_the_final_record(mesh, hub, agent):
    rc, rec, err = submit_json(mesh, hub, "--", "echo", "hello", "world")
    assert rc == 0, f"exit {rc}, record={rec!r}, stderr={err!r}"
    assert rec["state"] == "succeeded", rec
    assert rec["attempt"] == 1, rec
    assert rec["output"] == "hello world", rec
    assert rec["agent"]["name"] == "a1", rec
    assert rec["agent"]["id"] == agent.agent_id(), (rec, agent.agent_id())
    assert rec["id"], rec
    assert rec.get("error") in ("", None), rec
    assert "exit_code" in rec, rec


def test_submit_without_wait_prints_the_id_alone(mesh, hub, agent):
    rc, out, err = mesh.cli("job", "submit", "--", "echo", "hi", "there", hub=hub)
    assert rc == 0, f"exit {rc}, stderr={err!r}"
    lines = out.splitlines()
    assert len(lines) == 1 and lines[0].strip() and " " not in lines[0].strip(), \
        f"stdout must be the job id alone, got {out!r}"
    job_id = lines[0].strip()
    rec = hub.wait_job(job_id)
    assert rec["id"] == job_id and rec["state"] == "succeeded", rec
    assert rec["command"] == "echo" and rec["payload"] == "hi there", rec
    rc, out, err = mesh.cli("job", "get", job_id, "-o", "json", hub=hub)
    assert rc == 0, f"job get: exit {rc}, stderr={err!r}"
    got = json.loads(out)
    assert got["id"] == job_id and got["state"] == "succeeded", got


def test_submit_json_without_wait_prints_the_record(mesh, hub, agent):
    rc, out, err = mesh.cli("job", "submit", "-o", "json", "--", "echo", "x", hub=hub)
    assert rc == 0, f"exit {rc}, stderr={err!r}"
    rec = json.loads(out)
    assert rec["id"] and rec["state"] in ("pending", "assigned", "running", "succeeded"), rec
    assert hub.wait_job(rec["id"])["state"] == "succeeded"


def test_failing_shell_script_exits_1_with_its_exit_code(mesh, hub, agent):
    rc, rec, err = submit_json(mesh, hub, "--", "shell", "exit", "3")
    assert rc == 1, f"exit {rc} (expected 1 for a failed job), record={rec!r}"
    assert rec["state"] == "failed", rec
    assert rec["exit_code"] == 3, rec


@pytest.mark.parametrize("command", [["sleep", "30"], ["shell", "sleep", "31"]],
                         ids=["sleep-handler", "shell"])
@both_stores
def test_timeout_ends_timed_out_and_wait_exits_4(mesh, hub, agent, command):
    rc, rec, err = submit_json(mesh, hub, "--timeout", "1s", "--", *command, timeout=30)
    assert rc == 4, f"exit {rc} (expected 4 for timed out), record={rec!r}, stderr={err!r}"
    assert rec["state"] == "timed_out", rec
    if command[0] == "shell":
        # the timed-out process is gone too
        wait_until(lambda: not find_sleep_procs(agent.pid, "31"), 15,
                   "the timed-out `sleep 31` to be gone")


def test_exec_handler_runs_argv_without_a_shell(mesh, hub, agent):
    rc, rec, err = submit_json(mesh, hub, "--", "exec", "/bin/echo", "a  b", "$HOME")
    assert rc == 0, (rc, rec, err)
    assert rec["state"] == "succeeded", rec
    assert "a  b $HOME" in str(rec["output"]), rec


def test_key_value_words_make_an_object_payload(mesh, hub, agent):
    rc, rec, err = submit_json(mesh, hub, "--", "echo", "a=1", "b=x")
    assert rc == 0, (rc, rec, err)
    full = hub.job(rec["id"])
    payload = full["payload"]
    assert isinstance(payload, dict), full
    assert {k: str(v) for k, v in payload.items()} == {"a": "1", "b": "x"}, full


def test_payload_flag_gives_the_whole_payload(mesh, hub, agent):
    rc, rec, err = submit_json(mesh, hub, "--payload", '{"k": [1, 2], "s": "t"}', "--", "echo")
    assert rc == 0, (rc, rec, err)
    assert rec["output"] == {"k": [1, 2], "s": "t"}, rec


def test_shell_job_sees_its_idempotency_key(mesh, hub, agent):
    rc, rec, err = submit_json(mesh, hub, "--idempotency-key", "key-42", "--",
                               "shell", "echo", "k=$ORBITMESH_IDEMPOTENCY_KEY")
    assert rc == 0, (rc, rec, err)
    assert "k=key-42" in str(rec["output"]), rec


@pytest.mark.parametrize("command", ["system.info", "system:info", "orbit:system.info",
                                     "system.health"])
def test_builtin_system_handlers_succeed(mesh, hub, agent, command):
    rc, rec, err = submit_json(mesh, hub, "--", command)
    assert rc == 0, (rc, rec, err)
    assert rec["state"] == "succeeded" and rec["output"] not in (None, "", {}), rec


@both_stores
def test_retries_run_a_failing_job_again_as_a_new_attempt(mesh, hub, agent):
    marker = mesh.path("retry-marker")
    script = f"if [ -f {marker} ]; then echo second; else touch {marker}; exit 7; fi"
    rc, rec, err = submit_json(mesh, hub, "--retries", "2", "--", "shell", script)
    assert rc == 0, f"exit {rc}, record={rec!r}"
    assert rec["state"] == "succeeded" and rec["attempt"] == 2, rec
    assert "second" in str(rec["output"]), rec


def test_job_retry_requeues_a_failed_job(mesh, hub, agent):
    marker = mesh.path("manual-retry-marker")
    script = f"if [ -f {marker} ]; then echo again; else touch {marker}; exit 9; fi"
    rc, rec, err = submit_json(mesh, hub, "--", "shell", script)
    assert rc == 1 and rec["state"] == "failed" and rec["exit_code"] == 9, (rc, rec)
    rc, out, err = mesh.cli("job", "retry", rec["id"], hub=hub)
    assert rc == 0, f"job retry: exit {rc}, stderr={err!r}"
    final = hub.wait_job(rec["id"])
    assert final["state"] == "succeeded", final
    assert final["attempt"] == 2, final
    assert "again" in str(final["output"]), final


def test_job_retry_of_a_succeeded_job_is_refused(mesh, hub, agent):
    rc, rec, err = submit_json(mesh, hub, "--", "echo", "done")
    assert rc == 0
    status, body = hub.post(f"/api/v1/jobs/{rec['id']}/retry")
    assert status == 409 and body.get("error") == "conflict", (status, body)
    rc, out, err = mesh.cli("job", "retry", rec["id"], hub=hub)
    assert rc != 0 and len([l for l in err.splitlines() if l.strip()]) == 1, (rc, out, err)


def test_job_list_and_status_show_jobs_and_agents(mesh, hub, agent):
    ids = []
    for i in range(3):
        rc, rec, err = submit_json(mesh, hub, "--", "echo", f"n{i}")
        assert rc == 0
        ids.append(rec["id"])
    rc, out, err = mesh.cli("job", "list", "-o", "json", hub=hub)
    assert rc == 0, (rc, err)
    jobs = list_from(json.loads(out), "jobs")
    listed = [j["id"] for j in jobs]
    assert set(ids) <= set(listed), (ids, listed)
    # newest first
    assert [i for i in listed if i in ids] == list(reversed(ids)), listed
    rc, out, err = mesh.cli("job", "list", "--limit", "2", "-o", "json", hub=hub)
    assert rc == 0 and len(list_from(json.loads(out), "jobs")) == 2, out
    rc, out, err = mesh.cli("status", "agents", "-o", "json", hub=hub)
    assert rc == 0, (rc, err)
    agents = list_from(json.loads(out), "agents")
    a1 = [a for a in agents if a["name"] == "a1"]
    assert a1 and a1[0]["state"] == "connected" and a1[0]["id"] == agent.agent_id(), agents
    rc, out, err = mesh.cli("status", "jobs", "-o", "json", hub=hub)
    assert rc == 0, (rc, err)
    json.loads(out)
    rc, out, err = mesh.cli("job", "list", hub=hub)
    assert rc == 0 and all(i in out for i in ids), out


def test_job_get_of_an_unknown_id_is_one_error_line(mesh, hub):
    rc, out, err = mesh.cli("job", "get", "00000000-0000-7000-8000-000000000000", hub=hub)
    lines = [l for l in err.splitlines() if l.strip()]
    assert rc not in (0, 3), (rc, out, err)
    assert len(lines) == 1 and lines[0].startswith("orbitmesh: error:"), lines
    status, body = hub.get("/api/v1/jobs/00000000-0000-7000-8000-000000000000")
    assert status == 404 and body.get("error") == "not_found", (status, body)


def test_ctrl_c_on_submit_wait_exits_130(mesh, hub, agent):
    import signal as _signal
    waiter = mesh.cli_background("job", "submit", "--wait", "--", "sleep", "20", hub=hub,
                                 name="submit-wait-int")
    wait_until(lambda: any(j["state"] == "running" for j in hub.jobs()), 15, "job running")
    wait_until(lambda: hub.get("/api/v1/stats")[1]["held"]["job_waits"] >= 1, 15,
               "`job submit --wait` to be waiting on the hub")
    os.kill(waiter.pid, _signal.SIGINT)
    try:
        waiter.popen.communicate(timeout=10)
    except Exception:
        raise AssertionError("`job submit --wait` ignored SIGINT") from None
    # a shell sees 130 whether the process exits 130 or dies of SIGINT (both conventional)
    assert waiter.popen.returncode in (130, -_signal.SIGINT), \
        f"exit {waiter.popen.returncode} after Ctrl-C (expected 130)"


def test_job_list_filters_by_state_and_tables_print(mesh, hub, agent):
    done = hub.wait_job(hub.submit({"command": "echo", "payload": "d"})["id"])
    waiting = hub.submit({"command": "echo", "payload": "w", "target": {"capabilities": ["x"]}})
    rc, out, err = mesh.cli("job", "list", "--state", "pending", "-o", "json", hub=hub)
    assert rc == 0, (rc, err)
    listed = list_from(json.loads(out), "jobs")
    assert [j["id"] for j in listed] == [waiting["id"]], listed
    for args in (("job", "get", done["id"]), ("status", "jobs"), ("status", "agents"),
                 ("status",), ("job", "list", "--state", "succeeded")):
        rc, out, err = mesh.cli(*args, hub=hub)
        assert rc == 0 and out.strip(), f"`orbitmesh {' '.join(args)}`: exit {rc}, {out!r} {err!r}"
    rc, out, err = mesh.cli("job", "list", "--state", "succeeded", hub=hub)
    assert done["id"] in out and waiting["id"] not in out, out
