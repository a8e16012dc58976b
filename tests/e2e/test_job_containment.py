"""No job process outlives its agent (SPEC §3, §12): a job's whole process group dies with its
agent, a restarted agent kills what a crash left behind before it says hello, and SIGTERM stops
running jobs with SIGTERM, then SIGKILL after the grace period.

Each job writes its shell's `$$` (the leader of its own process group) to a file, so the test
checks the group by that id in /proc, and appends `start N` / `end N` lines (N = attempt) to a
marker file."""

import os
import re
import signal
import time

import pytest

from e2e_helpers import assert_one_error_line, stderr_lines, wait_until

SLOW_HUB = ["--heartbeat", "1s", "--reassign-after", "20s"]
CGROUP_DIR = re.compile(r"job processes: .*cgroup v2 per job, in (\S+)")


def proc_table():
    """Every process /proc shows: {pid: (state, ppid, pgrp, starttime, comm)}."""
    out = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as f:
                data = f.read().decode("utf-8", "replace")
        except OSError:
            continue
        comm = data[data.find("(") + 1:data.rfind(")")]
        rest = data[data.rfind(")") + 2:].split()
        if len(rest) > 19:
            out[int(name)] = (rest[0], int(rest[1]), int(rest[2]), int(rest[19]), comm)
    return out


def group_members(pgid):
    """Live (not zombie) processes whose process group is `pgid`: {pid: starttime}."""
    return {pid: start for pid, (state, _, pgrp, start, _) in proc_table().items()
            if state != "Z" and pgrp == pgid}


def supervisors(agent_pid):
    """The agent's job supervisors (comm om-supervisor), children of its fork server (or of the
    agent itself when it has none)."""
    table = proc_table()
    servers = {pid for pid, (_, ppid, _, _, comm) in table.items()
               if ppid == agent_pid and comm == "om-fork-server"}
    return [pid for pid, (state, ppid, _, _, comm) in table.items()
            if state != "Z" and comm == "om-supervisor" and (ppid == agent_pid or ppid in servers)]


def read_lines(path):
    try:
        with open(path, encoding="utf-8") as f:
            return [line.strip() for line in f if line.strip()]
    except FileNotFoundError:
        return []


def read_pgid(path):
    lines = read_lines(path)
    return int(lines[-1]) if lines and lines[-1].isdigit() else None


def background_job_script(mesh):
    """Attempt 1 starts a background child and waits; later attempts end at once."""
    pgid_file, marker = mesh.path("pgid"), mesh.path("marker")
    script = (f'echo "$$" > {pgid_file}; echo "start $ORBITMESH_ATTEMPT" >> {marker}; '
              f'if [ "$ORBITMESH_ATTEMPT" = 1 ]; then sleep 30 & sleep 30; fi; '
              f'echo "end $ORBITMESH_ATTEMPT" >> {marker}')
    return script, pgid_file, marker


def wait_for_group(pgid_file, members, timeout=15):
    """The job's group id once `members` processes of it are alive (sh and its two sleeps)."""
    def check():
        pgid = read_pgid(pgid_file)
        return pgid if pgid and len(group_members(pgid)) >= members else None
    return wait_until(check, timeout, f"the job's process group with {members} live processes")


@pytest.mark.deadline(60)
def test_kill_9_of_the_agent_kills_the_jobs_whole_process_group_within_a_second(mesh, registry):
    hub = mesh.start_hub(args=SLOW_HUB)
    agent = mesh.start_agent(hub, "a1", concurrency=2)
    script, pgid_file, _ = background_job_script(mesh)
    hub.submit({"command": "shell", "payload": script})
    pgid = wait_for_group(pgid_file, 3)
    before = group_members(pgid)

    registry.kill9(agent.proc)
    wait_until(lambda: not group_members(pgid), 1.0,
               f"no live process in the job's group {pgid} within 1 s of kill -9 (was {before})",
               interval=0.02)
    # Nor does the agent's cgroup directory outlive it (its fork server removes it).
    for path in CGROUP_DIR.findall(agent.proc.log_tail()):
        wait_until(lambda: not os.path.exists(path), 5, f"{path} removed after the agent died")


@pytest.mark.deadline(90)
@pytest.mark.parametrize("cgroups", ["auto", "off"])
def test_restarted_agent_kills_leftovers_before_hello_and_the_job_runs_again(mesh, registry, cgroups):
    hub = mesh.start_hub(args=SLOW_HUB)
    args = ["--cgroups", cgroups]
    agent = mesh.start_agent(hub, "a1", concurrency=2, args=args)
    script, pgid_file, marker = background_job_script(mesh)
    job_id = hub.submit({"command": "shell", "payload": script})["id"]
    pgid = wait_for_group(pgid_file, 3)
    sups = supervisors(agent.pid)
    assert len(sups) == 1, f"expected one job supervisor under the agent, got {sups}"

    # A crash that takes the supervisors too (`killall -9 orbitmesh`): the agent is frozen first
    # so it cannot clean up after its dying supervisor, then both are killed.
    os.kill(agent.pid, signal.SIGSTOP)
    registry.orphans.update(group_members(pgid))  # stopped by PID at teardown should this fail
    for pid in sups:
        os.kill(pid, signal.SIGKILL)
    registry.kill9(agent.proc)
    # The shell died with its supervisor (PR_SET_PDEATHSIG); its two sleeps are left over.
    leftovers = wait_until(lambda: (lambda m: m if len(m) == 2 else None)(group_members(pgid)), 5,
                           "the job's two sleeps left over after the crash")

    again = mesh.start_agent(hub, "a1", concurrency=2, args=args, data_dir=agent.data_dir)
    # Connected means hello was answered: by then nothing of attempt 1 may be alive.
    still = group_members(pgid)
    assert not still, f"leftovers {still} of {leftovers} still alive after the agent said hello"
    log = again.proc.log_tail()
    lost = f"job {job_id} attempt 1 was running when this agent last stopped: killed"
    assert lost in log, log
    assert log.index(lost) < log.index("connected to hub"), f"leftovers killed after hello:\n{log}"

    rec = hub.wait_job(job_id, timeout=30)
    assert rec["state"] == "succeeded" and rec["attempt"] == 2, rec
    assert read_lines(marker) == ["start 1", "start 2", "end 2"], read_lines(marker)
    running_dir = os.path.join(agent.data_dir, "running")
    wait_until(lambda: not os.listdir(running_dir), 5, f"no record left in {running_dir}")


@pytest.mark.deadline(60)
def test_sigterm_of_the_agent_terms_then_kills_its_jobs_after_the_grace_and_leaves_nothing(
        mesh, registry):
    hub = mesh.start_hub(args=["--heartbeat", "1s", "--reassign-after", "1s"])
    agent = mesh.start_agent(hub, "a1", concurrency=2, args=["--stop-grace", "2s"])
    pgid_file, marker = mesh.path("pgid"), mesh.path("marker")
    # Attempt 1 notes the SIGTERM and carries on: only the SIGKILL after the grace ends it.
    script = (f'echo "$$" > {pgid_file}; echo "start $ORBITMESH_ATTEMPT" >> {marker}; '
              f'if [ "$ORBITMESH_ATTEMPT" = 1 ]; then trap "echo term >> {marker}" TERM; '
              f'sleep 30 & while :; do sleep 0.1; done; fi; echo "end $ORBITMESH_ATTEMPT" >> {marker}')
    job_id = hub.submit({"command": "shell", "payload": script})["id"]
    pgid = wait_for_group(pgid_file, 3)
    registry.orphans.update(group_members(pgid))

    os.kill(agent.pid, signal.SIGTERM)
    termed = time.monotonic()
    wait_until(lambda: "term" in read_lines(marker), 5, "the job's SIGTERM trap to run")
    time.sleep(max(0.0, termed + 1.0 - time.monotonic()))
    assert group_members(pgid), "the job's group was killed before the 2s grace period ended"
    try:
        rc = agent.proc.popen.wait(timeout=10)
    except Exception:
        raise AssertionError(f"the agent did not exit after SIGTERM:\n{agent.proc.log_tail()}") from None
    assert rc == 0, f"agent exit {rc}:\n{agent.proc.log_tail()}"
    assert time.monotonic() - termed >= 1.9, "the agent exited before the grace period ended"
    left = group_members(pgid)
    assert not left, f"processes {left} of the job's group outlived the agent"

    mesh.start_agent(hub, "a2", concurrency=2)
    rec = hub.wait_job(job_id, timeout=30)
    assert rec["state"] == "succeeded" and rec["attempt"] == 2, rec
    assert read_lines(marker)[:2] == ["start 1", "term"], read_lines(marker)
    assert read_lines(marker)[-2:] == ["start 2", "end 2"], read_lines(marker)


@pytest.mark.deadline(60)
def test_a_second_agent_on_the_same_data_dir_stops_with_one_line_and_harms_nothing(mesh, registry):
    hub = mesh.start_hub(args=SLOW_HUB)
    first = mesh.start_agent(hub, "a1", concurrency=2)
    script, pgid_file, _ = background_job_script(mesh)
    job_id = hub.submit({"command": "shell", "payload": script})["id"]
    pgid = wait_for_group(pgid_file, 3)
    members = group_members(pgid)

    second = mesh.start_agent(hub, "a1-again", data_dir=first.data_dir, wait_connected=False)
    try:
        rc = second.proc.popen.wait(timeout=10)
    except Exception:
        raise AssertionError(f"a second agent on a busy data dir kept running:\n"
                             f"{second.proc.log_tail()}") from None
    err = second.proc.log_tail()
    line = assert_one_error_line(rc, "", err, 1, "agent on a busy data dir")
    assert "is in use by another agent" in line and f"pid {first.pid}" in line, line
    assert group_members(pgid) == members, "the second agent touched the first one's job"
    assert hub.job(job_id)["state"] == "running"
    assert (hub.agent_record("a1") or {}).get("state") == "connected"
    assert stderr_lines(err)
