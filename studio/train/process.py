"""Training in a spawned process: the app polls messages and sends commands, never blocks.

>>> # proc = TrainingProcess(PPOConfig(total_timesteps=100_000), design.to_json(),
>>> #                        "HalfCheetah-v5", "runs/a")
>>> # proc.start(); ...; msgs = proc.poll(100)   # from a GUI timer

Messages travel pickled to bytes (plain ``pickle``, not torch's shared-memory reducer), so a
:class:`~studio.train.messages.Snapshot` stays valid after the child exits. A process that
dies without saying why (SIGKILL, segfault in a native library) is reported by :meth:`poll`
as a :class:`~studio.train.messages.Failed` built from its exit code.
"""

from __future__ import annotations

import multiprocessing as mp
import pickle
import queue
import signal
import sys
from multiprocessing.process import BaseProcess
from multiprocessing.queues import Queue
from typing import Any

from studio.train.loop import RunSpec, run_training
from studio.train.messages import (
    Command,
    Failed,
    Finished,
    Message,
    Pause,
    Resume,
    Stop,
    UpdateDesign,
)
from studio.train.ppo import PPOConfig
from studio.train.sac import SACConfig


def _worker(spec: RunSpec, messages: Queue[bytes], commands: Queue[Command]) -> None:
    """Body of the child process."""
    # Ctrl-C in a terminal reaches the whole process group: the parent decides what it
    # means (checkpoint and stop, then force), so the trainer must not die of it here.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    from studio.sim.mjlog import install_warning_handler

    install_warning_handler()  # MuJoCo's warnings to logging here too (a spawned child starts bare)

    def emit(msg: Message) -> None:
        messages.put(pickle.dumps(msg, protocol=pickle.HIGHEST_PROTOCOL))

    parent = mp.parent_process()

    def next_command(block: bool) -> Command | None:
        if parent is not None and not parent.is_alive():
            return Stop()  # the app is gone (crashed or killed): checkpoint and end, no orphan
        try:
            return commands.get(timeout=0.1) if block else commands.get_nowait()
        except queue.Empty:
            return None

    code = run_training(spec, emit, next_command)
    messages.close()
    messages.join_thread()  # every message is in the pipe before we exit
    sys.exit(code)


def exit_cause(exitcode: int) -> str:
    """Words for a child's exit code: ``killed by signal 9 (SIGKILL)``, ``exited with code 3``."""
    if exitcode < 0:
        try:
            name = signal.Signals(-exitcode).name
        except ValueError:
            name = "unknown signal"
        return f"the training process was killed by signal {-exitcode} ({name})"
    return f"the training process exited with code {exitcode} without reporting why"


class TrainingProcess:
    """A training run in a ``spawn`` process, driven through two queues."""

    def __init__(
        self,
        config: PPOConfig | SACConfig,
        design_doc: dict[str, Any],
        env_id: str,
        run_dir: str,
        *,
        run_key: str = "run",
        design_version: str = "initial",
        resume: bool = False,
        checkpoint_every: int = 10,
        env_factory: str | None = None,
    ) -> None:
        self.spec = RunSpec(
            config, design_doc, env_id, str(run_dir), run_key, design_version, resume,
            checkpoint_every, env_factory,
        )
        ctx = mp.get_context("spawn")
        self._messages: Queue[bytes] = ctx.Queue()
        self._commands: Queue[Command] = ctx.Queue()
        self._proc: BaseProcess = ctx.Process(
            target=_worker, args=(self.spec, self._messages, self._commands),
            name=f"train-{run_key}", daemon=True,
        )
        self._ended = False  # a Finished or Failed was delivered

    # --- lifecycle -----------------------------------------------------------------------------
    def start(self) -> None:
        """Start the child (returns at once; the first messages follow in seconds)."""
        self._proc.start()

    @property
    def pid(self) -> int | None:
        """The child's process id once started."""
        return self._proc.pid

    def is_alive(self) -> bool:
        """True while the child runs."""
        return self._proc.is_alive()

    @property
    def exitcode(self) -> int | None:
        """None while running; negative: killed by that signal."""
        return self._proc.exitcode

    def join(self, timeout: float | None = None) -> int | None:
        """Wait for the child to end (keep polling: a full queue can hold it up)."""
        self._proc.join(timeout)
        return self._proc.exitcode

    def kill(self) -> None:
        """End the child at once (SIGKILL); :meth:`poll` then reports it as failed."""
        self._proc.kill()

    # --- commands ------------------------------------------------------------------------------
    def pause(self) -> None:
        """Pause at the next update boundary."""
        self._commands.put(Pause())

    def resume(self) -> None:
        """Continue after :meth:`pause`."""
        self._commands.put(Resume())

    def stop(self) -> None:
        """Checkpoint and finish at the next update boundary."""
        self._commands.put(Stop())

    def update_design(self, document: dict[str, Any], version_id: str) -> None:
        """Switch to this design at the next update; a ``design`` marker confirms it."""
        self._commands.put(UpdateDesign(document, version_id))

    # --- messages ------------------------------------------------------------------------------
    def poll(self, max_items: int = 100) -> list[Message]:
        """Up to ``max_items`` pending messages, without blocking.

        Once the child is gone and its queue is empty, a child that never sent
        :class:`Finished` or :class:`Failed` is reported as one ``Failed`` with the cause.
        """
        out: list[Message] = []
        while len(out) < max_items:
            try:
                msg: Message = pickle.loads(self._messages.get_nowait())
            except queue.Empty:
                break
            if isinstance(msg, Finished | Failed):
                self._ended = True
            out.append(msg)
        if len(out) < max_items and not self._ended and self._proc.exitcode is not None:
            # The child is gone: anything it sent is already readable, so check once more.
            try:
                msg = pickle.loads(self._messages.get(timeout=0.05))
                self._ended = isinstance(msg, Finished | Failed)
                out.append(msg)
                return out
            except queue.Empty:
                pass
            self._ended = True
            out.append(Failed(exit_cause(self._proc.exitcode)))
        return out

    def close(self) -> None:
        """Release the queues (after the child has ended)."""
        self._messages.close()
        self._commands.close()
