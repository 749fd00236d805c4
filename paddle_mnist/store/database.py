"""A `--db` value -> a SQLAlchemy engine set up for the service's traffic.

SQLite (a file path or `sqlite:///path`) is the zero-set-up default: WAL mode
so the history page reads while predictions write, `synchronous=FULL` so a
record the client was told about survives a power cut, a busy timeout so
concurrent writers wait instead of failing, and write transactions that take
the write lock at BEGIN (`BEGIN IMMEDIATE`), because a deferred transaction
that reads first cannot wait for the lock later. PostgreSQL URLs go through
psycopg 3, with a short connect timeout (a stopped server becomes a 503 at
once, not a hung request) and a ping on checkout, so connections broken by a
database restart are replaced instead of failing the next request.
"""

import os
from pathlib import Path

from sqlalchemy import create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from ..errors import StoreError

BUSY_TIMEOUT_MS = 5000
CONNECT_TIMEOUT_S = 3
WRITE = {"write": True}  # execution option: this transaction will write


def sqlalchemy_url(value):
    """'service/records.db', 'sqlite:///x.db', 'postgresql://u@h/db' -> a SQLAlchemy URL."""
    text = os.fspath(value)
    if "://" not in text:
        return make_url("sqlite://").set(database=str(Path(text)))
    try:
        url = make_url(text)
    except ArgumentError:
        raise StoreError(f"--db {describe_url(text)} is not a database URL; use a file path "
                         "for SQLite or postgresql://user@host/dbname") from None
    if url.get_backend_name() == "postgresql":
        return url.set(drivername="postgresql+psycopg")
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
        return url.set(drivername="sqlite")
    raise StoreError(f"--db {describe_url(text)} is not a database the service keeps records "
                     "in; use a SQLite file path (service/records.db) or "
                     "postgresql://user@host/dbname")


def describe_url(value):
    """The URL as messages and logs show it: never with its password."""
    if isinstance(value, URL):
        return value.render_as_string(hide_password=True)
    try:
        return make_url(os.fspath(value)).render_as_string(hide_password=True)
    except ArgumentError:
        return repr(os.fspath(value))


def open_engine(value, pool_size=8):
    """An engine for `value` (see sqlalchemy_url); nothing is connected yet."""
    url = sqlalchemy_url(value)
    if url.get_backend_name() == "sqlite":
        folder = Path(url.database).parent
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            raise StoreError(f"cannot create the folder {folder} for {url.database}: "
                             f"{err.strerror or err}; choose another --db") from None
        engine = create_engine(url, pool_size=pool_size, max_overflow=pool_size,
                               connect_args={"timeout": BUSY_TIMEOUT_MS / 1000,
                                             "check_same_thread": False})
        _tune_sqlite(engine)
        return engine
    return create_engine(url, pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True,
                         connect_args={"connect_timeout": CONNECT_TIMEOUT_S,
                                       "application_name": "paddle-mnist"})


def _tune_sqlite(engine):
    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection, _record):
        # SQLAlchemy emits BEGIN itself (below), so pysqlite must not
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def on_begin(connection):
        write = connection.get_execution_options().get("write")
        connection.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")
