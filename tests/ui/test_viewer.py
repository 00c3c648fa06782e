"""The embedded viewer renders real, non-blank frames in its worker thread."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("PySide6")

from studio.app.rollouts import record_rollout  # noqa: E402
from studio.core.design import Design, Group, Term  # noqa: E402
from studio.ui.context import AppContext  # noqa: E402
from studio.ui.viewer import FrameSlot, Overlay, ViewerPanel  # noqa: E402

ENV = "InvertedPendulum-v5"


def _design() -> Design:
    return Design("p", ENV, Group("reward", [Term("alive", "healthy"),
                                             Term("angle", "pole_angle * pole_angle", weight=-2.0)]))


@pytest.fixture
def panel(qtbot):
    ctx = AppContext()
    ctx.set_design(_design())
    ctx.set_task(ENV)
    p = ViewerPanel(ctx, width=320, height=240)
    qtbot.addWidget(p)
    p.resize(420, 360)
    p.show()
    yield p
    p.shutdown()


def test_frames_are_not_blank_and_overlay_has_terms(panel, qtbot) -> None:
    with qtbot.waitSignal(panel.first_frame_ready, timeout=30_000):
        pass
    qtbot.waitUntil(lambda: panel.view.frames_shown >= 5, timeout=20_000)
    img = panel.view.current_array()
    assert img is not None and img.shape == (240, 320, 3)
    assert float(img.std()) > 10.0
    colours = np.unique(img.reshape(-1, 3)[::7], axis=0)
    assert len(colours) > 20
    ov = panel.view.overlay
    assert ov is not None and set(ov.components) == {"alive", "angle"}
    assert ov.total == pytest.approx(sum(ov.components.values()), abs=1e-5)
    shot = panel.view.grab().toImage()
    assert shot.width() > 0


def test_pause_step_and_camera(panel, qtbot) -> None:
    with qtbot.waitSignal(panel.first_frame_ready, timeout=30_000):
        pass
    panel.set_paused(True)
    qtbot.wait(200)
    step0 = panel.view.overlay.step
    panel.step_once()
    qtbot.waitUntil(lambda: panel.view.overlay.step != step0, timeout=5_000)
    before = panel.view.current_array()
    panel.view.zoom.emit(0.5)  # a gesture re-renders a paused scene
    qtbot.waitUntil(lambda: not np.array_equal(panel.view.current_array(), before), timeout=5_000)
    panel.track_body("pole")
    panel.set_speed(4.0)
    panel.set_paused(False)
    n = panel.view.frames_shown
    qtbot.waitUntil(lambda: panel.view.frames_shown > n + 3, timeout=5_000)


def test_replays_a_recorded_rollout(panel, qtbot, tmp_path) -> None:
    trace = record_rollout(ENV, _design(), "random", steps=30, seed=1)
    trace.save(tmp_path / "r.npz")  # a stored state sequence
    with qtbot.waitSignal(panel.first_frame_ready, timeout=30_000):
        pass
    panel.play_trace_file(str(tmp_path / "r.npz"))
    qtbot.waitUntil(lambda: panel.view.overlay is not None and panel.view.overlay.source == "rollout"
                    and panel.view.overlay.total is not None, timeout=10_000)
    ov = panel.view.overlay
    i = ov.step - 1
    assert ov.components["angle"] == pytest.approx(float(trace.components["angle"][i]))


def test_frame_slot_drops_instead_of_queueing() -> None:
    slot = FrameSlot(2, 2)
    i = slot.free_index()
    assert slot.publish(i, Overlay(step=1))          # mailbox was empty: tell the GUI
    j = slot.free_index()
    assert j != i and not slot.publish(j, Overlay(step=2))  # GUI behind: replaced, no signal
    assert slot.dropped == 1
    idx, ov = slot.take()
    assert idx == j and ov.step == 2 and slot.take() is None
    k = slot.free_index()
    assert k != j  # the buffer on screen is never written


def test_plays_a_checkpoint_and_a_video(panel, qtbot, tmp_path) -> None:
    import torch

    from studio.sim.video import VideoWriter
    from studio.train.ppo import Agent

    agent = Agent(4, 1)
    path = tmp_path / "checkpoint.pt"
    # As training writes it: tensors only (checkpoints load with weights_only=True).
    torch.save({"agent": agent.state_dict(), "obs_rms": {"mean": torch.zeros(4), "var": torch.ones(4),
                                                          "count": 1.0}}, path)
    with qtbot.waitSignal(panel.first_frame_ready, timeout=30_000):
        pass
    panel.play_checkpoint(str(path))
    qtbot.waitUntil(lambda: panel.view.overlay.source == "checkpoint checkpoint.pt", timeout=10_000)

    video = tmp_path / "clip.mp4"
    with VideoWriter(video, fps=10) as w:
        for i in range(6):
            frame = np.zeros((240, 320, 3), np.uint8)
            frame[:, : 50 * (i + 1)] = (200, 40, 40)
            w.add(frame)
    panel.play_video(str(video))
    qtbot.waitUntil(lambda: panel.view.overlay.source == "video clip.mp4", timeout=10_000)
    img = panel.view.current_array()
    assert img[:, :40, 0].mean() > 150  # the red band of the clip


def test_viewer_streams_every_step_to_the_hub(panel, qtbot) -> None:
    from studio.ui.dashboard import hub_for

    got: list = []
    hub_for(panel._ctx).live_steps.connect(got.extend)
    panel.set_speed(4.0)
    qtbot.waitUntil(lambda: len(got) >= 20, timeout=20_000)
    steps = [s for s, *_ in got]
    # consecutive within an episode: nothing lost between frames
    for (a, _, _, ended), b in zip(got, steps[1:], strict=False):
        assert b == a + 1 or ended or b == 1
    assert set(got[-1][1]) == {"alive", "angle"}


def test_restart_does_not_block_and_old_thread_ends(panel, qtbot) -> None:
    import time

    with qtbot.waitSignal(panel.first_frame_ready, timeout=30_000):
        pass
    old = panel.worker
    t0 = time.perf_counter()
    panel.restart()
    assert time.perf_counter() - t0 < 0.5
    old.join(10)
    assert not old.is_alive() and panel.worker is not old
    n = panel.view.frames_shown
    qtbot.waitUntil(lambda: panel.view.frames_shown > n, timeout=20_000)
