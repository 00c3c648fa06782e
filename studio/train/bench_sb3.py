"""The Stable-Baselines3 side of ``bench train``: the studio's config in SB3's terms, and runs.

:func:`sb3_ppo_kwargs` and :func:`sb3_sac_kwargs` translate one :class:`PPOConfig` /
:class:`SACConfig` into SB3's arguments so that both sides run the same algorithm with the
same settings: SB3's ``n_steps`` is our steps per env, its ``batch_size`` our minibatch size;
its value loss is the full squared error where ours is half of it (so its ``vf_coef`` is half
ours); normalisation is ``VecNormalize`` with the same clips and γ; a linearly annealed
learning rate is SB3's schedule of the remaining progress, which it evaluates at the start
of each update as we do. The effective settings each side reports
(:func:`sb3_effective`) are read back from the SB3 objects, not from our config.

SB3 is a benchmark-only extra (``pip install reward-studio[bench]``), imported only here.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import torch

from studio.train.ppo import PPOConfig
from studio.train.sac import SACConfig

History = list[tuple[float, int, float]]
"""(seconds since start, env steps, mean task return of the last 10 episodes) per episode end."""


class Running:
    """Running mean of the last ``window`` episode returns, logged with time and steps."""

    def __init__(self, window: int = 10) -> None:
        self.scores: list[float] = []
        self.window = window
        self.history: History = []
        self.start = time.perf_counter()

    def add(self, scores: list[float], steps: int) -> None:
        """Fold in the returns of episodes that ended by ``steps``."""
        now = time.perf_counter() - self.start
        for s in scores:
            self.scores.append(float(s))
            if len(self.scores) >= self.window:
                self.history.append((now, steps, sum(self.scores[-self.window:]) / self.window))


def _linear(lr: float) -> Callable[[float], float]:
    return lambda progress_remaining: progress_remaining * lr


def sb3_ppo_kwargs(c: PPOConfig) -> dict[str, Any]:
    """SB3 ``PPO(...)`` keyword arguments doing what the studio's PPO does with ``c``."""
    if c.clip_vloss:
        raise ValueError("SB3 cannot clip the value loss CleanRL's way: compare with clip_vloss=False")
    if (c.norm_obs or c.norm_reward) and not c.norm_every_step:
        raise ValueError("SB3's VecNormalize updates at every step: compare with norm_every_step=True")
    from torch import nn

    return {
        "n_steps": c.num_steps, "batch_size": c.minibatch_size, "n_epochs": c.update_epochs,
        "learning_rate": _linear(c.learning_rate) if c.anneal_lr else c.learning_rate,
        "gamma": c.gamma, "gae_lambda": c.gae_lambda, "clip_range": c.clip_coef, "clip_range_vf": None,
        "normalize_advantage": c.norm_adv, "ent_coef": c.ent_coef, "vf_coef": c.vf_coef / 2.0,
        "max_grad_norm": c.max_grad_norm, "target_kl": c.target_kl,
        "policy_kwargs": {
            "net_arch": {"pi": list(c.hidden), "vf": list(c.hidden_vf or c.hidden)},
            "activation_fn": {"tanh": nn.Tanh, "relu": nn.ReLU}[c.activation],
            "ortho_init": c.ortho_init, "log_std_init": c.log_std_init,
        },
    }


def sb3_sac_kwargs(c: SACConfig) -> dict[str, Any]:
    """SB3 ``SAC(...)`` keyword arguments doing what the studio's SAC does with ``c``."""
    return {
        "learning_rate": c.learning_rate, "buffer_size": min(c.buffer_size, c.total_timesteps),
        "learning_starts": c.learning_starts, "batch_size": c.batch_size, "tau": c.tau, "gamma": c.gamma,
        "train_freq": 1, "gradient_steps": c.gradient_steps, "ent_coef": "auto" if c.autotune else c.alpha,
        "policy_kwargs": {"net_arch": list(c.hidden)},
    }


def studio_effective(c: PPOConfig | SACConfig, threads: int) -> dict[str, Any]:
    """The studio side's effective settings, keyed as :func:`sb3_effective` keys SB3's."""
    if isinstance(c, SACConfig):
        return {"algo": "sac", "num_envs": c.num_envs, "rollout_batch": c.num_envs, "n_epochs": c.gradient_steps,
                "minibatch_size": c.batch_size, "learning_rate": c.learning_rate, "lr_schedule": "constant",
                "gamma": c.gamma, "gae_lambda": None, "clip_range": None, "tau": c.tau,
                "buffer_size": min(c.buffer_size, c.total_timesteps), "learning_starts": c.learning_starts,
                "ent_coef": "auto" if c.autotune else c.alpha, "net": list(c.hidden), "activation": "relu",
                "norm_obs": False, "norm_reward": False, "torch_threads": threads}
    return {"algo": "ppo", "num_envs": c.num_envs, "rollout_batch": c.batch_size, "n_epochs": c.update_epochs,
            "minibatch_size": c.minibatch_size, "learning_rate": c.learning_rate,
            "lr_schedule": "linear" if c.anneal_lr else "constant", "gamma": c.gamma, "gae_lambda": c.gae_lambda,
            "clip_range": c.clip_coef, "clip_range_vf": c.clip_coef if c.clip_vloss else None,
            "ent_coef": c.ent_coef, "vf_mse_weight": c.vf_coef / 2.0, "max_grad_norm": c.max_grad_norm,
            "net_pi": list(c.hidden), "net_vf": list(c.hidden_vf or c.hidden), "activation": c.activation,
            "ortho_init": c.ortho_init, "log_std_init": c.log_std_init, "norm_obs": c.norm_obs,
            "norm_reward": c.norm_reward, "norm_update": "step" if c.norm_every_step else "rollout",
            "clip_obs": c.clip_obs if c.norm_obs else None,
            "clip_reward": c.clip_reward if c.norm_reward else None, "torch_threads": threads}


def sb3_effective(model: Any, venv: Any) -> dict[str, Any]:
    """What an SB3 model will actually run with, read from the model and its env wrappers."""
    from stable_baselines3 import SAC as SB3SAC
    from stable_baselines3.common.vec_env import VecNormalize

    norm = venv if isinstance(venv, VecNormalize) else None
    lr0, lr_end = model.lr_schedule(1.0), model.lr_schedule(0.0)
    common = {"num_envs": model.n_envs, "learning_rate": lr0, "lr_schedule": "constant" if lr0 == lr_end else "linear",
              "gamma": model.gamma, "norm_obs": bool(norm and norm.norm_obs),
              "norm_reward": bool(norm and norm.norm_reward), "torch_threads": torch.get_num_threads()}
    if isinstance(model, SB3SAC):
        return {"algo": "sac", **common, "rollout_batch": model.n_envs, "n_epochs": model.gradient_steps,
                "minibatch_size": model.batch_size, "gae_lambda": None, "clip_range": None, "tau": model.tau,
                "buffer_size": model.buffer_size, "learning_starts": model.learning_starts,
                "ent_coef": "auto" if model.ent_coef_optimizer is not None else float(model.ent_coef),
                "net": list(model.policy.net_arch["pi"] if isinstance(model.policy.net_arch, dict) else model.policy.net_arch),
                "activation": model.policy.activation_fn.__name__.lower()}
    arch = model.policy.net_arch
    return {"algo": "ppo", **common, "rollout_batch": model.n_steps * model.n_envs, "n_epochs": model.n_epochs,
            "minibatch_size": model.batch_size, "gae_lambda": model.gae_lambda, "clip_range": model.clip_range(1.0),
            "clip_range_vf": None if model.clip_range_vf is None else model.clip_range_vf(1.0),
            "ent_coef": model.ent_coef, "vf_mse_weight": model.vf_coef, "max_grad_norm": model.max_grad_norm,
            "net_pi": list(arch["pi"]), "net_vf": list(arch["vf"]),
            "activation": model.policy.activation_fn.__name__.lower(), "ortho_init": model.policy.ortho_init,
            "log_std_init": float(model.policy.log_std.detach().mean()), "norm_obs": bool(norm and norm.norm_obs),
            "norm_reward": bool(norm and norm.norm_reward), "norm_update": "step",
            "clip_obs": norm.clip_obs if norm and norm.norm_obs else None,
            "clip_reward": norm.clip_reward if norm and norm.norm_reward else None}


def build_sb3(env_id: str, c: PPOConfig | SACConfig, device: str) -> tuple[Any, Any]:
    """(model, venv) for SB3 with the translated settings; nothing trained yet."""
    from stable_baselines3 import PPO as SB3PPO
    from stable_baselines3 import SAC as SB3SAC
    from stable_baselines3.common.env_util import make_vec_env
    from stable_baselines3.common.vec_env import DummyVecEnv, VecNormalize

    venv: Any = make_vec_env(env_id, n_envs=c.num_envs, seed=c.seed, vec_env_cls=DummyVecEnv,
                             env_kwargs={"max_episode_steps": c.max_episode_steps})
    if isinstance(c, SACConfig):
        return SB3SAC("MlpPolicy", venv, device=device, seed=c.seed, verbose=0, **sb3_sac_kwargs(c)), venv
    if c.norm_obs or c.norm_reward:
        venv = VecNormalize(venv, norm_obs=c.norm_obs, norm_reward=c.norm_reward, clip_obs=c.clip_obs,
                            clip_reward=c.clip_reward, gamma=c.gamma)
    return SB3PPO("MlpPolicy", venv, device=device, seed=c.seed, verbose=0, **sb3_ppo_kwargs(c)), venv


def run_sb3(model: Any, venv: Any, steps: int) -> tuple[int, float, History]:
    """Train ``model`` for ``steps``; (steps done, seconds, history of the task return)."""
    from stable_baselines3.common.callbacks import BaseCallback

    running = Running()

    class Watch(BaseCallback):  # type: ignore[misc]
        def _on_step(self) -> bool:
            infos = self.locals.get("infos", [])
            running.add([info["episode"]["r"] for info in infos if "episode" in info], self.model.num_timesteps)
            return True

    running.start = time.perf_counter()
    model.learn(total_timesteps=steps, callback=Watch())
    seconds = time.perf_counter() - running.start
    venv.close()
    return int(model.num_timesteps), seconds, running.history
