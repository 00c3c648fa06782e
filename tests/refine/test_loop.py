"""The round state machine: every transition, resume from a stored state, the proxy ranking."""

from __future__ import annotations

import doctest

import studio.refine.loop
from studio.refine.loop import (
    AwaitRanking,
    CandidateStatus,
    Done,
    Failed,
    LoopState,
    Propose,
    RankByProxy,
    Record,
    Train,
    Wait,
    add_round,
    next_action,
    proxy_tiers,
)


def test_docstring_examples_run() -> None:
    result = doctest.testmod(studio.refine.loop)
    assert result.attempted > 0 and result.failed == 0


def test_two_rounds_walk_through_every_phase() -> None:
    s = LoopState(total_rounds=2, k=3)
    assert next_action(s) == Propose(1)
    r1 = add_round(s, [{"n": i} for i in range(3)])
    assert next_action(s) == Train(1, [0, 1, 2])
    for c in r1.candidates:
        c.status = CandidateStatus.TRAINING
    assert next_action(s) == Wait(1)
    r1.candidates[1].status = CandidateStatus.TRAINED
    assert next_action(s) == Wait(1)  # the others still train
    r1.candidates[0].status = CandidateStatus.TRAINED
    r1.candidates[2].status = CandidateStatus.FAILED
    assert next_action(s) == Record(1, 0)
    r1.candidates[0].status = CandidateStatus.RECORDED
    assert next_action(s) == Record(1, 1)
    r1.candidates[1].status = CandidateStatus.RECORDED
    assert next_action(s, rank="proxy") == RankByProxy(1)
    assert next_action(s, rank="app") == AwaitRanking(1)
    r1.ranking_id = 5
    assert next_action(s) == Propose(2)
    r2 = add_round(s, [{"n": 9}] * 3)
    assert r2.index == 2 and next_action(s) == Train(2, [0, 1, 2])
    for c in r2.candidates:
        c.status = CandidateStatus.RECORDED
    r2.ranking_id = 6
    assert next_action(s) == Done("completed 2 of 2 rounds")


def test_a_round_with_fewer_than_two_recordings_fails_with_the_errors() -> None:
    s = LoopState(total_rounds=1, k=2)
    r = add_round(s, [{}, {}])
    r.candidates[0].status = CandidateStatus.RECORDED
    r.candidates[1].status = CandidateStatus.FAILED
    r.candidates[1].error = "the reward is not finite"
    action = next_action(s)
    assert isinstance(action, Failed)
    assert "only 1 of 2" in action.reason and "candidate 2: the reward is not finite" in action.reason


def test_proxy_tiers_rank_by_score_with_ties() -> None:
    assert proxy_tiers({10: 1.0, 11: 3.0, 12: 2.0}) == [[11], [12], [10]]
    assert proxy_tiers({10: 1.0, 11: 1.05, 12: 2.0}, tie=0.1) == [[12], [11, 10]]
