"""One training run with checkpoints and commands: the body of the training process.

:func:`run_training` builds the env and the trainer from a picklable :class:`RunSpec`,
resumes from the last checkpoint when asked, then alternates between commands (pause,
resume, stop, design updates: all taken at update boundaries) and updates. It reports
everything through ``emit`` and never raises: a failure becomes a :class:`Failed` message
and a non-zero return value. The CLI calls it in-process; :mod:`studio.train.process` calls
it in a spawned process.
"""

from __future__ import annotations

import errno
import io
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from studio.core.atomic import atomic_writer
from studio.core.compile import RewardNaNError
from studio.train.envs import catalog_names, make_env
from studio.train.heron_reward import save_heron_weights
from studio.train.messages import (
    Checkpointed,
    Command,
    Failed,
    Finished,
    Marker,
    Message,
    Pause,
    Resume,
    Stop,
    UpdateDesign,
)
from studio.train.ppo import PPO, PPOConfig
from studio.train.sac import SAC, SACConfig

CHECKPOINT = "checkpoint.pt"
REPLAY = "replay.pt"
"""SAC's replay buffer, next to the checkpoint (large: kept out of the file the viewer reads)."""


@dataclass
class RunSpec:
    """Everything a training process needs; picklable."""

    config: PPOConfig | SACConfig
    """The learner's config; a :class:`SACConfig` trains with SAC."""
    design_doc: dict[str, Any]
    env_id: str
    run_dir: str
    run_key: str = "run"
    design_version: str = "initial"
    resume: bool = False
    """Continue from ``run_dir/checkpoint.pt`` when it exists."""
    checkpoint_every: int = 10
    """Write a checkpoint every this many updates (and at the end)."""
    env_factory: str | None = None
    """``"module:callable"`` building the vector env; None: ``studio.sim.vector.VectorEnv``."""
    extra: dict[str, Any] = field(default_factory=dict)


def checkpoint_path(run_dir: str | Path) -> Path:
    """Where a run keeps its checkpoint."""
    return Path(run_dir) / CHECKPOINT


def save_checkpoint(state: dict[str, Any], path: Path) -> None:
    """Write atomically (:func:`studio.core.atomic.atomic_writer`)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    # Serialised in memory first: torch.save into a file that fails (a full disk) raises
    # an opaque RuntimeError, a plain write raises OSError(ENOSPC) naming the file.
    buffer = io.BytesIO()
    torch.save(state, buffer)
    try:
        with atomic_writer(path, "wb") as f:
            f.write(buffer.getbuffer())
    except OSError as exc:
        if exc.filename is not None:
            raise
        raise OSError(exc.errno, exc.strerror, str(path)) from exc  # the failure names the file


def load_checkpoint(path: Path) -> dict[str, Any]:
    """Read a checkpoint written by :func:`save_checkpoint`: tensors and plain data only
    (``weights_only=True``), so a planted file cannot run code."""
    return torch.load(path, map_location="cpu", weights_only=True)  # type: ignore[no-any-return]


def _restore_replay(trainer: SAC, path: Path) -> Marker:
    """Refill a resumed SAC's buffer from ``path``; the marker says what came back, or why not."""
    try:
        state = load_checkpoint(path)
    except Exception as exc:  # torn by a kill, or not ours: torch's own text advises unsafe loading
        reason = f"{path.name} is unreadable ({type(exc).__name__}); the next checkpoint replaces it"
        return Marker(trainer.global_step, "replay", {"restored": 0, "reason": reason})
    try:
        done = trainer.load_replay(state)
    except Exception as exc:  # another step's or another task's buffer: the run refills it by acting
        return Marker(trainer.global_step, "replay", {"restored": 0, "reason": f"{path.name}: {exc}"})
    payload: dict[str, Any] = {"restored": done.relabelled, "relabel_s": round(done.seconds, 4)}
    if done.dropped:
        payload.update(dropped=done.dropped, missing=list(done.missing))
    return Marker(trainer.global_step, "replay", payload)


def describe_failure(exc: BaseException) -> Failed:
    """The :class:`Failed` message for an exception, with a cause a user can act on."""
    tb = "".join(traceback.format_exception(exc))
    if isinstance(exc, RewardNaNError):
        return Failed(f"the reward is not finite: {exc}", tb, term=exc.term)
    if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return Failed(f"the disk is full: could not write {exc.filename or 'the checkpoint'}. "
                      "Free some space and train again; the checkpoint written before is "
                      "intact", tb)
    if isinstance(exc, torch.cuda.OutOfMemoryError):
        return Failed("CUDA ran out of memory: use fewer envs, a smaller batch, or --device cpu", tb)
    return Failed(f"{type(exc).__name__}: {exc}", tb)


def run_training(
    spec: RunSpec,
    emit: Callable[[Message], None],
    next_command: Callable[[bool], Command | None] = lambda block: None,
) -> int:
    """Train as ``spec`` says; returns 0 when completed or stopped, 1 on failure.

    ``next_command(block)`` returns the next pending command or None; with ``block`` it may
    wait a little (the run is paused and has nothing else to do).
    """
    env = None
    try:
        c = spec.config
        env = make_env(spec.env_id, c.num_envs, c.seed, c.max_episode_steps, spec.env_factory)
        learner = SAC if isinstance(c, SACConfig) else PPO
        trainer = learner(
            c,  # type: ignore[arg-type]
            env,
            spec.design_doc,
            run_key=spec.run_key,
            design_version=spec.design_version,
            feature_names=catalog_names(spec.env_id, spec.env_factory),
        )
        ckpt = checkpoint_path(spec.run_dir)
        replay = Path(spec.run_dir) / REPLAY
        if spec.resume and ckpt.exists():
            trainer.load_state_dict(load_checkpoint(ckpt))
            emit(Marker(trainer.global_step, "restored", {"path": str(ckpt)}))
            if isinstance(trainer, SAC) and replay.exists():
                emit(_restore_replay(trainer, replay))

        def checkpoint() -> None:
            if isinstance(trainer, SAC):  # first: a kill between the two leaves it a step ahead
                save_checkpoint(trainer.replay_state(), replay)
            save_checkpoint(trainer.state_dict(), ckpt)
            save_heron_weights(trainer.reward, spec.run_dir)  # for export; None without HERON
            emit(Checkpointed(trainer.global_step, str(ckpt)))

        paused = False
        while not trainer.done:
            while True:  # commands, taken between updates
                cmd = next_command(paused)
                if isinstance(cmd, Pause) and not paused:
                    paused = True
                    emit(Marker(trainer.global_step, "paused"))
                elif isinstance(cmd, Resume) and paused:
                    paused = False
                    emit(Marker(trainer.global_step, "resumed"))
                elif isinstance(cmd, Stop):
                    checkpoint()
                    emit(Finished(trainer.global_step, "stopped"))
                    return 0
                elif isinstance(cmd, UpdateDesign):
                    trainer.update_design(cmd.document, cmd.version_id)
                elif cmd is None and not paused:
                    break
            for msg in trainer.train_update():
                emit(msg)
            if spec.checkpoint_every and trainer.update % spec.checkpoint_every == 0:
                checkpoint()
        checkpoint()
        emit(Finished(trainer.global_step, "completed"))
        return 0
    except Exception as exc:
        emit(describe_failure(exc))
        return 1
    finally:
        if env is not None:
            env.close()
