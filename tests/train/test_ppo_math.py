"""GAE, the clipped surrogate and the normalisers against hand-computed values."""

from __future__ import annotations

import pytest
import torch

from studio.train.normalize import RunningMeanStd
from studio.train.ppo import compute_gae, policy_loss, value_loss


def test_gae_with_termination_and_truncation_bootstrap() -> None:
    # One env, four steps. t=1 terminates (no bootstrap), t=2 truncates (bootstrap V(final)=5).
    gamma, lam = 0.5, 0.5
    rewards = torch.tensor([[1.0], [2.0], [3.0], [4.0]])
    values = torch.tensor([[10.0], [20.0], [30.0], [40.0]])
    dones = torch.tensor([[0.0], [1.0], [1.0], [0.0]])
    bootstrap = torch.tensor([[0.0], [0.0], [5.0], [0.0]])
    next_value = torch.tensor([100.0])
    adv, ret = compute_gae(rewards, values, dones, bootstrap, next_value, gamma, lam)
    # By hand, from the end:
    d3 = 4 + 0.5 * 100 - 40  # 14: bootstraps from next_value
    a3 = d3
    d2 = 3 + 0.5 * 5 - 30  # -24.5: truncated, bootstraps from V(final_obs)=5
    a2 = d2  # the episode ended: nothing flows back from t=3
    d1 = 2 + 0.0 - 20  # -18: terminated, no bootstrap
    a1 = d1
    d0 = 1 + 0.5 * 20 - 10  # 1
    a0 = d0 + 0.25 * a1  # -3.5
    assert adv[:, 0].tolist() == pytest.approx([a0, a1, a2, a3])
    assert ret[:, 0].tolist() == pytest.approx([a0 + 10, a1 + 20, a2 + 30, a3 + 40])


def test_clipped_surrogate_by_hand() -> None:
    clip = 0.2
    old = torch.zeros(4)
    # ratios 1.5, 0.5, 1.1, 0.5 with advantages +1, +1, -2, -1
    new = torch.log(torch.tensor([1.5, 0.5, 1.1, 0.5]))
    adv = torch.tensor([1.0, 1.0, -2.0, -1.0])
    # per sample max(-A r, -A clip(r)):
    # A=+1, r=1.5 -> max(-1.5, -1.2) = -1.2 (gain capped)
    # A=+1, r=0.5 -> max(-0.5, -0.8) = -0.5 (no clipping of a loss)
    # A=-2, r=1.1 -> max(2.2, 2.2) = 2.2
    # A=-1, r=0.5 -> max(0.5, 0.8) = 0.8 (gain capped)
    expected = (-1.2 - 0.5 + 2.2 + 0.8) / 4
    assert float(policy_loss(new, old, adv, clip)) == pytest.approx(expected)


def test_value_loss_clipped_by_hand() -> None:
    new, old, ret = torch.tensor([2.0]), torch.tensor([1.0]), torch.tensor([3.0])
    # unclipped (2-3)^2 = 1; clipped value 1.2 -> (1.2-3)^2 = 3.24; max/2
    assert float(value_loss(new, old, ret, 0.2)) == pytest.approx(1.62)
    assert float(value_loss(new, old, ret, None)) == pytest.approx(0.5)


def test_running_mean_std_matches_batch_statistics() -> None:
    x = torch.randn(1000, 3, dtype=torch.float64) * 3 + 1
    rms = RunningMeanStd((3,), "cpu", epsilon=0.0)
    for chunk in x.split(137):
        rms.update(chunk)
    assert torch.allclose(rms.mean, x.mean(0))
    assert torch.allclose(rms.var, x.var(0, unbiased=False))
    state = rms.state_dict()
    other = RunningMeanStd((3,), "cpu")
    other.load_state_dict(state)
    assert torch.equal(other.mean, rms.mean) and other.count == rms.count
