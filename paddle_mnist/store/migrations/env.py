"""Alembic's entry point, driven only by `paddle_mnist.store.migrate.upgrade`.

The caller hands over an open connection (inside its transaction and, on
PostgreSQL, its advisory lock), so there is no alembic.ini and no URL here.
"""

from alembic import context

from paddle_mnist.store.schema import Base

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=Base.metadata,
                  render_as_batch=connection.dialect.name == "sqlite")
with context.begin_transaction():
    context.run_migrations()
