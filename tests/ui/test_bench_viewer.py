"""bench viewer times the viewer's real path (worker thread to the widget's image)."""

from __future__ import annotations

from typing import Any

import pytest

from studio.sim.registry import get_task
from studio.ui.viewer.frames import FrameSlot, Overlay


def test_handoff_latency_is_measured_from_publish_to_take() -> None:
    from studio.ui.bench_viewer import instrument

    slot = FrameSlot(2, 2)
    latencies = instrument(slot)
    slot.publish(0, Overlay())
    slot.publish(1, Overlay())  # replaces frame 0 before the GUI took it: dropped, not timed
    assert slot.take() is not None and slot.take() is None
    assert len(latencies) == 1 and 0 <= latencies[0] < 5.0 and slot.dropped == 1


def test_bench_shows_real_frames_and_names_the_comparison(qapp: Any, capsys: pytest.CaptureFixture[str]) -> None:
    from studio.ui.bench_viewer import main

    get_task("InvertedPendulum-v5")
    assert main(["--env", "InvertedPendulum-v5", "--width", "160", "--height", "120", "--seconds", "0.5"]) == 0
    out = capsys.readouterr().out
    fields = dict(kv.split("=") for kv in out.strip().splitlines()[-1].split()[1:])
    assert float(fields["viewer_fps"]) > 0 and float(fields["renderer_alone_fps"]) > 0
    assert float(fields["handoff_p50_ms"]) >= 0 and fields["max_fps"] == "60"
    assert "worker thread -> widget image" in out and "an upper bound, not the same work" in out
