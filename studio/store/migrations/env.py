"""Alembic environment for the workspace database.

The store runs migrations in code (:func:`studio.store.migrate.upgrade`), passing an open
connection in ``config.attributes["connection"]``; there is no alembic.ini on disk.
To write a new revision from a checkout::

    python -m studio.store.migrations revision "what changed"
"""

from __future__ import annotations

from typing import Any, Literal

from alembic import context
from sqlalchemy.types import TypeDecorator

from studio.store.models import Base


def _render_item(type_: str, obj: Any, autogen_context: Any) -> str | Literal[False]:
    # Migrations must outlive the models: write a column type as the plain SQL type
    # it stores (Text, DateTime), never as the model's Python-side TypeDecorator.
    if type_ == "type" and isinstance(obj, TypeDecorator):
        return f"sa.{type(obj.impl).__name__}()"
    return False


def run_migrations_online() -> None:
    """Run migrations on the connection the store handed over."""
    connection = context.config.attributes.get("connection")
    if connection is None:
        raise RuntimeError(
            "studio.store migrations need a connection in config.attributes['connection']; "
            "run them through studio.store.migrate, not the alembic command line."
        )
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        # SQLite can alter little in place; batch mode rebuilds tables instead.
        render_as_batch=True,
        compare_type=True,
        render_item=_render_item,
    )
    with context.begin_transaction():
        context.run_migrations()


# Alembic's context exists only while Alembic runs this file; importing it otherwise
# (doctest collection, coverage) must do nothing.
if hasattr(context, "config"):
    if context.is_offline_mode():
        raise RuntimeError("studio.store migrations run online only, on an open connection.")
    run_migrations_online()
