"""Agent twins (SPEC §7): operators set the desired half, the agent applies drain, concurrency and
labels and reports them back with its detected facts; the hub stops giving a draining agent work,
`status agents` shows it, and clearing drain resumes it."""

import json
import time

from e2e_helpers import assert_one_error_line, wait_until
from workflow_helpers import write_wf


def twin(mesh, hub, agent):
    rc, out, err = mesh.cli("twin", "get", agent, "-o", "json", hub=hub)
    assert rc == 0, err
    return json.loads(out)


def submit(mesh, hub, *args):
    rc, out, err = mesh.cli("job", "submit", "-o", "json", *args, hub=hub)
    assert rc == 0, err
    return json.loads(out)["id"]


def test_a_drained_agent_finishes_its_job_takes_no_new_one_and_resumes_when_undrained(mesh):
    hub = mesh.start_hub()
    mesh.start_agent(hub, "a1", concurrency=2)
    facts = wait_until(lambda: twin(mesh, hub, "a1")["reported"] or None, 10, "the agent's reported facts")
    assert facts["arch"] and facts["cores"] >= 1 and facts["os"] and facts["drain"] is False, facts

    first = submit(mesh, hub, "--agent", "a1", "--", "shell", "sleep 2; echo done")
    hub.wait_job(first, states=("running",), timeout=10)
    rc, out, err = mesh.cli("twin", "set", "a1", "drain=true", "-o", "json", hub=hub)
    assert rc == 0, err
    assert json.loads(out)["desired"] == {"drain": True}
    second = submit(mesh, hub, "--agent", "a1", "--", "shell", "echo second")

    wait_until(lambda: twin(mesh, hub, "a1")["reported"].get("drain") is True, 10, "the agent to report drain: true")
    assert hub.wait_job(first, timeout=20)["state"] == "succeeded", "the running job must finish"
    time.sleep(1.0)  # a free slot and a queued job: a non-draining agent would have taken it by now
    assert hub.job(second)["state"] == "pending"
    rc, out, err = mesh.cli("status", "agents", hub=hub)
    assert rc == 0 and "connected (draining)" in out, out
    rc, out, err = mesh.cli("status", "agents", "-o", "json", hub=hub)
    agent = json.loads(out)["agents"][0]
    assert agent["draining"] is True and agent["drift"] == {}, agent

    rc, out, err = mesh.cli("agent", "undrain", "a1", hub=hub)
    assert rc == 0, err
    assert hub.wait_job(second, timeout=20)["state"] == "succeeded"
    assert twin(mesh, hub, "a1")["reported"]["drain"] is False


def test_labels_and_concurrency_are_applied_reported_and_targetable(mesh):
    hub = mesh.start_hub()
    mesh.start_agent(hub, "a1", concurrency=3)
    rc, out, err = mesh.cli("twin", "set", "a1", "labels.zone=eu-west", "concurrency=1", "owner=ops", hub=hub)
    assert rc == 0, err

    def applied():
        t = twin(mesh, hub, "a1")
        return t if t["reported"].get("labels", {}).get("zone") == "eu-west" and t["reported"].get("concurrency") == 1 else None

    t = wait_until(applied, 10, "labels and concurrency to be applied")
    assert t["drift"] == {"owner": {"desired": "ops", "reported": None}}, "a key the agent does not know is drift"
    rc, out, err = mesh.cli("twin", "get", "a1", hub=hub)
    assert rc == 0 and "drift:" in out and "owner" in out, out
    record = hub.agent_record("a1")
    assert record["concurrency"] == 1 and record["tags"].get("zone") == "eu-west", record
    job = submit(mesh, hub, "--tag", "zone=eu-west", "--", "echo", "hi")
    assert hub.wait_job(job, timeout=15)["state"] == "succeeded"
    rc, out, err = mesh.cli("status", "agents", hub=hub)
    assert "owner" in out and "reported." not in out, out

    arch = t["reported"]["arch"]
    job = submit(mesh, hub, "--where", f"reported.arch={arch}", "--", "echo", "here")
    assert hub.wait_job(job, timeout=15)["state"] == "succeeded"
    elsewhere = submit(mesh, hub, "--where", "reported.arch=no-such-arch", "--", "echo", "nowhere")
    time.sleep(1.0)
    assert hub.job(elsewhere)["state"] == "pending", "no agent reports that arch"
    path = write_wf(mesh, "where", f"""
        id: where-test
        steps:
          - id: s
            command: echo
            payload: hi
            where: {{arch: {arch}}}
        """)
    rc, out, err = mesh.cli("run", path, "-o", "json", hub=hub, timeout=30)
    assert rc == 0 and json.loads(out)["state"] == "succeeded", (out, err)
    rc, out, err = mesh.cli("job", "submit", "--where", "arch=x86_64", "--", "echo", "x", hub=hub)
    assert "use reported.KEY=VALUE" in assert_one_error_line(rc, out, err, 2, "job submit --where arch=x86_64")


def test_bad_twin_input_is_one_line_and_changes_nothing(mesh):
    hub = mesh.start_hub()
    mesh.start_agent(hub, "a1")
    for args, word in [(("twin", "set", "a1", "drain=maybe"), "drain must be true or false"),
                       (("twin", "set", "a1", "concurrency=0"), "concurrency must be"),
                       (("twin", "set", "a1", "nokey"), "is not KEY=VALUE"),
                       (("twin", "set", "ghost", "drain=true"), "agent ghost not found")]:
        rc, out, err = mesh.cli(*args, hub=hub)
        line = assert_one_error_line(rc, out, err, 2, " ".join(args))
        assert word in line, line
    assert twin(mesh, hub, "a1")["desired"] == {}
