"""Runner backends: where the training processes of many runs (a refinement round's K
candidates) are placed, how many at once, and on which device.

A :class:`Runner` hands out one :class:`RunHandle` per submitted run. A handle looks like a
:class:`~studio.train.process.TrainingProcess` (``start``, ``poll``, ``pause``, ``stop``…), so
``studio.app.run_controller.RunController`` persists a queued run exactly like a live one:
:meth:`Runner.factory` is a ``process_factory`` for it. ``start`` only queues; the runner
starts the process when a slot is free (on any handle's ``poll`` or on :meth:`Runner.tick`).
Each handle reports its ``state`` (``queued``, ``running``, ``ended``), its ``device`` and
its ``place`` (where it runs, for the user).

The local backend (:class:`~studio.train.runners.local.LocalRunner`) runs one process per
run on this machine, CPU runs in parallel up to the cores, CUDA runs one at a time. The Ray
backend (:class:`~studio.train.runners.ray_backend.RayRunner`) runs each as a Ray actor on
a cluster, or on a local instance on loopback.
"""

from __future__ import annotations

from typing import Any, Protocol

from studio.train.messages import Message

__all__ = ["RUNNERS", "RunHandle", "Runner", "make_runner"]


class RunHandle(Protocol):
    """One submitted run: a training process that may still be waiting for a slot."""

    state: str
    """``queued``, ``running`` or ``ended``."""
    device: str
    """``cpu`` or ``cuda:N``: where the run's tensors live."""
    place: str
    """Where it runs, in words: ``local pid 4242``, ``queued (2 ahead)``."""

    def start(self) -> None: ...
    def pause(self) -> None: ...
    def resume(self) -> None: ...
    def stop(self) -> None: ...
    def kill(self) -> None: ...
    def update_design(self, document: dict[str, Any], version_id: str) -> None: ...
    def poll(self, max_items: int = 100) -> list[Message]: ...
    def is_alive(self) -> bool: ...


class Runner(Protocol):
    """A backend that places training processes."""

    name: str

    def factory(self, config: Any, design_doc: dict[str, Any], env_id: str, run_dir: str,
                **kwargs: Any) -> RunHandle:
        """A handle for one run (a ``RunController`` process factory)."""
        ...

    def tick(self) -> None:
        """Start queued runs while slots are free."""
        ...

    def close(self) -> None:
        """Stop every run (they checkpoint) and release the backend."""
        ...


RUNNERS = ("local", "ray")
"""The runner backends, for ``--backend``."""


def make_runner(name: str = "local", **kwargs: Any) -> Runner:
    """The runner backend called ``name``: ``local``, or ``ray`` (``address=``, optional extra)."""
    if name == "local":
        from studio.train.runners.local import LocalRunner

        return LocalRunner(**kwargs)
    if name == "ray":
        from studio.train.runners.ray_backend import RayRunner

        return RayRunner(**kwargs)
    raise ValueError(f"unknown runner {name!r}: use one of {', '.join(RUNNERS)}")
