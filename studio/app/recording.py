"""Record a rollout's files: one episode's trace (``.npz``) and its H.264 video.

:func:`record_rollout_files` resolves the policy (random, zero, a checkpoint file, or a
run's latest checkpoint), runs one episode with
:func:`studio.app.rollouts.record_rollout` (states captured every step), writes the
trace under ``media/rollouts/`` and renders the video from the stored positions, one
frame per step, at the task's real-time rate. The caller stores the rollout row
(:meth:`studio.app.ranking.RankingService.record`); until then :meth:`RolloutFiles.discard`
removes the files. Progress is reported in two parts: the episode (first 20%), then
the video.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from studio.app.rollouts import (
    Policy,
    RolloutTrace,
    load_task,
    policy_from_checkpoint,
    record_rollout,
)
from studio.core.atomic import atomic_path
from studio.core.design import Design
from studio.store import repo
from studio.store.files import write_error

if TYPE_CHECKING:
    from studio.store import Workspace

__all__ = ["RankingError", "RecordingCancelled", "RolloutFiles", "record_rollout_files"]

MEDIA_KIND = "rollouts"
"""The folder under ``media/`` that holds rollout traces and videos."""


class RankingError(ValueError):
    """A rollout or ranking request that cannot be met; the message says why and what to do."""

    user_facing = True


class RecordingCancelled(Exception):
    """The caller's ``state`` asked to stop recording; nothing was stored."""


@dataclass
class RolloutFiles:
    """A recorded episode's files, written but not yet stored as a rollout."""

    trace: RolloutTrace
    trace_abs: Path
    trace_rel: str
    video_abs: Path | None
    video_rel: str | None
    policy_source: str
    run_id: int | None
    checkpoint_id: int | None
    task_score: float
    design_return: float | None
    term_returns: dict[str, float] | None

    def discard(self) -> None:
        """Delete the files (the rollout was not stored)."""
        self.trace_abs.unlink(missing_ok=True)
        if self.video_abs is not None:
            self.video_abs.unlink(missing_ok=True)


class _Part:
    """Maps a sub-task's 0-100% progress onto ``lo..hi`` of the caller's state."""

    def __init__(self, state: Any, lo: float, hi: float) -> None:
        self.state, self.lo, self.hi = state, lo, hi

    def set_progress(self, percent: float) -> None:
        self.state.set_progress(self.lo + (self.hi - self.lo) * float(percent) / 100.0)

    def is_interruption_requested(self) -> bool:
        return bool(self.state.is_interruption_requested())


def resolve_policy(ws: Workspace, policy: str | Path | Policy,
                   run_id: int | None) -> tuple[str | Policy, str, int | None, int | None]:
    """``(policy for record_rollout, source to store, run id, checkpoint id)``.

    ``policy``: ``random``, ``zero``, ``run`` / ``run:ID`` (the run's latest checkpoint),
    a checkpoint file, or a callable (obs -> action, e.g. ``policy_from_snapshot`` of the
    live training), stored as its ``source`` attribute or ``live``.

    Raises:
        RankingError: an unknown run, a run without checkpoints, or a missing or
            unreadable checkpoint file.
    """
    if callable(policy):  # the live policy of a running training (a snapshot's actor)
        return policy, str(getattr(policy, "source", "live")), run_id, None
    text = str(policy)
    if text in ("random", "zero"):
        return text, text, run_id, None
    checkpoint_id = None
    if text == "run" or text.startswith("run:"):
        rid = int(text[4:]) if text.startswith("run:") else run_id
        if rid is None:
            raise RankingError("policy 'run' needs a run id: pass --run ID")
        with ws.reading() as s:
            if repo.get_run(s, rid) is None:
                raise RankingError(f"Run {rid} does not exist in {ws.root}; list the runs with "
                                   "`reward-studio runs`.")
            ckpt = repo.latest_checkpoint(s, rid)
            if ckpt is None:
                raise RankingError(f"Run {rid} has no checkpoint yet; wait for its first "
                                   "checkpoint or record with --policy random.")
            path, checkpoint_id, run_id = ws.resolve(ckpt.path), ckpt.id, rid
            source = f"run:{rid}@{ckpt.step}"
    else:
        path = Path(text).expanduser()
        if not path.is_absolute() and not path.exists():
            path = ws.root / path
        if not path.is_file():
            raise RankingError(f"Checkpoint file not found: {text}. Pass the .pt file a run "
                               "saved, or use --policy random|zero.")
        try:
            source = f"checkpoint:{path.resolve().relative_to(ws.root.resolve()).as_posix()}"
        except ValueError:
            source = f"checkpoint:{path.resolve()}"
    try:
        return policy_from_checkpoint(str(path)), source, run_id, checkpoint_id
    except (OSError, RuntimeError, KeyError, ValueError, AttributeError) as exc:
        raise RankingError(f"Cannot load the policy from {path}: {exc}. Is it a checkpoint "
                           "saved by the studio's trainer?") from exc


def _stem(env_id: str) -> str:
    safe = re.sub(r"[^A-Za-z0-9._+=@-]+", "_", Path(env_id).stem if "/" in env_id else env_id)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    return f"{safe.strip('._') or 'task'}-{stamp}-{uuid.uuid4().hex[:8]}"


def record_rollout_files(ws: Workspace, env_id: str, policy: str | Path | Policy, *,
                         design: Design | None = None, steps: int = 1000, seed: int = 0,
                         video: bool = True, run_id: int | None = None, state: Any = None,
                         size: tuple[int, int] = (480, 480)) -> RolloutFiles:
    """Run one episode and write its trace and (optionally) its video; see the module doc.

    Raises:
        RankingError: a bad policy, task or step count.
        RecordingCancelled: ``state`` asked to stop; nothing is left behind.
    """
    if steps < 1:
        raise RankingError(f"steps must be at least 1, got {steps}")
    try:
        task = load_task(env_id)
    except (KeyError, ValueError, OSError) as exc:
        raise RankingError(str(exc).strip("'\"")) from exc
    if design is not None:
        from studio.core.compile import compile_design

        try:
            task.check_features(sorted(compile_design(design).required_features))
        except KeyError as exc:
            raise RankingError(f"The design {design.name!r} cannot score {env_id}: "
                               f"{str(exc).strip(chr(39) + chr(34))}") from exc
    act, source, run_id, checkpoint_id = resolve_policy(ws, policy, run_id)
    part = _Part(state, 0.0, 20.0 if video else 100.0) if state is not None else None
    trace = record_rollout(task, design, act, steps=steps, seed=seed, state=part, episode=True)
    if state is not None and state.is_interruption_requested():
        raise RecordingCancelled(f"recording {env_id} was cancelled after {trace.length} steps")
    stem = _stem(env_id)
    trace_abs, trace_rel = ws.media_path(MEDIA_KIND, f"{stem}.npz")
    try:
        with atomic_path(trace_abs, suffix=".npz") as tmp:  # np.savez wants the extension
            trace.save(tmp)
    except OSError as exc:  # a full disk: nothing of this rollout is kept, the earlier ones are
        raise write_error(trace_abs, exc) from exc
    video_abs, video_rel = None, None
    if video:
        from studio.sim.video import RenderCancelled, record_qpos

        video_abs, video_rel = ws.media_path(MEDIA_KIND, f"{stem}.mp4")
        assert trace.qpos is not None
        try:
            # Frame t shows the state after step t, the one step t's reward scores.
            record_qpos(video_abs, task.model, trace.qpos[1:], fps=1.0 / task.dt,
                        width=size[0], height=size[1], track=1, offsamples=0,
                        preset="superfast",
                        state=_Part(state, 20.0, 100.0) if state is not None else None)
        except RenderCancelled as exc:
            trace_abs.unlink(missing_ok=True)
            raise RecordingCancelled(str(exc)) from exc
        except BaseException:
            trace_abs.unlink(missing_ok=True)
            raise
    return RolloutFiles(
        trace=trace, trace_abs=trace_abs, trace_rel=trace_rel, video_abs=video_abs,
        video_rel=video_rel, policy_source=source, run_id=run_id, checkpoint_id=checkpoint_id,
        task_score=float(np.sum(trace.task_reward)),
        design_return=None if design is None else float(np.sum(trace.total)),
        term_returns=None if design is None else {k: float(np.sum(v))
                                                  for k, v in trace.components.items()})
