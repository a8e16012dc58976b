"""Fixtures for the end-to-end suite: the real `orbitmesh` binary, hubs, agents, the CLI.

Run one file:  /usr/bin/python3 -m pytest -q -p no:cacheprovider tests/e2e/test_X.py \
                   --orbitmesh-bin build/cli/orbitmesh
(or set ORBITMESH_BIN). CMake registers each file as its own ctest test.
"""

import os
import signal
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from e2e_helpers import Mesh, ProcessRegistry  # noqa: E402
from pg_server import PostgresServer, pg_bindir  # noqa: E402

DEFAULT_DEADLINE_S = 120


def pytest_addoption(parser):
    parser.addoption("--orbitmesh-bin", action="store", default=None,
                     help="path to the orbitmesh binary (default: $ORBITMESH_BIN)")


def pytest_configure(config):
    config.addinivalue_line("markers", "deadline(seconds): hard limit for one test (SIGALRM)")


@pytest.fixture(scope="session")
def orbitmesh_bin(pytestconfig):
    path = pytestconfig.getoption("--orbitmesh-bin") or os.environ.get("ORBITMESH_BIN")
    if not path:
        pytest.fail("no orbitmesh binary: pass --orbitmesh-bin PATH or set ORBITMESH_BIN")
    path = os.path.abspath(path)
    if not (os.path.isfile(path) and os.access(path, os.X_OK)):
        pytest.fail(f"orbitmesh binary not found or not executable: {path}")
    return path


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    setattr(item, "rep_" + rep.when, rep)


class _TestDeadline(Exception):
    pass


@pytest.fixture(autouse=True)
def _deadline(request):
    """Every test has a hard deadline (SIGALRM in the main thread); teardown still runs."""
    marker = request.node.get_closest_marker("deadline")
    seconds = int(marker.args[0]) if marker else DEFAULT_DEADLINE_S

    def on_alarm(signum, frame):
        raise _TestDeadline(f"test exceeded its {seconds}s deadline")

    old = signal.signal(signal.SIGALRM, on_alarm)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


@pytest.fixture
def registry(request, tmp_path):
    reg = ProcessRegistry(str(tmp_path))
    yield reg
    reg.stop_all()
    failed = any(getattr(request.node, "rep_" + w, None) is not None
                 and getattr(request.node, "rep_" + w).failed for w in ("setup", "call"))
    if failed and reg.procs:
        sys.stderr.write("\n--- logs of the processes this test started ---\n")
        sys.stderr.write(reg.logs_report())
        sys.stderr.write("\n")


@pytest.fixture(scope="session")
def postgres_server():
    """One real PostgreSQL server per session, started on first use, stopped by PID at the end."""
    bindir = pg_bindir()
    if bindir is None:
        pytest.skip("PostgreSQL is not installed (/usr/lib/postgresql/*/bin/initdb): scripts/install-deps.sh")
    server = PostgresServer(bindir)
    try:
        server.start()
    except BaseException:
        server.stop()
        raise
    yield server
    server.stop()


@pytest.fixture
def store_kind(request):
    """"sqlite" (the default) or "postgres": parametrize with pg_server.both_stores."""
    return getattr(request, "param", "sqlite")


@pytest.fixture
def pg_url(postgres_server):
    """A fresh, empty database on the session's PostgreSQL server."""
    return postgres_server.create_database()


@pytest.fixture
def mesh(orbitmesh_bin, tmp_path, registry, store_kind, request):
    """Starts hubs/agents/CLI runs for one test; everything is stopped at teardown. On the
    PostgreSQL store (store_kind), every hub gets --store with a fresh database."""
    m = Mesh(orbitmesh_bin, str(tmp_path), registry)
    if store_kind == "postgres":
        m.store_url = request.getfixturevalue("pg_url")
    return m


@pytest.fixture
def hub(mesh):
    """A fresh hub on 127.0.0.1, port 0, temp data dir."""
    return mesh.start_hub()
