"""The ranking service: stored rollouts, human rankings with ties, and live agreement.

:class:`RankingService` is what the ranking view, the design editor, the refinement loop
and the ``rollout``/``rank``/``agreement`` commands share (no Qt here):

* :meth:`~RankingService.record` runs one episode of a policy on a task, writes its
  trace (``.npz``) and its H.264 video under the workspace's ``media/rollouts/`` and
  stores the rollout (see :mod:`studio.app.recording`);
* :meth:`~RankingService.save_ranking` stores a ranking as tiers, best first (ids in one
  tier are tied), with annotator, comment, round, or as a skipped set;
* :meth:`~RankingService.agreement` scores every ranked rollout of the task under a
  design from features recomputed from the stored states (cached, one batch for all
  rollouts) and compares the returns with every ranking: Kendall's τ-b and pair
  accuracy (:mod:`studio.core.preference`).

Long calls (``record``, the first ``agreement`` or :meth:`~RankingService.prepare` of a
task) belong in a worker thread; once the features are cached, ``agreement`` on an
edited design takes milliseconds (``reward-studio bench agreement``). The service
serialises its own calls with a lock, so a worker and the GUI thread may share it.
"""

from __future__ import annotations

import getpass
import logging
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from studio.app.listing import RankingInfo, RolloutInfo, ranking_info, rollout_info
from studio.app.recording import RankingError, record_rollout_files
from studio.app.rollouts import Policy, RolloutTrace, evaluate_features, load_task
from studio.app.scoring import FeatureCache, score_batch
from studio.core.compile import compile_design
from studio.core.design import Design
from studio.core.preference import agreement_of_pairs, pair_index
from studio.store import StoreError, repo

if TYPE_CHECKING:
    from studio.store import Workspace

__all__ = ["Agreement", "RankingError", "RankingInfo", "RankingService", "RolloutInfo"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Agreement:
    """How well a design's returns agree with the stored rankings."""

    kendall_tau: float
    """Kendall's τ-b over all ranked pairs (NaN when either side has no order)."""
    pair_accuracy: float
    """Fraction of strictly ranked pairs the design orders the same way (NaN without any)."""
    pairs: int
    strict_pairs: int
    rankings: int


def default_annotator() -> str:
    """The OS user's name (``unknown`` where the OS does not say)."""
    try:
        return getpass.getuser() or "unknown"
    except (KeyError, OSError):
        return "unknown"


class RankingService:
    """Rollouts, rankings and agreement for one open workspace (see the module doc)."""

    def __init__(self, workspace: Workspace) -> None:
        self.workspace = workspace
        self._cache = FeatureCache()
        self._lock = threading.RLock()
        self._compiled: dict[str, Any] = {}
        self._ranked_cache: dict[str, tuple[tuple[int, ...], list[int], Any]] = {}

    # --- rollouts --------------------------------------------------------------------------
    def rollouts(self, env_id: str | None = None,
                 ids: Sequence[int] | None = None) -> list[RolloutInfo]:
        """Stored rollouts, oldest first: all, those of one task, or those with ``ids``."""
        with self.workspace.reading() as s:
            rows = repo.list_rollouts(s, env_id=env_id, ids=ids)
            envs = repo.rollout_env_ids(s, [r.id for r in rows])
            return [rollout_info(self.workspace, r, envs.get(r.id)) for r in rows]

    def _one(self, rollout_id: int) -> RolloutInfo:
        found = self.rollouts(ids=[rollout_id])
        if not found:
            raise RankingError(f"Rollout {rollout_id} does not exist in this workspace "
                               "(deleted?); list the rollouts with `reward-studio rollout list`.")
        return found[0]

    def load_trace(self, rollout_id: int) -> RolloutTrace:
        """The stored trace of a rollout.

        Raises:
            RankingError: the rollout does not exist, has no trace, or its file is gone.
        """
        info = self._one(rollout_id)
        if info.trace_path is None:
            raise RankingError(f"Rollout {rollout_id} has no trace file; record it again.")
        if not info.trace_path.is_file():
            raise RankingError(f"The trace of rollout {rollout_id} is missing: {info.trace_path} "
                               "(moved or deleted); record the rollout again.")
        try:
            return RolloutTrace.load(info.trace_path)
        except (OSError, ValueError, KeyError) as exc:
            raise RankingError(f"Cannot read the trace of rollout {rollout_id} at "
                               f"{info.trace_path}: {exc}; record the rollout again.") from exc

    def record(self, env_id: str, policy: str | Path | Policy, *, design: Design | None = None,
               steps: int = 1000, seed: int = 0, video: bool = True,
               round_id: int | None = None, run_id: int | None = None, state: Any = None,
               size: tuple[int, int] = (480, 480)) -> RolloutInfo:
        """Record one episode of ``policy`` on ``env_id`` (at most ``steps`` steps) and store it.

        ``policy``: ``"random"``, ``"zero"``, a checkpoint file, ``"run"`` for the
        latest checkpoint of ``run_id``, or a callable (the live policy; see
        :func:`studio.app.recording.resolve_policy`). ``design`` (optional) is evaluated on every step;
        its return and each term's are stored. ``video`` renders an H.264 mp4 of ``size``,
        one frame per step. ``state`` (Orange-style) gets progress and may cancel, in
        which case nothing is stored and :class:`~studio.app.recording.RecordingCancelled`
        is raised. Run it in a worker thread.
        """
        files = record_rollout_files(self.workspace, env_id, policy, design=design,
                                     steps=steps, seed=seed, video=video, run_id=run_id,
                                     state=state, size=size)
        try:
            with self.workspace.session() as s:
                version_id = _version_id(s, env_id, design)
                row = repo.add_rollout(
                    s, run_id=files.run_id, design_version_id=version_id,
                    checkpoint_id=files.checkpoint_id, video_path=files.video_rel,
                    returns=files.term_returns, task_score=files.task_score,
                    length=files.trace.length, seed=seed, env_id=env_id,
                    policy=files.policy_source, design_return=files.design_return,
                    trace_path=files.trace_rel, round_id=round_id)
                rollout_id = row.id
        except BaseException:
            files.discard()
            raise
        with self._lock:
            self._cache.add(rollout_id, load_task(env_id), files.trace)
        return self._one(rollout_id)

    def delete_rollout(self, rollout_id: int) -> None:
        """Delete a rollout nobody ranked, with its trace and video files.

        Raises:
            RankingError: it does not exist, or a ranking names it.
        """
        with self.workspace.session() as s:
            try:
                paths = repo.delete_rollout(s, rollout_id)
            except StoreError as exc:
                raise RankingError(str(exc)) from exc
        for rel in paths:
            if rel:
                self.workspace.resolve(rel).unlink(missing_ok=True)

    # --- rankings --------------------------------------------------------------------------
    def save_ranking(self, tiers: Sequence[Sequence[int]], *, annotator: str | None = None,
                     comment: str | None = None, round_id: int | None = None,
                     skipped: bool = False) -> int:
        """Store a ranking: ``tiers`` of rollout ids, best first; returns its id.

        For a skipped set, ``tiers`` is the set shown (grouping ignored). The annotator
        defaults to the OS user; an empty comment is stored as none.

        Raises:
            RankingError: fewer than two rollouts, one listed twice, an id that does not
                exist (or was deleted), or rollouts of different tasks.
        """
        groups = [[int(i) for i in tier] for tier in tiers]
        ids = [i for g in groups for i in g]
        with self.workspace.session() as s:
            envs = repo.rollout_env_ids(s, ids)
            missing = [i for i in ids if i not in envs]
            if missing:
                raise RankingError(
                    f"Cannot save the ranking: rollout{'s' if len(missing) > 1 else ''} "
                    f"{', '.join(map(str, missing))} do{'' if len(missing) > 1 else 'es'} not "
                    "exist in this workspace (deleted?). Reload the rollouts and rank again.")
            tasks = sorted({e for e in envs.values() if e is not None})
            if len(tasks) > 1:
                raise RankingError(f"Cannot save the ranking: it mixes rollouts of {', '.join(tasks)}; "
                                   "rank rollouts of one task together.")
            try:
                ranking = repo.save_tiered_ranking(
                    s, groups, annotator or default_annotator(), comment=(comment or None),
                    skipped=skipped, round_id=round_id)
            except (ValueError, StoreError) as exc:
                raise RankingError(f"Cannot save the ranking: {exc}") from exc
            return int(ranking.id)

    def rankings(self, round_id: int | None = None) -> list[RankingInfo]:
        """Stored rankings, oldest first (all, or one refinement round's)."""
        with self.workspace.reading() as s:
            return [ranking_info(r) for r in repo.list_rankings(s, round_id)]

    # --- agreement -------------------------------------------------------------------------
    def prepare(self, env_id: str, state: Any = None) -> list[int]:
        """Load and recompute the states of every ranked rollout of ``env_id`` (once).

        Returns the ids that can be scored; a rollout whose trace is missing or unreadable
        is left out (the others still count). ``state`` gets progress. Call it in a
        worker before the first :meth:`agreement` of a session, which otherwise does it.
        """
        with self._lock:
            infos = [r for r in self.rollouts(env_id) if r.trace_path is not None]
            ranked = {i for k in self.rankings() if not k.skipped for t in k.tiers for i in t}
            wanted = [r for r in infos if r.id in ranked]
            task = load_task(env_id) if wanted else None
            ok = []
            for n, info in enumerate(wanted):
                if info.id not in self._cache:
                    try:
                        self._cache.add(info.id, task, self.load_trace(info.id))
                    except (RankingError, KeyError):
                        continue
                try:
                    self._cache.trace_features(info.id).warm()
                except (ValueError, IndexError) as exc:  # states of another model version
                    log.warning("rollout %s left out of agreement: %s", info.id, exc)
                    self._cache.discard(info.id)
                    continue
                ok.append(info.id)
                if state is not None:
                    state.set_progress(100.0 * (n + 1) / len(wanted))
            return ok

    def _compile(self, design: Design, heron: Mapping[str, Any] | None = None) -> Any:
        key = design.dumps() + (f"#heron{id(heron)}" if heron else "")
        compiled = self._compiled.get(key)
        if compiled is None:
            compiled = compile_design(design, dtype=torch.float64, heron=heron)
            if len(self._compiled) > 64:
                self._compiled.clear()
            self._compiled[key] = compiled
        return compiled

    def _ranked(self, env: str) -> tuple[list[int], Any]:
        """``(scorable rollout ids, their ranked pairs)`` for ``env`` (see ``pair_index``).

        Kept while the rollouts and rankings tables are unchanged (one cheap query says
        so), so an edit in the editor costs no listing of either.
        """
        with self.workspace.reading() as s:
            signature = repo.feedback_signature(s)
        cached = self._ranked_cache.get(env)
        if cached is not None and cached[0] == signature:
            return cached[1], cached[2]
        usable = self.prepare(env)
        index = {rid: k for k, rid in enumerate(usable)}
        tiers = []
        for ranking in self.rankings():
            if ranking.skipped:
                continue
            kept = [[index[i] for i in tier if i in index] for tier in ranking.tiers]
            tiers.append([t for t in kept if t])
        pairs = pair_index(tiers)
        self._ranked_cache[env] = (signature, usable, pairs)
        return usable, pairs

    def agreement(self, design: Design, env_id: str | None = None,
                  heron: Mapping[str, Any] | None = None) -> Agreement:
        """How well ``design``'s returns order the ranked rollouts of the task as people did.

        The task is ``env_id``, else the design's own. Rankings' rollouts of other tasks
        or without a usable trace are left out; skipped sets do not count. ``heron`` holds
        the trained models of the design's HERON groups (``studio.core.heron.load_models``),
        which then score the rollouts.
        """
        env = env_id or design.task
        missing = [g.name for g in design.heron_groups() if g.name not in (heron or {})]
        if missing:  # an untrained group pays 0: its agreement would mean nothing
            raise RankingError(f"the HERON group {missing[0]!r} has no trained model: score with the "
                               "run's weights (--heron-weights RUN_DIR/heron.safetensors)")
        with self._lock:
            usable, pairs = self._ranked(env)
            compiled = self._compile(design, heron)
            batch = self._cache.batch(usable, sorted(compiled.required_features))
            returns = score_batch(design, batch, compiled).total
        a = agreement_of_pairs(pairs, returns)
        return Agreement(a.kendall_tau, a.pair_accuracy, a.pairs, a.strict_pairs, a.rankings)

    def term_series(self, rollout_id: int, design: Design | None) -> dict[str, np.ndarray]:
        """Per-step contribution of each term of ``design`` on a rollout, and ``task_reward``.

        ``None`` gives the contributions recorded with the rollout's own design.
        """
        trace = self.load_trace(rollout_id)
        out: dict[str, np.ndarray] = {}
        if design is None:
            out.update(trace.components)
        else:
            with self._lock:
                if rollout_id not in self._cache:
                    self._cache.add(rollout_id, load_task(trace.env_id), trace)
                compiled = self._compile(design)
                feats, prev = self._cache.trace_features(rollout_id).features(
                    sorted(compiled.required_features))
            _, comps, _ = evaluate_features(design, feats, prev, trace.terminated,
                                            trace.truncated)
            out.update(comps)
        out["task_reward"] = np.asarray(trace.task_reward, dtype=np.float64)
        return out


def _version_id(session: Any, env_id: str, design: Design | None) -> int | None:
    """The stored version whose content is ``design`` (newest first), if there is one."""
    if design is None:
        return None
    from sqlalchemy import select

    from studio.store.models import Design as DesignRow
    from studio.store.models import DesignVersion, Task

    digest = repo.content_hash(design.to_json())
    found: int | None = session.scalar(
        select(DesignVersion.id).join(DesignRow).join(Task)
        .where(DesignVersion.content_hash == digest, Task.env_id == env_id)
        .order_by(DesignVersion.id.desc()).limit(1))
    return found
