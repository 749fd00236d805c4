"""Alembic migrations of the record database, run by `paddle_mnist.store.migrate`."""
