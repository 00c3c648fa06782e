"""Exported feature code reproduces ``Task.features`` exactly, for every feature of every built-in task."""

from __future__ import annotations

from typing import Any

import mujoco
import numpy as np
import pytest

from studio.export.feature_code import feature_code
from studio.sim.registry import get_task
from studio.sim.state import StateBatch
from studio.sim.tasks import BUILTIN_TASKS


def _load(code: Any) -> dict[str, Any]:
    """The generated functions (the studio's own output, trusted: run in-process for speed)."""
    namespace: dict[str, Any] = {"np": np, "__name__": "feature_code_under_test"}
    exec("\n\n".join(code.helpers + list(code.functions.values())), namespace)  # noqa: S102
    return {n: namespace[f"feature_{n}"] for n in code.functions}


@pytest.mark.parametrize("env_id", [cls.ENV_ID for cls in BUILTIN_TASKS])
def test_every_feature_is_exported_exactly(env_id: str) -> None:
    task = get_task(env_id)
    names = task.feature_names()
    code = feature_code(task, names)  # raises, naming the feature, if one is not exportable
    fns = _load(code)
    m = task.model
    rng = np.random.default_rng(0)
    data = mujoco.MjData(m)
    qpos, qvel = task.sample_reset(rng)
    data.qpos[:], data.qvel[:] = qpos, qvel
    mujoco.mj_forward(m, data)
    worst = 0.0
    for _ in range(40):
        nxt = mujoco.MjData(m)
        nxt.qpos[:], nxt.qvel[:], nxt.act[:] = data.qpos, data.qvel, data.act
        action = rng.uniform(-1, 1, m.nu)
        nxt.ctrl[:] = action
        mujoco.mj_step(m, nxt, nstep=task.frame_skip)
        mujoco.mj_rnePostConstraint(m, nxt)
        ref = task.features(StateBatch.from_datas([data]), StateBatch.from_datas([nxt]), action[None], names)
        for n in names:
            got = fns[n](m, data, action, nxt)
            assert got.shape == (1,) and got.dtype == np.float64, n
            worst = max(worst, float(np.max(np.abs(got - ref[n]))))
            assert np.allclose(got, ref[n], rtol=0, atol=1e-9, equal_nan=True), (n, got, ref[n])
        data = nxt
    assert worst <= 1e-9


def test_unknown_feature_is_named() -> None:
    from studio.export.codegen import ExportError

    with pytest.raises(ExportError, match="no_such_feature"):
        feature_code(get_task("HalfCheetah-v5"), ["no_such_feature"])
