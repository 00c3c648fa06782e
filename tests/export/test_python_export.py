"""The ``python`` export reproduces the studio's reward exactly, in a fresh interpreter."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from studio.core.compile import compile_design
from studio.core.design import Design
from studio.export.python_export import export_python
from studio.sim.registry import get_task
from studio.sim.state import StateBatch
from tests.export.designs import every_shape_design, root_product_design
from tests.export.harness import STATE_FIELDS, random_features, run_isolated

TOL = 1e-6


@pytest.fixture(scope="module")
def cheetah():
    return get_task("HalfCheetah-v5")


def _reference(design: Design, feats, prevs, steps, terms, truncs):
    """The studio's totals and components over a recorded sequence, state carried along."""
    compiled = compile_design(design, dtype=torch.float64)
    state = None
    totals, comps = [], {n: [] for n in compiled.component_names}
    for t in range(len(steps)):
        out = compiled(
            {k: v[t] for k, v in feats.items()},
            prev_features={k: v[t] for k, v in prevs.items()} if prevs else None,
            step=float(steps[t]), terminated=terms[t], truncated=truncs[t], state=state,
            check_finite=False,
        )
        state = out.state
        totals.append(out.total.numpy())
        for n in comps:
            comps[n].append(out.components[n].numpy())
    return np.array(totals), {n: np.array(v) for n, v in comps.items()}, compiled.component_names


@pytest.mark.parametrize("make", [every_shape_design, root_product_design])
def test_reward_from_features_is_exact(tmp_path: Path, cheetah, make) -> None:
    design = make()
    (tmp_path / "exported_reward.py").write_text(export_python(design, cheetah))
    names = sorted(compile_design(design).required_features)
    T, B = 60, 16
    rng = np.random.default_rng(1)
    feats = random_features(names, T, B, seed=2)
    prevs = random_features(names, T, B, seed=3)
    terms = rng.random((T, B)) < 0.05
    truncs = rng.random((T, B)) < 0.05
    steps = np.arange(T) * 20  # crosses every schedule's knots
    np.savez(tmp_path / "inputs.npz", terms=terms, truncs=truncs, steps=steps,
             **{f"f_{k}": v for k, v in feats.items()}, **{f"p_{k}": v for k, v in prevs.items()})
    run_isolated(tmp_path, """
        import numpy as np
        import exported_reward as r
        z = np.load("inputs.npz")
        names = [k[2:] for k in z.files if k.startswith("f_")]
        state = r.RewardState()
        totals, comps = [], {}
        for t in range(len(z["steps"])):
            f = {n: z["f_" + n][t] for n in names}
            p = {n: z["p_" + n][t] for n in names}
            total, c = r.reward_from_features(f, p, step=int(z["steps"][t]), state=state,
                                              terminated=z["terms"][t], truncated=z["truncs"][t])
            totals.append(total)
            for k, v in c.items():
                comps.setdefault(k, []).append(v)
        np.savez("outputs.npz", total=np.array(totals), order=np.array(list(comps)),
                 **{"c_" + k: np.array(v) for k, v in comps.items()})
    """)
    out = np.load(tmp_path / "outputs.npz")
    ref_total, ref_comps, order = _reference(design, feats, prevs, steps, terms, truncs)
    assert list(out["order"]) == order
    assert np.isfinite(ref_total).all()
    assert np.max(np.abs(out["total"] - ref_total)) <= TOL
    for n in order:
        assert np.max(np.abs(out["c_" + n] - ref_comps[n])) <= TOL, n
    # The events really fired, the schedules really moved: the check is not vacuous.
    if "fast_once" in order:
        assert ref_comps["fast_once"].any() and ref_comps["fell"].any() and ref_comps["timeout"].any()


def test_compute_reward_on_mujoco_rollout_is_exact(tmp_path: Path, cheetah) -> None:
    """compute_reward(model, data, action, next_data) over a real HalfCheetah rollout."""
    design = every_shape_design()
    (tmp_path / "exported_reward.py").write_text(export_python(design, cheetah))
    T, episode = 120, 40
    run_isolated(tmp_path, f"""
        import copy
        import mujoco
        import numpy as np
        import exported_reward as r
        m = mujoco.MjModel.from_xml_path({cheetah.model_path!r})
        d = mujoco.MjData(m)
        rng = np.random.default_rng(0)
        fields = {STATE_FIELDS!r}
        rec = {{"b_" + k: [] for k in fields}} | {{"a_" + k: [] for k in fields}}
        totals, comps, actions, truncs = [], {{}}, [], []
        for t in range({T}):
            if t % {episode} == 0:
                mujoco.mj_resetData(m, d)
                d.qpos[:] = m.qpos0 + rng.uniform(-0.1, 0.1, m.nq)
                d.qvel[:] = rng.normal(0, 0.1, m.nv)
                mujoco.mj_forward(m, d)
            before = copy.copy(d)
            action = rng.uniform(-1, 1, m.nu)
            d.ctrl[:] = action
            mujoco.mj_step(m, d, nstep=5)
            truncated = (t + 1) % {episode} == 0
            total, c = r.compute_reward(m, before, action, d, step=t * 10, truncated=truncated)
            totals.append(total); actions.append(action); truncs.append(truncated)
            for k, v in c.items():
                comps.setdefault(k, []).append(v)
            for k in fields:
                rec["b_" + k].append(np.array(getattr(before, k), dtype=float))
                rec["a_" + k].append(np.array(getattr(d, k), dtype=float))
        np.savez("rollout.npz", total=np.array(totals), actions=np.array(actions),
                 truncs=np.array(truncs), order=np.array(list(comps)),
                 **{{"c_" + k: np.array(v) for k, v in comps.items()}},
                 **{{k: np.array(v) for k, v in rec.items()}})
    """)
    z = np.load(tmp_path / "rollout.npz")
    compiled = compile_design(design, cheetah.catalog.names(), dtype=torch.float64)
    names = sorted(compiled.required_features)
    state, prev = None, None
    for t in range(T):
        before = StateBatch(**{k: z["b_" + k][t][None] for k in STATE_FIELDS})
        after = StateBatch(**{k: z["a_" + k][t][None] for k in STATE_FIELDS})
        feats = cheetah.features(before, after, z["actions"][t][None], names)
        if t % episode == 0:  # the studio's convention after a reset: (s, 0, s)
            prev = cheetah.features(before, before, np.zeros((1, cheetah.act_dim)), names)
        out = compiled(feats, prev_features=prev, step=t * 10, truncated=z["truncs"][t:t + 1], state=state)
        state, prev = out.state, feats
        assert abs(float(out.total[0]) - z["total"][t]) <= TOL, t
        for n in compiled.component_names:
            assert abs(float(out.components[n][0]) - z["c_" + n][t]) <= TOL, (t, n)


def test_header_and_readability(cheetah) -> None:
    src = export_python(every_shape_design(), cheetah)
    head = src[:600]
    assert "every_shape (version 3)" in head and "sha256:" in head and "Reward Studio" in head
    assert "KERNEL_TEMPERATURE = 2.0" in src and "def term_kernel(f, ones, step=0):" in src
    assert "import studio" not in src and "from studio" not in src
    compile(src, "exported_reward.py", "exec")


def test_unexportable_feature_is_named() -> None:
    from studio.core.design import Group, Term
    from studio.export.codegen import ExportError

    hopper = get_task("Hopper-v5")
    d = Design("alive", "Hopper-v5", Group("reward", [Term("alive", "healthy")]))
    try:
        export_python(d, hopper)
    except ExportError as exc:
        assert "healthy" in str(exc)
    else:  # the sim engineer may make it exportable: then it must be exact (other test)
        pass


def test_plugin_shape_with_foreign_helper_is_refused(cheetah) -> None:
    """A plugin shape that calls a helper the exported module lacks fails with its name."""
    from studio.core.design import Group, Term
    from studio.core.shapes import SHAPES, ShapeDef, register_shape
    from studio.export.codegen import ExportError

    def shape_softplus_test(xp, x, beta=1.0):
        return _softplus_helper(xp, x * beta)  # noqa: F821 - deliberately undefined

    register_shape(ShapeDef("softplus_test", shape_softplus_test, (), "test only"))
    try:
        d = Design("p", "HalfCheetah-v5", Group("reward", [Term("t", "x_velocity", "softplus_test")]))
        with pytest.raises(ExportError, match="_softplus_helper"):
            export_python(d, cheetah)
    finally:
        SHAPES.pop("softplus_test", None)


def test_code_terms_are_not_exported(cheetah) -> None:
    from studio.core.design import Group, Term
    from studio.export.codegen import ExportError

    d = Design("c", "HalfCheetah-v5", Group("reward", [Term("t", "code_thigh_energy")]))
    with pytest.raises(ExportError, match="sandboxed code term"):
        export_python(d, cheetah)
