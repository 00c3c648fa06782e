"""The plots panel: episode series, zero weight clears a term, heat map equals the design."""

from __future__ import annotations

import numpy as np
import pytest
import torch

pytest.importorskip("pyqtgraph")

from studio.app.rollouts import record_rollout  # noqa: E402
from studio.core.compile import compile_design  # noqa: E402
from studio.core.design import Design, Group, Term  # noqa: E402
from studio.ui.context import AppContext  # noqa: E402
from studio.ui.plots import PlotsPanel  # noqa: E402

ENV = "InvertedPendulum-v5"


def _design() -> Design:
    return Design("p", ENV, Group("reward", [
        Term("alive", "healthy"),
        Term("angle", "pole_angle * pole_angle", weight=-2.0),
        Term("cart", "cart_position", shape="tanh", weight=0.5),
    ]))


@pytest.fixture(scope="module")
def trace():
    return record_rollout(ENV, _design(), "random", steps=80, seed=3,
                          extra_features=["cart_velocity", "pole_angular_velocity"])


@pytest.fixture
def panel(qtbot, trace):
    ctx = AppContext()
    ctx.set_design(_design())
    p = PlotsPanel(ctx)
    qtbot.addWidget(p)
    p.resize(1000, 600)
    with qtbot.waitSignal(p.updated, timeout=20_000):
        p.set_trace(trace)
    return p


def test_episode_series_histograms_and_stats(panel, trace) -> None:
    np.testing.assert_allclose(panel.series("angle"), trace.components["angle"])
    assert set(panel.episode.term_curves) == {"alive", "angle", "cart"}
    assert set(panel.histograms.histograms) == {"alive", "angle", "cart"}
    counts, _ = panel.histograms.histograms["angle"]
    assert counts.sum() == trace.length
    assert panel.stats.rowCount() == 3
    assert panel.stats.item(0, 0).text() == "alive"


def test_weight_zero_clears_the_terms_values(panel, qtbot) -> None:
    ctx = panel._ctx
    angle = ctx.design.find("angle")
    with qtbot.waitSignal(panel.updated, timeout=20_000):
        ctx.design_model.edit(angle, {"weight": 0.0})
    assert panel.series("angle") is None
    assert "angle" not in panel.histograms.histograms
    assert "angle" not in [panel.stats.item(r, 0).text() for r in range(panel.stats.rowCount())]
    assert panel.series("alive") is not None
    with qtbot.waitSignal(panel.updated, timeout=20_000):
        ctx.design_model.edit(angle, {"weight": -1.0})
    assert panel.series("angle") is not None


def test_heatmap_matches_the_compiled_design(panel, qtbot, trace) -> None:
    panel.set_heatmap("total", "pole_angle", "cart_position", step=10)
    qtbot.waitUntil(lambda: panel.heatmap_shown
                    == ("total", "pole_angle", "cart_position", 10), timeout=20_000)
    hm = panel.heatmap
    assert hm.values is not None and hm.values.shape == (64, 64)
    compiled = compile_design(_design(), dtype=torch.float64)
    base = trace.feature_state(10)
    for iy, ix in [(0, 0), (20, 50), (63, 31)]:
        feats = {k: [v] for k, v in base.items()}
        feats["pole_angle"] = [hm.xs[ix]]
        feats["cart_position"] = [hm.ys[iy]]
        expected = float(compiled(feats).total[0])
        assert hm.values[iy, ix] == pytest.approx(expected, abs=1e-9)
    mx, my = hm.marker.getData()
    assert mx[0] == pytest.approx(base["pole_angle"]) and my[0] == pytest.approx(base["cart_position"])


def test_records_a_rollout_in_a_worker(qtbot) -> None:
    ctx = AppContext()
    ctx.set_design(_design())
    p = PlotsPanel(ctx)
    qtbot.addWidget(p)
    with qtbot.waitSignal(p.updated, timeout=30_000):
        p.record(steps=40)
    assert p.trace is not None and p.trace.length == 40
    assert len(p.series("alive")) == 40


def test_live_episode_from_the_viewer(qtbot) -> None:
    from studio.ui.dashboard import hub_for

    ctx = AppContext()
    ctx.set_design(_design())
    p = PlotsPanel(ctx)
    qtbot.addWidget(p)
    p.live_box.setChecked(True)
    hub = hub_for(ctx)
    steps = [(i, {"alive": 1.0, "angle": -0.1 * i, "cart": 0.2}, 1.0, False) for i in range(1, 6)]
    with qtbot.waitSignal(p.updated, timeout=5_000):
        hub.live_steps.emit(steps)
    np.testing.assert_allclose(p.series("angle"), [-0.1 * i for i in range(1, 6)])
    ctx.design_model.edit(ctx.design.find("cart"), {"weight": 0.0})
    with qtbot.waitSignal(p.updated, timeout=5_000):
        hub.live_steps.emit([(6, {"alive": 1.0, "angle": -0.6, "cart": 0.0}, 1.0, True)])
    assert p.series("cart") is None and len(p.series("alive")) == 6


def test_heat_map_starts_on_two_features_the_design_reads(panel, trace) -> None:
    # The design's terms read healthy (alive), pole_angle (angle) and cart_position (cart), in
    # that order; the trace also holds cart_velocity, which sorts first but is not read.
    assert "cart_velocity" in trace.features
    assert (panel.x_combo.currentText(), panel.y_combo.currentText()) == ("healthy", "pole_angle")
    panel.x_combo.setCurrentText("cart_velocity")
    panel.x_combo.activated.emit(panel.x_combo.currentIndex())  # the user's own choice stays
    panel.set_trace(trace)
    assert panel.x_combo.currentText() == "cart_velocity"
