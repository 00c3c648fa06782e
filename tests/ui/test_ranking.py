"""The ranking view over a real workspace: rankings made with the keys, stored and read back.

Rollouts are recorded by the real ``RankingService`` (InvertedPendulum, a few dozen
steps, real H.264 videos) into a temporary workspace.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

ENV = "InvertedPendulum-v5"
STEPS = 30


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: Any) -> Path:
    """A workspace folder holding three recorded rollouts with videos (made once)."""
    from studio.app.ranking import RankingService
    from studio.sim.registry import get_task
    from studio.store import Workspace

    root = tmp_path_factory.mktemp("ranking_ws")
    ws = Workspace.open(root)
    try:
        service = RankingService(ws)
        design = get_task(ENV).task_design()
        for seed in range(3):
            service.record(ENV, "random", design=design, steps=STEPS, seed=seed, video=True,
                           size=(96, 96))  # small frames: the test is about the view
    finally:
        ws.close()
    return root


@pytest.fixture
def service(recorded: Path, tmp_path: Path) -> Any:
    """A RankingService on a fresh copy of the recorded workspace."""
    import shutil

    from studio.app.ranking import RankingService
    from studio.store import Workspace

    root = tmp_path / "ws"
    shutil.copytree(recorded, root, ignore=shutil.ignore_patterns("*.lock", "lock"))
    ws = Workspace.open(root)
    yield RankingService(ws)
    ws.close()


@pytest.fixture
def make_view(qtbot: Any, no_leaked_widgets: None) -> Any:
    from studio.ui.ranking.view import RankingView

    def make(service: Any, infos: list[Any]) -> Any:
        view = RankingView(service, infos, None, autoplay=False)
        qtbot.addWidget(view)
        view.resize(900, 650)
        view.show()
        view.setFocus()
        return view

    return make


def _keys(qtbot: Any, view: Any, *keys: Any) -> None:
    for key in keys:
        qtbot.keyClick(view, key)


def test_ranking_with_a_tie_and_a_comment_made_with_keys_is_stored(
        service: Any, make_view: Any, qtbot: Any) -> None:
    from PySide6.QtCore import Qt

    from studio.app.ranking import RankingService
    from studio.store import Workspace

    infos = service.rollouts(env_id=ENV)
    assert len(infos) == 3
    view = make_view(service, infos)
    qtbot.waitUntil(lambda: all(c.video is not None and c.video.done for c in view.cells), timeout=20_000)
    assert [c.message for c in view.cells] == ["", "", ""]  # real videos, all readable
    # one frame per env step (a random pendulum falls before STEPS: the episode ends there)
    assert [c.video.count for c in view.cells] == [r.length for r in infos]
    assert all(0 < r.length <= STEPS for r in infos)
    # video 2 first, video 3 tied with it, then video 1
    _keys(qtbot, view, Qt.Key.Key_2, Qt.Key.Key_Equal, Qt.Key.Key_3, Qt.Key.Key_1)
    assert view.order.tiers == [[1, 2], [0]]
    assert view.cells[1].mark == "best" and view.cells[2].mark == "best"
    assert view.cells[0].mark == "worst"
    assert view.cells[2].place == "=1st" and view.cells[0].place == "2nd"
    qtbot.mouseClick(view.comment, Qt.MouseButton.LeftButton)
    qtbot.keyClicks(view.comment, "falls at the end")
    with qtbot.waitSignal(view.saved, timeout=5000) as saved:
        qtbot.keyClick(view.comment, Qt.Key.Key_Return)  # Enter in the comment saves too
    ranking_id = saved.args[0]
    qtbot.keyClick(view, Qt.Key.Key_Return)  # a second Enter stores nothing more
    assert len(service.rankings()) == 1

    root = service.workspace.root
    service.workspace.close()
    ws = Workspace.open(root)  # read back from the file, not from the open session
    try:
        stored = {r.id: r for r in RankingService(ws).rankings()}[ranking_id]
    finally:
        ws.close()
    ids = [r.id for r in infos]
    assert [sorted(t) for t in stored.tiers] == [sorted([ids[1], ids[2]]), [ids[0]]]
    assert stored.comment == "falls at the end"
    assert not stored.skipped


def test_skip_key_stores_the_set_as_skipped(service: Any, make_view: Any, qtbot: Any) -> None:
    from PySide6.QtCore import Qt

    view = make_view(service, service.rollouts(env_id=ENV)[:2])
    with qtbot.waitSignal(view.saved, timeout=5000) as saved:
        qtbot.keyClick(view, Qt.Key.Key_S)
    stored = {r.id: r for r in service.rankings()}[saved.args[0]]
    assert stored.skipped


def test_enter_with_videos_unplaced_saves_nothing(service: Any, make_view: Any, qtbot: Any) -> None:
    from PySide6.QtCore import Qt

    view = make_view(service, service.rollouts(env_id=ENV))
    _keys(qtbot, view, Qt.Key.Key_1, Qt.Key.Key_Return)
    assert "2 videos have no place" in view.status.text()
    assert service.rankings() == []
    # the one video left over goes last on its own
    _keys(qtbot, view, Qt.Key.Key_3)
    with qtbot.waitSignal(view.saved, timeout=5000):
        qtbot.keyClick(view, Qt.Key.Key_Return)
    ids = [r.id for r in service.rollouts(env_id=ENV)]
    assert [list(t) for t in service.rankings()[0].tiers] == [[ids[0]], [ids[2]], [ids[1]]]


def test_drops_on_the_strip_place_and_tie_videos(service: Any, make_view: Any, qtbot: Any) -> None:
    view = make_view(service, service.rollouts(env_id=ENV))
    view.strip.dropped(2, "gap", 0)  # video 3 into a first place of its own
    view.strip.dropped(0, "place", 0)  # video 1 onto that place: a tie
    view.strip.dropped(1, "gap", 1)  # video 2 after it
    assert view.order.tiers == [[2, 0], [1]]
    view.strip.dropped(1, "gap", 0)  # video 2 moved to the front
    assert view.order.tiers == [[1], [2, 0]]
    view.strip.dropped(0, "pool", 0)
    assert view.order.tiers == [[1], [2]] and view.order.unplaced == [0]


def test_ranking_naming_a_deleted_rollout_is_refused(service: Any, make_view: Any, qtbot: Any) -> None:
    from PySide6.QtCore import Qt

    from studio.store import models

    infos = service.rollouts(env_id=ENV)
    view = make_view(service, infos)
    with service.workspace.session() as s:
        s.delete(s.get(models.Rollout, infos[2].id))
    _keys(qtbot, view, Qt.Key.Key_1, Qt.Key.Key_2, Qt.Key.Key_3, Qt.Key.Key_Return)
    assert f"rollout {infos[2].id} was deleted" in view.status.text()
    assert service.rankings() == []


def test_picker_lists_rollouts_opens_the_view_and_records(
        service: Any, qtbot: Any, make_context: Any, no_leaked_widgets: None) -> None:
    from studio.sim.registry import get_task
    from studio.ui.ranking.picker import RolloutPicker

    ctx = make_context(task=get_task(ENV))
    picker = RolloutPicker(service, ctx)
    qtbot.addWidget(picker)
    picker.show()
    assert picker.table.rowCount() == 3
    assert not picker.rank_button.isEnabled()
    picker.table.selectRow(0)
    picker.refresh(select=[r.id for r in service.rollouts(env_id=ENV)[:2]])
    assert picker.rank_button.isEnabled()
    dialog = picker.rank_selected()
    assert dialog is not None and len(dialog.view.cells) == 2
    # in random order by default (no position bias), but exactly the selected rollouts
    assert picker.shuffle.isChecked()
    assert sorted(r.id for r in dialog.view.rollouts) == sorted(picker.selected_ids())
    dialog.close()

    picker.policy.setCurrentText("latest checkpoint")
    picker.record()
    assert "has a checkpoint yet" in picker.status.text()  # this workspace trained nothing
    picker.policy.setCurrentText("random")
    picker.steps.setValue(10)
    picker.episodes.setValue(1)
    picker.with_design.setChecked(False)
    with qtbot.waitSignal(picker.recorder.finished, timeout=60_000) as done:
        picker.record()
    (new_id,) = done.args[0]
    assert picker.table.rowCount() == 4
    assert picker.selected_ids() == [new_id]
    new = {r.id: r for r in service.rollouts()}[new_id]
    assert 0 < new.length <= 10 and new.policy == "random"  # one episode, at most 10 steps
    assert new.video_path is not None and new.video_path.is_file()


def test_tools_menu_opens_the_rollout_picker(make_main_window: Any, tmp_path: Path, qtbot: Any) -> None:
    from PySide6.QtWidgets import QDialog

    window = make_main_window(tmp_path / "empty_ws")
    assert window.act_rank.shortcut().toString() == "Ctrl+R"
    window.act_rank.trigger()
    dialogs = [d for d in window.findChildren(QDialog)
               if d.isVisible() and d.windowTitle().startswith("Rank rollouts")]
    assert len(dialogs) == 1
    assert dialogs[0].picker.table.rowCount() == 0
    dialogs[0].close()
    # the editor's agreement strip says how to get rankings
    qtbot.waitUntil(lambda: "No rankings yet" in window.editor.agreement.label.text(), timeout=20_000)
