"""`agent --sandbox` (SPEC §3): shell and exec jobs run under bubblewrap in fresh namespaces:
only their working directory is writable, /root and /home are hidden, there is no network
unless the job asks and the agent allows, and the containment guarantee still holds (a
sandboxed job dies with its agent). A missing bubblewrap is a clear error."""

import json
import os
import signal
import socket

import pytest

from e2e_helpers import assert_one_error_line, wait_until


def submit_wait(mesh, hub, *args, timeout=60):
    rc, out, err = mesh.cli("job", "submit", "--wait", "-o", "json", *args, hub=hub, timeout=timeout)
    assert out.strip(), f"no job record: rc={rc} stderr={err}"
    return rc, json.loads(out)


def shell(script, cwd=None):
    payload = {"script": script}
    if cwd:
        payload["cwd"] = cwd
    return ["--payload", json.dumps(payload), "--", "shell"]


@pytest.fixture
def sandboxed(mesh):
    hub = mesh.start_hub()
    mesh.start_agent(hub, "boxed", args=["--sandbox"])
    return hub


def test_only_the_working_dir_is_writable(mesh, sandboxed):
    work = mesh.path("job-work")
    # Outside the test's /tmp dir: the sandbox has a /tmp of its own, this one it sees read-only.
    outside = f"/var/tmp/orbitmesh-sandbox-test-{os.getpid()}"
    os.makedirs(work)
    os.makedirs(outside, exist_ok=True)
    try:
        check_writes(mesh, sandboxed, work, outside)
    finally:
        for name in os.listdir(outside):
            os.unlink(os.path.join(outside, name))
        os.rmdir(outside)


def check_writes(mesh, sandboxed, work, outside):
    rc, job = submit_wait(mesh, sandboxed, *shell(
        f"echo inside > inside.txt && echo tmp > /tmp/om-sandbox-tmp && cat inside.txt; "
        f"echo escaped > {outside}/escaped.txt", cwd=work))
    assert rc == 1, job  # the last write fails: read-only file system
    assert "Read-only file system" in job["error"], job
    assert open(os.path.join(work, "inside.txt")).read() == "inside\n"
    assert not os.path.exists(os.path.join(outside, "escaped.txt"))
    assert not os.path.exists("/tmp/om-sandbox-tmp"), "the sandbox's /tmp must be its own"


def test_a_job_without_cwd_gets_a_fresh_dir_that_is_removed(mesh, sandboxed):
    rc, job = submit_wait(mesh, sandboxed, "--", "shell", "pwd; echo x > here.txt && ls")
    assert rc == 0, job
    where, listing = job["output"].splitlines()
    assert "/work/" in where and listing == "here.txt", job["output"]
    assert not os.path.exists(where), "the fresh working dir is removed when the job ends"


def test_root_and_home_and_the_agent_data_dir_are_hidden(mesh, sandboxed):
    secret = f"/root/.orbitmesh-sandbox-test-{os.getpid()}"
    try:
        with open(secret, "w") as f:
            f.write("secret\n")
    except OSError:
        pytest.skip("cannot write into /root to plant a file")
    try:
        agent_dir = mesh.path("agent-boxed")
        rc, job = submit_wait(mesh, sandboxed, "--", "shell",
                              f"cat {secret} 2>/dev/null || echo unreadable; ls -A /root | wc -l; ls -A {agent_dir}")
        # The agent's data dir shows only the mount point of the job's own working dir.
        assert job["output"].split() == ["unreadable", "0", "work"], job["output"]
    finally:
        os.unlink(secret)


def connect_script(port):
    return (f"python3 -c \"import socket; s = socket.create_connection(('127.0.0.1', {port}), 2); "
            f"print('connected')\"")


def test_no_network_unless_the_job_asks_and_the_agent_allows(mesh, sandboxed):
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(4)
    port = listener.getsockname()[1]
    try:
        rc, job = submit_wait(mesh, sandboxed, "--", "shell", connect_script(port))
        assert rc == 1 and "connected" not in str(job["output"]), job
        rc, job = submit_wait(mesh, sandboxed, "--limit", "network=true", "--", "shell", connect_script(port))
        assert rc == 1 and "--sandbox-network" in job["error"], job
        open_hub = mesh.start_hub()
        mesh.start_agent(open_hub, "boxed-net", args=["--sandbox", "--sandbox-network"])
        rc, job = submit_wait(mesh, open_hub, "--limit", "network=true", "--", "shell", connect_script(port))
        assert rc == 0 and job["output"] == "connected", job
        rc, job = submit_wait(mesh, open_hub, "--", "shell", connect_script(port))
        assert rc == 1, "a job that does not ask gets no network even where the agent allows it"
    finally:
        listener.close()


def sleepers(tag):
    found = []
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                with open(f"/proc/{name}/cmdline", "rb") as f:
                    if tag.encode() in f.read():
                        found.append(int(name))
            except OSError:
                pass
    return found


def test_a_sandboxed_job_dies_with_its_agent(mesh):
    hub = mesh.start_hub()
    agent = mesh.start_agent(hub, "boxed-kill", args=["--sandbox"])
    tag = f"sleep 30{os.getpid() % 1000}"
    rc, out, err = mesh.cli("job", "submit", "--", "shell", f"{tag} & {tag}; wait", hub=hub)
    assert rc == 0, err
    wait_until(lambda: len(sleepers(tag)) >= 2, 15, "the sandboxed sleeps run")
    mesh.registry.kill9(agent.proc)
    wait_until(lambda: not sleepers(tag), 10, "the sandboxed processes are gone with the agent")


def test_missing_bubblewrap_is_a_clear_error_and_touches_nothing(mesh):
    hub = mesh.start_hub()
    data_dir = mesh.path("never-created")
    env = mesh.base_env()
    env["ORBITMESH_BWRAP"] = "/nonexistent/bwrap"
    import subprocess
    cp = subprocess.run([mesh.binary, "agent", "--server", hub.url, "--data-dir", data_dir, "--sandbox"],
                        env=env, capture_output=True, text=True, timeout=20)
    line = assert_one_error_line(cp.returncode, cp.stdout, cp.stderr, 2, "agent --sandbox without bwrap")
    assert "needs bubblewrap" in line and "apt-get install bubblewrap" in line, line
    assert not os.path.exists(data_dir)
