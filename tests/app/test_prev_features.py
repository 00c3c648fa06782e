"""Potential shaping over a recorded rollout uses the stepper's previous-step features, as training does."""

from __future__ import annotations

import numpy as np
import torch

from studio.core.compile import compile_design
from studio.core.design import Design, Group, Shaping, Term
from studio.sim.vector import VectorEnv


def _design() -> Design:
    return Design("shaped", "Hopper-v5", Group("r", [Term("fwd", "x_velocity")]),
                  shaping=Shaping("torso_height", gamma=0.9))


def _training_rewards(steps: int, seed: int, actions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """What training computes: each step's reward from the step's own features and prev_features."""
    compiled = compile_design(_design(), dtype=torch.float64)
    with VectorEnv("Hopper-v5", 1, seed=seed) as env:
        env.set_feature_names(sorted(compiled.required_features))
        env.reset(seed=seed)
        totals, ends = [], []
        for t in range(steps):
            res = env.step(actions[t:t + 1])
            out = compiled(res.features, prev_features=res.prev_features,
                           terminated=res.terminated, truncated=res.truncated, check_finite=False)
            totals.append(float(out.total[0]))
            ends.append(bool(res.terminated[0] or res.truncated[0]))
    return np.array(totals), np.array(ends)


def test_the_plots_evaluate_a_trace_as_training_rewards_it_across_resets() -> None:
    from studio.app.rollouts import record_rollout
    from studio.ui.plots.jobs import evaluate_task

    steps, seed = 120, 4
    actions = np.random.default_rng(0).uniform(-1, 1, size=(steps, 3))
    policy_calls = iter(range(steps))
    trace = record_rollout("Hopper-v5", _design(), lambda obs: actions[next(policy_calls)][None],
                           steps=steps, seed=seed, record_states=False)
    expected, ends = _training_rewards(steps, seed, actions)
    assert ends[:-1].any(), "the rollout must cross an episode start for this check"
    got = evaluate_task((trace, _design()), None)  # type: ignore[arg-type]
    np.testing.assert_allclose(got.total, expected, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(trace.total, expected, rtol=1e-9, atol=1e-9)


def test_a_trace_without_previous_features_is_an_error_for_shaping() -> None:
    import pytest

    from studio.app.rollouts import evaluate_features

    feats = {"x_velocity": np.zeros(3), "torso_height": np.ones(3)}
    with pytest.raises(KeyError, match="no previous-step values of torso_height"):
        evaluate_features(_design(), feats, {}, np.zeros(3, bool), np.zeros(3, bool))
