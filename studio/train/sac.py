"""SAC for continuous actions, whose reward is a compiled design and whose buffer follows edits.

Read top to bottom like CleanRL's ``sac_continuous_action.py``: the config, the networks,
then :class:`SAC`. The algorithm is SB3's SAC (the settings RL Zoo's ``sac.yml`` uses for
MuJoCo): a tanh-squashed Gaussian actor, twin Q critics with Polyak-averaged targets, the
entropy coefficient tuned towards ``-act_dim``, uniform actions for the first
``learning_starts`` transitions, then ``gradient_steps`` updates per vector step.

It is a drop-in for :class:`studio.train.ppo.PPO` in the training process: the same
``train_update`` / ``done`` / ``update_design`` / ``snapshot`` / ``state_dict`` surface and
the same messages. One "update" here is ``report_every`` environment steps. On a design edit
the replay buffer's rewards are recomputed under the new design
(:meth:`studio.train.replay.ReplayBuffer.relabel`); the ``design`` marker carries
``relabelled``, ``dropped`` and ``relabel_s``. The buffer is checkpointed in a file of its
own (:meth:`SAC.replay_state`, next to the checkpoint; it can hold a million transitions),
and a resumed run re-labels it under the checkpoint's design (:meth:`SAC.load_replay`).
"""

from __future__ import annotations

import math
import time
from collections.abc import Collection, Mapping
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from studio.core.design import Design
from studio.sim.actions import sampling_bounds
from studio.train.heron_reward import refuse_heron
from studio.train.messages import Marker, Message, Metrics, Progress, Snapshot
from studio.train.replay import Relabel, ReplayBuffer
from studio.train.rollout import DesignReward, EpisodeStats
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
class SACConfig:
    """Hyper-parameters; the defaults are SB3's SAC, as RL Zoo's ``sac.yml`` runs MuJoCo."""

    total_timesteps: int = 1_000_000
    """Environment steps (over all envs) to train for."""
    num_envs: int = 1
    """Environments stepped together; each vector step adds ``num_envs`` transitions."""
    buffer_size: int = 1_000_000
    """Replay capacity in transitions."""
    learning_starts: int = 10_000
    """Transitions collected with uniform random actions before learning."""
    batch_size: int = 256
    """Transitions per gradient step."""
    gradient_steps: int = 1
    """Gradient steps per vector step (SB3: ``train_freq=1``, ``gradient_steps=1``)."""
    learning_rate: float = 3e-4
    """Adam step size of the actor, the critics and the entropy coefficient."""
    gamma: float = 0.99
    """Discount factor."""
    tau: float = 0.005
    """Polyak factor of the target critics."""
    autotune: bool = True
    """Tune the entropy coefficient towards ``-act_dim`` (SB3's ``ent_coef='auto'``)."""
    alpha: float = 0.2
    """The entropy coefficient when not tuned."""
    hidden: tuple[int, ...] = (256, 256)
    """Hidden sizes of the actor and of each critic (ReLU)."""
    seed: int = 1
    """Seed of torch, numpy, Python and the environments."""
    device: str = "auto"
    """``auto`` (CUDA when present), ``cpu`` or ``cuda``."""
    torch_threads: int | None = None
    """Torch intra-op threads; None: half the cores, 1 to 8."""
    max_episode_steps: int = 1000
    """Episode time limit (truncation)."""
    report_every: int = 2048
    """Environment steps per "update": one Metrics and Progress message each."""
    snapshot_every: int = 10
    """Emit a policy :class:`Snapshot` every this many updates (0: never)."""

    @property
    def batch_steps(self) -> int:
        """Vector steps per update."""
        return max(1, self.report_every // self.num_envs)


# --- networks ----------------------------------------------------------------------------------

LOG_STD_MIN, LOG_STD_MAX = -20.0, 2.0  # SB3's clamp of the actor's log std


def relu_mlp(sizes: list[int]) -> nn.Sequential:
    """Linear layers through ``sizes`` with ReLU between them (torch's default init, as SB3)."""
    layers: list[nn.Module] = []
    for i in range(len(sizes) - 1):
        layers.append(nn.Linear(sizes[i], sizes[i + 1]))
        if i < len(sizes) - 2:
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)


class Actor(nn.Module):
    """tanh(Normal(mu(s), sigma(s))), scaled to the action bounds."""

    def __init__(self, obs_dim: int, act_dim: int, hidden: tuple[int, ...], low: torch.Tensor,
                 high: torch.Tensor) -> None:
        super().__init__()
        self.trunk = relu_mlp([obs_dim, *hidden])
        self.mu = nn.Linear(hidden[-1], act_dim)
        self.log_std = nn.Linear(hidden[-1], act_dim)
        self.scale: torch.Tensor
        self.bias: torch.Tensor
        self.register_buffer("scale", (high - low) / 2.0)
        self.register_buffer("bias", (high + low) / 2.0)

    def forward(self, obs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(action in the env's bounds, its log prob, the deterministic action)."""
        h = F.relu(self.trunk(obs))
        mean = self.mu(h)
        log_std = self.log_std(h).clamp(LOG_STD_MIN, LOG_STD_MAX)
        std = log_std.exp()
        x = mean + std * torch.randn_like(mean)
        y = torch.tanh(x)
        # log N(x) minus the log-det of tanh (SB3's TanhBijector, epsilon 1e-6) and of the scale.
        logp = (-0.5 * ((x - mean) / std).square() - log_std - 0.5 * math.log(2 * math.pi))
        logp = (logp - torch.log(1.0 - y.square() + 1e-6)).sum(1)
        return y * self.scale + self.bias, logp, torch.tanh(mean) * self.scale + self.bias


class QNetwork(nn.Module):
    """Q(s, a)."""

    def __init__(self, obs_dim: int, act_dim: int, hidden: tuple[int, ...]) -> None:
        super().__init__()
        self.net = relu_mlp([obs_dim + act_dim, *hidden, 1])

    def forward(self, obs: torch.Tensor, act: torch.Tensor) -> torch.Tensor:
        """Q values, shape [N]."""
        q: torch.Tensor = self.net(torch.cat([obs, act], 1))
        return q.squeeze(-1)


# --- the trainer -------------------------------------------------------------------------------


class SAC:
    """One SAC run on a design's reward: call :meth:`train_update` until :attr:`done`."""

    def __init__(self, config: SACConfig, env: VectorEnvLike, design: Design | Mapping[str, Any], *,
                 run_key: str = "run", design_version: str = "initial",
                 feature_names: Collection[str] | None = None) -> None:
        self.config = c = config
        self.env, self.run_key = env, run_key
        self.device = d = resolve_device(c.device)
        if d.type == "cpu":
            torch.set_num_threads(c.torch_threads or torch_threads())
        seed_everything(c.seed)
        self.feature_names = None if feature_names is None else list(feature_names)
        refuse_heron(_as_design(design), "SAC")  # its replay relabelling has no online reward model
        self.reward = DesignReward(_as_design(design), design_version, self.feature_names, d)
        self.pending_design: tuple[Mapping[str, Any], str] | None = None
        # The tanh squash needs finite bounds: [-1, 1] where an actuator is unlimited.
        low, high = (torch.as_tensor(b, dtype=torch.float32, device=d) for b in sampling_bounds(*action_bounds(env)))
        self.low, self.high = low, high
        self.buffer = ReplayBuffer(min(c.buffer_size, c.total_timesteps), env.obs_dim, env.act_dim,
                                   self.reward.feature_names, d)
        env.set_feature_names(self.buffer.names)

        self.actor = Actor(env.obs_dim, env.act_dim, c.hidden, low, high).to(d)
        self.qf1, self.qf2 = QNetwork(env.obs_dim, env.act_dim, c.hidden).to(d), QNetwork(env.obs_dim, env.act_dim, c.hidden).to(d)
        self.qf1_target, self.qf2_target = QNetwork(env.obs_dim, env.act_dim, c.hidden).to(d), QNetwork(env.obs_dim, env.act_dim, c.hidden).to(d)
        self.qf1_target.load_state_dict(self.qf1.state_dict())
        self.qf2_target.load_state_dict(self.qf2.state_dict())
        self.q_optimizer = torch.optim.Adam([*self.qf1.parameters(), *self.qf2.parameters()], lr=c.learning_rate)
        self.actor_optimizer = torch.optim.Adam(self.actor.parameters(), lr=c.learning_rate)
        self.target_entropy = -float(env.act_dim)
        self.log_alpha = torch.zeros(1, device=d, requires_grad=True)  # SB3 starts at ent_coef 1.0
        self.a_optimizer = torch.optim.Adam([self.log_alpha], lr=c.learning_rate)

        self.stats = EpisodeStats(env.num_envs)
        self.global_step = self.update = self.grad_steps = 0
        self._obs = env.reset(seed=c.seed)
        self._start_time, self._start_step = time.perf_counter(), 0
        self._rng = np.random.default_rng(c.seed)

    # --- public control ------------------------------------------------------------------------
    @property
    def done(self) -> bool:
        """True once ``total_timesteps`` have been collected."""
        return self.global_step >= self.config.total_timesteps

    @property
    def alpha(self) -> float:
        """The entropy coefficient in force."""
        return float(self.log_alpha.detach().exp()) if self.config.autotune else self.config.alpha

    def update_design(self, document: Mapping[str, Any], version_id: str) -> None:
        """Use this design from the next update on; stored rewards are re-labelled then."""
        self.pending_design = (document, version_id)

    def _switch_design(self) -> list[Message]:
        if self.pending_design is None:
            return []
        document, version = self.pending_design
        self.pending_design = None
        try:
            design = _as_design(document)
            if design.task != self.reward.design.task:
                raise ValueError(f"the design is for {design.task}, this run trains {self.reward.design.task}")
            refuse_heron(design, "SAC")
            reward = DesignReward(design, version, self.feature_names, self.device)
        except Exception as exc:  # a bad edit must not end a good run
            return [Marker(self.global_step, "design_rejected", {"version_id": version, "error": str(exc)})]
        self.reward = reward
        done = self.buffer.relabel(reward.compiled, self.global_step)
        self.env.set_feature_names(self.buffer.names)
        self.stats.reset_terms()
        payload: dict[str, Any] = {"version_id": version, "name": design.name, "relabelled": done.relabelled,
                                   "relabel_s": round(done.seconds, 4)}
        if done.dropped:
            payload.update(dropped=done.dropped, missing=list(done.missing))
        return [Marker(self.global_step, "design", payload)]

    # --- acting and learning -------------------------------------------------------------------
    def _act(self, obs: torch.Tensor) -> torch.Tensor:
        if self.global_step < self.config.learning_starts:
            lo, hi = self.low.cpu().numpy(), self.high.cpu().numpy()
            return torch.as_tensor(self._rng.uniform(lo, hi, (obs.shape[0], lo.size)), dtype=torch.float32,
                                   device=self.device)
        with torch.no_grad():
            action: torch.Tensor = self.actor(obs)[0]
        return action

    def learn_step(self) -> dict[str, torch.Tensor]:
        """One gradient step of the critics, the actor and the entropy coefficient (SB3's order)."""
        c, b = self.config, self.buffer.sample(self.config.batch_size)
        actions_pi, logp_pi, _ = self.actor(b["obs"])
        alpha = self.log_alpha.detach().exp() if c.autotune else torch.tensor(c.alpha, device=self.device)
        alpha_loss = -(self.log_alpha * (logp_pi + self.target_entropy).detach()).mean()
        if c.autotune:
            self.a_optimizer.zero_grad(set_to_none=True)
            alpha_loss.backward()  # type: ignore[no-untyped-call]
            self.a_optimizer.step()
        with torch.no_grad():
            next_a, next_logp, _ = self.actor(b["next_obs"])
            q_next = torch.min(self.qf1_target(b["next_obs"], next_a), self.qf2_target(b["next_obs"], next_a))
            target = b["rewards"] + (1.0 - b["terminated"]) * c.gamma * (q_next - alpha * next_logp)
        qf1_loss = F.mse_loss(self.qf1(b["obs"], b["actions"]), target)
        qf2_loss = F.mse_loss(self.qf2(b["obs"], b["actions"]), target)
        qf_loss = 0.5 * (qf1_loss + qf2_loss)
        self.q_optimizer.zero_grad(set_to_none=True)
        qf_loss.backward()  # type: ignore[no-untyped-call]
        self.q_optimizer.step()
        q_pi = torch.min(self.qf1(b["obs"], actions_pi), self.qf2(b["obs"], actions_pi))
        actor_loss = (alpha * logp_pi - q_pi).mean()
        self.actor_optimizer.zero_grad(set_to_none=True)
        actor_loss.backward()  # type: ignore[no-untyped-call]
        self.actor_optimizer.step()
        with torch.no_grad():
            for net, tgt in ((self.qf1, self.qf1_target), (self.qf2, self.qf2_target)):
                for p, tp in zip(net.parameters(), tgt.parameters(), strict=True):
                    tp.lerp_(p, c.tau)
        self.grad_steps += 1
        return {"losses/qf1_loss": qf1_loss.detach(), "losses/qf2_loss": qf2_loss.detach(),
                "losses/actor_loss": actor_loss.detach(), "losses/alpha_loss": alpha_loss.detach()}

    def train_update(self) -> list[Message]:
        """Step ``report_every`` transitions, learning as SB3 does; returns the update's messages."""
        c, env = self.config, self.env
        messages = self._switch_design()
        rewards, comps, dones, scores = [], [], [], []
        sums: dict[str, torch.Tensor] = {}
        n_learn = 0
        for _ in range(c.batch_steps):
            if self.done:
                break
            obs = torch.as_tensor(self._obs, dtype=torch.float32, device=self.device)
            action = self._act(obs)
            res = env.step(action.cpu().numpy().astype(np.float64))
            self.reward.begin(1, env.num_envs)
            self.reward.record(0, res)
            term = torch.as_tensor(res.terminated, device=self.device)
            trunc = torch.as_tensor(res.truncated, device=self.device)
            r, parts = self.reward.evaluate(self.global_step, term[None], trunc[None])
            # The next obs of an ended episode is its last one (final_obs), not the reset one.
            next_obs = torch.as_tensor(res.final_obs, dtype=torch.float32, device=self.device)
            self.buffer.add(obs, next_obs, action, r[0], term, trunc, res.features, res.prev_features)
            rewards.append(r[0].cpu().numpy())
            comps.append(parts[0])
            dones.append(res.terminated | res.truncated)
            ended = ~np.isnan(res.episode_return)
            scores += res.episode_return[ended].tolist()
            self._obs = res.obs
            self.global_step += env.num_envs
            if self.global_step > c.learning_starts and self.buffer.size >= c.batch_size:
                for _g in range(c.gradient_steps):
                    for k, v in self.learn_step().items():
                        sums[k] = sums.get(k, 0.0) + v
                    n_learn += 1
        if rewards:
            self.stats.add(np.stack(rewards), np.stack(comps), np.stack(dones), scores,
                           self.reward.component_names)
        self.update += 1
        losses = {k: float(v) / n_learn for k, v in sums.items()}
        if n_learn:
            losses["losses/alpha"] = self.alpha
        return messages + self._report(losses)

    def _report(self, losses: dict[str, float]) -> list[Message]:
        c = self.config
        elapsed = max(time.perf_counter() - self._start_time, 1e-9)
        sps = (self.global_step - self._start_step) / elapsed
        values = {"charts/SPS": sps, "charts/learning_rate": c.learning_rate, **losses, **self.stats.pop_metrics()}
        left = max(c.total_timesteps - self.global_step, 0)
        out: list[Message] = [
            Metrics(self.run_key, self.global_step, values),
            Progress(self.global_step, c.total_timesteps, sps, left / max(sps, 1e-9), self.stats.mean_return()),
        ]
        if c.snapshot_every and (self.update % c.snapshot_every == 0 or self.done):
            out.append(self.snapshot())
        return out

    # --- snapshots and checkpoints -------------------------------------------------------------
    def policy_state(self) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
        """The deterministic policy in the viewer's format: ``actor_mean.<i>`` layers with
        ReLU between them, squashed by tanh into the action bounds; no obs normalisation."""
        layers = [m for m in self.actor.trunk if isinstance(m, nn.Linear)] + [self.actor.mu]
        policy: dict[str, torch.Tensor] = {}
        for i, layer in enumerate(layers):
            policy[f"actor_mean.{2 * i}.weight"] = layer.weight.detach().cpu().clone()
            policy[f"actor_mean.{2 * i}.bias"] = layer.bias.detach().cpu().clone()
        dim = self.env.obs_dim
        head = {"mean": torch.zeros(dim, dtype=torch.float64), "var": torch.ones(dim, dtype=torch.float64),
                "count": 1.0, "clip": math.inf, "activation": "relu",
                "squash_low": self.low.cpu().double(), "squash_high": self.high.cpu().double()}
        return policy, head

    def snapshot(self) -> Snapshot:
        """The current deterministic policy on the CPU."""
        policy, head = self.policy_state()
        return Snapshot(self.run_key, self.global_step, policy, head)

    def state_dict(self) -> dict[str, Any]:
        """Networks, optimisers, entropy coefficient, RNGs, step, design: tensors and plain data
        only, so that it loads with ``torch.load(weights_only=True)``."""
        policy, head = self.policy_state()
        nets = ("actor", "qf1", "qf2", "qf1_target", "qf2_target", "q_optimizer", "actor_optimizer", "a_optimizer")
        return {
            "algo": "sac", "config": asdict(self.config), "log_alpha": self.log_alpha.detach().cpu(),
            **{k: getattr(self, k).state_dict() for k in nets},
            "agent": policy, "obs_rms": head,  # what ``policy_from_checkpoint`` reads
            "global_step": self.global_step, "update": self.update, "grad_steps": self.grad_steps,
            "design": self.reward.design.to_json(), "design_version": self.reward.version,
            "rng": plain_rng_state(),
        }

    def replay_state(self) -> dict[str, Any]:
        """The replay buffer for a checkpoint, tagged with the step it belongs to."""
        return {"global_step": self.global_step, "buffer": self.buffer.state_dict()}

    def load_replay(self, state: Mapping[str, Any]) -> Relabel:
        """Refill the buffer from :meth:`replay_state` after :meth:`load_state_dict`, re-labelled
        under the checkpoint's design. ValueError when it belongs to another step or shape
        (then the buffer stays empty and the run refills it by acting)."""
        if int(state["global_step"]) != self.global_step:
            raise ValueError(f"it was written at step {int(state['global_step']):,}, the checkpoint at "
                             f"{self.global_step:,}")
        self.buffer.load_state_dict(state["buffer"])
        done = self.buffer.relabel(self.reward.compiled, self.global_step)
        self.env.set_feature_names(self.buffer.names)
        return done

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Continue from :meth:`state_dict` with an empty buffer (:meth:`load_replay` refills it)."""
        for k in ("actor", "qf1", "qf2", "qf1_target", "qf2_target", "q_optimizer", "actor_optimizer", "a_optimizer"):
            getattr(self, k).load_state_dict(state[k])
        with torch.no_grad():
            self.log_alpha.copy_(state["log_alpha"])
        self.global_step = self._start_step = int(state["global_step"])
        self.update, self.grad_steps = int(state["update"]), int(state["grad_steps"])
        self.reward = DesignReward(Design.from_json(state["design"]), state["design_version"], self.feature_names,
                                   self.device)
        self.buffer.relabel(self.reward.compiled, self.global_step)
        self.env.set_feature_names(self.buffer.names)
        set_plain_rng_state(state["rng"])
        self._obs = self.env.reset(seed=self.config.seed + self.update * 7919)
        self._start_time = time.perf_counter()


def _as_design(design: Design | Mapping[str, Any]) -> Design:
    return design if isinstance(design, Design) else Design.from_json(dict(design))
