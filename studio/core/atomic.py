"""Writing a file atomically: the one helper every part of the studio uses.

The data goes to a temporary file with a unique name in the destination's folder, is
flushed and ``fsync``-ed, then renamed over the destination with ``os.replace``, and the
folder is ``fsync``-ed so the rename itself survives a power cut. Readers see the old
file or the whole new one, never a torn one; two writers never share a temporary file;
on any error the temporary file is removed and the destination is left as it was.

>>> import tempfile, pathlib
>>> target = pathlib.Path(tempfile.mkdtemp()) / "a.txt"
>>> atomic_write_text(target, "hello")
>>> target.read_text()
'hello'

Errors are the plain ``OSError`` of the failing call; each layer words them for its
users (the store as a ``WorkspaceError``, the CLI and the UI as one line).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

__all__ = ["atomic_path", "atomic_write_bytes", "atomic_write_text", "atomic_writer", "fsync_dir"]


def fsync_dir(folder: Path) -> None:
    """Make a rename in ``folder`` durable (not possible on every platform or filesystem)."""
    try:
        dir_fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(dir_fd)
    except OSError:
        pass
    finally:
        os.close(dir_fd)


def _temp_name(path: Path, suffix: str) -> tuple[int, Path]:
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=f".tmp{suffix}")
    return fd, Path(name)


@contextmanager
def atomic_writer(path: str | os.PathLike[str], mode: str = "wb",
                  encoding: str | None = None) -> Iterator[IO[Any]]:
    """A file (``mode`` ``wb`` or ``w``) that replaces ``path`` only if the block succeeds."""
    if mode not in ("wb", "w"):
        raise ValueError(f"atomic_writer writes whole files: mode 'wb' or 'w', not {mode!r}")
    # The file closes (and flushes) before atomic_path fsyncs and renames it.
    with atomic_path(path) as tmp, open(tmp, mode, encoding=encoding if mode == "w" else None) as f:
        yield f


@contextmanager
def atomic_path(path: str | os.PathLike[str], suffix: str = "") -> Iterator[Path]:
    """A unique temporary path for a writer that wants a file name (ffmpeg, SQLite).

    When the block succeeds the file there is ``fsync``-ed and renamed over ``path``;
    ``suffix`` (``.mp4``) keeps tools that choose a format by extension happy.
    """
    path = Path(path)
    fd, tmp = _temp_name(path, suffix)
    os.close(fd)
    try:
        yield tmp
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    fsync_dir(path.parent)


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> None:
    """Write ``data`` to ``path`` atomically."""
    with atomic_writer(path, "wb") as f:
        f.write(data)


def atomic_write_text(path: str | os.PathLike[str], text: str, encoding: str = "utf-8") -> None:
    """Write ``text`` to ``path`` atomically."""
    with atomic_writer(path, "w", encoding=encoding) as f:
        f.write(text)
