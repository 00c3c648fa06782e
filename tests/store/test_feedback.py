"""Rollouts, rankings, refinement rounds, LLM exchanges and settings."""

from __future__ import annotations

import pytest
from sqlalchemy.exc import IntegrityError

from studio.store import StoreError, Workspace, repo


def _rollouts(ws: Workspace, n: int) -> list[int]:
    with ws.session() as s:
        v = repo.save_design_version(s, "Swimmer-v5", "swim", {"terms": []}, "m")
        run = repo.create_run(s, v.id)
        ckpt = repo.add_checkpoint(s, run.id, 100, "media/checkpoints/c.pt")
        return [repo.add_rollout(s, run_id=run.id, design_version_id=v.id,
                                 checkpoint_id=ckpt.id, video_path=f"media/videos/{i}.mp4",
                                 returns={"forward": float(i), "ctrl": -0.5},
                                 task_score=i * 2.0, length=1000, seed=i).id
                for i in range(n)]


def test_rollout_round_trip(ws: Workspace) -> None:
    ids = _rollouts(ws, 2)
    with ws.session() as s:
        r = repo.get_rollout(s, ids[1])
        assert r is not None
        assert (r.video_path, r.returns, r.task_score, r.length, r.seed) == (
            "media/videos/1.mp4", {"ctrl": -0.5, "forward": 1.0}, 2.0, 1000, 1)
        assert [x.id for x in repo.list_rollouts(s, r.run_id)] == ids
        bare = repo.add_rollout(s)
        assert bare.run_id is None and bare.returns is None


def test_ranking_keeps_order(ws: Workspace) -> None:
    ids = _rollouts(ws, 4)
    order = [ids[2], ids[0], ids[3], ids[1]]
    with ws.session() as s:
        rnd = repo.add_refinement_round(s, 0, "manual")
        ranking = repo.save_ranking(s, order, "ada", round_id=rnd.id)
        repo.save_ranking(s, ids[:2], "bob", context="warm-up")
    with ws.session() as s:
        got = repo.get_ranking(s, ranking.id)
        assert got is not None and got.rollout_ids == order and got.ranked_by == "ada"
        assert [r.ranked_by for r in repo.list_rankings(s)] == ["ada", "bob"]
        assert [r.rollout_ids for r in repo.list_rankings(s, rnd.id)] == [order]


def test_ranking_is_validated(ws: Workspace) -> None:
    ids = _rollouts(ws, 2)
    with ws.session() as s:
        with pytest.raises(ValueError, match="at least two"):
            repo.save_ranking(s, ids[:1], "ada")
        with pytest.raises(ValueError, match="more than once"):
            repo.save_ranking(s, [ids[0], ids[0]], "ada")
        with pytest.raises(StoreError, match=r"rollouts \[999\] do not exist"):
            repo.save_ranking(s, [ids[0], 999], "ada")


def test_ranked_rollout_cannot_be_deleted(ws: Workspace) -> None:
    ids = _rollouts(ws, 2)
    with ws.session() as s:
        repo.save_ranking(s, ids, "ada")
    with pytest.raises(IntegrityError), ws.session() as s:
        obj = repo.get_rollout(s, ids[0])
        s.delete(obj)


def test_refinement_rounds_and_llm_exchanges(ws: Workspace) -> None:
    ids = _rollouts(ws, 2)
    with ws.session() as s:
        first = repo.add_refinement_round(s, 0, "icpl-llm", notes={"why": "start"})
        second = repo.add_refinement_round(s, 1, "icpl-llm", parent_round_id=first.id)
        repo.update_round(s, first.id, status="done", best_rollout_id=ids[0],
                          worst_rollout_id=ids[1])
        repo.add_llm_exchange(s, provider="openai", model="gpt-x", prompt="p", response="r",
                              parsed_ok=True, latency_s=1.25, round_id=second.id)
        repo.add_llm_exchange(s, provider="local", model="m", prompt="p2",
                              error="timeout after 60 s")
        with pytest.raises(StoreError, match="does not exist"):
            repo.update_round(s, 999, status="x")
    with ws.session() as s:
        rounds = repo.list_rounds(s)
        assert [(r.index, r.status, r.parent_round_id) for r in rounds] == [
            (0, "done", None), (1, "open", first.id)]
        got = repo.get_round(s, first.id)
        assert got is not None
        assert (got.best_rollout_id, got.worst_rollout_id, got.notes) == (
            ids[0], ids[1], {"why": "start"})
        (ex,) = repo.list_llm_exchanges(s, second.id)
        assert (ex.provider, ex.model, ex.response, ex.parsed_ok, ex.latency_s) == (
            "openai", "gpt-x", "r", True, 1.25)
        assert [e.error for e in repo.list_llm_exchanges(s)] == [None, "timeout after 60 s"]


def test_settings_round_trip(ws: Workspace) -> None:
    with ws.session() as s:
        assert repo.get_setting(s, "ui.last_design_id", default=-1) == -1
        repo.set_setting(s, "ui.last_design_id", 3)
        repo.set_setting(s, "ui.layout", {"split": [1, 2]})
        repo.set_setting(s, "ui.last_design_id", 4)
    with ws.session() as s:
        assert repo.get_setting(s, "ui.last_design_id") == 4
        assert repo.get_setting(s, "ui.layout") == {"split": [1, 2]}
        repo.delete_setting(s, "ui.layout")
        repo.delete_setting(s, "never-set")
    with ws.session() as s:
        assert repo.get_setting(s, "ui.layout") is None
