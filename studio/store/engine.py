"""SQLite engines for a workspace database, and the check that a file is one.

Every connection gets ``foreign_keys=ON`` (SQLite's default is off), a busy timeout,
and, when writable, WAL journaling so readers never block the writer. Transactions
are begun explicitly so that a session really is one SQLite transaction: Python's
``sqlite3`` would otherwise begin only at the first write, leaving the reads of a
session outside it.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path
from typing import Any
from urllib.parse import quote

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, Connection
from sqlalchemy.pool import NullPool

from studio.store.errors import WorkspaceCorruptError

__all__ = ["BUSY_TIMEOUT_MS", "READING_OPTION", "check_database_file", "make_engine",
           "needs_immutable"]

BUSY_TIMEOUT_MS = 10_000
"""How long a connection waits for another one's write lock before giving up."""

READING_OPTION = "studio_reading"
"""Execution option of a connection whose transactions only read (``Workspace.reading``)."""

_SQLITE_MAGIC = b"SQLite format 3\x00"


def _url(db_path: Path, read_only: bool, immutable: bool) -> URL:
    if not read_only:
        return URL.create("sqlite", database=str(db_path))
    # A URI filename is the only way to ask SQLite itself for a read-only handle.
    query = {"mode": "ro", "uri": "true"}
    if immutable:
        query["immutable"] = "1"
    return URL.create("sqlite", database=f"file:{quote(str(db_path))}", query=query)


def needs_immutable(db_path: Path) -> bool:
    """Whether a read-only open must use SQLite's ``immutable=1``.

    A WAL database needs its ``-shm`` file, which SQLite cannot create in a read-only
    folder; without a ``-wal`` file there is nothing that file would coordinate, so the
    database can be read as immutable.
    """
    folder = db_path.parent
    return not os.access(folder, os.W_OK) and not db_path.with_name(db_path.name + "-wal").exists()


def make_engine(db_path: Path, *, read_only: bool = False, foreign_keys: bool = True,
                pooled: bool = True, immutable: bool = False) -> Engine:
    """Create an engine for ``db_path`` with the workspace's connection settings.

    Args:
        db_path: the ``studio.db`` file.
        read_only: open with SQLite's ``mode=ro``; no journal mode change, no writes.
        foreign_keys: ``False`` only for migrations, where rebuilding a table must not
            cascade deletes into the tables that refer to it.
        pooled: ``False`` gives a ``NullPool`` engine for one-off work.
        immutable: with ``read_only``, open with ``immutable=1`` (see
            :func:`needs_immutable`).

    Sessions begin with ``BEGIN IMMEDIATE`` on a writable engine (except reading ones,
    see :data:`READING_OPTION`), taking the write lock
    up front: a deferred transaction that reads and then writes can fail with
    ``SQLITE_BUSY`` without waiting, which is the error users would see.
    """
    kwargs: dict[str, Any] = {} if pooled else {"poolclass": NullPool}
    engine = create_engine(_url(db_path, read_only, immutable), **kwargs)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: sqlite3.Connection, record: Any) -> None:
        dbapi_connection.isolation_level = None  # we emit BEGIN ourselves, see below
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
            cursor.execute(f"PRAGMA foreign_keys={'ON' if foreign_keys else 'OFF'}")
            if not read_only:
                cursor.execute("PRAGMA journal_mode=WAL")
                # NORMAL is durable across application crashes in WAL mode; only a
                # power cut can lose the last commits, never corrupt the file.
                cursor.execute("PRAGMA synchronous=NORMAL")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        # A reading transaction (READING_OPTION) begins deferred: it takes no write
        # lock, so it never makes a writer wait, and in WAL mode it never waits either.
        reading = read_only or conn.get_execution_options().get(READING_OPTION, False)
        conn.exec_driver_sql("BEGIN" if reading else "BEGIN IMMEDIATE")

    return engine


def check_database_file(db_path: Path, *, read_only: bool, immutable: bool = False) -> None:
    """Raise :class:`WorkspaceCorruptError` unless ``db_path`` is a healthy SQLite file.

    A missing or empty file passes (it becomes a new database). The file is opened
    without any change to it: the header is read as bytes first, so a file that is not
    SQLite at all is never handed to SQLite, then ``PRAGMA quick_check`` runs.
    """
    if not db_path.exists() or db_path.stat().st_size == 0:
        return
    with db_path.open("rb") as f:
        header = f.read(100)
    if len(header) < 100 or not header.startswith(_SQLITE_MAGIC):
        raise WorkspaceCorruptError(db_path, "not a SQLite database")
    uri = f"file:{quote(str(db_path))}?mode={'ro' if read_only else 'rw'}"
    if read_only and immutable:
        uri += "&immutable=1"
    try:
        conn = sqlite3.connect(uri, uri=True, isolation_level=None)
    except sqlite3.OperationalError:
        return  # cannot open at all (permissions): reported by the caller's next step
    try:
        rows = conn.execute("PRAGMA quick_check").fetchall()
    except sqlite3.OperationalError:
        return  # locked or unopenable, not damaged: the caller's next step says which
    except sqlite3.DatabaseError as exc:
        raise WorkspaceCorruptError(db_path, str(exc)) from exc
    finally:
        conn.close()
    problems = [str(r[0]) for r in rows if r[0] != "ok"]
    if problems:
        more = f" and {len(problems) - 1} more problems" if len(problems) > 1 else ""
        raise WorkspaceCorruptError(db_path, f"integrity check: {problems[0]}{more}")
