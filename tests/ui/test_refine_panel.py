"""The Refinement panel drives one round: real training processes, real videos, a ranking
made with keys in the ranking view it opens, then the loop finishes by itself."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QPlainTextEdit

from studio.core.design import Design, Group, Term

ENV = "InvertedPendulum-v5"


@pytest.mark.slow
@pytest.mark.timeout(900)  # real training processes and videos on a shared 2-core machine
def test_panel_runs_a_round_opens_the_ranking_view_and_finishes_after_the_ranking(
        qtbot: Any, tmp_path: Path) -> None:
    from studio.app.refine import RefineService
    from studio.store import Workspace
    from studio.train.runners.local import LocalRunner
    from studio.ui.refine.panel import RefinePanel

    design = Design("pendulum", ENV, Group("reward", [Term("alive", "healthy"),
                                                      Term("effort", "ctrl_sq", weight=-0.5)]))
    ws = Workspace.open(tmp_path / "ws")
    service = RefineService(ws, runner=LocalRunner(cpu_slots=2, gpu=False))
    panel = RefinePanel(service, design, ENV)
    qtbot.addWidget(panel)
    panel.show()
    try:
        panel.rounds.setValue(1)
        panel.k.setValue(2)
        panel.steps.setValue(512)
        panel.rollout_steps.setValue(20)
        panel.rank.setCurrentText("app")
        assert panel.start_btn.isEnabled() and not panel.rank_btn.isEnabled()
        with qtbot.waitSignal(panel.rankingOpened, timeout=800_000) as opened:
            qtbot.mouseClick(panel.start_btn, Qt.MouseButton.LeftButton)
        view = opened.args[0]
        qtbot.addWidget(view)
        # The tree shows the round and both candidates, recorded, with where they trained.
        top = panel.tree.topLevelItem(0)
        assert top.text(0) == "round 1" and top.childCount() == 2
        assert [top.child(i).text(1) for i in range(2)] == ["recorded", "recorded"]
        assert all(top.child(i).text(2).startswith("local pid") for i in range(2))
        assert panel.rank_btn.isEnabled() and not panel.start_btn.isEnabled()
        # The selected candidate's training curve is drawn from its stored metrics.
        panel.tree.setCurrentItem(top.child(0))
        xs, _ys = panel.curve.getData()
        assert xs is not None and len(xs) > 0
        # Rank with keys: video 2 first, then video 1; Enter saves and the loop resumes.
        qtbot.waitUntil(lambda: all(c.video is not None and c.video.done for c in view.cells),
                        timeout=30_000)
        view.setFocus()
        for key in (Qt.Key.Key_2, Qt.Key.Key_1, Qt.Key.Key_Return):
            qtbot.keyClick(view, key)
        exp = panel.experiment
        assert exp is not None
        qtbot.waitUntil(lambda: service.status(exp)[0] == "done", timeout=60_000)
        state = service.state(exp)
        rollouts = [c.rollout_id for c in state.rounds[0].candidates]
        (stored,) = service.ranking.rankings(round_id=state.rounds[0].id)
        assert stored.tiers == [[rollouts[1]], [rollouts[0]]]
        qtbot.waitUntil(lambda: panel.start_btn.isEnabled(), timeout=10_000)
        assert "done" in panel.status.text()
    finally:
        panel.shutdown()
        ws.close()


def test_llm_settings_test_the_connection_against_a_local_server(qtbot: Any, tmp_path: Path) -> None:
    from studio.app.refine import RefineService
    from studio.store import Workspace
    from studio.train.runners.local import LocalRunner
    from studio.ui.refine.panel import RefinePanel
    from tests.refine.test_llm import ChatServer

    server = ChatServer([("content", "OK"), ("status", 500)])
    ws = Workspace.open(tmp_path / "ws")
    panel = RefinePanel(RefineService(ws, runner=LocalRunner(cpu_slots=1, gpu=False)),
                        Design("d", ENV, Group("reward", [Term("alive", "healthy")])), ENV)
    qtbot.addWidget(panel)
    try:
        assert not panel.test_btn.isEnabled()  # only for the llm proposer
        panel.proposer.setCurrentText("llm")
        assert panel.test_btn.isEnabled() and not panel.prompt_btn.isEnabled()
        panel.endpoint.setText(server.url)
        panel.model.setText("local-model")
        panel.api_key.setText("sk-panel")
        qtbot.mouseClick(panel.test_btn, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: panel.status.text().startswith("Connected"), timeout=20_000)
        assert "local-model answered" in panel.status.text()
        qtbot.mouseClick(panel.test_btn, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: panel.status.text().startswith("No connection"), timeout=20_000)
        assert "HTTP 500" in panel.status.text()
        assert server.auth == ["Bearer sk-panel"] * 2
    finally:
        panel.shutdown()
        ws.close()
        server.close()


def test_after_a_ranking_the_llm_prompt_is_shown_and_sent_only_on_send(qtbot: Any, tmp_path: Path) -> None:
    from studio.app.refine import RefineConfig, RefineService
    from studio.store import Workspace
    from studio.train.runners.local import LocalRunner
    from studio.ui.refine.panel import RefinePanel
    from tests.app.test_refine import recorded_round
    from tests.refine.test_llm import ChatServer

    design = Design("d", ENV, Group("reward", [Term("alive", "healthy"),
                                               Term("effort", "ctrl_sq", weight=-0.5)]))
    reply = "```json\n" + design.dumps() + "\n```"
    server = ChatServer([("content", reply)] * 2)
    ws = Workspace.open(tmp_path / "ws")
    service = RefineService(ws, runner=LocalRunner(cpu_slots=1, gpu=False))
    panel = RefinePanel(service, design, ENV)
    qtbot.addWidget(panel)
    try:
        cfg = RefineConfig(rounds=2, k=2, steps_per_candidate=256, rollout_steps=15,
                           video=True, proposer_options={"base_url": server.url})
        panel.experiment = exp = service.create(design, ENV, "llm", "app", cfg)
        recorded_round(service, exp, video=True)
        assert service.step(exp).__class__.__name__ == "AwaitRanking"
        with qtbot.waitSignal(panel.rankingOpened, timeout=20_000) as opened:
            panel.refresh()  # the round awaits a ranking: the view opens on its videos
        view = opened.args[0]
        qtbot.addWidget(view)
        qtbot.waitUntil(lambda: all(c.video is not None and c.video.done for c in view.cells),
                        timeout=30_000)
        qtbot.keyClicks(view.comment, "keeps falling")
        view.setFocus()
        with qtbot.waitSignal(panel.promptShown, timeout=20_000) as shown:
            for key in (Qt.Key.Key_1, Qt.Key.Key_2, Qt.Key.Key_Return):
                qtbot.keyClick(view, key)
        dialog = shown.args[0]
        text = dialog.findChild(QPlainTextEdit).toPlainText()
        assert "keeps falling" in text and "Reward reflection" not in text  # untrained: no curves
        qtbot.wait(300)
        assert server.requests == []  # nothing is sent before Send
        qtbot.mouseClick(dialog.send_btn, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: len(server.requests) == 2, timeout=60_000)
        sent = server.requests[0]["messages"][1]["content"]
        assert "keeps falling" in sent and sent in text
    finally:
        panel.shutdown()
        ws.close()
        server.close()
