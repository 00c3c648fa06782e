"""Training presets per built-in task: RL Zoo's tuned settings, and the studio's earlier ones.

A preset is a named set of config fields for one task and one learner. Each task has:

``zoo`` (the default on a CPU)
    RL Baselines3 Zoo's tuned PPO hyper-parameters for the task, with the same meaning as
    in SB3: the rollout is ``n_steps`` per env (``num_steps``) times ``n_envs``
    (``num_envs``); SB3's ``batch_size`` is our minibatch size; observations and rewards
    are normalised as ``VecNormalize`` does (statistics updated at every step), with the
    task's γ; episodes end at the task's registered time limit; the learning rate is
    constant; SB3's value loss is the full squared error without clipping (ours is half of
    it, clipped the CleanRL way unless ``clip_vloss`` is off), so ``vf_coef`` is doubled and
    value clipping is off. Source: ``hyperparams/ppo.yml`` of
    https://github.com/DLR-RM/rl-baselines3-zoo (commit 22e3ff2, April 2026), entries
    ``<Task>-v4`` / ``-v2`` (v5 tasks have the same dynamics and rewards up to
    Gymnasium's v5 fixes). Tasks the zoo did not tune (Ant, Pusher) get the zoo's
    ``mujoco-defaults``: SB3's PPO defaults with normalisation.
``zoo-gpu`` (the default on CUDA)
    The same algorithm with 16 environments stepped together and the minibatch grown by the
    same factor: a GPU is bound by kernel launches, so 16x fewer, 16x larger gradient steps
    per transition cost about the same time as one. The learning rate is kept. Not measured:
    this project's machine has no GPU.
``cleanrl``
    The studio's earlier default (CleanRL's ``ppo_continuous_action.py``): 8 envs x 256
    steps, 32 minibatches, 10 epochs, linearly annealed lr 3e-4, tanh 64x64.

For ``--algo sac`` every task has ``zoo``: RL Zoo's ``hyperparams/sac.yml`` (SB3's SAC
defaults with ``learning_starts: 10000``; Swimmer γ 0.999).
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import Any, TypeVar

from studio.train.ppo import PPOConfig

ZOO_SOURCE = "rl-baselines3-zoo hyperparams/ppo.yml @ 22e3ff2"
ZOO_SAC_SOURCE = "rl-baselines3-zoo hyperparams/sac.yml @ 22e3ff2"
TASKS = ("HalfCheetah", "Hopper", "Walker2d", "Ant", "Humanoid", "Swimmer", "Reacher", "Pusher",
         "InvertedPendulum", "InvertedDoublePendulum")
PPO_PRESETS = ("zoo", "zoo-gpu", "cleanrl")
SAC_PRESETS = ("zoo",)
GPU_SCALE = 16
"""Environments of ``zoo-gpu`` per env of ``zoo`` (and minibatch growth)."""

# SB3's PPO defaults (stable_baselines3/ppo/ppo.py and ActorCriticPolicy), in SB3's terms.
_SB3_PPO: dict[str, Any] = {
    "n_envs": 1, "n_steps": 2048, "batch_size": 64, "n_epochs": 10, "learning_rate": 3e-4, "gamma": 0.99,
    "gae_lambda": 0.95, "clip_range": 0.2, "ent_coef": 0.0, "vf_coef": 0.5, "max_grad_norm": 0.5,
    "net": (64, 64), "activation": "tanh", "ortho_init": True, "log_std_init": 0.0,
}
# The zoo's tuned MuJoCo entries share this policy (policy_kwargs in ppo.yml).
_ZOO_NET: dict[str, Any] = {"net": (256, 256), "activation": "relu", "ortho_init": False, "log_std_init": -2.0}

# Per task: the keys ppo.yml sets (everything else is SB3's default above).
_ZOO_PPO: dict[str, dict[str, Any]] = {
    "HalfCheetah": {"n_steps": 512, "batch_size": 64, "gamma": 0.98, "learning_rate": 2.0633e-05,
                    "ent_coef": 0.000401762, "clip_range": 0.1, "n_epochs": 20, "gae_lambda": 0.92,
                    "max_grad_norm": 0.8, "vf_coef": 0.58096, **_ZOO_NET},
    "Hopper": {"n_steps": 512, "batch_size": 32, "gamma": 0.999, "learning_rate": 9.80828e-05,
               "ent_coef": 0.00229519, "clip_range": 0.2, "n_epochs": 5, "gae_lambda": 0.99,
               "max_grad_norm": 0.7, "vf_coef": 0.835671, **_ZOO_NET},
    "Walker2d": {"n_steps": 512, "batch_size": 32, "gamma": 0.99, "learning_rate": 5.05041e-05,
                 "ent_coef": 0.000585045, "clip_range": 0.1, "n_epochs": 20, "gae_lambda": 0.95,
                 "max_grad_norm": 1.0, "vf_coef": 0.871923, **_ZOO_NET},
    "Humanoid": {"n_steps": 512, "batch_size": 256, "gamma": 0.95, "learning_rate": 3.56987e-05,
                 "ent_coef": 0.00238306, "clip_range": 0.3, "n_epochs": 5, "gae_lambda": 0.9,
                 "max_grad_norm": 2.0, "vf_coef": 0.431892, **_ZOO_NET},
    "Swimmer": {"n_envs": 4, "n_steps": 1024, "batch_size": 256, "gamma": 0.9999, "learning_rate": 6e-4,
                "gae_lambda": 0.98},
    "Reacher": {"n_steps": 512, "batch_size": 32, "gamma": 0.9, "learning_rate": 0.000104019,
                "ent_coef": 7.52585e-08, "clip_range": 0.3, "n_epochs": 5, "gae_lambda": 1.0,
                "max_grad_norm": 0.9, "vf_coef": 0.950368},
    "InvertedPendulum": {"n_steps": 32, "batch_size": 64, "gamma": 0.999, "learning_rate": 0.000222425,
                         "ent_coef": 1.37976e-07, "clip_range": 0.4, "n_epochs": 5, "gae_lambda": 0.9,
                         "max_grad_norm": 0.3, "vf_coef": 0.19816},
    "InvertedDoublePendulum": {"n_steps": 128, "batch_size": 512, "gamma": 0.98, "learning_rate": 0.000155454,
                               "ent_coef": 1.05057e-06, "clip_range": 0.4, "n_epochs": 10, "gae_lambda": 0.8,
                               "max_grad_norm": 0.5, "vf_coef": 0.695929},
    "Ant": {},  # "Ant-v4: &mujoco-defaults": normalize, SB3 defaults
    "Pusher": {},  # not in ppo.yml: the zoo's mujoco-defaults
}


@dataclass(frozen=True)
class Preset:
    """A named set of config fields for one task and learner."""

    name: str
    task: str
    algo: str
    fields: dict[str, Any]
    source: str

    def describe(self) -> str:
        """One line for menus and ``--help``."""
        return f"{self.name} ({self.source})"


def task_of(env_id: str) -> str:
    """``HalfCheetah-v5`` -> ``HalfCheetah``."""
    return env_id.split("-")[0]


def sb3_ppo_settings(task: str) -> dict[str, Any]:
    """The zoo's PPO settings for ``task`` in SB3's own terms (SB3 defaults filled in)."""
    if task not in _ZOO_PPO:
        raise KeyError(f"no RL Zoo preset for {task!r}; tasks with presets: {', '.join(TASKS)}")
    return {**_SB3_PPO, **_ZOO_PPO[task], "normalize": True}


def ppo_fields_from_sb3(s: dict[str, Any]) -> dict[str, Any]:
    """PPOConfig fields that make our PPO do what SB3 does with settings ``s``."""
    n_envs, n_steps = int(s["n_envs"]), int(s["n_steps"])
    batch = n_envs * n_steps
    # SB3 slices the rollout into minibatches of batch_size (one of the whole rollout when
    # it is shorter: InvertedPendulum's 32 < 64).
    minibatches = max(1, -(-batch // int(s["batch_size"])))
    return {
        "num_envs": n_envs, "num_steps": n_steps, "num_minibatches": minibatches,
        "update_epochs": int(s["n_epochs"]), "learning_rate": float(s["learning_rate"]), "anneal_lr": False,
        "gamma": float(s["gamma"]), "gae_lambda": float(s["gae_lambda"]), "clip_coef": float(s["clip_range"]),
        "ent_coef": float(s["ent_coef"]),
        # SB3: vf_coef * MSE, unclipped (clip_range_vf=None); ours: vf_coef * 0.5 * MSE.
        "vf_coef": 2.0 * float(s["vf_coef"]), "clip_vloss": False,
        "max_grad_norm": float(s["max_grad_norm"]), "norm_obs": bool(s["normalize"]),
        "norm_reward": bool(s["normalize"]), "norm_every_step": True, "hidden": tuple(s["net"]), "activation": s["activation"],
        "ortho_init": bool(s["ortho_init"]), "log_std_init": float(s["log_std_init"]),
    }


def episode_limit(task: str) -> dict[str, Any]:
    """The task's registered time limit as a config field (Reacher 50, Pusher 100, else 1000),
    as ``gym.make`` applies it for the zoo; {} for tasks without a preset."""
    if task not in _ZOO_PPO:
        return {}
    from studio.sim.registry import get_task

    limit = get_task(f"{task}-v5").max_episode_steps
    return {} if limit is None else {"max_episode_steps": int(limit)}


def get_preset(env_id: str, name: str, algo: str = "ppo") -> Preset:
    """The preset ``name`` of task ``env_id``; KeyError with the choices when there is none."""
    preset = _preset(env_id, name, algo)
    return replace(preset, fields={**episode_limit(preset.task), **preset.fields})


def _preset(env_id: str, name: str, algo: str) -> Preset:
    task = task_of(env_id)
    if algo == "sac":
        if name not in SAC_PRESETS or task not in _ZOO_PPO:
            raise KeyError(f"no SAC preset {name!r} for {env_id}; choose from {', '.join(SAC_PRESETS)}")
        gamma = 0.999 if task == "Swimmer" else 0.99
        return Preset(name, task, algo, {"learning_starts": 10_000, "gamma": gamma}, ZOO_SAC_SOURCE)
    if name not in PPO_PRESETS:
        raise KeyError(f"no PPO preset {name!r}; choose from {', '.join(PPO_PRESETS)}")
    if name == "cleanrl":
        return Preset(name, task, algo, {}, "CleanRL ppo_continuous_action.py (the studio's earlier default)")
    if task not in _ZOO_PPO:
        raise KeyError(f"no RL Zoo preset for {env_id}; use --preset cleanrl")
    f = ppo_fields_from_sb3(sb3_ppo_settings(task))
    if name == "zoo-gpu":
        f = {**f, "num_envs": f["num_envs"] * GPU_SCALE}
        return Preset(name, task, algo, f, ZOO_SOURCE + f", x{GPU_SCALE} envs and minibatch (unmeasured)")
    return Preset(name, task, algo, f, ZOO_SOURCE)


def default_preset(env_id: str, device: str = "cpu", algo: str = "ppo") -> str:
    """The preset a run uses when none is named: the tuned one for the device."""
    if algo == "sac":
        return "zoo"
    if task_of(env_id) not in _ZOO_PPO:
        return "cleanrl"
    return "zoo-gpu" if device.startswith("cuda") else "zoo"


def preset_names(env_id: str, algo: str = "ppo") -> list[str]:
    """Presets offered for ``env_id``, the CPU default first."""
    if algo == "sac":
        return list(SAC_PRESETS)
    return list(PPO_PRESETS) if task_of(env_id) in _ZOO_PPO else ["cleanrl"]


C = TypeVar("C")


def apply_preset(config: C, env_id: str, name: str, algo: str = "ppo") -> C:
    """``config`` with the preset's fields set (a dataclass; unknown fields are an error)."""
    known = {f.name for f in fields(config)}  # type: ignore[arg-type]
    preset = get_preset(env_id, name, algo)
    unknown = set(preset.fields) - known
    if unknown:
        raise KeyError(f"preset {name!r} sets unknown fields {sorted(unknown)}")
    return replace(config, **preset.fields)  # type: ignore[type-var]


def ppo_config(env_id: str, name: str | None = None, device: str = "cpu", **overrides: Any) -> PPOConfig:
    """A PPOConfig for ``env_id`` from preset ``name`` (None: the default), then ``overrides``."""
    name = name or default_preset(env_id, device)
    return replace(apply_preset(PPOConfig(device=device), env_id, name), **overrides)
