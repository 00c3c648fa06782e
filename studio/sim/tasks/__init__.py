"""Task adapters: MuJoCo tasks as batched numpy functions of states (see :mod:`.base`).

``BUILTIN_TASKS`` lists the adapters of Gymnasium's MuJoCo v5 environments that
:mod:`studio_builtins.envs` registers; get tasks through :func:`studio.sim.registry.get_task`.

>>> from studio.sim.registry import get_task
>>> task = get_task("HalfCheetah-v5")
>>> task.obs_dim, task.act_dim, task.frame_skip, task.dt
(17, 6, 5, 0.05)
>>> [(t.source, t.weight) for t in task.task_design().terms()]
[('x_velocity', 1.0), ('ctrl_sq', -0.1)]
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
