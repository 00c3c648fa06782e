"""HERON's tree labels, per-level margins, the Bradley-Terry loss and the reward model (spec §2)."""

from __future__ import annotations

import math

import pytest
import torch

from studio.core.heron import (
    RewardModel,
    bradley_terry_loss,
    fit_pass,
    label,
    level_margins,
    pair_agreement,
    parse_hidden,
    sample_partners,
    tree_diagnostics,
)

M = torch.tensor([0.5, 0.5])


def lab(zi: list[list[float]], zj: list[list[float]], order: list[int], margins: torch.Tensor = M,
        signs: list[float] | None = None) -> list[float]:
    signs = signs or [1.0] * len(zi[0])
    return label(torch.tensor(zi), torch.tensor(zj), order, margins, signs).tolist()


def test_first_level_decides_even_when_the_second_disagrees() -> None:
    # Level 1: 2 > 0 + 0.5, so i wins although factor 2 strongly prefers j.
    assert lab([[2.0, 0.0]], [[0.0, 5.0]], [0, 1]) == [1.0]
    assert lab([[0.0, 5.0]], [[2.0, 0.0]], [0, 1]) == [-1.0]


def test_a_tie_at_the_first_level_falls_through_to_the_second() -> None:
    # |1.0 - 1.2| = 0.2 < 0.5: tied at level 1; level 2: 3 > 0 + 0.5 for j.
    assert lab([[1.0, 0.0]], [[1.2, 3.0]], [0, 1]) == [-1.0]


def test_a_pair_tied_at_every_level_is_labelled_zero() -> None:
    assert lab([[1.0, 2.0]], [[1.3, 2.4]], [0, 1]) == [0.0]


def test_the_margin_is_strict() -> None:
    # A difference of exactly the margin does not decide (spec: a > b + margin).
    assert lab([[1.5, 0.0]], [[1.0, 0.0]], [0, 1]) == [0.0]


def test_a_cost_prefers_the_smaller_value() -> None:
    # Sign -1: less is better, so the smaller cost (1) wins against 3.
    assert lab([[1.0]], [[3.0]], [0], torch.tensor([0.5]), [-1.0]) == [1.0]
    assert lab([[1.0]], [[3.0]], [0], torch.tensor([0.5]), [1.0]) == [-1.0]


def test_the_order_is_honoured() -> None:
    zi, zj = [[2.0, 0.0]], [[0.0, 5.0]]
    assert lab(zi, zj, [0, 1]) == [1.0]
    assert lab(zi, zj, [1, 0]) == [-1.0]
    # A factor left out of the order never decides.
    assert lab([[0.0, 5.0]], [[0.0, 0.0]], [0]) == [0.0]


def test_margins_are_indexed_by_factor_not_by_level() -> None:
    # Factor 1 has a wide margin (3): with order [1, 0] it is consulted first and ties.
    margins = torch.tensor([0.5, 3.0])
    assert lab([[0.0, 2.0]], [[1.0, 0.0]], [1, 0], margins) == [-1.0]


def test_batch_of_pairs_is_labelled_row_by_row() -> None:
    out = lab([[2.0, 0.0], [1.0, 0.0], [1.0, 2.0]], [[0.0, 5.0], [1.2, 3.0], [1.3, 2.4]], [0, 1])
    assert out == [1.0, -1.0, 0.0]


def test_each_level_has_its_own_sigma_times_the_population_std() -> None:
    # Columns with population std 1, 2, 0.5 and 4 (values ±std around a mean).
    z = torch.tensor([[1.0, 2.0, 0.5, 4.0], [-1.0, -2.0, -0.5, -4.0]])
    m = level_margins(z, [0.1, 0.2, 0.5, 1.0])
    # Each level its own sigma: levels 3 and 4 do not reuse sigma[1] (the authors' slip).
    assert m.tolist() == pytest.approx([0.1, 0.4, 0.25, 4.0])


def test_margins_need_one_sigma_per_factor() -> None:
    with pytest.raises(ValueError, match="one sigma per factor"):
        level_margins(torch.zeros(4, 3), [0.1, 0.2])


def test_partners_are_never_the_sample_itself() -> None:
    g = torch.Generator().manual_seed(0)
    j = sample_partners(50, g)
    assert bool((j != torch.arange(50)).all()) and int(j.min()) >= 0 and int(j.max()) < 50


def test_bradley_terry_loss_averages_over_labelled_pairs_only() -> None:
    r_i, r_j = torch.tensor([0.0, 1.0, 5.0]), torch.tensor([0.0, 0.0, -5.0])
    labels = torch.tensor([1.0, -1.0, 0.0])
    # Pair 1: -log sigmoid(0) = log 2; pair 2: j wins, -log sigmoid(0 - 1) = log(1 + e); pair 3 dropped.
    want = (math.log(2.0) + math.log(1.0 + math.e)) / 2
    loss = bradley_terry_loss(r_i, r_j, labels)
    assert loss is not None and float(loss) == pytest.approx(want)
    assert bradley_terry_loss(r_i, r_j, torch.zeros(3)) is None


def test_an_update_without_a_labelled_pair_is_skipped() -> None:
    model = RewardModel(3, (8,))
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    before = [p.detach().clone() for p in model.parameters()]
    x, z = torch.randn(128, 3), torch.ones(128, 2)  # identical factors: every pair ties
    rep = fit_pass(model, opt, x, z, [0, 1], [0.1, 0.1], [1, 1], batch=64)
    assert rep.updates == 0 and rep.skipped == 2 and rep.labelled == 0.0 and math.isnan(rep.loss)
    assert all(torch.equal(a, b) for a, b in zip(before, model.parameters(), strict=True))


def test_the_model_learns_a_known_order_on_synthetic_factors() -> None:
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(1)

    def make(n: int) -> tuple[torch.Tensor, torch.Tensor]:
        # Factor 0: a coarse level (0, 1 or 2) that matters most; factor 1: a cost.
        level = torch.randint(0, 3, (n,), generator=g).float()
        cost = torch.rand(n, generator=g)
        noise = torch.randn(n, 2, generator=g)
        return torch.stack([level, cost, noise[:, 0], noise[:, 1]], 1), torch.stack([level, cost], 1)

    x, z = make(4096)
    model = RewardModel(4, (64, 64))
    model.in_mean, model.in_std = x.mean(0), x.std(0)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    order, sigmas, signs = [0, 1], [0.1, 0.05], [1.0, -1.0]
    for _ in range(8):
        fit_pass(model, opt, x, z, order, sigmas, signs, generator=g)
    x_test, z_test = make(2000)
    with torch.no_grad():
        agreement = pair_agreement(model(x_test), z_test, order, sigmas, signs, generator=g)
    assert agreement > 0.95, agreement


def test_reward_is_the_score_standardised_by_the_stored_statistics() -> None:
    model = RewardModel(2, (4,))
    x = torch.randn(5, 2)
    model.out_mean.fill_(0.25)
    model.out_std.fill_(2.0)
    with torch.no_grad():
        assert torch.allclose(model.reward(x), (model(x) - 0.25) / 2.0)


def test_tree_diagnostics_count_decisions_per_level_and_ties() -> None:
    # Two rows: every pair is (row 0, row 1) or back; factor 0 ties (equal), factor 1 decides.
    z = torch.tensor([[1.0, 0.0], [1.0, 1.0]])
    score = torch.tensor([0.0, 1.0])
    d = tree_diagnostics(z, [0, 1], [0.1, 0.1], [1, 1], score)
    assert d.pairs == 2 and d.decided == [0, 2] and d.ties == 0
    assert math.isnan(d.direction_agreement[0]) and d.direction_agreement[1] == 1.0
    # As a cost, factor 1 disagrees with the score every time.
    assert tree_diagnostics(z, [0, 1], [0.1, 0.1], [1, -1], score).direction_agreement[1] == 0.0
    # A margin wider than the spread leaves every pair tied.
    assert tree_diagnostics(z, [0, 1], [0.1, 3.0], [1, 1], score).ties == 2


def test_hidden_sizes_parse_with_a_clear_error() -> None:
    assert parse_hidden("256-256") == (256, 256)
    with pytest.raises(ValueError, match="256-256"):
        parse_hidden("big")


def test_the_module_examples_run() -> None:
    import doctest

    import studio.core.heron as module

    result = doctest.testmod(module)
    assert result.attempted >= 2 and result.failed == 0
