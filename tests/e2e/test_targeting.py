"""Targeting: capabilities, tags and agent names decide where a job may run."""

import json

from e2e_helpers import job_agent_name


def run_jobs(hub, specs, timeout=30):
    ids = [hub.submit(s)["id"] for s in specs]
    return [hub.wait_job(i, timeout=timeout) for i in ids]


def test_capability_job_runs_on_the_agent_that_has_it(mesh, hub):
    mesh.start_agent(hub, "plain", concurrency=4)
    mesh.start_agent(hub, "gpu-box", capabilities=["gpu"], concurrency=4)
    recs = run_jobs(hub, [{"command": "echo", "payload": f"g{i}",
                           "target": {"capabilities": ["gpu"]}} for i in range(6)])
    for r in recs:
        assert r["state"] == "succeeded" and job_agent_name(r) == "gpu-box", r
    # through the CLI too
    rc, out, err = mesh.cli("job", "submit", "--capability", "gpu", "--wait", "-o", "json",
                            "--", "echo", "cli", hub=hub)
    assert rc == 0, (rc, out, err)
    assert json.loads(out)["agent"]["name"] == "gpu-box", out


def test_tag_job_runs_on_the_agent_with_the_tag(mesh, hub):
    mesh.start_agent(hub, "zone-a", tags={"zone": "a"}, concurrency=4)
    mesh.start_agent(hub, "zone-b", tags={"zone": "b"}, concurrency=4)
    recs = run_jobs(hub, [{"command": "echo", "payload": f"t{i}",
                           "target": {"tags": {"zone": "b"}}} for i in range(6)])
    for r in recs:
        assert r["state"] == "succeeded" and job_agent_name(r) == "zone-b", r
    rc, out, err = mesh.cli("job", "submit", "--tag", "zone=a", "--wait", "-o", "json",
                            "--", "echo", "cli", hub=hub)
    assert rc == 0 and json.loads(out)["agent"]["name"] == "zone-a", (rc, out, err)


def test_agent_targeted_job_runs_on_that_agent_by_name_or_id(mesh, hub):
    mesh.start_agent(hub, "one", concurrency=4)
    two = mesh.start_agent(hub, "two", concurrency=4)
    recs = run_jobs(hub, [{"command": "echo", "payload": f"n{i}", "target": {"agent": "two"}}
                          for i in range(4)])
    recs += run_jobs(hub, [{"command": "echo", "payload": f"i{i}",
                            "target": {"agent": two.agent_id()}} for i in range(4)])
    for r in recs:
        assert r["state"] == "succeeded" and job_agent_name(r) == "two", r
    rc, out, err = mesh.cli("job", "submit", "--agent", "two", "--wait", "-o", "json",
                            "--", "echo", "cli", hub=hub)
    assert rc == 0 and json.loads(out)["agent"]["name"] == "two", (rc, out, err)


def test_job_nobody_can_take_stays_pending_until_a_capable_agent_connects(mesh, hub):
    mesh.start_agent(hub, "plain", concurrency=4)
    rc, out, err = mesh.cli("job", "submit", "--capability", "nope", "--", "echo", "late",
                            hub=hub)
    assert rc == 0, (rc, out, err)
    job_id = out.strip()
    # a job that anyone can take runs meanwhile, so the hub is dispatching
    other = hub.submit({"command": "echo", "payload": "free"})
    assert hub.wait_job(other["id"])["state"] == "succeeded"
    rec = hub.job(job_id)
    assert rec["state"] == "pending", rec
    assert rec.get("agent") in (None, {}), rec
    mesh.start_agent(hub, "nope-box", capabilities=["nope"])
    rec = hub.wait_job(job_id, timeout=20)
    assert rec["state"] == "succeeded", rec
    assert job_agent_name(rec) == "nope-box", rec
    assert rec["output"] == "late", rec
