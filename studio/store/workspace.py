"""A workspace: a folder with ``studio.db`` and ``media/``, opened by one writer at a time.

>>> import tempfile
>>> from studio.store.workspace import Workspace
>>> from studio.store.settings import get_setting, set_setting
>>> with Workspace.open(tempfile.mkdtemp()) as ws:
...     with ws.session() as s:
...         set_setting(s, "last_design", 3)
...     with ws.session() as s:
...         get_setting(s, "last_design")
3
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path, PurePosixPath
from types import TracebackType
from typing import Self

from sqlalchemy import Engine
from sqlalchemy.exc import DatabaseError
from sqlalchemy.orm import Session, sessionmaker

from studio.store.engine import (
    BUSY_TIMEOUT_MS,
    READING_OPTION,
    check_database_file,
    make_engine,
    needs_immutable,
)
from studio.store.errors import WorkspaceCorruptError, WorkspaceError, WorkspaceSchemaError
from studio.store.files import relative_media_path
from studio.store.lock import WorkspaceLock, read_only_error
from studio.store.migrate import check_schema, upgrade

__all__ = ["DB_NAME", "MEDIA_NAME", "Workspace"]

DB_NAME = "studio.db"
MEDIA_NAME = "media"


def _translate(exc: DatabaseError, db_path: Path) -> WorkspaceError | None:
    """The user-facing error for a SQLite failure, or ``None`` for a programming error."""
    text = str(exc.orig).lower()
    if "disk is full" in text or "disk i/o error" in text:
        return WorkspaceError(
            f"Could not save to {db_path}: the disk is full or failing. Free some space "
            "and try again; the last change was not saved."
        )
    if "readonly database" in text or "unable to open database" in text:
        return WorkspaceError(
            f"Cannot write {db_path}: it or its folder is read-only. Fix the permissions "
            "or open the workspace read-only."
        )
    if "database is locked" in text or "database is busy" in text:
        return WorkspaceError(
            f"{db_path} stayed busy for {BUSY_TIMEOUT_MS // 1000} s while another operation "
            "was writing to it; the change was not saved. Try again in a moment."
        )
    if "not a database" in text or "malformed" in text:
        return WorkspaceCorruptError(db_path, str(exc.orig))
    return None


class Workspace:
    """An open workspace. Create it with :meth:`open`; close it with :meth:`close`.

    Attributes:
        root: the workspace folder (absolute).
        db_path: its ``studio.db``.
        read_only: opened with ``read_only=True``: no lock, no migration, no writes.
    """

    def __init__(self, root: Path, engine: Engine, lock: WorkspaceLock | None,
                 read_only: bool) -> None:
        self.root = root
        self.db_path = root / DB_NAME
        self.read_only = read_only
        self.engine = engine
        self._lock = lock
        self._closed = False
        self._active = threading.local()
        self._sessions = sessionmaker(engine, expire_on_commit=False)
        self._readers = sessionmaker(engine.execution_options(**{READING_OPTION: True}),
                                     expire_on_commit=False)
        self.interrupted: list[int] = []
        """Ids of the runs this open marked ``interrupted`` (their process was gone)."""

    @classmethod
    def open(cls, path: str | os.PathLike[str], *, create: bool = True,
             read_only: bool = False) -> Workspace:
        """Open (and by default create) the workspace at ``path``.

        Writable opening takes the folder's lock, creates ``media/``, checks the database
        file and migrates it to the newest schema (copying an existing database to
        ``studio.db.before-<revision>.bak`` first). Read-only opening takes no lock and
        requires an existing database already at the newest schema.

        Raises:
            WorkspaceLockedError: another process has the workspace open for writing.
            WorkspaceCorruptError: ``studio.db`` is not a healthy SQLite database; the
                file is left exactly as it was.
            WorkspaceSchemaError: the schema is newer than this code, or (read-only)
                older and cannot be upgraded.
            WorkspaceError: the folder is missing, not a folder, or read-only.
        """
        root = Path(path).expanduser().absolute()
        if read_only:
            return cls._open_read_only(root)
        if root.exists() and not root.is_dir():
            raise WorkspaceError(f"{root} is a file, not a folder: choose a folder for the "
                                 "workspace.")
        if not root.exists():
            if not create:
                raise WorkspaceError(f"There is no workspace at {root}: check the path, or "
                                     "create a new workspace there.")
            try:
                root.mkdir(parents=True)
            except OSError as exc:
                raise read_only_error(root.parent, exc) from exc
        # Root ignores permission bits, so this catches only what would really fail;
        # it makes the answer the same whether or not a lock file is already there.
        if not os.access(root, os.W_OK):
            raise read_only_error(root)
        lock = WorkspaceLock(root)
        lock.acquire()
        try:
            try:
                (root / MEDIA_NAME).mkdir(exist_ok=True)
            except OSError as exc:
                raise read_only_error(root, exc) from exc
            db_path = root / DB_NAME
            check_database_file(db_path, read_only=False)
            try:
                upgrade(db_path)
            except DatabaseError as exc:
                translated = _translate(exc, db_path)
                if translated is None:
                    raise
                raise translated from exc
            engine = make_engine(db_path)
        except BaseException:
            lock.release()
            raise
        ws = cls(root, engine, lock, read_only=False)
        try:
            from studio.store.liveness import mark_interrupted

            with ws.session() as s:
                ws.interrupted = [run.id for run in mark_interrupted(s)]
        except BaseException:
            ws.close()
            raise
        return ws

    @classmethod
    def open_for_reading(cls, path: str | os.PathLike[str]) -> Workspace:
        """Open an existing workspace to read it, even while another process writes to it.

        Read-only (no lock, so the app or a training may hold the workspace meanwhile)
        when the database is at the newest schema; otherwise writable once, which
        upgrades it as :meth:`open` does (and needs the lock).

        Raises:
            WorkspaceError: as :meth:`open` (``create=False``) and ``open(read_only=True)``.
        """
        try:
            return cls.open(path, read_only=True)
        except WorkspaceSchemaError:
            return cls.open(path, create=False)  # an older schema: upgrade it (or say why not)

    @classmethod
    def _open_read_only(cls, root: Path) -> Workspace:
        db_path = root / DB_NAME
        if not db_path.is_file():
            raise WorkspaceError(f"There is no workspace database at {db_path}: check the "
                                 "path, or open the folder for writing to create one.")
        immutable = needs_immutable(db_path)
        check_database_file(db_path, read_only=True, immutable=immutable)
        engine = make_engine(db_path, read_only=True, immutable=immutable)
        try:
            with engine.connect() as connection:
                check_schema(connection, db_path)
        except DatabaseError as exc:
            engine.dispose()
            translated = _translate(exc, db_path)
            if translated is None:
                raise
            raise translated from exc
        except BaseException:
            engine.dispose()
            raise
        return cls(root, engine, None, read_only=True)

    @contextmanager
    def reading(self) -> Iterator[Session]:
        """A transaction that only reads: it takes no write lock and is rolled back.

        Use it for what the GUI shows (lists, plots): a writer never waits for it and it
        never waits for a writer (WAL). Whatever it changes is discarded.
        """
        with self._session(self._readers, reading=True) as session:
            yield session

    @contextmanager
    def session(self) -> Iterator[Session]:
        """One transaction: committed when the block ends, rolled back if it raises.

        In a read-only workspace the transaction is always rolled back. Objects loaded
        in the block stay readable after it (``expire_on_commit=False``), but their
        not-yet-loaded relationships cannot be loaded once the session is closed.

        Raises:
            WorkspaceError: the disk is full or the database became read-only; nothing
                of the block was saved.
        """
        with self._session(self._sessions, reading=self.read_only) as session:
            yield session

    @contextmanager
    def _session(self, factory: sessionmaker[Session], reading: bool) -> Iterator[Session]:
        if self._closed:
            raise WorkspaceError(f"The workspace {self.root} is closed: open it again.")
        if getattr(self._active, "session", None) is not None:
            # A second transaction would wait for the first one's write lock forever.
            raise RuntimeError("ws.session() blocks cannot be nested in one thread: pass "
                               "the outer session to the code that needs one.")
        session = factory()
        self._active.session = session
        try:
            yield session
            if reading:
                session.rollback()
            else:
                session.commit()
        except DatabaseError as exc:
            session.rollback()
            if self.read_only and "readonly" in str(exc.orig).lower():
                raise WorkspaceError(
                    f"The workspace {self.root} is open read-only, so nothing can be saved; "
                    "open it for writing to make changes.") from exc
            translated = _translate(exc, self.db_path)
            if translated is None:
                raise
            raise translated from exc
        except BaseException:
            session.rollback()
            raise
        finally:
            self._active.session = None
            session.close()

    def media_path(self, kind: str, name: str) -> tuple[Path, str]:
        """Where to write a media file: ``(absolute path, path to store in the database)``.

        ``kind`` is a folder under ``media/`` (``videos``, ``checkpoints``...), created if
        needed; both parts must be plain names (see
        :func:`~studio.store.files.check_media_name`). The stored path is relative to the
        workspace folder with ``/`` separators, so workspaces can move between machines.
        """
        rel = relative_media_path(kind, name)
        absolute = self.root.joinpath(*rel.parts)
        if not self.read_only:
            try:
                absolute.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise read_only_error(absolute.parent, exc) from exc
        return absolute, rel.as_posix()

    def resolve(self, stored_path: str) -> Path:
        """The absolute path of a path stored in the database, refusing any that escape."""
        rel = PurePosixPath(stored_path)
        if rel.is_absolute() or ".." in rel.parts:
            raise WorkspaceError(
                f"The stored path {stored_path!r} points outside the workspace {self.root}; "
                "the database may have been edited by hand."
            )
        return self.root.joinpath(*rel.parts)

    def close(self) -> None:
        """Dispose of the connections and release the lock; safe to call twice."""
        self._closed = True
        self.engine.dispose()
        if self._lock is not None:
            self._lock.release()
            self._lock = None

    def __enter__(self) -> Self:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def __repr__(self) -> str:
        mode = "read-only" if self.read_only else "writable"
        return f"<Workspace {self.root} ({mode})>"
