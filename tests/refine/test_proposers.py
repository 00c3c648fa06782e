"""The offline proposer and plugin discovery of proposers."""

from __future__ import annotations

import pytest

from studio.core.design import Design, Group, Term
from studio.refine.proposers import Feedback, PerturbProposer, proposers, rank_order


def design(name: str, speed: float, effort: float) -> Design:
    return Design(name, "HalfCheetah-v5", Group("reward", [Term("speed", "x_velocity", weight=speed),
                                                           Term("effort", "ctrl_sq", weight=effort)]))


def test_perturb_moves_away_from_the_worst_and_keeps_structure() -> None:
    best, worst = design("best", 2.0, -0.1), design("worst", 0.5, -0.1)
    props = PerturbProposer(sigma=0.0, step=0.5).propose(Feedback([best, worst]), k=3)
    assert len(props) == 3 and len({p.name for p in props}) == 3
    for p in props:
        assert [t.name for t in p.terms()] == ["speed", "effort"]
        speed = p.find("speed")
        assert isinstance(speed, Term) and float(speed.weight) == pytest.approx(4.0)  # 2 * (2/0.5)^0.5
        effort = p.find("effort")
        assert isinstance(effort, Term) and float(effort.weight) == pytest.approx(-0.1)
    assert best.find("speed").weight == 2.0  # type: ignore[union-attr]


def test_perturb_is_seeded_and_explores() -> None:
    fb = Feedback([design("best", 1.0, -0.1)])
    a = PerturbProposer(seed=3).propose(fb, 2)
    b = PerturbProposer(seed=3).propose(fb, 2)
    assert [t.weight for d in a for t in d.terms()] == [t.weight for d in b for t in d.terms()]
    assert a[0].find("speed").weight != a[1].find("speed").weight  # type: ignore[union-attr]
    with pytest.raises(ValueError, match="at least one"):
        PerturbProposer().propose(Feedback([]), 1)


def test_builtin_proposer_comes_through_the_plugin_group() -> None:
    reg = proposers()
    assert isinstance(reg.create("perturb"), PerturbProposer)
    with pytest.raises(KeyError, match="known: llm, perturb, preference"):
        reg.create("oracle")


def test_rank_order() -> None:
    assert rank_order(["a", "b", "c"], ["c", "a"]) == ["c", "a", "b"]
