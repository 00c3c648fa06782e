"""What a proposer is told: the :class:`~studio.refine.proposers.Feedback` of an experiment.

Built from the store only: every ranking of the experiment's rounds (tiers of rollout ids,
with the ranker's comment), the last round's designs best first, each candidate's term
curves over training (``Episode_Reward/<term>``, for Eureka's reflection), the best design
of each earlier round, the task's description and feature catalogue, and ``rescore``, which
re-scores any design on the ranked rollouts from their stored states (through
:mod:`studio.app.scoring`, features recomputed once per rollout). Task scores stay out.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from studio.core.design import Design
from studio.refine.loop import LoopState
from studio.refine.proposers import Feedback, PerturbProposer, RankingRecord
from studio.store import repo


def start_variants(start: Design, k: int, seed: int) -> list[Design]:
    """Round 1: the start design itself, then ``k - 1`` perturbed variants of it."""
    first = start.copy()
    variants = PerturbProposer(sigma=0.5, seed=seed).propose(Feedback([start]), k - 1) if k > 1 else []
    out = [first, *variants]
    for i, d in enumerate(out, 1):
        d.name = f"{start.name}_r1c{i}"
        d.meta = {**d.meta, "round": 1, "parent": start.name}
    return out


def build_feedback(service: Any, state: LoopState, env_id: str, index: int) -> Feedback:
    """The feedback for proposing round ``index`` of the experiment in ``state``."""
    ranking = service.ranking
    infos = {i.id: i for i in ranking.rankings()}
    by_rollout: dict[int, Design] = {}
    records: list[RankingRecord] = []
    ranked_rounds: list[list[Design]] = []
    for r in state.rounds:
        if r.ranking_id is None:
            continue
        for c in r.recorded:
            if c.rollout_id is not None:
                by_rollout[c.rollout_id] = Design.from_json(c.document)
        info = infos[r.ranking_id]
        tiers = [[int(i) for i in tier if int(i) in by_rollout] for tier in info.tiers]
        tiers = [t for t in tiers if t]
        records.append(RankingRecord(tiers, info.comment or "", r.index))
        ranked_rounds.append([by_rollout[i] for tier in tiers for i in tier])
    curves: dict[str, dict[str, list[float]]] = {}
    with service.workspace.session() as s:
        for r in state.rounds:
            for c in r.recorded:
                if c.run_id is not None:
                    curves[str(c.document.get("name"))] = _term_curves(s, c.run_id)
    ids = sorted(by_rollout)
    return Feedback(
        ranked=ranked_rounds[-1] if ranked_rounds else [],
        task_description=_describe(env_id),
        term_curves=curves,
        rankings=records,
        rollout_designs={i: d.name for i, d in by_rollout.items()},
        rollout_ends=_ends(ranking, ids),
        rescore=_rescorer(ranking, env_id, ids),
        history=[designs[0] for designs in ranked_rounds[:-1] if designs],
        features=_features(env_id),
        round_index=index,
    )


def _term_curves(session: Any, run_id: int) -> dict[str, list[float]]:
    """Each term's mean episode return at every logged update of a run."""
    out = {}
    for key in repo.metric_keys(session, run_id):
        if key.startswith("Episode_Reward/"):
            _, values = repo.metric_series(session, run_id, key)
            out[key.split("/", 1)[1]] = [float(v) for v in values if v is not None]
    return out


def _ends(ranking: Any, ids: list[int]) -> dict[int, tuple[int, bool]]:
    out = {}
    for i in ids:
        trace = ranking.load_trace(i)
        term = bool(trace.terminated[-1]) if len(trace.terminated) else False
        out[i] = (int(len(trace.terminated)), term)
    return out


def _rescorer(ranking: Any, env_id: str, ids: list[int]) -> Any:
    """``rescore(design)``: component returns of ``design`` on each rollout of ``ids``."""
    from studio.app.scoring import FeatureCache, score_batch
    from studio.core.compile import compile_design
    from studio.sim.registry import get_task

    cache = FeatureCache()
    task = get_task(env_id)

    def rescore(design: Design) -> Mapping[int, Mapping[str, float]]:
        for i in ids:
            if i not in cache:
                cache.add(i, task, ranking.load_trace(i))
        compiled = compile_design(design)
        batch = cache.batch(ids, sorted(compiled.required_features))
        scores = score_batch(design, batch)
        return {rid: {k: float(v[j]) for k, v in scores.terms.items()} for j, rid in enumerate(ids)}

    return rescore


def _describe(env_id: str) -> str:
    from studio.sim.registry import get_task

    try:
        return str(get_task(env_id).describe())
    except Exception:  # a description is a nicety of the prompt, never a reason to stop
        return env_id


def _features(env_id: str) -> list[dict[str, Any]]:
    from studio.sim.registry import get_task

    return [{"name": f.name, "unit": f.unit, "description": f.description,
             "low": f.low, "high": f.high} for f in get_task(env_id).catalog]
