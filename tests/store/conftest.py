"""Fixtures for the store tests: real workspaces in ``tmp_path``, real mounts when allowed."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import pytest

from studio.store import Workspace

REPO_ROOT = Path(__file__).resolve().parents[2]
FIXTURES = Path(__file__).with_name("fixtures")


@pytest.fixture
def ws(tmp_path: Path) -> Iterator[Workspace]:
    """A fresh writable workspace, closed at teardown."""
    workspace = Workspace.open(tmp_path / "ws")
    yield workspace
    workspace.close()


def _mount(args: list[str]) -> str | None:
    """Run ``mount``; return why it failed, or ``None``."""
    if os.geteuid() != 0:
        return "mounting needs root"
    try:
        done = subprocess.run(["mount", *args], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"mount unavailable: {exc}"
    return None if done.returncode == 0 else f"mount refused: {done.stderr.strip()}"


@contextmanager
def _mounted(target: Path, args: list[str]) -> Iterator[Path]:
    why = _mount(args)
    if why is not None:
        pytest.skip(f"cannot build a real read-only/full filesystem here ({why})")
    try:
        yield target
    finally:
        subprocess.run(["umount", str(target)], check=False, timeout=10)


@pytest.fixture
def small_tmpfs(tmp_path: Path) -> Iterator[Callable[[int], Path]]:
    """A factory: ``small_tmpfs(size_kib)`` mounts a tmpfs of that size (root only)."""
    with ExitStack() as stack:

        def make(size_kib: int) -> Path:
            target = tmp_path / f"tmpfs{size_kib}"
            target.mkdir()
            args = ["-t", "tmpfs", "-o", f"size={size_kib}k", "tmpfs", str(target)]
            return stack.enter_context(_mounted(target, args))

        yield make


@pytest.fixture
def read_only_view(tmp_path: Path) -> Iterator[Callable[[Path], Path]]:
    """A factory: ``read_only_view(folder)`` returns a read-only view of ``folder``.

    As a normal user this is the folder itself with its write bits removed. As root,
    which ignores permission bits, it is a read-only bind mount, so writes fail with
    EROFS for real; where mounting is not allowed the test is skipped.
    """
    with ExitStack() as stack:

        def make(folder: Path) -> Path:
            if os.geteuid() != 0:
                mode = folder.stat().st_mode
                folder.chmod(0o555)
                stack.callback(folder.chmod, mode)
                return folder
            target = tmp_path / f"ro-{folder.name}"
            target.mkdir()
            view = stack.enter_context(_mounted(target, ["--bind", str(folder), str(target)]))
            why = _mount(["-o", "remount,bind,ro", str(target)])
            if why is not None:
                pytest.skip(f"cannot remount read-only here ({why})")
            return view

        yield make
