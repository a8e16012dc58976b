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


@pytest.fixture
def mesh(orbitmesh_bin, tmp_path, registry):
    """Starts hubs/agents/CLI runs for one test; everything is stopped at teardown."""
    return Mesh(orbitmesh_bin, str(tmp_path), registry)


@pytest.fixture
def hub(mesh):
    """A fresh hub on 127.0.0.1, port 0, temp data dir."""
    return mesh.start_hub()
