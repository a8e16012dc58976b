"""Submit idempotency: the same key submitted concurrently makes one job."""

import threading

from e2e_helpers import http_request
from pg_server import both_stores


def jobs_with_key(hub, key):
    return [j for j in hub.jobs(limit=1000) if j.get("idempotency_key") == key]


@both_stores
def test_same_key_submitted_concurrently_over_http_makes_one_job(mesh, hub):
    key = "idem-http-1"
    n = 8
    barrier = threading.Barrier(n)
    answers = [None] * n

    def post(i):
        barrier.wait(timeout=10)
        answers[i] = http_request(hub.port, "POST", "/api/v1/jobs",
                                  {"command": "echo", "payload": f"from-{i}",
                                   "idempotency_key": key})

    threads = [threading.Thread(target=post, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert all(a is not None for a in answers), answers
    statuses = sorted(a[0] for a in answers)
    ids = {a[1]["id"] for a in answers if isinstance(a[1], dict) and "id" in a[1]}
    assert len(ids) == 1, f"one key gave {len(ids)} jobs: {answers}"
    assert statuses.count(201) == 1 and statuses.count(200) == n - 1, \
        f"expected one 201 and {n - 1} 200: {statuses}"
    assert len(jobs_with_key(hub, key)) == 1


def test_same_key_submitted_concurrently_by_the_cli_makes_one_job(mesh, hub):
    key = "idem-cli-1"
    procs = [mesh.cli_background("job", "submit", "--idempotency-key", key, "--",
                                 "echo", f"cli-{i}", hub=hub, name=f"submit-{i}")
             for i in range(2)]
    outs = []
    for p in procs:
        out, _ = p.popen.communicate(timeout=30)
        assert p.popen.returncode == 0, (p.popen.returncode, out, p.log_tail())
        outs.append(out.decode().strip())
    assert outs[0] and outs[0] == outs[1], f"two submits with one key gave ids {outs}"
    listed = jobs_with_key(hub, key)
    assert len(listed) == 1 and listed[0]["id"] == outs[0], listed


def test_a_different_key_makes_a_different_job(mesh, hub):
    a = hub.submit({"command": "echo", "payload": "a", "idempotency_key": "k-a"})
    b = hub.submit({"command": "echo", "payload": "b", "idempotency_key": "k-b"})
    again = hub.submit({"command": "echo", "payload": "a2", "idempotency_key": "k-a"})
    assert a["id"] != b["id"], (a, b)
    assert again["id"] == a["id"] and again["payload"] == "a", (a, again)


def test_a_key_past_its_window_makes_a_new_job(mesh):
    import time

    from e2e_helpers import wait_until
    hub = mesh.start_hub(args=["--idempotency-window", "1s"])
    first = hub.submit({"command": "echo", "payload": "1", "idempotency_key": "short-lived"})
    same = hub.submit({"command": "echo", "payload": "2", "idempotency_key": "short-lived"})
    assert same["id"] == first["id"], (first, same)
    started = time.monotonic()
    # Repeats within the window keep answering with the first job; the first new one comes after it.
    later = wait_until(lambda: (lambda r: r if r["id"] != first["id"] else None)(
        hub.submit({"command": "echo", "payload": "3", "idempotency_key": "short-lived"})),
        10, "the key's 1 s window to end", interval=0.1)
    assert time.monotonic() - started >= 0.9, f"a new job before the 1 s window ended: {later}"
