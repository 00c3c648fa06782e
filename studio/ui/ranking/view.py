"""The ranking view: 2 to 8 rollout videos in sync, a per-term timeline, and the ranking.

Everything moves from one :class:`~studio.ui.ranking.playhead.Playhead`: the cells paint its
frame and the timeline puts its cursor there; a click on the timeline seeks it. Videos are
decoded in worker threads (:func:`~studio.ui.ranking.decode.decode_video`), and the
focused rollout's per-step term contributions are computed there too
(``RankingService.term_series``), so the view never blocks.

Keys (also listed under the strip):
``1``–``8`` place that video next; ``=`` (or ``T``) then a number: tie it with the last
place; ``Backspace`` takes back; ``Enter`` saves; ``S`` skips the set; ``Space`` plays or
pauses; ``←``/``→`` step (with ``Shift``: 10 steps); ``Home`` back to the start; ``L``
loop; ``[``/``]`` slower/faster; ``F`` full screen for the focused video (``Esc`` back);
``R`` shows or hides per-term returns (hidden at first, so as not to bias the ranker);
``Z`` zooms the timeline to the steps around the playhead.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QKeyEvent, QResizeEvent, QShowEvent
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from studio.errors import user_message
from studio.ui.ranking.controls import TransportBar, button
from studio.ui.ranking.decode import DecodedVideo, DecodeInputs, decode_video, frame_pixels
from studio.ui.ranking.grid import VideoCell, VideoGrid, cell_title, returns_text
from studio.ui.ranking.order import RankOrder
from studio.ui.ranking.playhead import Playhead
from studio.ui.ranking.strip import RankStrip, ordinal
from studio.ui.ranking.timeline import TermTimeline
from studio.ui.workers import TaskRunner, TaskState

__all__ = ["KEYS_HELP", "RankingView"]

KEYS_HELP = ("1–8 place · = then a number: tie · Backspace undo · Enter save · S skip set · "
             "Space play/pause · ←/→ step · L loop · [ ] speed · F full screen · R returns · Z zoom")
MAX_VIDEOS = 8
RESIZE_MS = 400


def _series(inputs: tuple[Any, int, Any], _state: TaskState) -> tuple[int, dict[str, Any]]:
    service, rollout_id, design = inputs
    return rollout_id, service.term_series(rollout_id, design)


class RankingView(QWidget):
    """Rank a set of rollouts.

    Args:
        service: a ``studio.app.ranking.RankingService``.
        rollouts: 2 to 8 ``RolloutInfo`` (cell order).
        design: the design whose terms the timeline shows (None: each rollout's own).
        round_id: the refinement round the ranking belongs to, if any.
        autoplay: start playing at once (at the remembered default speed).

    Signals:
        saved(int): the id of the stored ranking (also for a skipped set).
        message(str): a note for the user (also shown in the view's status line).
    """

    saved = Signal(int)
    message = Signal(str)

    def __init__(self, service: Any, rollouts: list[Any], design: Any = None,
                 round_id: int | None = None, autoplay: bool = True,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        if not 2 <= len(rollouts) <= MAX_VIDEOS:
            raise ValueError(f"rank 2 to {MAX_VIDEOS} rollouts at a time, not {len(rollouts)}")
        self.service, self.rollouts, self.design, self.round_id = service, list(rollouts), design, round_id
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.order = RankOrder(len(rollouts))
        length = max(int(r.length or 0) for r in rollouts)
        self.playhead = Playhead(length, parent=self)
        self.cells = [VideoCell(i, cell_title(r)) for i, r in enumerate(rollouts)]
        self.grid = VideoGrid(self.cells)
        self.timeline = TermTimeline()
        self.strip = RankStrip()
        self.focused = 0
        self._was_full = False
        self.saved_id: int | None = None
        """The ranking this view stored (a view saves once)."""
        """Whether the window was full screen before a video went full screen."""
        self._series_cache: dict[int, dict[str, Any]] = {}
        self._series_runner = TaskRunner(self)
        self._decoders = [TaskRunner(self) for _ in rollouts]
        self._build()
        self._connect()
        for i, r in enumerate(rollouts):
            self.cells[i].set_returns(returns_text(r), False)
        self.set_focused(0)
        self._refresh_order()
        self._decoding = False
        self._box: tuple[int, int] | None = None
        """The frame box the grid's videos were last decoded for."""
        self._resize_timer = QTimer(self)
        self._resize_timer.setSingleShot(True)
        self._resize_timer.setInterval(RESIZE_MS)
        self._resize_timer.timeout.connect(self._decode_all)
        if autoplay:
            self.playhead.play()

    # --- building ----------------------------------------------------------------------------
    def _build(self) -> None:
        self.bar = TransportBar(self.playhead, self.toggle_full_screen)
        self.comment = QLineEdit()
        self.comment.setPlaceholderText("Comment (optional), e.g. “falls at the end”")
        self.skip_button = button("Skip set", "Store this set as skipped (S)", self.skip)
        self.save_button = button("Save ranking", "Save the ranking (Enter)", self.save)
        rank_row = QHBoxLayout()
        rank_row.addWidget(self.strip, 1)
        rank_row.addWidget(self.comment, 1)
        rank_row.addWidget(self.skip_button)
        rank_row.addWidget(self.save_button)
        self.status = QLabel("")
        self.status.setObjectName("ranking_status")
        self.status.setWordWrap(True)
        help_ = QLabel(KEYS_HELP)
        help_.setStyleSheet("color: palette(mid);")

        self.split = QSplitter(Qt.Orientation.Vertical)
        self.split.addWidget(self.grid)
        self.split.addWidget(self.timeline)
        self.split.setStretchFactor(0, 3)
        self.split.setStretchFactor(1, 1)
        self.timeline.setMinimumHeight(220)
        self.split.setChildrenCollapsible(False)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(6, 6, 6, 6)
        lay.addWidget(self.bar)
        lay.addWidget(self.split, 1)
        lay.addLayout(rank_row)
        status_row = QHBoxLayout()
        status_row.addWidget(self.status, 1)
        status_row.addWidget(help_)
        lay.addLayout(status_row)

    def _connect(self) -> None:
        ph = self.playhead
        ph.positionChanged.connect(self._on_position)
        self.bar.returns_box.toggled.connect(self.set_returns_visible)
        self.bar.follow_box.toggled.connect(self.timeline.set_follow)
        self.timeline.seekRequested.connect(ph.seek)
        self.strip.moved.connect(lambda v, k, join: self._change(self.order.move, v, k, join))
        self.strip.unplaced.connect(lambda v: self._change(self.order.unplace, v))
        for cell in self.cells:
            cell.clicked.connect(self.set_focused)
            cell.fullScreenRequested.connect(self._cell_full_screen)
        for i, runner in enumerate(self._decoders):
            runner.partial_result.connect(lambda v, i=i: self._on_video(i, v))
            runner.finished.connect(lambda v, i=i: self._on_video(i, v))
            runner.failed.connect(lambda m, _tb, i=i: self._on_decode_failed(i, m))
        self._series_runner.finished.connect(self._on_series)
        self._series_runner.failed.connect(lambda m, _tb: self.timeline.show_message(f"cannot compute the terms: {m}"))
        self._on_position(ph.position)

    # --- videos ------------------------------------------------------------------------------
    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 - Qt's name
        """Decode once the cells have their size (frames are decoded at that size)."""
        super().showEvent(event)
        if not self._decoding:
            self._decoding = True
            h = max(self.split.height(), 400)
            self.split.setSizes([int(h * 0.64), h - int(h * 0.64)])
            QTimer.singleShot(0, self._decode_all)

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 - Qt's name
        """Decode again at the new cell size once resizing stops (if it changed much)."""
        super().resizeEvent(event)
        if self._decoding:
            self._resize_timer.start()

    def _decode_all(self) -> None:
        if self.grid.zoomed is not None:
            return  # the full-screen video has its own size; the grid decodes when it is back
        box = self.grid.cell_box()
        old = self._box
        if old is not None and all(abs(a - b) <= 0.15 * b for a, b in zip(box, old, strict=True)):
            return
        self._box = box
        self._start_decoding(box, frame_pixels(len(self.rollouts), max(self.playhead.length, 1)))

    def _start_decoding(self, cell: tuple[int, int], pixels: int, only: int | None = None) -> None:
        for i, r in enumerate(self.rollouts):
            if only is None or i == only:
                inputs = DecodeInputs(r.video_path, cell, int(r.length or 0) or None, pixels)
                self._decoders[i].start(decode_video, inputs)

    def _on_video(self, i: int, video: DecodedVideo) -> None:
        shown = self.cells[i].video
        if not video.done and shown is not None and shown.done and not shown.problem:
            return  # decoding again at another size: keep the complete video until it is done
        self.cells[i].set_video(video)
        if video.fps > 0 and i == 0:
            self.playhead.fps = video.fps

    def _on_decode_failed(self, i: int, message: str) -> None:
        self.cells[i].set_video(DecodedVideo(done=True, problem=f"cannot decode: {message}"))

    def _on_position(self, frame: int) -> None:
        for cell in self.cells:
            cell.show_frame(frame)
        self.timeline.set_position(frame)

    def set_returns_visible(self, visible: bool) -> None:
        """Show or hide every cell's per-term returns."""
        if self.bar.returns_box.isChecked() != visible:
            self.bar.returns_box.setChecked(visible)
            return
        for cell, r in zip(self.cells, self.rollouts, strict=True):
            cell.set_returns(returns_text(r), visible)

    def toggle_full_screen(self) -> None:
        """The focused video alone (decoded again at the larger size), or the grid again."""
        self._cell_full_screen(None if self.grid.zoomed is not None else self.focused)

    def _cell_full_screen(self, index: int | None) -> None:
        if index is not None and self.grid.zoomed == index:
            index = None
        window = self.window()
        if index is None:
            back = self.grid.zoomed
            self.grid.zoom(None)
            if window.isFullScreen() and not self._was_full:
                window.showNormal()
            box = self._box = self.grid.cell_box()
            pixels = frame_pixels(len(self.rollouts), max(self.playhead.length, 1))
        else:
            back = index
            self.set_focused(index)
            if self.grid.zoomed is None:
                self._was_full = window.isFullScreen()
            self.grid.zoom(index)
            window.showFullScreen()
            screen = window.screen().size() if window.screen() is not None else None
            size = (screen.width(), screen.height()) if screen is not None else (1280, 800)
            box, pixels = size, frame_pixels(1, max(self.playhead.length, 1))
        self._start_decoding(box, pixels, only=index if index is not None else back)

    # --- the timeline ------------------------------------------------------------------------
    def set_focused(self, index: int) -> None:
        """Show video ``index``'s terms in the timeline."""
        self.focused = index
        for cell in self.cells:
            cell.set_focused(cell.index == index)
        rollout = self.rollouts[index]
        if rollout.id in self._series_cache:
            self.timeline.show_series(self._series_cache[rollout.id], self._timeline_title(index))
        elif self.service is None:
            self.timeline.show_message("no workspace: the terms are not available")
        else:
            self.timeline.show_message(f"computing the terms of rollout {rollout.id}…")
            self._series_runner.start(_series, (self.service, rollout.id, self.design))

    def _timeline_title(self, index: int) -> str:
        name = getattr(self.design, "name", None) or "the design it was recorded with"
        return f"video {index + 1} (rollout {self.rollouts[index].id}) under {name}"

    def _on_series(self, result: tuple[int, dict[str, Any]]) -> None:
        rollout_id, series = result
        self._series_cache[rollout_id] = series
        if self.rollouts[self.focused].id == rollout_id:
            self.timeline.show_series(series, self._timeline_title(self.focused))
            self.timeline.set_position(self.playhead.position)

    # --- ranking -----------------------------------------------------------------------------
    def _change(self, fn: Any, *args: Any) -> None:
        fn(*args)
        self._refresh_order()

    def _refresh_order(self) -> None:
        self.strip.show_order(self.order)
        for cell in self.cells:
            k = self.order.place_of(cell.index)
            tied = k is not None and len(self.order.tiers[k]) > 1
            place = "" if k is None else f"{'=' if tied else ''}{ordinal(k + 1)}"
            cell.set_marks(place, self.order.mark(cell.index))

    def ranked_ids(self) -> list[list[int]]:
        """The ranking as rollout ids, best place first."""
        return [[self.rollouts[i].id for i in tier] for tier in self.order.completed()]

    def save(self) -> int | None:
        """Store the ranking (every video placed; one left over goes last); its id or None."""
        tiers = self.order.completed()
        if sum(len(t) for t in tiers) < len(self.rollouts):
            left = len(self.rollouts) - sum(len(t) for t in tiers)
            self._say(f"Not saved: {left} videos have no place yet. Press their numbers "
                      "(or drag them onto the strip), or S to skip this set.")
            return None
        return self._store(self.ranked_ids(), skipped=False)

    def skip(self) -> int | None:
        """Store the set as skipped (no order); its id or None."""
        return self._store([[r.id for r in self.rollouts]], skipped=True)

    def _store(self, tiers: list[list[int]], skipped: bool) -> int | None:
        if self.saved_id is not None:
            self._say(f"Already saved as ranking {self.saved_id}; pick another set to rank more.")
            return None
        ids = {i for t in tiers for i in t}
        try:
            alive = {r.id for r in self.service.rollouts(ids=sorted(ids))}
            gone = sorted(ids - alive)
            if gone:
                self._say(f"Not saved: rollout {', '.join(map(str, gone))} was deleted from the "
                          "workspace. Close this view and pick the set again.")
                return None
            ranking_id = int(self.service.save_ranking(
                tiers, comment=self.comment.text().strip() or None, round_id=self.round_id,
                skipped=skipped))
        except Exception as exc:  # noqa: BLE001 - shown to the user, the view stays usable
            self._say(f"Not saved: {user_message(exc) or f'{type(exc).__name__}: {exc}'}")
            return None
        self.saved_id = ranking_id
        self._say(f"Ranking {ranking_id} saved" + (" (set skipped)" if skipped else ""))
        self.saved.emit(ranking_id)
        return ranking_id

    def _say(self, text: str) -> None:
        self.status.setText(text)
        self.message.emit(text)

    # --- keys --------------------------------------------------------------------------------
    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 - Qt's name
        key, mods = event.key(), event.modifiers()
        ph = self.playhead
        big = 10 if mods & Qt.KeyboardModifier.ShiftModifier else 1
        if Qt.Key.Key_1 <= key <= Qt.Key.Key_8 and key - Qt.Key.Key_1 < len(self.rollouts):
            self._change(self.order.pick, key - Qt.Key.Key_1)
        elif key in (Qt.Key.Key_Equal, Qt.Key.Key_T):
            self._change(self.order.arm_tie)
        elif key == Qt.Key.Key_Backspace:
            self._change(self.order.undo)
        elif key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self.save()
        elif key == Qt.Key.Key_S:
            self.skip()
        elif key == Qt.Key.Key_Space:
            ph.toggle()
        elif key == Qt.Key.Key_Left:
            ph.step(-big)
        elif key == Qt.Key.Key_Right:
            ph.step(big)
        elif key == Qt.Key.Key_Home:
            ph.seek(0)
        elif key == Qt.Key.Key_L:
            self.bar.loop_box.toggle()
        elif key in (Qt.Key.Key_BracketLeft, Qt.Key.Key_BracketRight):
            self.bar.change_speed(1 if key == Qt.Key.Key_BracketRight else -1)
        elif key == Qt.Key.Key_F or (key == Qt.Key.Key_Escape and self.grid.zoomed is not None):
            self.toggle_full_screen()
        elif key == Qt.Key.Key_Escape and self.comment.hasFocus():
            self.setFocus()  # leave the comment, keep the view open
        elif key == Qt.Key.Key_R:
            self.bar.returns_box.toggle()
        elif key == Qt.Key.Key_Z:
            self.bar.follow_box.toggle()
        else:
            super().keyPressEvent(event)

    def shutdown(self) -> None:
        """Stop playback and every worker (closing the view)."""
        self.playhead.pause()
        self._series_runner.cancel()
        for runner in self._decoders:
            runner.cancel()

