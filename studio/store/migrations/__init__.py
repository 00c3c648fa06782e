"""Alembic migrations of the workspace database, run in code by :mod:`studio.store.migrate`."""
