"""A real PostgreSQL server for the PostgreSQL-store tests: initdb into a temp dir, the server
on 127.0.0.1 (and a Unix socket in the same dir), one per pytest session, a fresh database per
test. The server runs as an unprivileged user when the suite runs as root (PostgreSQL refuses
root): `setpriv` execs it in place, so the PID we hold is the postmaster's and it is stopped by
that PID (SIGINT: fast shutdown; SIGKILL after a bounded wait). Tests skip cleanly only when
the PostgreSQL binaries are not installed.
"""

import glob
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time

import msgpack
import pytest

from e2e_helpers import free_port, is_alive, psql_rows, wait_until

PG_USER = "orbitmesh"


def pg_bindir():
    """The newest installed PostgreSQL's bin dir, or None."""
    for d in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True):
        if os.access(os.path.join(d, "initdb"), os.X_OK) and os.access(os.path.join(d, "postgres"), os.X_OK):
            return d
    return None


class PostgresServer:
    def __init__(self, bindir):
        self.bindir = bindir
        self.dir = tempfile.mkdtemp(prefix="orbitmesh-pg-")
        self.data = os.path.join(self.dir, "data")
        self.log_path = os.path.join(self.dir, "postgres.log")
        self.port = None
        self.proc = None
        self._n = 0
        self._as_user = []
        if os.geteuid() == 0:
            nobody = pwd.getpwnam("nobody")
            self._uid, self._gid = nobody.pw_uid, nobody.pw_gid
            os.chown(self.dir, self._uid, self._gid)
            self._as_user = ["setpriv", f"--reuid={self._uid}", f"--regid={self._gid}", "--clear-groups"]

    def _template(self, timeout):
        """An initdb'd cluster kept in the temp dir and copied per session: initdb takes seconds
        (minutes on a loaded machine), a copy a fraction of one. Built once, renamed into place
        atomically, so concurrent sessions (ctest -j2) never see half of one."""
        version = os.path.basename(os.path.dirname(self.bindir))
        path = os.path.join(tempfile.gettempdir(), f"orbitmesh-pg-template-{os.geteuid()}-{version}")
        if os.path.isfile(os.path.join(path, "PG_VERSION")):
            return path
        scratch = tempfile.mkdtemp(prefix="orbitmesh-pg-initdb-")
        if self._as_user:
            os.chown(scratch, self._uid, self._gid)
        try:
            subprocess.run([*self._as_user, os.path.join(self.bindir, "initdb"), "-D", os.path.join(scratch, "data"),
                            "-U", PG_USER, "--auth=trust", "-E", "UTF8", "--no-sync", "--locale=C"],
                           check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=timeout)
            try:
                os.rename(os.path.join(scratch, "data"), path)
            except OSError:
                pass  # another session got there first: use theirs
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
        return path

    def start(self, timeout=120.0):
        shutil.copytree(self._template(timeout), self.data, symlinks=True)
        if self._as_user:
            for root, dirs, files in os.walk(self.data):
                for n in dirs + files:
                    os.lchown(os.path.join(root, n), self._uid, self._gid)
            os.chown(self.data, self._uid, self._gid)
        os.chmod(self.data, 0o700)
        self.port = free_port()
        log = open(self.log_path, "ab")
        # fsync off: the server's own durability is not under test, and CI time is.
        self.proc = subprocess.Popen(
            [*self._as_user, os.path.join(self.bindir, "postgres"), "-D", self.data, "-k", self.dir,
             "-p", str(self.port), "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off",
             "-c", "max_connections=200", "-c", "full_page_writes=off"],
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        log.close()

        def ready():
            if self.proc.poll() is not None:
                raise AssertionError(f"postgres exited with {self.proc.returncode}:\n{self.log_tail()}")
            r = subprocess.run([os.path.join(self.bindir, "pg_isready"), "-h", "127.0.0.1", "-p", str(self.port),
                                "-U", PG_USER, "-d", "postgres"], stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, timeout=10)
            return r.returncode == 0
        wait_until(ready, timeout, f"postgres on 127.0.0.1:{self.port}", interval=0.1)
        return self

    def log_tail(self, max_bytes=4000):
        try:
            with open(self.log_path, "rb") as f:
                return f.read()[-max_bytes:].decode("utf-8", "replace")
        except OSError:
            return ""

    def url(self, database):
        return f"postgres://{PG_USER}@127.0.0.1:{self.port}/{database}"

    def psql(self, database, sql, timeout=30.0):
        return psql_rows(self.url(database), sql, timeout)

    def create_database(self, prefix="t"):
        """A fresh, empty database; returns its URL."""
        self._n += 1
        name = f"{prefix}_{os.getpid()}_{self._n}"
        self.psql("postgres", f"CREATE DATABASE {name}")
        return self.url(name)

    def stop(self, timeout=10.0):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)  # fast shutdown: ends sessions, checkpoints
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=timeout)
        # Backends are children of the postmaster and exit with it; check, bounded.
        deadline = time.monotonic() + timeout
        while self.proc is not None and is_alive(self.proc.pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        shutil.rmtree(self.dir, ignore_errors=True)


def read_pg_event_data(url, stream):
    """The decoded data of one stream's events, in version order: [(type, data)]."""
    rows = psql_rows(url, f"SELECT type, encode(data, 'hex') FROM events WHERE stream = '{stream}' ORDER BY version")
    return [(t, msgpack.unpackb(bytes.fromhex(d), raw=False)) for t, d in rows]


# Core scenarios run on both stores: `pytestmark = both_stores` in a module (or on one test).
# The `mesh` fixture reads the parameter and points every hub it starts at a fresh database.
both_stores = pytest.mark.parametrize("store_kind", ["sqlite", "postgres"], indirect=True)
