"""Where the trainer's environments and the task's own design come from.

By default both come from ``studio.sim``: ``studio.sim.vector.VectorEnv`` and
``studio.sim.registry.get_task(env_id)``. An *env factory* ``"package.module:callable"`` (a
string, so that it crosses a spawn boundary) replaces the vector env, for tests and for
other backends; when its module also defines ``task_design(env_id)`` that is used for the
word ``task``.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

from studio.train.runtime import VectorEnvLike

DEFAULT_FACTORY = "studio.sim.vector:VectorEnv"


def load_callable(spec: str) -> Callable[..., Any]:
    """The object named by ``"package.module:attribute"``."""
    module, _, attr = spec.partition(":")
    if not attr:
        raise ValueError(f"expected 'package.module:callable', got {spec!r}")
    return getattr(importlib.import_module(module), attr)  # type: ignore[no-any-return]


def make_env(
    env_id: Any,
    num_envs: int,
    seed: int,
    max_episode_steps: int | None = None,
    factory: str | None = None,
) -> VectorEnvLike:
    """A vector env of ``num_envs`` copies of a task: the one way every layer builds one.

    ``env_id``: a task id, an MJCF path, or a task object (the default factory takes
    either); ``max_episode_steps`` None keeps the task's registered limit.
    """
    make = load_callable(factory or DEFAULT_FACTORY)
    env: VectorEnvLike = make(env_id, num_envs, seed=seed, max_episode_steps=max_episode_steps)
    return env


def task_design_document(env_id: str, factory: str | None = None) -> dict[str, Any]:
    """The task's own reward as a design document."""
    if factory is not None:
        module = importlib.import_module(factory.partition(":")[0])
        if hasattr(module, "task_design"):
            return module.task_design(env_id).to_json()  # type: ignore[no-any-return]
    from studio.sim.registry import get_task

    return get_task(env_id).task_design().to_json()


def catalog_names(env_id: str, factory: str | None = None) -> list[str] | None:
    """The task's feature names, to reject unknown ones before training (None: unknown)."""
    if factory is not None and factory != DEFAULT_FACTORY:
        return None
    from studio.sim.registry import get_task

    return get_task(env_id).catalog.names()  # with the array features (qpos, action...)
