"""Drive one training run and keep the workspace up to date with it (no Qt).

:class:`RunController` creates the run in the store, starts the training process, and on
every :meth:`~RunController.poll` drains the process's messages, persists them (metrics in
one bulk insert, markers, checkpoints, status and failure cause) in one transaction, and
returns them for display. The UI calls ``poll`` from a ~10 Hz timer; nothing here blocks.

>>> # ctl = RunController(workspace)
>>> # run_id = ctl.start(design, "HalfCheetah-v5", PPOConfig(total_timesteps=50_000))
>>> # update = ctl.poll()            # from a timer
>>> # ctl.apply_design(edited.to_json())   # live reward edit, marked on the curves
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any, Protocol

from studio.app.workspace_service import save_or_reuse
from studio.core.design import Design
from studio.store import RunStatus, repo
from studio.store.errors import InvalidRunTransitionError
from studio.store.liveness import claim_run, heartbeat
from studio.store.runs import RESUMABLE
from studio.train.messages import (
    Checkpointed,
    Failed,
    Finished,
    Marker,
    Message,
    Metrics,
    Progress,
    Snapshot,
)
from studio.train.ppo import PPOConfig
from studio.train.sac import SACConfig

__all__ = ["PollResult", "ProcessLike", "RunController"]


class ProcessLike(Protocol):
    """What the controller needs of ``studio.train.process.TrainingProcess``."""

    def start(self) -> None: ...
    def pause(self) -> None: ...
    def resume(self) -> None: ...
    def stop(self) -> None: ...
    def update_design(self, document: dict[str, Any], version_id: str) -> None: ...
    def poll(self, max_items: int = 100) -> list[Message]: ...
    def is_alive(self) -> bool: ...


ProcessFactory = Callable[..., ProcessLike]
"""``factory(config, design_doc, env_id, run_dir, *, run_key, design_version, env_factory)``."""


def _default_factory(*args: Any, **kwargs: Any) -> ProcessLike:
    from studio.train.process import TrainingProcess

    return TrainingProcess(*args, **kwargs)


@dataclass
class PollResult:
    """What one poll brought, sorted by kind for the dashboard."""

    metrics: list[Metrics] = field(default_factory=list)
    markers: list[Marker] = field(default_factory=list)
    checkpoints: list[Checkpointed] = field(default_factory=list)
    progress: Progress | None = None
    """The newest progress report."""
    snapshot: Snapshot | None = None
    """The newest policy snapshot."""
    failed: Failed | None = None
    finished: Finished | None = None

    @property
    def empty(self) -> bool:
        """Nothing arrived."""
        return not (self.metrics or self.markers or self.checkpoints or self.progress
                    or self.snapshot or self.failed or self.finished)


class RunController:
    """One training run at a time, persisted into ``workspace`` as it goes.

    Attributes:
        run_id: the store id of the current run (None before :meth:`start`).
        status: the run's :class:`RunStatus` as last recorded.
        latest_snapshot: the newest policy :class:`Snapshot` (for the viewer), or None.
        failure: the :class:`Failed` message that ended the run, or None.
    """

    def __init__(self, workspace: Any, process_factory: ProcessFactory | None = None) -> None:
        self.workspace = workspace
        self._factory = process_factory or _default_factory
        self._process: ProcessLike | None = None
        self.run_id: int | None = None
        self.env_id: str | None = None
        self.status: RunStatus | None = None
        self.latest_snapshot: Snapshot | None = None
        self.failure: Failed | None = None
        self.last_step = 0
        self.last_sps = 0.0
        """Steps per second of the newest progress report."""
        self._unsaved: list[Message] = []
        """Messages taken from the process but not yet committed (a save failed)."""

    # -- lifecycle -------------------------------------------------------------------------

    @property
    def active(self) -> bool:
        """A run was started and has not ended."""
        return self.status in (RunStatus.QUEUED, RunStatus.RUNNING, RunStatus.PAUSED)

    def start(self, design: Design, env_id: str | None = None,
              config: PPOConfig | SACConfig | None = None, version_id: int | None = None,
              *, env_factory: str | None = None, checkpoint_every: int = 10) -> int:
        """Create the run (saving ``design`` as a version if ``version_id`` is None) and start it.

        Raises:
            RuntimeError: a run is still active (stop it first).
        """
        if self.active:
            raise RuntimeError(f"run {self.run_id} is still {self.status}: stop it before "
                               "starting another")
        env_id = env_id or design.task
        if config is None:  # the task's tuned preset (RL Zoo's PPO settings where it has them)
            from studio.train.presets import ppo_config

            config = ppo_config(env_id)
        document = design.to_json()
        with self.workspace.session() as s:
            if version_id is None:  # an unchanged design reuses its version
                version_id = save_or_reuse(s, env_id, design.name or "untitled", document,
                                           "started a run")
            run = repo.create_run(s, version_id, _config_json(config), seed=config.seed,
                                  device=config.device)
            claim_run(s, run)
            run_id = run.id
        return self._launch(run_id, env_id, config, document, version_id, checkpoint_every,
                            env_factory, resume=False, status=RunStatus.QUEUED)

    def resume_run(self, run_id: int, *, total_timesteps: int | None = None,
                   env_factory: str | None = None, checkpoint_every: int = 10) -> int:
        """Continue a stored ``stopped`` or ``interrupted`` run from its last checkpoint.

        The run keeps its id; its steps count on from the checkpoint's. ``total_timesteps``
        extends a run that had reached its end.

        Raises:
            RuntimeError: a run is active here, the run does not exist, cannot be resumed
                in its status, or has no checkpoint file to continue from.
        """
        if self.active:
            raise RuntimeError(f"run {self.run_id} is still {self.status}: stop it before "
                               "resuming another")
        with self.workspace.session() as s:
            run = repo.get_run(s, run_id)
            if run is None:
                raise RuntimeError(f"there is no run {run_id} in {self.workspace.root}: "
                                   "see `reward-studio runs list`")
            if run.status not in RESUMABLE:
                *most, last = sorted(RESUMABLE)
                raise RuntimeError(f"run {run_id} is {run.status}; only a {', '.join(most)} or {last} "
                                   "run can be resumed")
            ckpt = repo.latest_checkpoint(s, run_id)
            if ckpt is None or not self.workspace.resolve(ckpt.path).is_file():
                raise RuntimeError(f"run {run_id} has no checkpoint to continue from "
                                   f"({'none was recorded' if ckpt is None else ckpt.path + ' is missing'});"
                                   " start a new run instead")
            config = config_from_json(run.config)
            if total_timesteps is not None:
                config = replace(config, total_timesteps=total_timesteps)
            env_id = run.task.env_id
            document = dict(run.design_version.data)
            version_id = run.design_version_id
            ckpt_dir = self.workspace.resolve(ckpt.path).parent
            claim_run(s, run)
        expected, _ = self.workspace.media_path("runs", f"run-{run_id}")
        if ckpt_dir != expected:
            raise RuntimeError(f"run {run_id}'s checkpoint is in {ckpt_dir}, not in its run "
                               f"folder {expected}; it cannot be resumed here")
        return self._launch(run_id, env_id, config, document, version_id, checkpoint_every,
                            env_factory, resume=True, status=RunStatus(run.status))

    def _launch(self, run_id: int, env_id: str, config: PPOConfig | SACConfig, document: dict[str, Any],
                version_id: int, checkpoint_every: int, env_factory: str | None, *,
                resume: bool, status: RunStatus) -> int:
        run_dir, _ = self.workspace.media_path("runs", f"run-{run_id}")
        run_dir.mkdir(parents=True, exist_ok=True)
        self.run_id, self.env_id = run_id, env_id
        self.status, self.failure, self.latest_snapshot, self.last_step = (status, None, None, 0)
        self._unsaved = []
        try:
            kwargs: dict[str, Any] = {"resume": True} if resume else {}
            self._process = self._factory(
                config, document, env_id, str(run_dir), run_key=str(run_id),
                design_version=str(version_id), checkpoint_every=checkpoint_every,
                env_factory=env_factory, **kwargs)
            self._process.start()
        except Exception as exc:
            self._set_status(RunStatus.FAILED, f"could not start training: {exc}")
            self.failure = Failed(f"could not start training: {exc}")
            raise
        self._set_status(RunStatus.RUNNING)
        return run_id

    def pause(self) -> None:
        """Pause at the next update boundary."""
        if self._process is not None and self.status == RunStatus.RUNNING:
            self._process.pause()
            self._set_status(RunStatus.PAUSED)

    def resume(self) -> None:
        """Continue a paused run."""
        if self._process is not None and self.status == RunStatus.PAUSED:
            self._process.resume()
            self._set_status(RunStatus.RUNNING)

    def stop(self) -> None:
        """Checkpoint and end at the next update boundary (``Finished`` follows in a poll)."""
        if self._process is not None and self.active:
            if self.status == RunStatus.PAUSED:
                self._process.resume()
            self._process.stop()

    def apply_design(self, document: Mapping[str, Any], version_id: int | None = None,
                     name: str | None = None) -> int:
        """Send a design to the running run (a live reward edit); returns its version id.

        An unsaved design (``version_id`` None) is saved as a new version first, so that
        the ``design`` marker the trainer echoes names a version that exists.
        """
        if self._process is None or not self.active:
            raise RuntimeError("no run is active: start one before applying a design to it")
        doc = dict(document)
        if version_id is None:
            with self.workspace.session() as s:
                version_id = save_or_reuse(
                    s, str(doc.get("task") or self.env_id), name or str(doc.get("name") or "untitled"),
                    doc, "applied to a running run")
        self._process.update_design(doc, str(version_id))
        return int(version_id)

    def reap(self) -> bool:
        """Collect the ended training process so no zombie is left; True once none is left.

        Call after the run finished or failed (the dashboard does on its next polls):
        ``is_alive`` waits for an exited child without blocking, then the queues close.
        """
        proc = self._process
        if proc is None:
            return True
        if self.active or proc.is_alive():
            return False
        close = getattr(proc, "close", None)
        if close is not None:
            close()
        self._process = None
        return True

    def force_stop(self) -> None:
        """End the training process at once; the run is ``stopped`` at its last checkpoint."""
        proc, self._process = self._process, None
        if proc is not None:
            with contextlib.suppress(Exception):  # keep what it has said so far
                self._unsaved += proc.poll(10_000)
            if proc.is_alive():
                getattr(proc, "kill", proc.stop)()
        if self.run_id is None or not self.active:
            return
        # What arrived is kept; whatever the killed process says next is not listened to.
        pending = [m for m in self._unsaved if not isinstance(m, Finished | Failed)]
        self._unsaved = []
        out = self._sort(pending)
        out.finished = Finished(self.last_step, "stopped")
        self._persist(out)
        self._set_status(RunStatus.STOPPED, "stopped at once on request: the training since "
                         "its last checkpoint was not kept")

    def close(self) -> None:
        """Stop a live run and forget the process (the app is closing)."""
        if self._process is not None and self.active:
            self._process.stop()
        close = getattr(self._process, "close", None)
        if close is not None and self._process is not None and not self._process.is_alive():
            close()

    # -- messages --------------------------------------------------------------------------

    def poll(self, max_items: int = 500) -> PollResult:
        """Take up to ``max_items`` messages, persist them in one transaction, return them.

        Raises:
            WorkspaceError: the save failed; the messages are kept and saved by the next
                poll, so a run's end is never lost.
        """
        if self._process is None or self.run_id is None:
            return PollResult()
        # Save, then acknowledge: messages stay in ``_unsaved`` until their transaction
        # commits, so a failed save (disk full, locked) loses no Finished or Failed.
        self._unsaved = self._unsaved + self._process.poll(max_items)
        if not self._unsaved:
            return PollResult()
        out = self._sort(self._unsaved)
        self._persist(out)
        self._unsaved = []
        return out

    def _sort(self, msgs: list[Message]) -> PollResult:
        out = PollResult()
        for m in msgs:
            if isinstance(m, Metrics):
                out.metrics.append(m)
                self.last_step = max(self.last_step, m.step)
            elif isinstance(m, Marker):
                out.markers.append(m)
            elif isinstance(m, Checkpointed):
                out.checkpoints.append(m)
            elif isinstance(m, Progress):
                out.progress = m
                self.last_step = max(self.last_step, m.step)
                self.last_sps = float(m.sps)
            elif isinstance(m, Snapshot):
                out.snapshot = self.latest_snapshot = m
            elif isinstance(m, Failed) and out.finished is None and out.failed is None:
                out.failed = self.failure = m
            elif isinstance(m, Finished) and out.finished is None and out.failed is None:
                out.finished = m
        return out

    def _persist(self, out: PollResult) -> None:
        run_id = self.run_id
        assert run_id is not None
        new: RunStatus | None = None
        with self.workspace.session() as s:
            heartbeat(s, run_id)
            if out.metrics:
                repo.append_metric_rows(s, run_id, [(m.step, _finite(m.values)) for m in out.metrics])
            for mk in out.markers:
                repo.add_marker(s, run_id, mk.step, mk.kind, dict(mk.payload))
            for ck in out.checkpoints:
                rel = self._relative(ck.path)
                if rel is not None:
                    repo.add_checkpoint(s, run_id, ck.step, rel)
            error = None
            if out.failed is not None:
                new, error = RunStatus.FAILED, out.failed.cause
            elif out.finished is not None:
                new = RunStatus.COMPLETED if out.finished.reason == "completed" else RunStatus.STOPPED
            if new is not None:
                run = repo.get_run(s, run_id)
                if run is not None:
                    with contextlib.suppress(InvalidRunTransitionError):
                        repo.set_run_status(s, run, new, error)
        if new is not None:  # only once committed
            self.status = new

    def _relative(self, path: str) -> str | None:
        try:
            rel = os.path.relpath(Path(path).absolute(), self.workspace.root)
        except ValueError:
            return None
        return None if rel.startswith("..") else Path(rel).as_posix()

    def _set_status(self, status: RunStatus, error: str | None = None) -> None:
        if self.run_id is None:
            return
        with self.workspace.session() as s:
            run = repo.get_run(s, self.run_id)
            if run is not None:
                try:
                    repo.set_run_status(s, run, status, error)
                except InvalidRunTransitionError:
                    return
        self.status = status


def _finite(values: Mapping[str, float]) -> dict[str, float]:
    out = {}
    for k, v in values.items():
        try:
            out[k] = float(v)
        except (TypeError, ValueError):
            continue
    return out


def config_from_json(stored: Mapping[str, Any]) -> PPOConfig | SACConfig:
    """The learner config stored with a run (``algo`` picks PPO or SAC; unknown keys ignored,
    lists back to tuples)."""
    cls: type[PPOConfig] | type[SACConfig] = SACConfig if stored.get("algo") == "sac" else PPOConfig
    known = {f.name for f in fields(cls)}
    values = {k: (tuple(v) if isinstance(v, list) else v) for k, v in stored.items() if k in known}
    return cls(**values)


def _config_json(config: PPOConfig | SACConfig) -> dict[str, Any]:
    from dataclasses import asdict

    algo = "sac" if isinstance(config, SACConfig) else "ppo"
    return {"algo": algo, **{k: (list(v) if isinstance(v, tuple) else v) for k, v in asdict(config).items()}}
