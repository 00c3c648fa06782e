"""PPO for continuous actions, as a cancellable trainer whose reward is a compiled design.

Read top to bottom like CleanRL's ``ppo_continuous_action.py``: the config (a docstring per
field), the network, GAE and the losses as plain functions, then :class:`PPO`, whose
:meth:`PPO.train_update` runs one rollout and one update and returns that update's messages.
:meth:`PPO.run` wraps it as a generator: stop iterating to cancel, call
:meth:`PPO.update_design` between updates to switch the reward live.

The reward is never the task's: every transition's ``StepResult.features`` are buffered, and
the compiled design is evaluated on the whole rollout ``[num_steps * num_envs]`` at once.
The task reward is only logged (``charts/task_score``).
"""

from __future__ import annotations

import math
import time
from collections.abc import Collection, Iterator, Mapping
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import torch
from torch import nn

from studio.core.design import Design
from studio.train.heron_reward import heron_metrics, heron_state, load_heron_state, make_reward
from studio.train.messages import Marker, Message, Metrics, Progress, Snapshot
from studio.train.normalize import RunningMeanStd
from studio.train.rollout import EpisodeStats
from studio.train.runtime import (
    VectorEnvLike,
    action_bounds,
    plain_rng_state,
    resolve_device,
    seed_everything,
    set_plain_rng_state,
    torch_threads,
)


@dataclass
class PPOConfig:
    """Hyper-parameters; the defaults train Gymnasium MuJoCo tasks well (CleanRL's)."""

    total_timesteps: int = 1_000_000
    """Environment steps (over all envs) to train for."""
    learning_rate: float = 3e-4
    """Adam step size at the start."""
    anneal_lr: bool = True
    """Decay the learning rate linearly to zero over ``total_timesteps``."""
    num_envs: int = 8
    """Environments stepped in parallel."""
    num_steps: int = 256
    """Steps per env per rollout; the batch is ``num_envs * num_steps`` (2048 by default)."""
    num_minibatches: int = 32
    """Minibatches per epoch."""
    update_epochs: int = 10
    """Passes over the batch per update."""
    gamma: float = 0.99
    """Discount factor."""
    gae_lambda: float = 0.95
    """GAE's lambda."""
    clip_coef: float = 0.2
    """Surrogate clipping range."""
    clip_vloss: bool = True
    """Clip the value loss around the old values, as CleanRL does."""
    norm_adv: bool = True
    """Standardise advantages per minibatch."""
    ent_coef: float = 0.0
    """Entropy bonus weight."""
    vf_coef: float = 0.5
    """Value loss weight."""
    max_grad_norm: float = 0.5
    """Global gradient norm clip."""
    target_kl: float | None = None
    """Stop the epochs early when the approximate KL exceeds this (None: never)."""
    norm_obs: bool = True
    """Normalise observations with running statistics (frozen during a rollout)."""
    norm_reward: bool = True
    """Scale rewards by the running std of the discounted return."""
    norm_every_step: bool = False
    """Update the normalisers at every step and scale each step's reward with the statistics of
    that moment, as SB3's ``VecNormalize`` does (the zoo presets); False: once per rollout,
    with the observation statistics frozen during it."""
    clip_obs: float = 10.0
    """Clip normalised observations to this magnitude."""
    clip_reward: float = 10.0
    """Clip scaled rewards to this magnitude."""
    hidden: tuple[int, ...] = (64, 64)
    """Hidden layer sizes of the actor MLP (and of the critic unless ``hidden_vf`` is set)."""
    hidden_vf: tuple[int, ...] | None = None
    """Hidden layer sizes of the critic MLP (None: ``hidden``); SB3's ``net_arch["vf"]``."""
    activation: str = "tanh"
    """Hidden activation, ``tanh`` or ``relu`` (SB3's ``activation_fn``)."""
    ortho_init: bool = True
    """Orthogonal initialisation (gains sqrt 2, 0.01 actor head, 1 critic head) as CleanRL and
    SB3 do; False: torch's default ``nn.Linear`` initialisation (SB3's ``ortho_init=False``)."""
    log_std_init: float = 0.0
    """Initial log standard deviation of the policy (SB3's ``log_std_init``)."""
    seed: int = 1
    """Seed of torch, numpy, Python and the environments."""
    device: str = "auto"
    """``auto`` (CUDA when present), ``cpu`` or ``cuda``."""
    torch_threads: int | None = None
    """Torch intra-op threads; None: half the cores, 1 to 8 (the envs need the rest)."""
    max_episode_steps: int = 1000
    """Episode time limit (truncation)."""
    snapshot_every: int = 10
    """Emit a policy :class:`Snapshot` every this many updates (0: never)."""

    @property
    def batch_size(self) -> int:
        """Transitions per update."""
        return self.num_envs * self.num_steps

    @property
    def minibatch_size(self) -> int:
        """Transitions per gradient step."""
        return self.batch_size // self.num_minibatches


# --- network -----------------------------------------------------------------------------------


def layer_init(layer: nn.Linear, std: float = math.sqrt(2), bias_const: float = 0.0) -> nn.Linear:
    """Orthogonal weights with gain ``std``, constant bias."""
    nn.init.orthogonal_(layer.weight, std)
    nn.init.constant_(layer.bias, bias_const)
    return layer


ACTIVATIONS: dict[str, type[nn.Module]] = {"tanh": nn.Tanh, "relu": nn.ReLU}


def mlp(sizes: list[int], out_std: float, activation: str = "tanh", ortho: bool = True) -> nn.Sequential:
    """MLP through ``sizes``; the last layer has gain ``out_std`` and no activation.

    ``ortho=False`` keeps torch's default initialisation (SB3's ``ortho_init=False``).
    """
    act = ACTIVATIONS[activation]
    init = layer_init if ortho else (lambda layer, std=0.0: layer)
    layers: list[nn.Module] = []
    for i in range(len(sizes) - 2):
        layers += [init(nn.Linear(sizes[i], sizes[i + 1])), act()]
    layers.append(init(nn.Linear(sizes[-2], sizes[-1]), std=out_std))
    return nn.Sequential(*layers)


_HALF_LOG_2PI = 0.5 * math.log(2 * math.pi)


class Agent(nn.Module):
    """Gaussian policy (state-independent log std, no tanh squashing) and value function."""

    def __init__(
        self,
        obs_dim: int,
        act_dim: int,
        hidden: tuple[int, ...] = (64, 64),
        *,
        hidden_vf: tuple[int, ...] | None = None,
        activation: str = "tanh",
        ortho_init: bool = True,
        log_std_init: float = 0.0,
    ) -> None:
        super().__init__()
        self.critic = mlp([obs_dim, *(hidden if hidden_vf is None else hidden_vf), 1], 1.0, activation, ortho_init)
        self.actor_mean = mlp([obs_dim, *hidden, act_dim], 0.01, activation, ortho_init)
        self.actor_logstd = nn.Parameter(torch.full((1, act_dim), float(log_std_init)))

    def get_value(self, x: torch.Tensor) -> torch.Tensor:
        """V(x), shape [N]."""
        value: torch.Tensor = self.critic(x)
        return value.squeeze(-1)

    def get_action_and_value(
        self, x: torch.Tensor, action: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        """(action, log prob, entropy, value); samples an action when none is given."""
        # Normal(mean, exp(logstd)) written out: torch.distributions costs more than the maths.
        mean = self.actor_mean(x)
        logstd = self.actor_logstd.expand_as(mean)
        if action is None:
            action = mean + torch.randn_like(mean) * logstd.exp()
        z = (action - mean) * torch.exp(-logstd)
        logprob = (-0.5 * z.square() - logstd - _HALF_LOG_2PI).sum(1)
        entropy = (0.5 + _HALF_LOG_2PI + logstd).sum(1)
        return action, logprob, entropy, self.get_value(x)

    def act(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(action, log prob, value) for acting: the same maths without Distribution objects."""
        mean = self.actor_mean(x)
        noise = torch.randn_like(mean)
        action = mean + noise * self.actor_logstd.exp()
        logprob = (-0.5 * noise.square() - self.actor_logstd - _HALF_LOG_2PI).sum(1)
        return action, logprob, self.get_value(x)


# --- GAE and losses ----------------------------------------------------------------------------


def compute_gae(
    rewards: torch.Tensor,
    values: torch.Tensor,
    dones: torch.Tensor,
    bootstrap: torch.Tensor,
    next_value: torch.Tensor,
    gamma: float,
    gae_lambda: float,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Advantages and returns, all ``[num_steps, num_envs]``.

    ``dones[t]`` is 1 where transition t ended its episode (the obs after it is a reset);
    ``bootstrap[t]`` is then the value that follows: V(final_obs) on truncation, 0 on
    termination. ``next_value`` is V of the obs after the last step.
    """
    advantages = torch.zeros_like(rewards)
    lastgaelam = torch.zeros_like(next_value)
    for t in reversed(range(rewards.shape[0])):
        next_values = next_value if t == rewards.shape[0] - 1 else values[t + 1]
        next_values = torch.where(dones[t] > 0, bootstrap[t], next_values)
        delta = rewards[t] + gamma * next_values - values[t]
        lastgaelam = delta + gamma * gae_lambda * (1.0 - dones[t]) * lastgaelam
        advantages[t] = lastgaelam
    return advantages, advantages + values


def policy_loss(
    new_logprob: torch.Tensor, old_logprob: torch.Tensor, advantages: torch.Tensor, clip_coef: float
) -> torch.Tensor:
    """PPO's clipped surrogate, negated for minimisation: mean of max(-A r, -A clip(r))."""
    ratio = (new_logprob - old_logprob).exp()
    pg_loss1 = -advantages * ratio
    pg_loss2 = -advantages * torch.clamp(ratio, 1 - clip_coef, 1 + clip_coef)
    return torch.max(pg_loss1, pg_loss2).mean()


def value_loss(
    new_value: torch.Tensor, old_value: torch.Tensor, returns: torch.Tensor, clip_coef: float | None
) -> torch.Tensor:
    """Half the squared error to the returns, clipped around the old values when asked."""
    v_loss_unclipped = (new_value - returns).square()
    if clip_coef is None:
        return 0.5 * v_loss_unclipped.mean()
    v_clipped = old_value + torch.clamp(new_value - old_value, -clip_coef, clip_coef)
    v_loss_clipped = (v_clipped - returns).square()
    return 0.5 * torch.max(v_loss_unclipped, v_loss_clipped).mean()


# --- the trainer -------------------------------------------------------------------------------

class PPO:
    """One training run: call :meth:`train_update` until :attr:`done`, or iterate :meth:`run`.

    ``design`` is a :class:`Design` or its JSON document; ``feature_names`` (the task's
    catalogue) lets the compiler reject unknown features before any step is taken.
    """

    def __init__(
        self,
        config: PPOConfig,
        env: VectorEnvLike,
        design: Design | Mapping[str, Any],
        *,
        run_key: str = "run",
        design_version: str = "initial",
        feature_names: Collection[str] | None = None,
    ) -> None:
        self.config = c = config
        self.env = env
        self.run_key = run_key
        self.device = resolve_device(c.device)
        if self.device.type == "cpu":
            torch.set_num_threads(c.torch_threads or torch_threads())
        seed_everything(c.seed)
        self.feature_names = None if feature_names is None else list(feature_names)
        self.reward = make_reward(_as_design(design), design_version, self.feature_names, self.device)
        env.set_feature_names(self.reward.feature_names)
        self.pending_design: tuple[Mapping[str, Any], str] | None = None

        self.agent = Agent(
            env.obs_dim, env.act_dim, c.hidden, hidden_vf=c.hidden_vf, activation=c.activation,
            ortho_init=c.ortho_init, log_std_init=c.log_std_init,
        ).to(self.device)
        # fused: one kernel for all parameters instead of a dozen small ops per tensor.
        self.params = list(self.agent.parameters())
        self.optimizer = torch.optim.Adam(self.params, lr=c.learning_rate, eps=1e-5, fused=True)
        self.obs_rms = RunningMeanStd((env.obs_dim,), self.device)
        self.ret_rms = RunningMeanStd((), self.device)
        self.discounted = torch.zeros(env.num_envs, dtype=torch.float64, device=self.device)
        self.stats = EpisodeStats(env.num_envs)
        self.global_step = 0
        self.update = 0
        low, high = action_bounds(env)
        self.low = torch.as_tensor(low, dtype=torch.float32, device=self.device)
        self.high = torch.as_tensor(high, dtype=torch.float32, device=self.device)
        self._raw_obs = env.reset(seed=c.seed)
        self._start_time = time.perf_counter()
        self._start_step = 0

        # Buffers, preallocated (num_steps, num_envs).
        T, E, d = c.num_steps, env.num_envs, self.device
        self.obs = torch.zeros((T, E, env.obs_dim), device=d)
        self.actions = torch.zeros((T, E, env.act_dim), device=d)
        self.logprobs = torch.zeros((T, E), device=d)
        self.values = torch.zeros((T, E), device=d)
        self.bootstrap = torch.zeros((T, E), device=d)
        self.raw_obs = np.zeros((T, E, env.obs_dim))
        self.terminated = np.zeros((T, E), dtype=bool)
        self.truncated = np.zeros((T, E), dtype=bool)

    # --- public control ------------------------------------------------------------------------
    @property
    def done(self) -> bool:
        """True once ``total_timesteps`` have been collected."""
        return self.global_step >= self.config.total_timesteps

    def update_design(self, document: Mapping[str, Any], version_id: str) -> None:
        """Use this design from the next update on (the last request wins)."""
        self.pending_design = (document, version_id)

    def run(self) -> Iterator[Message]:
        """Train to the end, yielding each update's messages; close the generator to cancel."""
        while not self.done:
            yield from self.train_update()

    # --- one update ----------------------------------------------------------------------------
    def _normalize(self, raw: np.ndarray) -> torch.Tensor:
        x = torch.as_tensor(raw, device=self.device)
        if self.config.norm_obs:
            return self.obs_rms.normalize(x, self.config.clip_obs)
        return x.to(torch.float32)

    def _switch_design(self) -> list[Message]:
        if self.pending_design is None:
            return []
        document, version = self.pending_design
        self.pending_design = None
        try:
            design = _as_design(document)
            if design.task != self.reward.design.task:
                raise ValueError(f"the design is for {design.task}, this run trains {self.reward.design.task}")
            # HERON models carry over: a new order or sigma relabels from this update on.
            self.reward = make_reward(design, version, self.feature_names, self.device, self.reward)
        except Exception as exc:  # a bad edit must not end a good run
            return [Marker(self.global_step, "design_rejected", {"version_id": version, "error": str(exc)})]
        self.env.set_feature_names(self.reward.feature_names)
        self.stats.reset_terms()
        return [Marker(self.global_step, "design", {"version_id": version, "name": self.reward.design.name})]

    def train_update(self) -> list[Message]:
        """Collect one rollout, update the networks; returns the update's messages."""
        c, env, agent = self.config, self.env, self.agent
        messages = self._switch_design()
        if c.anneal_lr:
            frac = max(0.0, 1.0 - self.global_step / c.total_timesteps)
            self.optimizer.param_groups[0]["lr"] = frac * c.learning_rate
        step0 = self.global_step
        self.reward.begin(c.num_steps, env.num_envs)
        task_returns: list[float] = []

        next_obs = self._normalize(self._raw_obs)
        with torch.inference_mode():
            for t in range(c.num_steps):
                self.obs[t] = next_obs
                self.raw_obs[t] = self._raw_obs
                action, logprob, value = agent.act(next_obs)
                self.actions[t], self.logprobs[t], self.values[t] = action, logprob, value
                res = env.step(torch.clamp(action, self.low, self.high).cpu().numpy().astype(np.float64))
                self.terminated[t], self.truncated[t] = res.terminated, res.truncated
                self.reward.record(t, res)
                self._raw_obs = res.obs
                if c.norm_obs and c.norm_every_step:
                    self.obs_rms.update(torch.as_tensor(res.obs))
                next_obs = self._normalize(res.obs)
                cut = np.flatnonzero(res.truncated & ~res.terminated)
                self.bootstrap[t] = 0.0
                if cut.size:
                    idx = torch.as_tensor(cut, device=self.device)
                    self.bootstrap[t, idx] = agent.get_value(self._normalize(res.final_obs[cut]))
                ended = ~np.isnan(res.episode_return)
                if ended.any():
                    task_returns += res.episode_return[ended].tolist()
            next_value = agent.get_value(next_obs)
        self.global_step += c.batch_size

        # The design's reward for the whole rollout at once, then its scaling.
        term_t = torch.as_tensor(self.terminated, device=self.device)
        trunc_t = torch.as_tensor(self.truncated, device=self.device)
        raw_rewards, components = self.reward.evaluate(step0, term_t, trunc_t)
        self.stats.add(
            raw_rewards.cpu().numpy(), components, self.terminated | self.truncated, task_returns,
            self.reward.component_names,
        )
        dones = (term_t | trunc_t).to(torch.float32)
        rewards = self._scale_rewards(raw_rewards, dones)
        if c.norm_obs and not c.norm_every_step:
            self.obs_rms.update(torch.as_tensor(self.raw_obs.reshape(-1, env.obs_dim)))

        advantages, returns = compute_gae(
            rewards, self.values, dones, self.bootstrap, next_value, c.gamma, c.gae_lambda
        )
        losses = self._learn(advantages, returns)
        self.update += 1
        return messages + self._report(losses)

    def _scale_rewards(self, rewards: torch.Tensor, dones: torch.Tensor) -> torch.Tensor:
        """Divide by the running std of the discounted return (Gymnasium's NormalizeReward)."""
        if not self.config.norm_reward:
            return rewards.to(torch.float32)
        rets = torch.zeros_like(rewards, dtype=torch.float64)
        std = torch.zeros_like(rets)
        for t in range(rewards.shape[0]):
            self.discounted = self.discounted * self.config.gamma + rewards[t]
            rets[t] = self.discounted
            if self.config.norm_every_step:  # VecNormalize: update, then scale with the new std
                self.ret_rms.update(self.discounted)
                std[t] = torch.sqrt(self.ret_rms.var + 1e-8)
            self.discounted = self.discounted * (1.0 - dones[t])
        if not self.config.norm_every_step:
            self.ret_rms.update(rets.reshape(-1))
            std[:] = torch.sqrt(self.ret_rms.var + 1e-8)
        scaled = rewards / std
        return scaled.clamp(-self.config.clip_reward, self.config.clip_reward).to(torch.float32)

    def _learn(self, advantages: torch.Tensor, returns: torch.Tensor) -> dict[str, float]:
        c, agent = self.config, self.agent
        b_obs = self.obs.reshape(-1, self.env.obs_dim)
        b_actions = self.actions.reshape(-1, self.env.act_dim)
        b_logprobs = self.logprobs.reshape(-1)
        b_advantages = advantages.reshape(-1)
        b_returns = returns.reshape(-1)
        b_values = self.values.reshape(-1)
        # One [batch, columns] table, shuffled with one gather per epoch; minibatches are then
        # slices (views) of it instead of six gathers each.
        b_table = torch.cat([b_obs, b_actions, torch.stack([b_logprobs, b_advantages, b_returns, b_values], 1)], 1)
        widths = [self.env.obs_dim, self.env.act_dim, 1, 1, 1, 1]
        # Sums stay on the device until the end of the update: one sync, not one per minibatch.
        sums = torch.zeros(5, device=self.device)
        n_mb = 0
        for _epoch in range(c.update_epochs):
            b_inds = torch.randperm(c.batch_size, device=self.device)
            for mb in torch.split(b_table[b_inds], c.minibatch_size):
                mb_obs, mb_actions, *cols = torch.split(mb, widths, dim=1)
                mb_logprobs, mb_advantages, mb_returns, mb_values = (x.squeeze(1) for x in cols)
                _, newlogprob, entropy, newvalue = agent.get_action_and_value(mb_obs, mb_actions)
                if c.norm_adv:
                    mb_advantages = (mb_advantages - mb_advantages.mean()) / (mb_advantages.std() + 1e-8)
                logratio = newlogprob - mb_logprobs
                pg_loss = policy_loss(newlogprob, mb_logprobs, mb_advantages, c.clip_coef)
                v_loss = value_loss(newvalue, mb_values, mb_returns, c.clip_coef if c.clip_vloss else None)
                entropy_loss = entropy.mean()
                loss = pg_loss - c.ent_coef * entropy_loss + v_loss * c.vf_coef
                self.optimizer.zero_grad(set_to_none=True)
                loss.backward()  # type: ignore[no-untyped-call]
                nn.utils.clip_grad_norm_(self.params, c.max_grad_norm)
                self.optimizer.step()
                with torch.no_grad():
                    ratio = logratio.exp()
                    approx_kl = ((ratio - 1) - logratio).mean()
                    clipfrac = ((ratio - 1.0).abs() > c.clip_coef).float().mean()
                    sums += torch.stack([pg_loss, v_loss, entropy_loss, approx_kl, clipfrac]).detach()
                n_mb += 1
            if c.target_kl is not None and float(approx_kl) > c.target_kl:
                break
        pg, vl, ent, kl, cf = (sums / n_mb).tolist()
        y_pred, y_true = b_values.cpu().numpy(), b_returns.cpu().numpy()
        var_y = float(np.var(y_true))
        explained_var = float("nan") if var_y == 0 else 1 - float(np.var(y_true - y_pred)) / var_y
        return {
            "losses/policy_loss": pg,
            "losses/value_loss": vl,
            "losses/entropy": ent,
            "losses/approx_kl": kl,
            "losses/clipfrac": cf,
            "losses/explained_variance": explained_var,
        }

    def _report(self, losses: dict[str, float]) -> list[Message]:
        c = self.config
        elapsed = max(time.perf_counter() - self._start_time, 1e-9)
        sps = (self.global_step - self._start_step) / elapsed
        values = {"charts/SPS": sps, "charts/learning_rate": float(self.optimizer.param_groups[0]["lr"]), **losses}
        values.update(self.stats.pop_metrics())
        values.update(heron_metrics(self.reward))
        left = max(c.total_timesteps - self.global_step, 0)
        out: list[Message] = [
            Metrics(self.run_key, self.global_step, values),
            Progress(self.global_step, c.total_timesteps, sps, left / max(sps, 1e-9), self.stats.mean_return()),
        ]
        if c.snapshot_every and (self.update % c.snapshot_every == 0 or self.done):
            out.append(self.snapshot())
        return out

    def snapshot(self) -> Snapshot:
        """The current policy on the CPU, with the observation normaliser."""
        policy = {k: v.detach().cpu().clone() for k, v in self.agent.state_dict().items()}
        head = {**self.obs_rms.state_dict(), "clip": self.config.clip_obs, "activation": self.config.activation}
        return Snapshot(self.run_key, self.global_step, policy, head)

    # --- checkpoints ---------------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """Everything needed to continue: networks, optimiser, normalisers, RNGs, step, design."""
        return {
            "config": asdict(self.config),
            "agent": self.agent.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "obs_rms": _tensors(self.obs_rms.state_dict()),
            "ret_rms": _tensors(self.ret_rms.state_dict()),
            "discounted": self.discounted.cpu(),
            "global_step": self.global_step,
            "update": self.update,
            "design": self.reward.design.to_json(),
            "design_version": self.reward.version,
            "heron": heron_state(self.reward),
            "rng": plain_rng_state(),
        }

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Continue from :meth:`state_dict`; the envs start fresh episodes (seeded by step)."""
        self.agent.load_state_dict(state["agent"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.obs_rms.load_state_dict(state["obs_rms"])
        self.ret_rms.load_state_dict(state["ret_rms"])
        self.discounted = torch.zeros_like(self.discounted)
        self.global_step = self._start_step = int(state["global_step"])
        self.update = int(state["update"])
        self.reward = make_reward(
            Design.from_json(state["design"]), state["design_version"], self.feature_names, self.device
        )
        load_heron_state(self.reward, state.get("heron"))
        self.env.set_feature_names(self.reward.feature_names)
        set_plain_rng_state(state["rng"])
        # Fresh episodes with new seeds: the interrupted ones cannot be restored exactly.
        self._raw_obs = self.env.reset(seed=self.config.seed + self.update * 7919)
        self._start_time = time.perf_counter()


def _tensors(state: dict[str, Any]) -> dict[str, Any]:
    """numpy arrays as tensors, so that checkpoints load with ``weights_only=True``."""
    return {k: torch.as_tensor(v) if isinstance(v, np.ndarray) else v for k, v in state.items()}


def _as_design(design: Design | Mapping[str, Any]) -> Design:
    return design if isinstance(design, Design) else Design.from_json(dict(design))
