"""A disk that fills up during a checkpoint, trace or video write, on a real tmpfs.

Each example leaves a drawn number of bytes free, from nothing to more than the write
needs, so the disk fills at a different point of the write each time. The write either
succeeds, or fails with a message that says the disk is full and names the file; what
was written before is intact and no temporary file is left behind. Mounting needs root:
elsewhere these tests are skipped (``tests/store/conftest.py``'s ``small_tmpfs``).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from studio.sim.video import VideoError, record_frames
from studio.train.loop import describe_failure, load_checkpoint, save_checkpoint
from tests.fuzz.test_fuzz_inputs import EXAMPLES
from tests.store.conftest import small_tmpfs  # noqa: F401 - the fixture, used by name

pytestmark = pytest.mark.slow

disk_settings = settings(max_examples=max(8, EXAMPLES // 20), deadline=None, derandomize=True,
                         suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                HealthCheck.too_slow])


@contextmanager
def _full(disk: Path, free: int) -> Iterator[None]:
    """Fill ``disk`` until about ``free`` bytes are left (tmpfs counts whole pages)."""
    st_ = os.statvfs(disk)
    filler = disk / "filler"
    with open(filler, "wb") as f:
        f.write(b"\0" * max(0, st_.f_bavail * st_.f_frsize - free))
    try:
        yield
    finally:
        filler.unlink()


def _leftovers(folder: Path) -> list[str]:
    return [p.name for p in folder.iterdir() if ".tmp" in p.name]


@pytest.fixture
def disk(small_tmpfs: Callable[[int], Path]) -> Path:  # noqa: F811 - the imported fixture
    return small_tmpfs(1024)


def _state(seed: int) -> dict[str, object]:
    g = torch.Generator().manual_seed(seed)
    return {"agent": {"w": torch.randn(256, 64, generator=g)}, "global_step": seed}


@disk_settings
@given(free=st.integers(0, 96 * 1024))
def test_a_full_disk_during_a_checkpoint_keeps_the_last_one(disk: Path, free: int) -> None:
    path = disk / "checkpoint.pt"
    save_checkpoint(_state(1), path)  # the last good checkpoint (~66 KB)
    with _full(disk, free):
        try:
            save_checkpoint(_state(2), path)
        except (OSError, RuntimeError) as exc:
            failure = describe_failure(exc)
            assert failure.cause.startswith("the disk is full") and str(path) in failure.cause
            assert load_checkpoint(path)["global_step"] == 1  # the last one, intact
        else:
            assert load_checkpoint(path)["global_step"] == 2
    assert _leftovers(disk) == []


@disk_settings
@given(free=st.integers(0, 64 * 1024))
def test_a_full_disk_during_a_video_keeps_the_last_one(disk: Path, free: int) -> None:
    path = disk / "rollout.mp4"
    noise = np.random.default_rng(0).integers(0, 255, (40, 48, 48, 3), dtype=np.uint8)
    record_frames(path, noise[:5], fps=10, preset="ultrafast")
    first = path.read_bytes()
    with _full(disk, free):
        try:
            record_frames(path, noise, fps=10, preset="ultrafast")
        except VideoError as exc:
            assert "the disk is full" in str(exc) and str(path) in str(exc) and "\n" not in str(exc)
            assert path.read_bytes() == first
    assert _leftovers(disk) == []


def test_a_full_disk_during_a_rollout_recording_is_one_line_and_keeps_the_others(
        disk: Path) -> None:
    from studio.app.ranking import RankingService
    from studio.store import Workspace, WorkspaceError

    with Workspace.open(disk / "ws") as ws:
        service = RankingService(ws)
        kept = service.record("InvertedPendulum-v5", "zero", steps=5, video=True, size=(32, 32))
        errors = []
        for free in (0, 2048, 8192):
            with _full(disk, free):
                try:
                    service.record("InvertedPendulum-v5", "random", steps=40, video=True,
                                   size=(32, 32), seed=free)
                except (WorkspaceError, VideoError) as exc:
                    errors.append(str(exc))
        assert errors and len(errors) <= 3  # with nothing free, the first one cannot succeed
        assert all("disk is full" in e and "\n" not in e for e in errors), errors
        media = disk / "ws" / "media" / "rollouts"
        assert _leftovers(media) == []
        assert [r.id for r in service.rollouts()][0] == kept.id
        assert service.load_trace(kept.id).length == 5
        assert kept.video_path is not None and kept.video_path.stat().st_size > 0
