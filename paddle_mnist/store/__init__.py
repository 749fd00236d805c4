"""The service's records: what it read, what its users said it was.

This package is the only code that talks to the database. `schema` holds the
tables as SQLAlchemy declarative classes (the one definition of the schema),
`migrations/` the Alembic scripts that build and upgrade it (shipped in the
package, run by `migrate.upgrade` when a store opens, so users never need an
alembic.ini), `database` turns a `--db` value into an engine for SQLite or
PostgreSQL, and `records.Store` is what the service and `tools/dataset.py` call.
Nothing here imports paddle.
"""

from .database import describe_url, open_engine
from .records import DigitImage, Recognition, Store, open_store

__all__ = ["DigitImage", "Recognition", "Store", "describe_url", "open_engine", "open_store"]
