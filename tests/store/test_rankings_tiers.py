"""Rankings with ties, skips and comments; rollouts with their task, traces and rounds."""

from __future__ import annotations

import pytest

from studio.store import StoreError, Workspace, repo


def _rollouts(ws: Workspace, n: int, env_id: str = "Hopper-v5") -> list[int]:
    with ws.session() as s:
        return [repo.add_rollout(s, env_id=env_id, policy="random", seed=i, length=10,
                                 task_score=float(i), design_return=-float(i),
                                 trace_path=f"media/rollouts/{i}.npz").id for i in range(n)]


def test_tiers_round_trip_with_positions_best_first(ws: Workspace) -> None:
    a, b, c, d = _rollouts(ws, 4)
    with ws.session() as s:
        ranking = repo.save_tiered_ranking(s, [[c], [a, d], [b]], "ada", comment="d falls")
    with ws.session() as s:
        got = repo.get_ranking(s, ranking.id)
        assert got is not None
        assert got.tiers == [[c], [a, d], [b]]
        assert got.rollout_ids == [c, a, d, b]
        assert [(e.position, e.tier) for e in got.entries] == [(0, 0), (1, 1), (2, 1), (3, 2)]
        assert (got.comment, got.skipped, got.ranked_by) == ("d falls", False, "ada")


def test_strict_save_ranking_is_one_tier_each(ws: Workspace) -> None:
    a, b, c = _rollouts(ws, 3)
    with ws.session() as s:
        assert repo.save_ranking(s, [b, c, a], "ada").tiers == [[b], [c], [a]]


def test_skipped_set_keeps_the_rollouts_without_tiers(ws: Workspace) -> None:
    a, b = _rollouts(ws, 2)
    with ws.session() as s:
        r = repo.save_tiered_ranking(s, [[a, b]], "ada", skipped=True)
        assert r.skipped and r.tiers == [] and r.rollout_ids == [a, b]
        assert all(e.tier is None for e in r.entries)


def test_bad_tiers_are_refused_and_nothing_is_saved(ws: Workspace) -> None:
    a, b = _rollouts(ws, 2)
    with ws.session() as s:
        with pytest.raises(ValueError, match="empty tier"):
            repo.save_tiered_ranking(s, [[a], [], [b]], "ada")
        with pytest.raises(ValueError, match="more than once"):
            repo.save_tiered_ranking(s, [[a], [b, a]], "ada")
        with pytest.raises(ValueError, match="at least two"):
            repo.save_tiered_ranking(s, [[a]], "ada")
        with pytest.raises(StoreError, match=r"rollouts \[404\] do not exist"):
            repo.save_tiered_ranking(s, [[a], [404]], "ada")
    with ws.session() as s:
        assert repo.list_rankings(s) == []


def test_rollouts_filter_by_task_ids_and_round(ws: Workspace) -> None:
    hop = _rollouts(ws, 2)
    cheetah = _rollouts(ws, 1, "HalfCheetah-v5")
    with ws.session() as s:
        rnd = repo.add_refinement_round(s, 0, "manual")
        in_round = repo.add_rollout(s, env_id="HalfCheetah-v5", round_id=rnd.id).id
        assert [r.id for r in repo.list_rollouts(s, env_id="Hopper-v5")] == hop
        assert [r.id for r in repo.list_rollouts(s, env_id="HalfCheetah-v5")] == [*cheetah, in_round]
        assert [r.id for r in repo.list_rollouts(s, ids=[hop[1], in_round])] == [hop[1], in_round]
        assert [r.id for r in repo.list_rollouts(s, round_id=rnd.id)] == [in_round]
        r = repo.get_rollout(s, hop[1])
        assert r is not None and (r.policy, r.design_return, r.trace_path) == (
            "random", -1.0, "media/rollouts/1.npz")
        assert repo.rollout_env_ids(s, [hop[0], cheetah[0], 999]) == {
            hop[0]: "Hopper-v5", cheetah[0]: "HalfCheetah-v5"}


def test_a_rollout_of_a_run_takes_the_runs_task(ws: Workspace) -> None:
    with ws.session() as s:
        v = repo.save_design_version(s, "Swimmer-v5", "swim", {"terms": []}, "m")
        run = repo.create_run(s, v.id)
        r = repo.add_rollout(s, run_id=run.id)
        assert repo.rollout_env_ids(s, [r.id]) == {r.id: "Swimmer-v5"}
