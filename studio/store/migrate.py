"""Bring a workspace database to the schema this code knows, with Alembic run in code.

There is no ``alembic.ini``: :func:`alembic_config` points Alembic at the
``migrations`` package next to this module, so it works from a wheel as well as from a
checkout. Developers write a new revision with::

    python -m studio.store.migrations revision "add a column for X"
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from urllib.parse import quote

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util.exc import CommandError
from sqlalchemy import Connection, inspect

from studio.core.atomic import atomic_path
from studio.store.engine import make_engine
from studio.store.errors import WorkspaceCorruptError, WorkspaceError, WorkspaceSchemaError

__all__ = [
    "alembic_config", "backup_path", "check_schema", "current_revision", "head_revision",
    "upgrade",
]

MIGRATIONS_DIR = Path(__file__).with_name("migrations")


def alembic_config() -> Config:
    """An Alembic config built in code, pointing at ``studio/store/migrations``."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("path_separator", "os")
    return cfg


def head_revision() -> str:
    """The newest schema revision this code knows."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None, "studio/store/migrations has no revisions"
    return head


def current_revision(connection: Connection) -> str | None:
    """The revision stamped in the database, or ``None`` for a database Alembic never ran."""
    return MigrationContext.configure(connection).get_current_revision()


def _check_known(connection: Connection, db_path: Path) -> str | None:
    rev = current_revision(connection)
    if rev is None:
        tables = set(inspect(connection).get_table_names())
        if tables:
            raise WorkspaceSchemaError(
                f"{db_path} is a SQLite database but not a Reward Studio workspace "
                f"(it has tables {', '.join(sorted(tables)[:3])}... and no schema version). "
                "Choose another folder, or move that file away."
            )
        return None
    script = ScriptDirectory.from_config(alembic_config())
    try:
        script.get_revision(rev)
    except CommandError as exc:
        raise WorkspaceSchemaError(
            f"The workspace database {db_path} has schema revision {rev!r}, which this "
            "Reward Studio does not know: it was written by a newer version. Update "
            "Reward Studio to open it, or choose another workspace."
        ) from exc
    return rev


def check_schema(connection: Connection, db_path: Path) -> None:
    """For read-only opening: raise :class:`WorkspaceSchemaError` unless at head."""
    rev = _check_known(connection, db_path)
    if rev != head_revision():
        raise WorkspaceSchemaError(
            f"The workspace database {db_path} has an older schema ({rev or 'empty'}) "
            "and cannot be upgraded when opened read-only. Open the workspace once "
            "in Reward Studio (for writing) to upgrade it, then retry."
        )


def backup_path(db_path: Path, revision: str) -> Path:
    """Where :func:`upgrade` keeps the copy of a database taken before migrating it."""
    return db_path.with_name(f"{db_path.name}.before-{revision}.bak")


def _backup(db_path: Path, revision: str) -> Path:
    """Copy the database with SQLite's online backup, atomically; keep an existing copy."""
    target = backup_path(db_path, revision)
    if target.exists():
        return target
    try:
        with atomic_path(target) as tmp:  # an empty file: SQLite makes it a new database
            source = sqlite3.connect(f"file:{quote(str(db_path))}?mode=ro", uri=True)
            try:
                copy = sqlite3.connect(tmp)
                try:
                    source.backup(copy)
                finally:
                    copy.close()
            finally:
                source.close()
    except (OSError, sqlite3.Error) as exc:
        raise WorkspaceError(
            f"Could not back up {db_path} before upgrading it ({exc}); it was not changed. "
            "Free some disk space in that folder and open the workspace again."
        ) from exc
    return target


def upgrade(db_path: Path, target: str = "head") -> tuple[str | None, str]:
    """Migrate ``db_path`` to ``target`` in one transaction; return (before, after).

    A database that has a schema and is not at ``target`` is first copied to
    :func:`backup_path`, so a migration that is wrong (rather than failing) can be
    undone by hand. Foreign keys are off during migration, because SQLite rebuilds a
    table to alter it and dropping the old table would cascade deletes;
    ``PRAGMA foreign_key_check`` runs afterwards and a violation rolls the whole
    upgrade back.
    """
    engine = make_engine(db_path, foreign_keys=False, pooled=False)
    try:
        with engine.connect() as connection:
            before = _check_known(connection, db_path)
        script = ScriptDirectory.from_config(alembic_config())
        wanted = script.get_current_head() if target == "head" else target
        if before is not None and before == wanted:
            return before, before
        if before is not None:
            _backup(db_path, before)
        with engine.begin() as connection:
            cfg = alembic_config()
            cfg.attributes["connection"] = connection
            command.upgrade(cfg, target)
            bad = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
            if bad:
                raise WorkspaceCorruptError(
                    db_path, f"{len(bad)} broken references after upgrading, e.g. {bad[0]}")
            after = current_revision(connection)
    finally:
        engine.dispose()
    assert after is not None
    return before, after
