"""torch, gymnasium and json exports: exact, standalone, and usable by a real trainer."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from studio.core.compile import compile_design
from studio.core.design import Design
from studio.export.gym_export import export_gymnasium
from studio.export.registry import default_registry
from studio.export.torch_export import export_torch
from studio.sim.registry import get_task
from studio.sim.state import StateBatch
from tests.export.designs import every_shape_design, root_product_design
from tests.export.harness import STATE_FIELDS, random_features, run_isolated
from tests.export.test_python_export import TOL, _reference


@pytest.fixture(scope="module")
def cheetah():
    return get_task("HalfCheetah-v5")


@pytest.mark.parametrize("make", [every_shape_design, root_product_design])
def test_torch_module_is_exact(tmp_path: Path, make) -> None:
    design = make()
    (tmp_path / "reward_torch.py").write_text(export_torch(design))
    names = sorted(compile_design(design).required_features)
    T, B = 40, 8
    rng = np.random.default_rng(5)
    feats, prevs = random_features(names, T, B, 6), random_features(names, T, B, 7)
    terms, truncs = rng.random((T, B)) < 0.05, rng.random((T, B)) < 0.05
    steps = np.arange(T) * 30
    np.savez(tmp_path / "inputs.npz", terms=terms, truncs=truncs, steps=steps,
             **{f"f_{k}": v for k, v in feats.items()}, **{f"p_{k}": v for k, v in prevs.items()})
    run_isolated(tmp_path, """
        import numpy as np
        import torch
        import reward_torch as r
        z = np.load("inputs.npz")
        names = [k[2:] for k in z.files if k.startswith("f_")]
        module = r.DesignReward(dtype=torch.float64)
        assert isinstance(module, torch.nn.Module)
        totals, comps = [], {}
        for t in range(len(z["steps"])):
            f = {n: torch.from_numpy(z["f_" + n][t]) for n in names}
            p = {n: torch.from_numpy(z["p_" + n][t]) for n in names}
            total, c = module(f, p, step=int(z["steps"][t]), terminated=torch.from_numpy(z["terms"][t]),
                              truncated=torch.from_numpy(z["truncs"][t]))
            totals.append(total.numpy())
            for k, v in c.items():
                comps.setdefault(k, []).append(v.numpy())
        np.savez("outputs.npz", total=np.array(totals), order=np.array(list(comps)),
                 **{"c_" + k: np.array(v) for k, v in comps.items()})
    """)
    out = np.load(tmp_path / "outputs.npz")
    ref_total, ref_comps, order = _reference(design, feats, prevs, steps, terms, truncs)
    assert list(out["order"]) == order
    assert np.max(np.abs(out["total"] - ref_total)) <= TOL
    for n in order:
        assert np.max(np.abs(out["c_" + n] - ref_comps[n])) <= TOL, n


def test_gymnasium_wrapper_checks_and_is_exact(tmp_path: Path, cheetah) -> None:
    design = every_shape_design()
    (tmp_path / "reward_gym.py").write_text(export_gymnasium(design, cheetah))
    T = 60
    run_isolated(tmp_path, f"""
        import copy, os
        os.environ.setdefault("MUJOCO_GL", "egl")
        import gymnasium
        import numpy as np
        from gymnasium.utils.env_checker import check_env
        import reward_gym as r
        check_env(r.wrap(gymnasium.make("HalfCheetah-v5")), skip_render_check=True)
        env = r.wrap(gymnasium.make("HalfCheetah-v5"), count_steps=True)
        obs, info = env.reset(seed=3)
        fields = {STATE_FIELDS!r}
        rec = {{"b_" + k: [] for k in fields}} | {{"a_" + k: [] for k in fields}}
        rewards, comps, actions, task = [], {{}}, [], []
        for t in range({T}):
            before = copy.copy(env.unwrapped.data)
            action = env.action_space.sample()
            obs, reward, terminated, truncated, info = env.step(action)
            assert sum(info["reward_components"].values()) == reward  # exactly, as Gymnasium does
            rewards.append(reward); actions.append(action); task.append(info["task_reward"])
            for k, v in info["reward_components"].items():
                comps.setdefault(k, []).append(v)
            for k in fields:
                rec["b_" + k].append(np.array(getattr(before, k), dtype=float))
                rec["a_" + k].append(np.array(getattr(env.unwrapped.data, k), dtype=float))
        np.savez("rollout.npz", total=np.array(rewards), actions=np.array(actions), task=np.array(task),
                 **{{"c_" + k: np.array(v) for k, v in comps.items()}},
                 **{{k: np.array(v) for k, v in rec.items()}})
    """, timeout=180)
    z = np.load(tmp_path / "rollout.npz")
    compiled = compile_design(design, cheetah.catalog.names(), dtype=torch.float64)
    names = sorted(compiled.required_features)
    state, prev = None, None
    for t in range(T):
        before = StateBatch(**{k: z["b_" + k][t][None] for k in STATE_FIELDS})
        after = StateBatch(**{k: z["a_" + k][t][None] for k in STATE_FIELDS})
        action = z["actions"][t][None].astype(np.float64)
        feats = cheetah.features(before, after, action, names)
        if t == 0:
            prev = cheetah.features(before, before, np.zeros((1, cheetah.act_dim)), names)
        out = compiled(feats, prev_features=prev, step=t, state=state)
        state, prev = out.state, feats
        assert abs(float(out.total[0]) - z["total"][t]) <= TOL, t
        for n in compiled.component_names:
            assert abs(float(out.components[n][0]) - z["c_" + n][t]) <= TOL, (t, n)
        task_reward, _ = cheetah.task_reward(before, after, action)
        assert abs(float(task_reward[0]) - z["task"][t]) <= 1e-6


@pytest.mark.slow
def test_sb3_ppo_runs_on_the_exported_wrapper_whose_reward_is_its_components_sum(tmp_path: Path, cheetah) -> None:
    design = get_task("HalfCheetah-v5").task_design()
    design.root.children[0].shape = "tanh"
    design.root.children[0].params = {"scale": 3.0}
    (tmp_path / "reward_gym.py").write_text(export_gymnasium(design, cheetah))
    out = run_isolated(tmp_path, """
        import os
        os.environ.setdefault("MUJOCO_GL", "egl")
        import torch
        torch.set_num_threads(1)
        from stable_baselines3 import PPO
        import reward_gym as r
        env = r.make()
        model = PPO("MlpPolicy", env, n_steps=1024, batch_size=128, n_epochs=2, seed=0, verbose=0,
                    device="cpu")
        model.learn(total_timesteps=2048)
        obs, _ = env.reset(seed=1)
        action, _ = model.predict(obs, deterministic=True)
        obs, reward, *_ , info = env.step(action)
        parts = info["reward_components"]
        print("OK", model.num_timesteps, sorted(parts))
        print("SUM", repr(float(reward)), repr(float(sum(parts.values()))))
    """, timeout=240)
    # SB3 ran its 2048 steps through the wrapper, which reports the design's components...
    assert "OK 2048 ['ctrl_cost', 'forward']" in out
    # ...and the reward it trained on is exactly their sum (not, say, the task's own reward).
    reward, parts_sum = (float(v) for v in out.split("SUM ", 1)[1].split()[:2])
    assert reward == pytest.approx(parts_sum, abs=1e-9)


def test_json_export_round_trips(cheetah) -> None:
    design = every_shape_design()
    text = default_registry().get("json").export(design)
    assert Design.from_json(json.loads(text)) == design


def test_registry_lists_builtin_formats() -> None:
    reg = default_registry()
    assert {"python", "torch", "gymnasium", "json"} <= set(reg.names())
    assert reg.get("python").suffix == ".py" and reg.get("json").suffix == ".json"
    assert any(s.name == "workspace" for s in reg.sources())


@pytest.mark.parametrize("fmt", ["python", "torch", "gymnasium"])
def test_exported_code_is_lint_clean(tmp_path: Path, fmt: str) -> None:
    """Code a person would paste: ruff finds nothing (pyflakes, pycodestyle, isort, bugbear)."""
    import subprocess
    import sys

    from studio.export.cli import export_design

    for i, design in enumerate([every_shape_design(), get_task("Hopper-v5").task_design()]):
        (tmp_path / f"m{i}.py").write_text(export_design(design, fmt))
    res = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "--isolated", "--line-length", "100",
         "--select", "E,F,W,I,B,UP,SIM", str(tmp_path)],
        capture_output=True, text=True, check=False,
    )
    if "No module named ruff" in res.stderr:
        pytest.skip("ruff is not installed")
    assert res.returncode == 0, res.stdout[-3000:]


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_torch_module_on_cuda_matches_cpu(tmp_path: Path) -> None:
    import importlib.util

    design = every_shape_design()
    path = tmp_path / "reward_torch_cuda.py"
    path.write_text(export_torch(design))
    spec = importlib.util.spec_from_file_location("reward_torch_cuda", path)
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)  # the studio's own generated code
    feats = {k: torch.from_numpy(v[0]) for k, v in random_features(list(mod.FEATURES), 1, 4096).items()}
    cpu_total, _ = mod.DesignReward(dtype=torch.float64)(feats, feats, step=100)
    gpu_feats = {k: v.cuda() for k, v in feats.items()}
    gpu_total, comps = mod.DesignReward(dtype=torch.float64)(gpu_feats, gpu_feats, step=100)
    assert gpu_total.device.type == "cuda" and all(c.device.type == "cuda" for c in comps.values())
    assert torch.allclose(gpu_total.cpu(), cpu_total, atol=1e-9, equal_nan=True)


def test_every_task_reward_exports_to_gymnasiums_own_reward(tmp_path: Path) -> None:
    """The task's own design, exported as a wrapper, pays what Gymnasium pays (every built-in task)."""
    from studio.export.cli import export_design
    from studio.sim.tasks import BUILTIN_TASKS

    ids = [cls.ENV_ID for cls in BUILTIN_TASKS]
    for env_id in ids:
        module = "m_" + env_id.split("-")[0].lower()
        (tmp_path / f"{module}.py").write_text(export_design(get_task(env_id).task_design(), "gymnasium"))
    out = run_isolated(tmp_path, f"""
        import importlib, os, warnings
        os.environ.setdefault("MUJOCO_GL", "egl")
        warnings.simplefilter("ignore")
        for env_id in {ids!r}:
            mod = importlib.import_module("m_" + env_id.split("-")[0].lower())
            env = mod.make()
            env.reset(seed=0)
            worst = 0.0
            for _ in range(30):
                obs, reward, terminated, truncated, info = env.step(env.action_space.sample())
                worst = max(worst, abs(reward - info["task_reward"]))
                if terminated or truncated:
                    env.reset()
            print(env_id, worst)
    """, timeout=240)
    worst = {line.split()[0]: float(line.split()[1]) for line in out.strip().splitlines()}
    assert set(worst) == set(ids)
    assert max(worst.values()) < 1e-5, worst  # float32 actions in Gymnasium's control cost
