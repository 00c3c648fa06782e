"""The preference proposer re-scores rollouts in one term space, fits, proposes from the posterior."""

from __future__ import annotations

import doctest
from collections.abc import Mapping

import numpy as np
import pytest

import studio.refine.prompt
import studio.refine.reply
import studio.refine.term_space
from studio.core.compile import compile_design
from studio.core.design import Design, Group, Term
from studio.refine.preference import PreferenceProposer
from studio.refine.proposers import Feedback, ProposerError, RankingRecord, proposers
from studio.refine.term_space import TermSpace


@pytest.mark.parametrize("module", [studio.refine.term_space, studio.refine.prompt,
                                    studio.refine.reply])
def test_docstring_examples_run(module: object) -> None:
    result = doctest.testmod(module)  # type: ignore[arg-type]
    assert result.attempted > 0 and result.failed == 0


def design(name: str, speed: float, effort: float) -> Design:
    return Design(name, "T", Group("reward", [Term("speed", "v", weight=speed),
                                              Term("effort", "u * u", weight=effort)]))


# Stored "rollouts": per-step features; a hidden preference likes speed, dislikes effort.
ROLLOUTS = {rid: {"v": np.full(50, v), "u": np.full(50, u)}
            for rid, (v, u) in enumerate([(1.0, 0.1), (2.0, 1.5), (0.5, 0.0), (1.5, 0.5),
                                          (2.5, 2.0), (0.2, 0.3), (1.8, 0.2), (1.0, 1.0)], 1)}


def rescore(d: Design) -> Mapping[int, Mapping[str, float]]:
    """Component returns of ``d`` on each rollout, from its features (as the app does)."""
    fn = compile_design(d)
    out = {}
    for rid, f in ROLLOUTS.items():
        res = fn({k: v for k, v in f.items()})
        out[rid] = {k: float(v.sum()) for k, v in res.components.items()}
    return out


def hidden_utility(rid: int) -> float:
    f = ROLLOUTS[rid]
    return float(f["v"].sum() - 1.0 * (f["u"] ** 2).sum())


def test_proposals_follow_the_rankings_and_share_the_structure() -> None:
    ids = list(ROLLOUTS)
    rng = np.random.default_rng(0)
    rankings = []
    for _ in range(12):
        pick = rng.choice(ids, size=4, replace=False)
        order = sorted(pick, key=hidden_utility, reverse=True)
        rankings.append(RankingRecord([[int(i)] for i in order]))
    # The base design is poor: it pays for effort. The rankings say otherwise.
    base = design("start", 0.2, 0.5)
    fb = Feedback([base], rankings=rankings, rescore=rescore, round_index=2)
    p = PreferenceProposer(seed=1)
    out = p.propose(fb, 3)
    assert len(out) == 3 and len({d.name for d in out}) == 3
    assert all([t.name for t in d.terms()] == ["speed", "effort"] for d in out)
    assert p.last_fit is not None and p.last_fit.term_names == ["speed", "effort"]
    # The MAP proposal: speed rewarded, effort penalised (the hidden utility's signs).
    w = TermSpace.of(out[0]).weights()
    assert w[0] > 0 > w[1]
    assert out[0].meta["posterior"] == "map" and out[1].meta["posterior"] == "sample"
    # Rescaled to the base design's magnitude: sum |w| * rms equals the base's.
    phi = np.array([[rescore(TermSpace.of(base).unit_design())[i][n] for n in ("speed", "effort")]
                    for i in ids])
    rms = np.sqrt((phi**2).mean(0))
    for d in out:
        assert np.abs(np.array(TermSpace.of(d).weights()) * rms).sum() == pytest.approx(
            np.abs(np.array([0.2, 0.5]) * rms).sum())


def test_regret_model_is_an_option_of_the_same_proposer() -> None:
    rankings = [RankingRecord([[1], [3], [2]])] * 5
    fb = Feedback([design("start", 1.0, -0.1)], rankings=rankings, rescore=rescore,
                  rollout_ends={1: (50, False), 2: (50, True), 3: (50, False)},
                  max_episode_steps=100)
    out = PreferenceProposer(model="regret").propose(fb, 2)
    assert len(out) == 2 and out[0].meta["model"] == "regret"


def test_without_rankings_it_says_what_is_missing() -> None:
    with pytest.raises(ProposerError, match="rank a round first"):
        PreferenceProposer().propose(Feedback([design("a", 1, 1)]), 2)


def test_builtin_proposers_are_registered_through_the_entry_point_group() -> None:
    reg = proposers()
    assert {"perturb", "preference", "llm"} <= set(reg.factories)
    assert reg.create("preference").name == "preference"
