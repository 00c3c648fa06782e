"""The local runner: one spawned training process per run, in parallel up to the cores.

CPU runs share the machine's cores: at most ``cpu_slots`` at once (default: the number of
cores), each with ``cores // cpu_slots`` torch threads, so K candidates do not fight over the
same cores. A run whose config asks for CUDA (or ``auto`` where CUDA exists) waits for the
single GPU slot: one at a time on one GPU. Queued runs start in submission order.
"""

from __future__ import annotations

import os
from dataclasses import replace
from typing import Any

from studio.train.messages import Message
from studio.train.process import TrainingProcess


def _cuda_available() -> bool:
    import torch

    return bool(torch.cuda.is_available())


class LocalHandle:
    """A run queued on, or running under, a :class:`LocalRunner`."""

    def __init__(self, runner: LocalRunner, args: tuple[Any, ...], kwargs: dict[str, Any],
                 device: str) -> None:
        self._runner = runner
        self._args, self._kwargs = args, kwargs
        self.device = device
        self.state = "new"
        self.place = "not started"
        self.process: TrainingProcess | None = None
        self._pending: list[Any] = []  # commands given before the process exists

    # --- ProcessLike ---------------------------------------------------------------------------
    def start(self) -> None:
        """Queue the run; it starts when a slot is free."""
        self.state = "queued"
        self._runner._enqueue(self)
        self._runner.tick()

    def _launch(self) -> None:
        config = self._args[0]
        if self.device == "cpu":
            config = replace(config, device="cpu", torch_threads=self._runner.threads_per_run)
        else:
            config = replace(config, device=self.device)
        self.process = TrainingProcess(config, *self._args[1:], **self._kwargs)
        self.process.start()
        self.state = "running"
        self.place = f"local pid {self.process.pid} ({self.device})"
        for name in self._pending:
            getattr(self.process, name)()
        self._pending = []

    def _command(self, name: str) -> None:
        if self.process is not None:
            getattr(self.process, name)()
        elif name == "stop" and self.state == "queued":
            self._runner._dequeue(self)
            self.state, self.place = "ended", "stopped before it started"
        else:
            self._pending.append(name)

    def pause(self) -> None:
        """Pause at the next update (or as soon as it starts)."""
        self._command("pause")

    def resume(self) -> None:
        """Continue after :meth:`pause`."""
        self._command("resume")

    def stop(self) -> None:
        """Checkpoint and end; a queued run is dropped from the queue."""
        self._command("stop")

    def kill(self) -> None:
        """End the process at once (SIGKILL)."""
        if self.process is not None:
            self.process.kill()
        else:
            self._command("stop")

    def update_design(self, document: dict[str, Any], version_id: str) -> None:
        """Switch the reward live (only once running)."""
        if self.process is not None:
            self.process.update_design(document, version_id)

    def poll(self, max_items: int = 100) -> list[Message]:
        """The run's pending messages (none while queued); starts queued runs as slots free."""
        self._runner.tick()
        if self.process is None:
            return []
        msgs = self.process.poll(max_items)
        if self.state == "running" and not self.process.is_alive():
            self.state = "ended"
            self.place = f"ended (was {self.place})"
            self._runner.tick()
        return msgs

    def is_alive(self) -> bool:
        """Queued or running."""
        if self.process is None:
            return self.state == "queued"
        return self.process.is_alive()

    @property
    def pid(self) -> int | None:
        """The process id once running."""
        return None if self.process is None else self.process.pid

    def close(self) -> None:
        """Release the process's queues."""
        if self.process is not None and not self.process.is_alive():
            self.process.close()


class LocalRunner:
    """One process per run on this machine; CPU runs in parallel, CUDA runs one at a time."""

    name = "local"

    def __init__(self, cpu_slots: int | None = None, gpu: bool | None = None) -> None:
        cores = os.cpu_count() or 1
        self.cpu_slots = max(1, cpu_slots or cores)
        """CPU runs at once."""
        self.threads_per_run = max(1, cores // self.cpu_slots)
        self.gpu = _cuda_available() if gpu is None else gpu
        """Whether CUDA runs go to the GPU slot (else every run is a CPU run)."""
        self._queue: list[LocalHandle] = []
        self._handles: list[LocalHandle] = []

    def factory(self, config: Any, design_doc: dict[str, Any], env_id: str, run_dir: str,
                **kwargs: Any) -> LocalHandle:
        """A queued handle for one run (``RunController``'s process factory)."""
        wants_gpu = self.gpu and str(getattr(config, "device", "auto")) in ("auto", "cuda", "cuda:0")
        handle = LocalHandle(self, (config, design_doc, env_id, run_dir), kwargs,
                             "cuda:0" if wants_gpu else "cpu")
        self._handles.append(handle)
        return handle

    def _enqueue(self, handle: LocalHandle) -> None:
        self._queue.append(handle)

    def _dequeue(self, handle: LocalHandle) -> None:
        if handle in self._queue:
            self._queue.remove(handle)

    def _running(self, device_kind: str) -> int:
        return sum(1 for h in self._handles if h.state == "running" and h.process is not None
                   and h.process.is_alive() and h.device.startswith(device_kind))

    def tick(self) -> None:
        """Start queued runs while their kind of slot is free; label the rest with their place."""
        for h in list(self._queue):
            kind = "cuda" if h.device.startswith("cuda") else "cpu"
            free = (1 if kind == "cuda" else self.cpu_slots) - self._running(kind)
            if free > 0:
                self._queue.remove(h)
                h._launch()
        for n, h in enumerate(self._queue):
            h.place = f"queued ({n} ahead)" if n else "queued (next)"

    def close(self) -> None:
        """Stop every run (each checkpoints) and forget the queue."""
        self._queue.clear()
        for h in self._handles:
            if h.process is not None and h.process.is_alive():
                h.process.stop()
