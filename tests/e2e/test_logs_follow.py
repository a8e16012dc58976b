"""`job logs -f` shows output while the job runs; the logs API returns lines in order."""

import queue
import threading
import time

import pytest

from e2e_helpers import TERMINAL_STATES
from pg_server import both_stores


@both_stores
@pytest.mark.deadline(60)
def test_logs_follow_shows_the_first_line_before_the_job_ends(mesh, hub):
    mesh.start_agent(hub, "a1")
    rc, out, err = mesh.cli("job", "submit", "--", "shell", "echo first; sleep 2; echo second",
                            hub=hub)
    assert rc == 0, (rc, out, err)
    job_id = out.strip()
    follower = mesh.cli_background("job", "logs", job_id, "-f", hub=hub, name="logs-f")
    lines = queue.Queue()

    def read():
        for raw in follower.popen.stdout:
            lines.put(raw.decode("utf-8", "replace").rstrip("\n"))
        lines.put(None)

    threading.Thread(target=read, daemon=True).start()
    seen = []
    state_at_first = None
    deadline = time.monotonic() + 20
    for _ in range(1000):
        left = deadline - time.monotonic()
        if left <= 0:
            break
        try:
            line = lines.get(timeout=left)
        except queue.Empty:
            break
        if line is None:
            break
        seen.append(line)
        if "first" in line and state_at_first is None:
            state_at_first = hub.job(job_id)["state"]
    try:
        follower.popen.wait(timeout=10)
    except Exception:
        raise AssertionError(f"`job logs -f` did not exit after the job ended; seen {seen}") from None
    assert state_at_first is not None, f"`job logs -f` never printed 'first': {seen}"
    assert state_at_first not in TERMINAL_STATES, \
        f"'first' was only seen when the job was already {state_at_first}: {seen}"
    assert follower.popen.returncode == 0, follower.popen.returncode
    text = "\n".join(seen)
    assert "second" in text and text.index("first") < text.index("second"), seen


@both_stores
def test_logs_api_returns_ordered_lines_and_done(mesh, hub):
    mesh.start_agent(hub, "a1")
    job_id = hub.submit({"command": "shell", "payload": "echo one; echo two; echo three >&2"})["id"]
    hub.wait_job(job_id)
    status, body = hub.get(f"/api/v1/jobs/{job_id}/logs?after=0&wait=2s")
    assert status == 200, (status, body)
    assert body["done"] is True and body["state"] == "succeeded", body
    data = "".join(l["data"] for l in body["lines"])
    assert data.index("one") < data.index("two"), body
    assert any(l["stream"] == "stderr" and "three" in l["data"] for l in body["lines"]), body
    seqs = [l["seq"] for l in body["lines"]]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs), seqs
    rc, out, err = mesh.cli("job", "logs", job_id, hub=hub)
    assert rc == 0 and "one" in out and "two" in out, (rc, out, err)
