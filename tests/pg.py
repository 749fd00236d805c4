"""PostgreSQL for the tests: a fresh database on the shared server, or a private server.

The server is PADDLE_MNIST_TEST_PG (a URL to any database on it, used only to
create and drop others) or this project's machines' 127.0.0.1:5432 with trust
authentication. Each use creates a database with a random name and drops it
afterwards, so no table is left behind in `test` and other users of the
server see nothing. A test that stops PostgreSQL uses `private_cluster()`
instead: its own server (initdb + pg_ctl in a temporary folder), never the
shared one.
"""

import contextlib
import os
import secrets
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

import pytest

ADMIN_URL = os.environ.get("PADDLE_MNIST_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")
NO_PG = (f"no PostgreSQL server answers at {ADMIN_URL}: start one (trust authentication) or "
         "set PADDLE_MNIST_TEST_PG=postgresql://user@host:port/dbname")


def admin_connection():
    psycopg = pytest.importorskip("psycopg", reason="psycopg is not installed "
                                                    "(pip install -r requirements.txt)")
    try:
        return psycopg.connect(ADMIN_URL, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError:
        pytest.skip(NO_PG)


@contextlib.contextmanager
def fresh_database():
    """Yield the URL of a new, empty database; drop it (and its connections) afterwards."""
    from sqlalchemy.engine import make_url

    name = f"paddle_mnist_test_{secrets.token_hex(6)}"
    with admin_connection() as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield make_url(ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin_connection() as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _pg_bin(name):
    import glob

    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    return found[-1] if found else shutil.which(name)


def _as_postgres(command):
    """Run a PostgreSQL server program: as the postgres user when we are root
    (the server refuses to run as root), else as ourselves."""
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        command = ["runuser", "-u", "postgres", "--", *command]
    return subprocess.run(command, capture_output=True, text=True, timeout=120)


class PrivateCluster:
    """A throw-away PostgreSQL server of our own, so a test may stop it."""

    def __init__(self, folder, port):
        self.folder, self.port = folder, port
        self.url = f"postgresql://postgres@127.0.0.1:{port}/postgres"

    def pg_ctl(self, *args):
        proc = _as_postgres([_pg_bin("pg_ctl"), "-D", str(self.folder / "data"), "-w", *args])
        if proc.returncode != 0:
            raise RuntimeError(f"pg_ctl {' '.join(args)} failed:\n{proc.stdout}{proc.stderr}")

    def start(self):
        self.pg_ctl("-l", str(self.folder / "server.log"), "-o",
                    f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1", "start")

    def stop(self):
        self.pg_ctl("-m", "fast", "stop")


@contextlib.contextmanager
def private_cluster():
    """Yield a PrivateCluster running on a free port; stopped and deleted afterwards.
    Skips with a reason when initdb/pg_ctl or the postgres user are missing."""
    initdb = _pg_bin("initdb")
    if not initdb or not _pg_bin("pg_ctl"):
        pytest.skip("PostgreSQL's initdb and pg_ctl are not installed (Debian: apt-get install "
                    "postgresql); the test starts and stops a server of its own")
    root = os.geteuid() == 0 if hasattr(os, "geteuid") else False
    if root and shutil.which("runuser") is None:
        pytest.skip("running as root without runuser: cannot start PostgreSQL as postgres")
    folder = Path(tempfile.mkdtemp(prefix="paddle-mnist-pg-"))
    try:
        if root:
            try:
                shutil.chown(folder, "postgres", "postgres")
            except LookupError:
                pytest.skip("no postgres user to run a private PostgreSQL server as")
        proc = _as_postgres([initdb, "-D", str(folder / "data"), "-A", "trust", "-U",
                             "postgres", "--no-sync"])
        if proc.returncode != 0:
            pytest.skip(f"initdb failed, so no private PostgreSQL server: {proc.stderr[-300:]}")
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        cluster = PrivateCluster(folder, port)
        cluster.start()
        try:
            yield cluster
        finally:
            with contextlib.suppress(RuntimeError):
                cluster.stop()
    finally:
        shutil.rmtree(folder, ignore_errors=True)
