"""Agent-side handlers: plugins from --handlers DIR, --no-shell."""

import os
import stat



def write_plugin(path, body):
    with open(path, "w", encoding="utf-8") as f:
        f.write(body)
    os.chmod(path, os.stat(path).st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)


def test_plugin_handler_gets_the_payload_and_returns_its_last_json_line(mesh, hub):
    hdir = mesh.path("handlers")
    os.makedirs(hdir)
    write_plugin(os.path.join(hdir, "greet"),
                 "#!/bin/sh\nread -r p\necho working\necho \"{\\\"got\\\": $p}\"\n")
    write_plugin(os.path.join(hdir, "fail3"), "#!/bin/sh\necho bad >&2\nexit 3\n")
    mesh.start_agent(hub, "plug", args=["--handlers", hdir])
    rec = hub.wait_job(hub.submit({"command": "greet", "payload": {"who": "you"}})["id"])
    assert rec["state"] == "succeeded", rec
    assert rec["output"] == {"got": {"who": "you"}}, rec
    status, body = hub.get(f"/api/v1/jobs/{rec['id']}/logs?after=0")
    assert status == 200 and "working" in "".join(l["data"] for l in body["lines"]), body
    rec = hub.wait_job(hub.submit({"command": "fail3", "payload": None})["id"])
    assert rec["state"] == "failed" and rec["exit_code"] == 3, rec


def test_no_shell_agent_never_runs_shell_or_exec(mesh, hub):
    mesh.start_agent(hub, "safe", args=["--no-shell"])
    marker = mesh.path("shell-ran")
    shell_id = hub.submit({"command": "shell", "payload": f"touch {marker}"})["id"]
    exec_id = hub.submit({"command": "exec", "payload": ["/usr/bin/touch", marker]})["id"]
    echo = hub.wait_job(hub.submit({"command": "echo", "payload": "ok"})["id"])
    assert echo["state"] == "succeeded" and echo["agent"]["name"] == "safe", echo
    # Dispatch is FIFO: the echo job submitted after them ran, so these were passed over.
    for job_id in (shell_id, exec_id):
        rec = hub.job(job_id)
        assert rec["state"] == "pending" and rec["attempt"] == 0, f"offered to a --no-shell agent: {rec}"
    assert not os.path.exists(marker), "a --no-shell agent ran a shell/exec job"
