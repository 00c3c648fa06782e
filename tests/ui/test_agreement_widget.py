"""The editor's live agreement strip, over a real workspace with recorded rollouts and a ranking.

The ranking is made to order the rollouts exactly as the task's own reward does, so by
hand: τ-b is +1 and every pair is in order; negating the design reverses every pair
(τ-b −1, no pair in order); scaling it by a positive constant changes nothing.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

ENV = "HalfCheetah-v5"  # never terminates: every return is a sum of continuous terms


def _context_on_workspace(tmp_path: Path, make_context: Any) -> tuple[Any, Any, Any]:
    from studio.app.ranking import RankingService
    from studio.sim.registry import get_task
    from studio.store import Workspace

    task = get_task(ENV)
    design = task.task_design()
    ws = Workspace.open(tmp_path / "ws")
    service = RankingService(ws)
    infos = [service.record(ENV, "random", design=design, steps=20, seed=s, video=False)
             for s in range(3)]
    by_return = sorted(infos, key=lambda r: r.design_return, reverse=True)
    assert len({r.design_return for r in infos}) == 3
    service.save_ranking([[r.id] for r in by_return], comment="by hand")
    ctx = make_context(design, task=task)
    ctx.set_workspace(ws)
    return ctx, ws, service


def test_agreement_updates_after_each_design_edit(
        tmp_path: Path, make_context: Any, qtbot: Any, no_leaked_widgets: None) -> None:
    from studio.ui.editor.agreement import AgreementWidget

    ctx, ws, _service = _context_on_workspace(tmp_path, make_context)
    try:
        widget = AgreementWidget(ctx)
        qtbot.addWidget(widget)
        widget.show()
        qtbot.waitUntil(lambda: widget.result is not None, timeout=20_000)
        assert widget.result.rankings == 1 and widget.result.pairs == 3
        assert widget.result.kendall_tau == 1.0 and widget.result.pair_accuracy == 1.0
        assert "τ-b +1.00" in widget.label.text() and "1 ranking, 3 pairs" in widget.label.text()

        model = ctx.design_model
        for term in model.design.terms():
            model.edit(term, {"weight": -term.weight}, f"negate {term.name}")
        with qtbot.waitSignal(widget.runner.finished, timeout=20_000):
            pass
        assert widget.result.kendall_tau == -1.0 and widget.result.pair_accuracy == 0.0
        assert "τ-b -1.00" in widget.label.text()

        for term in model.design.terms():
            model.edit(term, {"weight": -3.0 * term.weight}, f"scale {term.name}")
        with qtbot.waitSignal(widget.runner.finished, timeout=20_000):
            pass
        assert widget.result.kendall_tau == 1.0  # a positive multiple agrees as the original did
        # several edits in a row: the numbers shown belong to the last design
        assert widget.computed_for.dumps() == model.design.dumps()
        widget.shutdown()
    finally:
        ws.close()


def test_agreement_text_without_rankings_says_how_to_get_some() -> None:
    from studio.ui.editor.agreement import agreement_text

    text, colour = agreement_text(None)
    assert "Rank rollouts" in text and colour == ""
