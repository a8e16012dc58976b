"""Structured logs (SPEC §9): `--log-format json` prints one JSON object per event on stderr with
the job/agent ids as fields; `--log-level` drops what is below it; bad values are usage errors."""

import json
import subprocess

from e2e_helpers import assert_one_error_line, wait_until


def json_lines(text):
    out = []
    for line in text.splitlines():
        if line.strip():
            out.append(json.loads(line))  # every line must be JSON
    return out


def test_json_logs_of_hub_and_agent_carry_ids_as_fields(mesh):
    hub = mesh.start_hub(args=["--log-format", "json", "--log-level", "debug"])
    agent = mesh.start_agent(hub, "json-agent", args=["--log-format", "json"])
    agent_id = agent.agent_id()
    mesh.registry.stop(agent.proc)
    wait_until(lambda: (hub.agent_record("json-agent") or {}).get("state") == "disconnected", 10, "agent gone")
    mesh.registry.stop(hub.proc)
    hub_events = json_lines(open(hub.proc.log_path).read())
    agent_events = json_lines(open(agent.proc.log_path).read())
    for e in hub_events + agent_events:
        assert {"time", "level", "component", "msg"} <= e.keys(), e
    assert any(e["msg"].startswith("listening on") and e["level"] == "info" for e in hub_events), hub_events
    gone = [e for e in hub_events if "disconnected" in e["msg"]]
    assert gone and gone[0]["agent_id"] == agent_id and gone[0]["agent"] == "json-agent", hub_events
    came = [e for e in hub_events if e["level"] == "debug" and "connected from" in e["msg"]]
    assert came and came[0]["agent_id"] == agent_id, hub_events
    assert all(e["component"] == "agent" for e in agent_events)
    assert any("connected to hub" in e["msg"] for e in agent_events), agent_events


def test_log_level_drops_lower_events(mesh):
    hub = mesh.start_hub(args=["--log-level", "warn"])
    mesh.start_agent(hub, "quiet-agent", args=["--log-level", "error"])
    mesh.registry.stop_all()
    assert "listening on" not in open(hub.proc.log_path).read()


def test_bad_log_flags_are_usage_errors(mesh):
    for args in (["serve", "--log-format", "xml"], ["agent", "--log-level", "chatty"]):
        cp = subprocess.run([mesh.binary, *args, "--data-dir", mesh.path("unused")], capture_output=True,
                            text=True, env=mesh.base_env(), timeout=20)
        line = assert_one_error_line(cp.returncode, cp.stdout, cp.stderr, 2, " ".join(args))
        assert args[1] in line, line
