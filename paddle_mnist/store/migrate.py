"""Bring a record database to the newest schema, safely when servers start together.

Alembic runs from the scripts shipped in `migrations/` with a configuration
made here, so a user needs no alembic.ini. The whole upgrade is one
transaction: on PostgreSQL it first takes a transaction-level advisory lock,
so two servers starting at once on one database take turns (the second finds
the schema already current and does nothing); on SQLite the transaction
starts with BEGIN IMMEDIATE, which holds the file's write lock the same way.
"""

import logging
from pathlib import Path

# Alembic announces every step (from its import on) at INFO; a server start needs none of it
logging.getLogger("alembic").setLevel(logging.WARNING)

from alembic import command  # noqa: E402
from alembic.config import Config  # noqa: E402
from alembic.runtime.migration import MigrationContext  # noqa: E402
from alembic.script import ScriptDirectory  # noqa: E402

from .database import WRITE  # noqa: E402

MIGRATIONS = Path(__file__).with_name("migrations")
# pg_advisory_xact_lock key: any constant no other application on the server uses
LOCK_KEY = 0x6D6E6973742D6462  # "mnist-db"


def alembic_config(connection=None):
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def head_revision():
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def current_revision(connection):
    return MigrationContext.configure(connection).get_current_revision()


def upgrade(engine):
    """Run every migration the database lacks; returns (revision before, after)."""
    with engine.connect() as connection:
        with connection.execution_options(**WRITE).begin():
            if connection.dialect.name == "postgresql":
                connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({LOCK_KEY})")
            before = current_revision(connection)
            if before != head_revision():
                command.upgrade(alembic_config(connection), "head")
            return before, current_revision(connection)
