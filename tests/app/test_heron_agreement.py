"""The agreement check scores a HERON design's stored rollouts with its trained model."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import torch

from studio.app.ranking import RankingError, RankingService
from studio.core.design import Design, Factor, Group, Term
from studio.core.heron import HeronModel, RewardModel
from studio.store import Workspace
from tests.app.test_ranking_service import ENV, _record_set


@pytest.fixture
def service(tmp_path: Path) -> Iterator[RankingService]:
    with Workspace.open(tmp_path / "ws") as ws:
        yield RankingService(ws)


def heron_design() -> Design:
    tree = Group("tree", [Term("centred", "abs(cart_position)", factor=Factor("less", 0.2))],
                 combiner="heron", weight=0.5)
    return Design("h", ENV, Group("reward", [tree]))


def linear_model() -> HeronModel:
    """A model set by hand: reward = 2 * (cart_position + 10) on the rollouts' range (|x| < 10)."""
    net = RewardModel(1, (1,)).double()
    with torch.no_grad():
        net.net[0].weight.fill_(1.0)
        net.net[0].bias.fill_(10.0)
        net.net[2].weight.fill_(2.0)
        net.net[2].bias.fill_(0.0)
    return HeronModel(net, ["cart_position"], use_factors=False)


def test_a_heron_design_is_scored_by_its_model(service: RankingService) -> None:
    ids = _record_set(service)
    service.save_ranking([[ids[1]], [ids[0], ids[3]], [ids[2]], [ids[4]]])
    service.save_ranking([[ids[2]], [ids[3]], [ids[0]]])
    got = service.agreement(heron_design(), heron={"tree": linear_model()})
    # The same returns written as a plain term: 0.5 * (2 * x + 20) per step.
    plain = Design("p", ENV, Group("reward", [Term("lin", "2 * cart_position + 20", weight=0.5)]))
    want = service.agreement(plain)
    assert got.pairs == want.pairs > 0
    assert got.kendall_tau == pytest.approx(want.kendall_tau, abs=1e-12)
    assert got.pair_accuracy == pytest.approx(want.pair_accuracy, abs=1e-12)


def test_a_heron_design_without_its_model_is_refused(service: RankingService) -> None:
    with pytest.raises(RankingError, match="no trained model"):
        service.agreement(heron_design())
