"""Task adapters: MuJoCo tasks as batched numpy functions of states (see :mod:`.base`).

``BUILTIN_TASKS`` lists the adapters of Gymnasium's MuJoCo v5 environments that
:mod:`studio_builtins.envs` registers; get tasks through :func:`studio.sim.registry.get_task`.
"""

from studio.sim.tasks.arms import (
    InvertedDoublePendulumTask,
    InvertedPendulumTask,
    PusherTask,
    ReacherTask,
)
from studio.sim.tasks.base import FeatureFn, Task, TaskFeature, feature
from studio.sim.tasks.gym_base import GymTask
from studio.sim.tasks.legged import AntTask, HumanoidTask
from studio.sim.tasks.planar import HalfCheetahTask, HopperTask, SwimmerTask, Walker2dTask

BUILTIN_TASKS: tuple[type[GymTask], ...] = (
    HalfCheetahTask,
    HopperTask,
    Walker2dTask,
    AntTask,
    HumanoidTask,
    SwimmerTask,
    ReacherTask,
    PusherTask,
    InvertedPendulumTask,
    InvertedDoublePendulumTask,
)
"""Built-in adapters, in the order the task picker lists them."""

__all__ = ["BUILTIN_TASKS", "FeatureFn", "GymTask", "Task", "TaskFeature", "feature"]
