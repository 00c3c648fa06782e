"""Where tasks come from: built-in and third-party plugins, Gymnasium ids, MJCF files.

Plugins contribute tasks through the entry point group ``reward_studio.envs``; each
entry point names a function ``register(registry: TaskRegistry) -> None`` that calls
:meth:`TaskRegistry.register`. The built-in tasks (``studio_builtins.envs``) take
exactly that path. A plugin that fails to import or to register is logged and
skipped, never fatal. From a source checkout without installed package metadata,
``studio_builtins.envs`` is imported directly.

>>> reg = TaskRegistry()
>>> reg.register("Toy-v0", lambda: None, title="a toy")
>>> ids = reg.ids()  # plugins load on first use: the built-ins join the toy
>>> ids[0], "HalfCheetah-v5" in ids
('Toy-v0', True)
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from studio.sim.tasks.base import Task

log = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "reward_studio.envs"
"""The entry point group that task plugins register under."""


@dataclass(frozen=True)
class TaskEntry:
    """A registered task: how to build it and how to present it."""

    env_id: str
    """Identifier users type (``HalfCheetah-v5``)."""
    factory: Callable[[], Task]
    """Builds the task (called once; the task is then cached)."""
    title: str = ""
    """One-line human description."""
    source: str = ""
    """The plugin that registered it."""


class TaskRegistry:
    """Task ids -> factories, filled by plugins; builds and caches tasks on request."""

    def __init__(self) -> None:
        self._entries: dict[str, TaskEntry] = {}
        self._tasks: dict[str, Task] = {}
        self._loaded = False
        self._source = ""
        self.errors: dict[str, str] = {}
        """Plugin name -> why it was skipped."""

    def register(self, env_id: str, factory: Callable[[], Task], *, title: str = "") -> None:
        """Add (or replace) a task; plugins call this from their ``register`` function."""
        if not env_id or not isinstance(env_id, str):
            raise ValueError(f"task id must be a non-empty string, got {env_id!r}")
        if env_id in self._entries:
            log.info("task %s from %s replaces the one from %s", env_id, self._source, self._entries[env_id].source)
        self._entries[env_id] = TaskEntry(env_id, factory, title, self._source)
        self._tasks.pop(env_id, None)

    def load_plugins(self) -> None:
        """Run every ``reward_studio.envs`` entry point once (idempotent).

        Through :func:`studio.plugins.load_group`, the one plugin loader: a failing plugin
        is skipped, kept in :attr:`errors` and listed by the app's Help > Plugins.
        """
        if self._loaded:
            return
        self._loaded = True
        from studio.plugins import load_group

        for failure in load_group(ENTRY_POINT_GROUP, self):
            self.errors[failure.name] = failure.error
        self._source = ""

    def set_source(self, name: str) -> None:
        """Name the plugin whose ``register`` runs next (``load_group`` calls this)."""
        self._source = name

    def ids(self) -> list[str]:
        """Registered task ids, in registration order."""
        self.load_plugins()
        return list(self._entries)

    def entries(self) -> list[TaskEntry]:
        """Registered tasks with their titles."""
        self.load_plugins()
        return list(self._entries.values())

    def get(self, env_id_or_path: str) -> Task:
        """The task for a registered id, any Gymnasium MuJoCo env id, or an MJCF file path."""
        self.load_plugins()
        key = env_id_or_path
        if key in self._tasks:
            return self._tasks[key]
        entry = self._entries.get(key)
        if entry is not None:
            task = entry.factory()
        elif _looks_like_path(key):
            from studio.sim.tasks.generic import MjcfTask

            task = MjcfTask(key)
        else:
            from studio.sim.tasks.generic import gym_task

            task = gym_task(key, known=self.ids())
        self._tasks[key] = task
        return task


def _looks_like_path(key: str) -> bool:
    return key.lower().endswith((".xml", ".mjcf", ".mjb")) or os.sep in key or os.path.exists(key)


_DEFAULT = TaskRegistry()


def default_registry() -> TaskRegistry:
    """The process-wide registry the app uses."""
    return _DEFAULT


def get_task(env_id_or_path: str) -> Task:
    """The task for ``env_id_or_path`` from the default registry (cached)."""
    return _DEFAULT.get(env_id_or_path)


def list_tasks() -> list[str]:
    """Ids of the registered tasks (built-in and plugins)."""
    return _DEFAULT.ids()
