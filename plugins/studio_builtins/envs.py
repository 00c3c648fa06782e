"""Built-in tasks: Gymnasium's MuJoCo v5 environments, registered like any plugin.

``pyproject.toml`` declares this module's :func:`register` under the entry point group
``reward_studio.envs``; third-party task plugins provide the same function.
"""

from __future__ import annotations

from studio.sim.registry import TaskRegistry


def register(registry: TaskRegistry) -> None:
    """Register the ten built-in Gymnasium v5 tasks (built lazily on first use)."""
    from studio.sim.tasks import BUILTIN_TASKS

    for cls in BUILTIN_TASKS:
        registry.register(cls.ENV_ID, cls, title=cls.title)
