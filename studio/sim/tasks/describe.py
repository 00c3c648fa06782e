"""The environment description text given to LLM proposers (ICPL/Eureka context)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import mujoco

if TYPE_CHECKING:
    from studio.sim.tasks.base import Task


def _names(model: mujoco.MjModel, obj: mujoco.mjtObj, count: int) -> list[str]:
    return [mujoco.mj_id2name(model, obj, i) or f"#{i}" for i in range(count)]


def _actuator_label(model: mujoco.MjModel, i: int) -> str:
    """The actuator's name and the joint it drives (unnamed actuators are common)."""
    name = mujoco.mj_id2name(model, mujoco.mjtObj.mjOBJ_ACTUATOR, i)
    joint = ""
    if model.actuator_trntype[i] == mujoco.mjtTrn.mjTRN_JOINT:
        joint = mujoco.mj_id2name(model, mujoco.mjtObj.mjOBJ_JOINT, int(model.actuator_trnid[i, 0])) or ""
    if name and joint and joint != name:
        return f"{name} (torque on joint {joint})"
    if joint:
        return f"torque on joint {joint}"
    return name or f"actuator #{i}"


def describe_task(task: Task, max_features: int = 60) -> str:
    """Observation and action meaning, the task reward and the main features, as plain text."""
    m = task.model
    lines = [f"Task {task.env_id}: {task.title or 'a MuJoCo model'}."]
    lines.append(
        f"Control step dt = {task.dt:g} s ({task.frame_skip} physics steps of {m.opt.timestep:g} s); "
        + (f"episodes end after {task.max_episode_steps} steps" if task.max_episode_steps else "no time limit")
        + "."
    )
    lines.append(f"Observation: {task.obs_dim} float64 values, in this order:")
    start = 0
    for meaning, size in task.observation_layout():
        lines.append(f"  [{start}:{start + size}] {meaning}")
        start += size
    joints = _names(m, mujoco.mjtObj.mjOBJ_JOINT, m.njnt)
    lines.append(f"Joints (qpos order): {', '.join(joints)}.")
    lines.append(f"Action: {task.act_dim} values, one per actuator:")
    for i in range(m.nu):
        lo, hi = float(task.action_low[i]), float(task.action_high[i])
        lines.append(f"  [{i}] {_actuator_label(m, i)} in [{lo:g}, {hi:g}] (gear {m.actuator_gear[i, 0]:g})")
    if task.has_task_reward:
        lines.append("Task reward (the environment's own), as a design of weighted terms:")
        for t in task.task_design().terms():
            lines.append(f"  {t.weight:+g} * {t.source}   ({t.name}: {t.description})")
    lines.append("Features available to reward terms (name [unit], typical range: meaning):")
    for spec in list(task.catalog)[:max_features]:
        unit = f" [{spec.unit}]" if spec.unit else ""
        lines.append(f"  {spec.name}{unit}, {spec.low:.3g}..{spec.high:.3g}: {spec.description}")
    if len(task.catalog) > max_features:
        lines.append(f"  ... and {len(task.catalog) - max_features} more automatic features.")
    return "\n".join(lines)
