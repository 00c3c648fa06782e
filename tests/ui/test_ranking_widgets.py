"""The ranking view's parts on real mp4 files: decoding, the synced playhead, the timeline.

Videos are written with the studio's own writer (H.264, yuv420p). Frame ``k`` is a flat
grey of level ``10 k``, so the frame a cell shows can be read back from its pixels.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from studio.sim.video import record_frames

FRAMES = 20
LEVEL = 10


def _video(path: Path, frames: int = FRAMES, size: tuple[int, int] = (64, 48)) -> Path:
    w, h = size
    record_frames(path, (np.full((h, w, 3), LEVEL * k, np.uint8) for k in range(frames)), fps=20)
    return path


def _info(rid: int, video: Path | None, length: int = FRAMES) -> Any:
    from studio.app.ranking import RolloutInfo

    return RolloutInfo(id=rid, env_id="InvertedPendulum-v5", policy="random", seed=rid,
                       length=length, task_score=float(rid), design_return=2.0 * rid,
                       term_returns={"alive": 1.0 * rid}, trace_path=None, video_path=video,
                       design_version_id=None, run_id=None, round_id=None)


@pytest.fixture
def make_view(qtbot: Any, no_leaked_widgets: None) -> Any:
    """``make_view(infos, service=None, design=None)``: a shown RankingView, videos decoded."""
    from studio.ui.ranking.view import RankingView

    def make(infos: list[Any], service: Any = None, design: Any = None) -> Any:
        view = RankingView(service, infos, design, autoplay=False)
        qtbot.addWidget(view)
        view.resize(900, 700)
        view.show()
        qtbot.waitUntil(lambda: all(c.video is not None and c.video.done for c in view.cells),
                        timeout=20_000)
        return view

    return make


def test_decode_keeps_every_frame_scaled_into_the_box(tmp_path: Path) -> None:
    from studio.ui.ranking.decode import DecodeInputs, decode_video
    from studio.ui.workers import TaskState

    video = decode_video(DecodeInputs(_video(tmp_path / "a.mp4"), (32, 32), FRAMES), TaskState())
    assert video.problem == ""
    assert video.count == FRAMES
    # 64x48 fitted into 32x32 keeping the aspect ratio: 32x24
    assert video.frames[0].shape == (24, 32, 3)
    assert video.source_size == (64, 48)
    # a box larger than the source gives the source's size, not an upscaled copy
    assert decode_video(DecodeInputs(_video(tmp_path / "b.mp4"), (640, 640), FRAMES),
                        TaskState()).frames[0].shape == (48, 64, 3)


def test_memory_budget_bounds_the_frame_size() -> None:
    from studio.ui.ranking.decode import fit_frame, frame_pixels

    pixels = frame_pixels(videos=8, frames=1000, budget=8 * 1000 * 3 * 100 * 100)
    assert pixels == 100 * 100
    assert fit_frame((480, 480), (800, 300), pixels) == (100, 100)  # the budget limits
    assert fit_frame((480, 240), (150, 400), 10**6) == (150, 75)  # the cell's width limits
    assert fit_frame((64, 48), (800, 800), 10**6) == (64, 48)  # never enlarged


def test_decode_reports_a_truncated_file(tmp_path: Path) -> None:
    from studio.ui.ranking.decode import DecodeInputs, decode_video
    from studio.ui.workers import TaskState

    path = _video(tmp_path / "cut.mp4")
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    video = decode_video(DecodeInputs(path, (32, 32), FRAMES), TaskState())
    assert "truncated" in video.problem and video.done
    shorter = decode_video(DecodeInputs(_video(tmp_path / "short.mp4", frames=5), (32, 32), FRAMES),
                           TaskState())
    assert shorter.problem == "video truncated: 5 of 20 frames"


def test_missing_video_is_shown_in_its_cell_and_the_rest_play(tmp_path: Path, make_view: Any) -> None:
    infos = [_info(1, _video(tmp_path / "a.mp4")), _info(2, tmp_path / "gone.mp4"),
             _info(3, None)]
    view = make_view(infos)
    assert view.cells[1].message == "video missing: gone.mp4"
    assert view.cells[2].message == "no video recorded"
    view.playhead.seek(5)
    assert view.cells[0].shown_frame == 5
    assert view.cells[1].shown_frame == -1  # nothing to show, and no crash
    view.grab()  # paints the message


def _grey(cell: Any) -> float:
    image = cell.grab().toImage()
    colour = image.pixelColor(image.width() // 2, image.height() // 2)
    return float(colour.red())


def test_one_playhead_moves_every_video(tmp_path: Path, make_view: Any) -> None:
    infos = [_info(i + 1, _video(tmp_path / f"v{i}.mp4")) for i in range(3)]
    view = make_view(infos)
    view.playhead.seek(7)
    assert [c.shown_frame for c in view.cells] == [7, 7, 7]
    assert all(abs(_grey(c) - 70) <= 4 for c in view.cells)  # the pixels of frame 7
    view.playhead.set_speed(2.0)
    view.playhead.advance(0.25)  # 0.25 s at 20 frames/s, twice as fast: 10 frames on
    assert [c.shown_frame for c in view.cells] == [17, 17, 17]
    assert view.bar.slider.value() == 17
    view.playhead.advance(0.25)  # past the end, looping: frame 27 of 20 is frame 7
    assert [c.shown_frame for c in view.cells] == [7, 7, 7]
    from PySide6.QtCore import Qt
    from PySide6.QtTest import QTest

    view.playhead.seek(3)
    QTest.keyClick(view, Qt.Key.Key_Right)
    assert [c.shown_frame for c in view.cells] == [4, 4, 4]
    QTest.keyClick(view, Qt.Key.Key_Left, Qt.KeyboardModifier.ShiftModifier)
    assert [c.shown_frame for c in view.cells] == [0, 0, 0]


def test_playing_advances_all_videos_together(tmp_path: Path, make_view: Any, qtbot: Any) -> None:
    infos = [_info(i + 1, _video(tmp_path / f"v{i}.mp4")) for i in range(2)]
    view = make_view(infos)
    view.playhead.play()
    qtbot.waitUntil(lambda: view.playhead.position >= 3, timeout=5000)
    view.playhead.pause()
    frames = {c.shown_frame for c in view.cells}
    assert frames == {view.playhead.position}


def test_speed_is_remembered_as_the_default(tmp_path: Path, make_view: Any) -> None:
    from studio.ui.ranking.playhead import Playhead, default_speed

    view = make_view([_info(1, _video(tmp_path / "a.mp4")), _info(2, _video(tmp_path / "b.mp4"))])
    view.bar.speed_box.setCurrentIndex(view.bar.speed_box.findData(0.5))
    assert view.playhead.speed == 0.5
    assert default_speed() == 0.5
    assert Playhead(10).speed == 0.5  # the next view starts at it
    view.bar.speed_box.setCurrentIndex(view.bar.speed_box.findData(1.0))


def test_click_on_the_timeline_seeks_every_video(tmp_path: Path, make_view: Any, qtbot: Any) -> None:
    from PySide6.QtCore import QPoint, QPointF, Qt

    from studio.app.rollouts import record_rollout
    from studio.sim.registry import get_task

    task = get_task("InvertedPendulum-v5")
    trace = record_rollout(task, task.task_design(), "random", steps=FRAMES, seed=0)
    view = make_view([_info(i + 1, _video(tmp_path / f"v{i}.mp4")) for i in range(2)])
    view.timeline.show_series({**trace.components, "task_reward": trace.task_reward})
    assert set(view.timeline.chart.term_curves) == set(trace.components)
    qtbot.wait(50)  # layout of the chart
    plot = view.timeline.chart.score
    scene = plot.vb.mapViewToScene(QPointF(12, 0.5))
    gv = view.timeline.chart.layout_widget
    at = gv.mapFromScene(scene)
    qtbot.mouseClick(gv.viewport(), Qt.MouseButton.LeftButton, pos=QPoint(at.x(), at.y()))
    assert view.playhead.position == 12
    assert [c.shown_frame for c in view.cells] == [12, 12]
    assert view.timeline.position == 12  # the cursor follows the playhead
    view.playhead.seek(4)
    assert view.timeline.position == 4


def test_returns_are_hidden_until_asked(tmp_path: Path, make_view: Any) -> None:
    from PySide6.QtCore import Qt
    from PySide6.QtTest import QTest

    view = make_view([_info(1, _video(tmp_path / "a.mp4")), _info(2, _video(tmp_path / "b.mp4"))])
    assert not any(c.show_returns for c in view.cells)
    QTest.keyClick(view, Qt.Key.Key_R)
    assert all(c.show_returns for c in view.cells)
    assert "alive  2.00" in view.cells[1].returns_text


def test_any_one_video_goes_full_screen_and_back(tmp_path: Path, make_view: Any, qtbot: Any) -> None:
    from PySide6.QtCore import Qt
    from PySide6.QtTest import QTest

    big = (640, 480)  # larger than a grid cell, not larger than the 800x800 offscreen screen
    view = make_view([_info(i + 1, _video(tmp_path / f"v{i}.mp4", size=big)) for i in range(3)])
    small = view.cells[1].video.frames[0].shape
    assert small[1] < 640
    qtbot.mouseDClick(view.cells[1], Qt.MouseButton.LeftButton)
    assert view.grid.zoomed == 1 and view.focused == 1
    assert [c.isVisible() for c in view.cells] == [False, True, False]
    # decoded again for the larger cell: the source at its full size
    qtbot.waitUntil(lambda: view.cells[1].video.done and view.cells[1].video.frames[0].shape != small,
                    timeout=10_000)
    assert view.cells[1].video.frames[0].shape == (480, 640, 3)
    view.playhead.seek(9)
    assert view.cells[1].shown_frame == 9
    QTest.keyClick(view, Qt.Key.Key_Escape)
    assert view.grid.zoomed is None and all(c.isVisible() for c in view.cells)
    assert not view.window().isFullScreen()


def test_timeline_fills_each_terms_band_in_its_colour(qtbot: Any) -> None:
    from PySide6.QtCore import QPointF
    from PySide6.QtGui import QColor

    from studio.ui.ranking.timeline import TermTimeline
    from studio.ui.term_colours import term_colour

    timeline = TermTimeline()
    qtbot.addWidget(timeline)
    timeline.resize(600, 400)
    timeline.show()
    n = 50
    timeline.show_series({"forward": np.full(n, 2.0), "ctrl_cost": np.full(n, -1.0),
                          "task_reward": np.full(n, 1.0)})
    qtbot.wait(50)
    plot = timeline.chart.stack
    plot.setYRange(-1.5, 2.5, padding=0)
    qtbot.wait(50)
    image = timeline.chart.layout_widget.grab().toImage()

    def colour_at(step: float, value: float) -> QColor:
        p = timeline.chart.layout_widget.mapFromScene(plot.vb.mapViewToScene(QPointF(step, value)))
        return image.pixelColor(p.x(), p.y())

    def hue_close(c: QColor, name: str) -> bool:
        return abs(c.hsvHue() - QColor(term_colour(name)).hsvHue()) <= 12 and c.value() > 60

    assert hue_close(colour_at(27.3, 1.27), "forward")  # the positive band, from 0 up to 2
    assert hue_close(colour_at(27.3, -0.63), "ctrl_cost")  # the negative band, from 0 down to -1
    # Above the stack nothing is filled: the plot's background, which has no term's hue.
    assert colour_at(27.3, 2.27).hsvSaturation() < 40


def test_drop_events_on_the_strip_make_a_tie_and_a_new_place(qtbot: Any) -> None:
    from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt
    from PySide6.QtGui import QDragEnterEvent, QDropEvent
    from PySide6.QtWidgets import QApplication

    from studio.ui.ranking.grid import MIME
    from studio.ui.ranking.order import RankOrder
    from studio.ui.ranking.strip import RankStrip, _Target

    order = RankOrder(3)
    order.pick(0)
    strip = RankStrip()
    qtbot.addWidget(strip)
    strip.moved.connect(lambda v, k, join: (order.move(v, k, join), strip.show_order(order)))
    strip.show_order(order)
    strip.show()

    def drop(kind: str, k: int, video: int) -> None:
        target = next(t for t in strip.findChildren(_Target)
                      if t.kind == kind and t.k == k and not t.isHidden())
        mime = QMimeData()
        mime.setData(MIME, str(video).encode())
        args = (Qt.DropAction.MoveAction, mime, Qt.MouseButton.LeftButton,
                Qt.KeyboardModifier.NoModifier)
        enter = QDragEnterEvent(QPoint(3, 3), *args)
        QApplication.sendEvent(target, enter)  # Qt delivers a drop only after an accepted enter
        assert enter.isAccepted()
        QApplication.sendEvent(target, QDropEvent(QPointF(3, 3), *args))
        QApplication.processEvents()  # the old targets are deleted later

    drop("place", 0, 2)  # video 3 onto the first place: tied with video 1
    assert order.tiers == [[0, 2]]
    drop("gap", 0, 1)  # video 2 before it: a first place of its own
    assert order.tiers == [[1], [0, 2]]


def test_zoomed_timeline_follows_the_playhead(qtbot: Any) -> None:
    from studio.ui.ranking.timeline import FOLLOW_STEPS, TermTimeline

    timeline = TermTimeline()
    qtbot.addWidget(timeline)
    n = 1000
    timeline.show_series({"forward": np.linspace(0, 1, n), "task_reward": np.ones(n)})
    timeline.set_follow(True)
    timeline.set_position(500)
    x0, x1 = timeline.chart.stack.viewRange()[0]
    assert (x0, x1) == pytest.approx((500 - FOLLOW_STEPS / 2, 500 + FOLLOW_STEPS / 2))
    timeline.set_position(990)  # near the end the window stops at the last step
    assert timeline.chart.stack.viewRange()[0] == pytest.approx([n - FOLLOW_STEPS, n])
    assert timeline.chart.score.viewRange()[0] == pytest.approx([n - FOLLOW_STEPS, n])  # linked
    timeline.set_follow(False)
    x0, x1 = timeline.chart.stack.viewRange()[0]
    assert x0 <= 0 and x1 >= n
