"""Each detector on a synthetic series that should trigger it and on one that should not."""

from __future__ import annotations

import numpy as np

from studio.app import detectors as det


def test_return_rises_task_falls() -> None:
    t = np.arange(40, dtype=float)
    rng = np.random.default_rng(0)
    hacked = det.return_rises_task_falls(t + rng.normal(0, 0.5, 40), 50 - t + rng.normal(0, 0.5, 40))
    assert [f.kind for f in hacked] == ["return_vs_task"]
    assert "rose" in hacked[0].evidence and hacked[0].suggestion
    assert det.return_rises_task_falls(t, t + rng.normal(0, 0.5, 40)) == []
    assert det.return_rises_task_falls(t[:4], -t[:4]) == []  # too short to judge


def test_dominant_terms() -> None:
    found = det.dominant_terms({"speed": [10.0, 12.0, 9.0], "ctrl": [-0.5, -0.4, -0.6]})
    assert [(f.kind, f.term) for f in found] == [("dominant_term", "speed")]
    assert "%" in found[0].evidence
    assert det.dominant_terms({"a": [1.0, 2.0], "b": [-1.5, -1.0]}) == []


def test_constant_terms() -> None:
    found = det.constant_terms({"alive": np.ones(100), "speed": np.linspace(0, 1, 100)})
    assert [f.term for f in found] == ["alive"]
    assert det.constant_terms({"speed": [0.0, 0.1, 0.0]}) == []


def test_repeated_action_and_state_cycle() -> None:
    still = np.tile([0.3, -0.2], (50, 1))
    assert [f.kind for f in det.repetitive_behaviour(actions=still)] == ["repeated_action"]
    varied = np.random.default_rng(1).uniform(-1, 1, (50, 2))
    assert det.repetitive_behaviour(actions=varied) == []

    t = np.arange(200)
    cycle = np.stack([np.sin(2 * np.pi * t / 10), np.cos(2 * np.pi * t / 10)], axis=1)
    found = det.repetitive_behaviour(states=cycle)
    assert [f.kind for f in found] == ["state_cycle"] and "every 10 steps" in found[0].evidence
    walk = np.cumsum(np.random.default_rng(2).normal(size=(200, 2)), axis=0)
    assert det.repetitive_behaviour(states=walk) == []


def test_reward_spikes() -> None:
    rng = np.random.default_rng(3)
    x = rng.normal(0, 0.1, 200)
    x[120] += 50.0
    found = det.reward_spikes(x)
    assert [f.kind for f in found] == ["reward_spike"] and "index 120" in found[0].evidence
    assert det.reward_spikes(rng.normal(0, 0.1, 200)) == []
    assert det.reward_spikes(np.linspace(0, 10, 200)) == []


def test_range_edges() -> None:
    rng = np.random.default_rng(4)
    bang = rng.choice([-1.0, 1.0], size=(100, 3))
    found = det.range_edges(bang, -1.0, 1.0)
    assert [f.kind for f in found] == ["action_edges"] and "action[0]" in found[0].evidence
    assert det.range_edges(rng.uniform(-0.5, 0.5, (100, 3)), -1.0, 1.0) == []
    states = np.full((30, 1), 2.0)
    assert det.range_edges(states, [0.0], [2.0], what="state", names=["height"])[0].kind == "state_edges"


def test_term_statistics_flags_and_correlation() -> None:
    score = np.linspace(0, 1, 50)
    stats = {s.name: s for s in det.term_statistics(
        {"speed": 10 * score, "alive": np.ones(50) * 0.1, "ctrl": -0.01 * score[::-1]}, score)}
    assert stats["speed"].dominates and not stats["alive"].dominates
    assert stats["alive"].never_changes and not stats["speed"].never_changes
    assert abs(stats["speed"].correlation - 1.0) < 1e-9
    assert np.isnan(stats["alive"].correlation)
    assert abs(sum(s.share for s in stats.values()) - 1.0) < 1e-9
    assert stats["ctrl"].min < stats["ctrl"].max <= 0


def test_run_detectors_orders_by_severity() -> None:
    t = np.arange(40, dtype=float)
    found = det.run_detectors(design_return=t, task_score=-t + np.sin(t),
                              term_returns={"a": np.ones(40), "b": np.linspace(0, 100, 40)})
    assert found[0].severity == "error"
    assert {f.kind for f in found} >= {"return_vs_task", "constant_term", "dominant_term"}
