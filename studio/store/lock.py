"""An advisory lock file so that one process at a time opens a workspace for writing.

The lock is ``fcntl.flock`` on ``<workspace>/.lock``; the kernel drops it when the
process dies, so a crash never leaves a workspace locked. The file also holds the
owner's pid and host name, only to tell the next opener who has it.
The file itself is never deleted: removing it while another process waits on it
would let two processes each lock a different file of the same name.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import socket
from pathlib import Path

from studio.store.errors import WorkspaceError, WorkspaceLockedError

__all__ = ["LOCK_NAME", "WorkspaceLock", "read_only_error"]

LOCK_NAME = ".lock"

_READ_ONLY_ERRNOS = {errno.EACCES, errno.EPERM, errno.EROFS}


def read_only_error(folder: Path, exc: OSError | None = None) -> WorkspaceError:
    """The message for a workspace folder the app cannot write."""
    detail = f" ({exc.strerror})" if exc is not None and exc.strerror else ""
    return WorkspaceError(
        f"The workspace folder {folder} is read-only{detail}: choose another folder, "
        "fix its permissions, or open it read-only."
    )


class WorkspaceLock:
    """Holds the exclusive lock of one workspace folder until :meth:`release`."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.path = folder / LOCK_NAME
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        """Whether this object holds the lock."""
        return self._fd is not None

    def acquire(self) -> None:
        """Take the lock without waiting.

        Raises:
            WorkspaceLockedError: another process (or another open of this workspace in
                this process) holds it.
            WorkspaceError: the folder is read-only.
        """
        if self._fd is not None:
            return
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        except OSError as exc:
            if exc.errno in _READ_ONLY_ERRNOS:
                raise read_only_error(self.folder, exc) from exc
            raise WorkspaceError(f"Cannot create the lock file {self.path}: {exc.strerror}. "
                                 "Check the folder and its permissions.") from exc
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            pid, host = self._read_owner(fd)
            os.close(fd)
            raise WorkspaceLockedError(self.folder, pid, host) from None
        except OSError:
            os.close(fd)
            raise
        try:
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"{os.getpid()}\n{socket.gethostname()}\n".encode(), 0)
        except OSError:
            pass  # the owner note is a courtesy; the flock is what protects
        self._fd = fd

    @staticmethod
    def _read_owner(fd: int) -> tuple[int | None, str | None]:
        try:
            text = os.pread(fd, 4096, 0).decode("utf-8", "replace").split("\n")
        except OSError:
            return None, None
        pid = int(text[0]) if text and text[0].strip().isdigit() else None
        host = text[1].strip() if len(text) > 1 and text[1].strip() else None
        return pid, host

    def release(self) -> None:
        """Release the lock; safe to call twice."""
        fd, self._fd = self._fd, None
        if fd is None:
            return
        with contextlib.suppress(OSError):
            os.ftruncate(fd, 0)
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)
