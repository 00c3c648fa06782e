"""One atomic-write helper: unique temporary names, fsync of file and folder, nothing left on failure."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from studio.core import atomic
from studio.core.atomic import atomic_path, atomic_write_text, atomic_writer

STUDIO = Path(__file__).resolve().parents[2] / "studio"


def test_a_file_named_like_the_old_fixed_temp_name_is_left_alone(tmp_path: Path) -> None:
    mine = tmp_path / "reward.py.tmp"  # the user's own file, the old helpers' temp name
    mine.write_text("keep me")
    atomic_write_text(tmp_path / "reward.py", "x = 1\n")
    assert (tmp_path / "reward.py").read_text() == "x = 1\n"
    assert mine.read_text() == "keep me"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["reward.py", "reward.py.tmp"]


def test_two_open_writers_of_one_file_use_different_temp_files(tmp_path: Path) -> None:
    target = tmp_path / "a.bin"
    with atomic_writer(target) as f, atomic_writer(target) as g:
        assert f.name != g.name  # a fixed name would make them write into one file
        f.write(b"first")
        g.write(b"second")
    assert target.read_bytes() in (b"first", b"second")
    assert [p.name for p in tmp_path.iterdir()] == ["a.bin"]


def test_the_file_and_its_folder_are_fsynced(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    synced: list[str] = []
    real = os.fsync

    def spy(fd: int) -> None:
        synced.append(os.readlink(f"/proc/self/fd/{fd}"))
        real(fd)

    monkeypatch.setattr(atomic.os, "fsync", spy)
    atomic_write_text(tmp_path / "x.txt", "x")
    with atomic_path(tmp_path / "v.mp4", suffix=".mp4") as tmp:
        assert tmp.suffix == ".mp4" and tmp.parent == tmp_path
        tmp.write_bytes(b"video")
    assert len(synced) == 4 and synced[1] == synced[3] == str(tmp_path)
    assert (tmp_path / "v.mp4").read_bytes() == b"video"


def test_a_failed_write_keeps_the_old_file_and_leaves_no_temp(tmp_path: Path) -> None:
    target = tmp_path / "d.json"
    target.write_text("old")
    with pytest.raises(RuntimeError), atomic_writer(target, "w") as f:
        f.write("half")
        raise RuntimeError("the writer failed")
    with pytest.raises(RuntimeError), atomic_path(target):
        raise RuntimeError("so did this one")
    assert target.read_text() == "old" and [p.name for p in tmp_path.iterdir()] == ["d.json"]


def test_no_other_module_renames_temp_files_itself() -> None:
    pattern = re.compile(r"os\.replace\(|\btmp\w*\.replace\(|\.rename\(")
    offenders = [f"{p.relative_to(STUDIO)}:{i}" for p in STUDIO.rglob("*.py") if p.name != "atomic.py"
                 for i, line in enumerate(p.read_text().splitlines(), 1) if pattern.search(line)]
    assert offenders == [], "write files with studio.core.atomic instead"
