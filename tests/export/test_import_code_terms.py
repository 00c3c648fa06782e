"""Code terms: what cannot be translated runs as the original code in a sandbox worker.

The imported design validates, evaluates and trains: PPO runs a few updates on a design
whose code term is computed by the sandbox worker once per rollout, and the term's
episode sums are logged like any other term's.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from studio.export.importer import import_reward
from studio.export.importer.verify import verify
from studio.sim.code_terms import CodeTerms
from studio.sim.registry import get_task

ENV = "InvertedPendulum-v5"

SOURCE = '''
import numpy as np


def compute_reward(pole_angle, cart_position):
    upright = np.exp(-np.abs(pole_angle) / 0.2)
    drift = cart_position * 0.0
    k = 0
    while k < 3:  # a while loop: no design-language term, kept as code
        drift = drift + 0.01 * cart_position ** 2
        k += 1
    return upright - drift, {"upright": upright, "drift": drift}
'''


@pytest.fixture(scope="module")
def imported():
    task = get_task(ENV)
    return import_reward(SOURCE, ENV, task.catalog.names(), allow_code=True, name="coded")


def test_code_term_is_kept_and_the_design_matches_the_original(imported) -> None:
    assert imported.terms == ["upright"] and [c.name for c in imported.code_terms] == ["drift"]
    assert any(i.line == 9 and "While" in i.message for i in imported.issues)
    v = verify(imported, get_task(ENV), count=64)
    assert v.matches and v.term_diffs["drift"] < 1e-12, v.report()


def test_code_terms_compute_in_a_long_lived_worker(imported) -> None:
    code = CodeTerms.of(imported.design)
    assert code is not None and code.inputs == ["pole_angle", "cart_position"]
    x = np.linspace(-2, 2, 7)
    try:
        first = code.compute({"pole_angle": np.zeros(7), "cart_position": x})
        second = code.compute({"pole_angle": np.zeros(7), "cart_position": 2 * x})  # same worker
    finally:
        code.close()
    np.testing.assert_allclose(first["code_drift"], 0.03 * x**2, atol=1e-15)
    np.testing.assert_allclose(second["code_drift"], 0.12 * x**2, atol=1e-15)


def test_design_with_code_term_validates_and_evaluates(imported, tmp_path: Path) -> None:
    from studio.app.designs import validate_design_file
    from studio.app.evaluate import evaluate_random

    path = tmp_path / "coded.json"
    path.write_text(imported.design.dumps())
    assert validate_design_file(path) == []
    stats = evaluate_random(str(path), ENV, steps=40, envs=2)
    names = {s.name for s in stats.per_step}
    assert {"upright", "drift"} <= names


def test_design_with_code_term_trains_for_a_few_updates(imported) -> None:
    from studio.train.envs import catalog_names, make_env
    from studio.train.messages import Metrics
    from studio.train.ppo import PPO, PPOConfig

    cfg = PPOConfig(total_timesteps=512, num_envs=2, num_steps=128, num_minibatches=2, update_epochs=1)
    env = make_env(ENV, cfg.num_envs, cfg.seed, cfg.max_episode_steps)
    trainer = PPO(cfg, env, json.loads(imported.design.dumps()), feature_names=catalog_names(ENV))
    try:
        metrics = [m.values for m in trainer.run() if isinstance(m, Metrics)]
    finally:
        trainer.env.close()
        if trainer.reward.code is not None:
            trainer.reward.code.close()
    assert trainer.global_step == 512
    drift = [m["Episode_Reward/drift"] for m in metrics if "Episode_Reward/drift" in m]
    assert drift and all(d <= 0.0 for d in drift)  # weight -1 times 0.03 * x**2


def test_code_term_exports_with_the_original_function_and_stays_exact(imported, tmp_path: Path) -> None:
    import importlib.util

    from studio.export.gym_export import export_gymnasium

    path = tmp_path / "coded_wrapper.py"
    path.write_text(export_gymnasium(imported.design, get_task(ENV)))
    spec = importlib.util.spec_from_file_location("coded_wrapper", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    env = module.make()
    env.reset(seed=3)
    env.action_space.seed(3)
    for _ in range(20):
        _, reward, terminated, truncated, info = env.step(env.action_space.sample())
        cart, pole = env.unwrapped.data.qpos[0], env.unwrapped.data.qpos[1]
        # the original, by hand: exp(-|angle| / 0.2) - 3 * 0.01 * x**2
        assert abs(reward - (np.exp(-abs(pole) / 0.2) - 0.03 * cart**2)) < 1e-12
        assert abs(info["reward_components"]["drift"] + 0.03 * cart**2) < 1e-12
        if terminated or truncated:
            env.reset()
    env.close()
