"""`--config FILE` for serve and agent (SPEC §1): every flag is a key, generated from the flags
themselves; precedence flag > environment (ORBITMESH_<FLAG>) > config file > default; unknown
keys and bad files are one-line errors with exit 2."""

import os
import re
import subprocess

import pytest

import auth_helpers
from e2e_helpers import assert_one_error_line, wait_until

FLAG = re.compile(r"^\s+(?:-\w, )?(--[a-z][a-z0-9-]*)", re.M)
SETTING = re.compile(r"^([a-z][a-z0-9-]*): (.*?)  # (flag|environment|config file|default)$")
NOT_SETTINGS = {"--help", "--config", "--print-config", "--help-all"}
SECRETS = {"token"}  # --print-config says they are set, never what they are


def run(mesh, *args, env=None):
    full = mesh.base_env()
    full.update(env or {})
    cp = subprocess.run([mesh.binary, *args], env=full, capture_output=True, text=True, timeout=30)
    return cp.returncode, cp.stdout, cp.stderr


def write(mesh, name, text):
    path = mesh.path(name)
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
    return path


def settings(mesh, command, *args, env=None):
    rc, out, err = run(mesh, command, *args, "--print-config", env=env)
    assert rc == 0, f"{command} --print-config: exit {rc}: {err}"
    found = {}
    for line in out.splitlines():
        if line.startswith("#"):
            continue
        m = SETTING.match(line)
        assert m, f"unexpected --print-config line {line!r}"
        found[m.group(1)] = (m.group(2), m.group(3))
    return found


def help_flags(mesh, command):
    rc, out, _ = run(mesh, command, "--help")
    assert rc == 0
    return sorted(set(FLAG.findall(out)) - NOT_SETTINGS)


def sample_value(value):
    """A value of the same kind as the default --print-config shows, different from it."""
    if value in ("false", "true"):
        return "true"
    if value == "[]":
        return "[a=b]"
    if re.fullmatch(r"\d+", value):
        return str(int(value) + 1)
    if re.fullmatch(r"\d+(ms|s|m|h|d)", value):
        return "7s"
    return "sample-value"


@pytest.mark.parametrize("command", ["serve", "agent"])
def test_every_flag_has_a_config_key_that_takes_effect(mesh, command):
    flags = help_flags(mesh, command)
    defaults = settings(mesh, command)
    keys = {"--" + k for k in defaults}
    assert flags, "no flags found in --help"
    missing = [f for f in flags if f not in keys]
    assert not missing, f"flags of `{command}` without a config key: {missing}"
    body = "".join(f"{k}: {sample_value(v)}\n" for k, (v, _) in sorted(defaults.items()))
    cfg = write(mesh, f"{command}-all.yaml", body)
    layered = settings(mesh, command, "--config", cfg)
    not_from_file = {k: s for k, (_, s) in layered.items() if s != "config file"}
    assert not not_from_file, f"keys whose config value was not used: {not_from_file}"
    for k, (v, _) in defaults.items():
        want = "(hidden)" if k in SECRETS else sample_value(v)
        got = layered[k][0]
        assert got.strip('"') == want or got == f"[{want.strip('[]')}]" or got.strip("'") == want, \
            f"{k}: config said {want}, effective value {got}"


# One flag of each kind: a string, a number, a duration, a boolean flag, a repeatable list.
CASES = [
    ("serve", "data-dir", "/tmp/from-default-unused", "/tmp/om-config", "/tmp/om-env", "/tmp/om-flag"),
    ("serve", "max-pending", None, "111", "222", "333"),
    ("serve", "heartbeat", None, "11s", "22s", "33s"),
    ("agent", "no-shell", None, "true", "false", "true"),
    ("agent", "tag", None, "[zone=config]", "zone=env", "zone=flag"),
]


@pytest.mark.parametrize("command,key,_unused,in_config,in_env,on_flag", CASES)
def test_precedence_is_flag_then_environment_then_config_then_default(mesh, command, key, _unused, in_config,
                                                                       in_env, on_flag):
    env_name = "ORBITMESH_" + key.upper().replace("-", "_")
    default_value, source = settings(mesh, command)[key]
    assert source == "default"
    cfg = write(mesh, f"{command}-{key}.yaml", f"{key}: {in_config}\n")
    value, source = settings(mesh, command, "--config", cfg)[key]
    assert source == "config file" and value != default_value, (value, source)
    config_value = value
    value, source = settings(mesh, command, "--config", cfg, env={env_name: in_env})[key]
    assert source == "environment" and value != config_value, (value, source)
    env_value = value
    flag = [f"--{key}"] if on_flag == "true" else [f"--{key}", on_flag]
    value, source = settings(mesh, command, "--config", cfg, *flag, env={env_name: in_env})[key]
    assert source == "flag", (value, source)
    if on_flag != "true":
        assert value != env_value and on_flag.split("=")[-1] in value, (value, env_value)


def test_config_given_by_environment_and_used_by_a_real_hub_and_agent(mesh):
    hub_dir = mesh.path("hub-from-config")
    port_file = mesh.path("hub-config-port")
    hub_cfg = write(mesh, "hub.yaml", f"listen: 127.0.0.1:0\ndata_dir: {hub_dir}\nport-file: {port_file}\n"
                                      "log-format: json\n")
    env = mesh.base_env()
    env["ORBITMESH_CONFIG"] = hub_cfg
    proc = mesh.registry.start("hub-config", [mesh.binary, "serve"], env=env)
    port = wait_until(lambda: open(port_file).read().strip() if os.path.exists(port_file) else None, 20,
                      "hub port file")
    assert os.path.exists(os.path.join(hub_dir, "orbitmesh.db"))
    agent_dir = mesh.path("agent-from-config")
    agent_cfg = write(mesh, "agent.yaml", f"server: http://127.0.0.1:{port}\nname: cfg-agent\n"
                                          f"data-dir: {agent_dir}\ntag: {{zone: z9, role: web}}\n"
                                          "capability: [gpu, disk]\n")
    mesh.registry.start("agent-config", [mesh.binary, "agent", "--config", agent_cfg], env=mesh.base_env())

    class _Hub:
        url = f"http://127.0.0.1:{port}"
    rc, out, err = mesh.cli("status", "agents", "-o", "json", server=_Hub.url)

    def agent():
        rc, out, _ = mesh.cli("status", "agents", "-o", "json", server=_Hub.url)
        return "cfg-agent" in out and '"connected"' in out and out
    out = wait_until(agent, 15, "agent from config connected")
    assert '"zone": "z9"' in out and '"role": "web"' in out and "gpu" in out, out
    assert proc.alive()


def test_auth_from_the_config_file_and_the_agent_token_from_the_environment(mesh):
    """Issue 8's flags are keys too: a hub told `auth: token` by its file requires tokens, and an
    agent given ORBITMESH_TOKEN (as agent.env does for the systemd unit) connects with it;
    --print-config shows that a token is set, not the token."""
    data_dir = mesh.path("hub-auth-config")
    os.makedirs(data_dir)
    admin = auth_helpers.mint(mesh, data_dir, "admin")[0]
    agent_token = auth_helpers.mint(mesh, data_dir, "agent")[0]
    cfg = write(mesh, "hub-auth.yaml", "auth: token\nmax-auth-failures: 0\n")
    hub = mesh.start_hub(data_dir=data_dir, args=("--config", cfg))
    assert hub.get("/api/v1/agents")[0] == 401, "auth: token in the config file was not applied"

    agent_cfg = write(mesh, "agent-auth.yaml", f"server: {hub.url}\nname: tok-agent\n"
                                               f"data-dir: {mesh.path('agent-auth')}\n")
    env = mesh.base_env()
    env["ORBITMESH_TOKEN"] = agent_token
    shown = settings(mesh, "agent", "--config", agent_cfg, env=env)
    assert shown["token"] == ('"(hidden)"', "environment"), shown["token"]
    rc, out, _ = run(mesh, "agent", "--config", agent_cfg, "--print-config", env=env)
    assert agent_token not in out and agent_token.split(".")[2] not in out
    mesh.registry.start("agent-auth", [mesh.binary, "agent", "--config", agent_cfg], env=env)

    def connected():
        status, body = auth_helpers.request(hub, "GET", "/api/v1/agents", token=admin)
        return status == 200 and any(a.get("name") == "tok-agent" and a.get("state") == "connected"
                                     for a in (body if isinstance(body, list) else body.get("agents", [])))
    wait_until(connected, 15, "the agent with the token from the environment connected")


@pytest.mark.parametrize("body,expected", [
    ("data_dri: /tmp/x\n", r':1: unknown key "data_dri" for `orbitmesh serve` \(did you mean "data-dir"\?\)'),
    ("listen: 127.0.0.1:0\nmax-pendng: 5\n", r':2: unknown key "max-pendng".*did you mean "max-pending"'),
    ("listen: [a, b]\n", r':1: key "listen" takes one value'),
    ("listen: {a: b\n", r"not valid YAML"),
    ("- listen\n", r"a config file is a map of flag names to values"),
    ("max-pending: lots\n", r"max-pending"),
])
def test_bad_config_is_one_line_and_exit_2(mesh, body, expected):
    cfg = write(mesh, "bad.yaml", body)
    data_dir = mesh.path("never-created")
    rc, out, err = run(mesh, "serve", "--config", cfg, "--data-dir", data_dir, "--listen", "127.0.0.1:0")
    line = assert_one_error_line(rc, out, err, 2, "serve --config bad.yaml")
    assert re.search(expected, line), line
    assert not os.path.exists(data_dir), "a refused config must not touch the data dir"


def test_missing_config_file(mesh):
    rc, out, err = run(mesh, "agent", "--config", mesh.path("nope.yaml"))
    line = assert_one_error_line(rc, out, err, 2, "agent --config nope.yaml")
    assert "cannot read config file" in line and "No such file" in line, line
