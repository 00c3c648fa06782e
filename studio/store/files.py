"""Files in a workspace's ``media/`` folder, written atomically.

A file is written with :mod:`studio.core.atomic`: a temporary name in its destination
folder, flushed to disk and renamed over the destination with ``os.replace``. Readers
therefore see the old file or
the whole new one, never a torn one; and when the disk fills up, the temporary file is
removed and nothing is left behind.
"""

from __future__ import annotations

import errno
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path, PurePosixPath
from typing import BinaryIO, cast

from studio.core.atomic import atomic_writer as core_atomic_writer
from studio.store.errors import WorkspaceError

__all__ = ["atomic_write_bytes", "atomic_writer", "check_media_name", "relative_media_path",
           "write_error"]

_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+=@-]{0,199}$")


def check_media_name(part: str, what: str) -> str:
    """Return ``part`` if it is a safe single path component, else raise ``ValueError``.

    Letters, digits and ``._+=@-``, not starting with a dot, so that nothing stored in
    the database can name a file outside the workspace.
    """
    if not _NAME_RE.match(part) or part in {".", ".."}:
        raise ValueError(
            f"{what} {part!r} is not a plain file name: use letters, digits and ._+=@- "
            "only, with no folder separators, and do not start with a dot."
        )
    return part


def write_error(path: Path, exc: OSError) -> WorkspaceError:
    """The user's message for a failed write of ``path``: disk full, read-only, or other."""
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return WorkspaceError(
            f"The disk is full: could not write {path}. Free some space on that disk "
            "(or move the workspace) and try again; nothing was written."
        )
    if exc.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
        return WorkspaceError(
            f"Cannot write {path}: the folder is read-only ({exc.strerror}). Fix its "
            "permissions or choose another workspace."
        )
    return WorkspaceError(f"Could not write {path}: {exc.strerror or exc}. Nothing was written.")


@contextmanager
def atomic_writer(path: Path) -> Iterator[BinaryIO]:
    """Open a binary file that replaces ``path`` only if the ``with`` block succeeds.

    :func:`studio.core.atomic.atomic_writer` with the store's error messages.

    >>> import tempfile, pathlib
    >>> target = pathlib.Path(tempfile.mkdtemp()) / "a.bin"
    >>> with atomic_writer(target) as f:
    ...     _ = f.write(b"hello")
    >>> target.read_bytes()
    b'hello'

    Raises:
        WorkspaceError: the disk is full, the folder is read-only, or another OS error;
            no temporary file is left behind.
    """
    path = Path(path)
    try:
        with core_atomic_writer(path, "wb") as f:
            yield cast(BinaryIO, f)
    except OSError as exc:
        raise write_error(path, exc) from exc


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically (see :func:`atomic_writer`)."""
    with atomic_writer(path) as f:
        f.write(data)


def relative_media_path(kind: str, name: str) -> PurePosixPath:
    """``media/<kind>/<name>`` as stored in the database, after checking both parts."""
    return PurePosixPath("media", check_media_name(kind, "Media kind"),
                         check_media_name(name, "Media file name"))
