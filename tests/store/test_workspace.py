"""Opening, locking, protecting and writing to a workspace, on real files."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import text

from studio.store import (
    Workspace,
    WorkspaceCorruptError,
    WorkspaceError,
    WorkspaceLockedError,
    WorkspaceSchemaError,
    atomic_write_bytes,
    repo,
)
from tests.store.conftest import REPO_ROOT

_HOLDER = """
import sys
from studio.store import Workspace
ws = Workspace.open(sys.argv[1])
print("open", flush=True)
sys.stdin.readline()
ws.close()
"""


def test_new_workspace_has_db_media_and_lock(ws: Workspace) -> None:
    assert ws.db_path.is_file()
    assert (ws.root / "media").is_dir()
    assert (ws.root / ".lock").read_text().split("\n")[0] == str(os.getpid())


def test_pragmas_are_on_for_every_connection(ws: Workspace) -> None:
    for _ in range(2):
        with ws.session() as s:
            assert s.execute(text("PRAGMA journal_mode")).scalar() == "wal"
            assert s.execute(text("PRAGMA foreign_keys")).scalar() == 1
            assert (s.execute(text("PRAGMA busy_timeout")).scalar() or 0) >= 1000


def test_foreign_keys_are_enforced(ws: Workspace) -> None:
    with pytest.raises(Exception, match="FOREIGN KEY"), ws.session() as s:
        repo.add_checkpoint(s, run_id=12345, step=1, path="media/checkpoints/x.pt")


def test_failing_transaction_rolls_back(ws: Workspace) -> None:
    with pytest.raises(RuntimeError), ws.session() as s:
        repo.save_design_version(s, "Hopper-v5", "hop", {"terms": []}, "first")
        repo.set_setting(s, "k", 1)
        raise RuntimeError("user cancelled")
    with ws.session() as s:
        assert repo.list_designs(s) == []
        assert repo.list_tasks(s) == []
        assert repo.get_setting(s, "k") is None


@pytest.mark.parametrize("ending", ["close", "crash"])
def test_lock_held_by_another_process(tmp_path: Path, ending: str) -> None:
    folder = tmp_path / "ws"
    Workspace.open(folder).close()
    holder = subprocess.Popen(
        [sys.executable, "-c", _HOLDER, str(folder)], cwd=REPO_ROOT, text=True,
        stdin=subprocess.PIPE, stdout=subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "open"
        with pytest.raises(WorkspaceLockedError) as info:
            Workspace.open(folder)
        assert info.value.pid == holder.pid
        assert str(holder.pid) in str(info.value) and "read-only" in str(info.value)
        # Reading does not need the lock.
        with Workspace.open(folder, read_only=True) as reader, reader.session() as s:
            assert repo.list_designs(s) == []
    finally:
        assert holder.stdin is not None
        if ending == "crash":
            holder.kill()  # the kernel drops a dead process's flock: no stale lock
        else:
            holder.stdin.write("\n")
        holder.stdin.close()
        holder.wait(timeout=20)
    Workspace.open(folder).close()  # free again once the other process is gone


def test_second_open_in_same_process_is_refused_until_close(tmp_path: Path) -> None:
    first = Workspace.open(tmp_path / "ws")
    with pytest.raises(WorkspaceLockedError):
        Workspace.open(tmp_path / "ws")
    first.close()
    first.close()
    with Workspace.open(tmp_path / "ws"):
        pass
    with pytest.raises(WorkspaceError, match="closed"), first.session():
        pass


def test_missing_workspace_without_create(tmp_path: Path) -> None:
    with pytest.raises(WorkspaceError, match="no workspace"):
        Workspace.open(tmp_path / "nope", create=False)
    with pytest.raises(WorkspaceError, match="no workspace database"):
        Workspace.open(tmp_path / "nope", read_only=True)
    assert not (tmp_path / "nope").exists()


def test_read_only_folder(tmp_path: Path, read_only_view: Callable[[Path], Path]) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(WorkspaceError, match="is read-only.*choose another folder"):
        Workspace.open(read_only_view(empty))
    assert list(empty.iterdir()) == []

    existing = tmp_path / "existing"
    with Workspace.open(existing) as ws, ws.session() as s:
        repo.set_setting(s, "ui.last", 7)
    view = read_only_view(existing)
    with pytest.raises(WorkspaceError, match="is read-only"):
        Workspace.open(view)
    with Workspace.open(view, read_only=True) as reader, reader.session() as s:
        assert repo.get_setting(s, "ui.last") == 7


def test_garbage_file_is_reported_and_left_untouched(tmp_path: Path) -> None:
    folder = tmp_path / "ws"
    folder.mkdir()
    garbage = os.urandom(3000)
    (folder / "studio.db").write_bytes(garbage)
    for read_only in (False, True):
        with pytest.raises(WorkspaceCorruptError) as info:
            Workspace.open(folder, read_only=read_only)
        assert str(folder / "studio.db") in str(info.value)
        assert "left untouched" in str(info.value)
    assert (folder / "studio.db").read_bytes() == garbage
    assert sorted(p.name for p in folder.iterdir()) == [".lock", "media", "studio.db"]
    with pytest.raises(WorkspaceCorruptError):  # the failed open released its lock
        Workspace.open(folder)


def test_damaged_pages_are_reported_and_left_untouched(tmp_path: Path) -> None:
    folder = tmp_path / "ws"
    with Workspace.open(folder) as ws, ws.session() as s:
        for i in range(50):
            repo.save_design_version(s, "Ant-v5", f"d{i}", {"x": "y" * 500}, "m")
    db = folder / "studio.db"
    data = bytearray(db.read_bytes())
    page = 4096
    data[2 * page: len(data)] = b"\xa5" * (len(data) - 2 * page)
    db.write_bytes(bytes(data))
    with pytest.raises(WorkspaceCorruptError):
        Workspace.open(folder)
    assert db.read_bytes() == bytes(data)


def test_newer_schema_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "ws"
    Workspace.open(folder).close()
    with sqlite3.connect(folder / "studio.db") as conn:
        conn.execute("UPDATE alembic_version SET version_num = '9999'")
    conn.close()
    for read_only in (False, True):
        with pytest.raises(WorkspaceSchemaError, match="newer version"):
            Workspace.open(folder, read_only=read_only)


def test_foreign_sqlite_file_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "ws"
    folder.mkdir()
    with sqlite3.connect(folder / "studio.db") as conn:
        conn.execute("CREATE TABLE photos (id INTEGER)")
    conn.close()
    with pytest.raises(WorkspaceSchemaError, match="not a Reward Studio workspace"):
        Workspace.open(folder)


def test_media_path_and_atomic_write(ws: Workspace) -> None:
    absolute, stored = ws.media_path("videos", "rollout-1.mp4")
    assert stored == "media/videos/rollout-1.mp4"
    assert absolute == ws.root / "media" / "videos" / "rollout-1.mp4"
    atomic_write_bytes(absolute, b"one")
    atomic_write_bytes(absolute, b"two")
    assert ws.resolve(stored).read_bytes() == b"two"
    assert os.listdir(absolute.parent) == ["rollout-1.mp4"]
    for bad in ("../x", ".hidden", "a/b", ""):
        with pytest.raises(ValueError, match="plain file name"):
            ws.media_path("videos", bad)
    with pytest.raises(WorkspaceError, match="outside the workspace"):
        ws.resolve("../../etc/passwd")


def test_atomic_write_leaves_nothing_when_the_writer_fails(tmp_path: Path) -> None:
    target = tmp_path / "f.bin"
    target.write_bytes(b"old")
    with pytest.raises(ZeroDivisionError):
        from studio.store import atomic_writer

        with atomic_writer(target) as f:
            f.write(b"partial")
            1 / 0  # noqa: B018
    assert target.read_bytes() == b"old"
    assert os.listdir(tmp_path) == ["f.bin"]


def test_disk_full_is_a_clear_error_with_no_partial_file(
        small_tmpfs: Callable[[int], Path]) -> None:
    disk = small_tmpfs(1024)
    with Workspace.open(disk / "ws") as ws:
        absolute, _ = ws.media_path("checkpoints", "big.pt")
        with pytest.raises(WorkspaceError, match="disk is full.*Free some space"):
            atomic_write_bytes(absolute, b"\0" * (4 * 1024 * 1024))
        assert os.listdir(absolute.parent) == []
        with ws.session() as s:  # the database still works
            repo.set_setting(s, "k", 1)


def test_writes_to_a_read_only_workspace_are_refused_clearly(ws: Workspace) -> None:
    with (Workspace.open(ws.root, read_only=True) as reader,
          pytest.raises(WorkspaceError, match="open read-only"), reader.session() as s):
        repo.set_setting(s, "k", 1)


def test_concurrent_writers_in_threads_all_commit(ws: Workspace) -> None:
    from concurrent.futures import ThreadPoolExecutor

    def save(i: int) -> int:
        with ws.session() as s:
            return repo.save_design_version(s, "Ant-v5", "shared", {"i": i}, str(i)).number

    with ThreadPoolExecutor(max_workers=4) as pool:
        numbers = sorted(pool.map(save, range(20)))
    assert numbers == list(range(1, 21))


def test_database_disk_full_rolls_back_and_keeps_working(
        small_tmpfs: Callable[[int], Path]) -> None:
    disk = small_tmpfs(512)  # room for the schema (migrations rebuild tables), not for 40,000 points
    with Workspace.open(disk / "ws") as ws:
        with ws.session() as s:
            v = repo.save_design_version(s, "Ant-v5", "a", {"terms": []}, "m")
            run = repo.create_run(s, v.id)
        with pytest.raises(WorkspaceError, match="disk is full"), ws.session() as s:
            repo.append_metric_rows(s, run.id, [
                (step, {f"k{k}": 1.0 for k in range(20)}) for step in range(2000)])
        with ws.session() as s:
            assert repo.metric_keys(s, run.id) == []
            assert repo.get_run(s, run.id) is not None


def test_nested_sessions_are_refused_instead_of_deadlocking(ws: Workspace) -> None:
    with ws.session() as s:
        repo.set_setting(s, "outer", 1)
        with pytest.raises(RuntimeError, match="cannot be nested"), ws.session():
            pass
    with ws.session() as s:  # the outer block still committed, and sessions work again
        assert repo.get_setting(s, "outer") == 1
