"""Errors the workspace store raises.

Every error a user can meet carries a message that names the place (a folder or a
file) and a remedy, so the UI and the CLI can show ``str(error)`` as it is.
"""

from __future__ import annotations

from pathlib import Path

__all__ = [
    "ImmutableVersionError",
    "InvalidRunTransitionError",
    "StoreError",
    "WorkspaceCorruptError",
    "WorkspaceError",
    "WorkspaceLockedError",
    "WorkspaceSchemaError",
]


class StoreError(Exception):
    """Base class of everything the store raises on purpose."""


class WorkspaceError(StoreError):
    """A workspace cannot be opened or written (missing, read-only, disk full...)."""


class WorkspaceLockedError(WorkspaceError):
    """Another process holds the workspace open for writing.

    Attributes:
        path: the workspace folder.
        pid: process id found in the lock file, or ``None`` if it could not be read.
        hostname: host name found in the lock file, or ``None``.
    """

    def __init__(self, path: Path, pid: int | None, hostname: str | None) -> None:
        self.path = path
        self.pid = pid
        self.hostname = hostname
        who = f"process {pid}" if pid is not None else "another process"
        if hostname:
            who += f" on {hostname}"
        super().__init__(
            f"The workspace {path} is already open in {who}. "
            "Close Reward Studio there first, or open the workspace read-only."
        )


class WorkspaceCorruptError(WorkspaceError):
    """The database file is not a SQLite database or fails its integrity check.

    The file is never modified or replaced; the message says where it is.
    """

    def __init__(self, db_path: Path, detail: str) -> None:
        self.db_path = db_path
        self.detail = detail
        super().__init__(
            f"The workspace database {db_path} is damaged ({detail}). "
            "It was left untouched: restore it from a backup, or move it away "
            "and open the folder again to start an empty workspace."
        )


class WorkspaceSchemaError(WorkspaceError):
    """The database schema is one this version of the code cannot use."""


class ImmutableVersionError(StoreError):
    """An attempt to change a saved design version; save a new version instead."""


class InvalidRunTransitionError(StoreError):
    """A run status change that the run lifecycle does not allow."""
