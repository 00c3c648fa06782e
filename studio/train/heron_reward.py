"""Training on a design with HERON groups (spec §2): the reward model learns online, then pays.

:class:`HeronReward` is the :class:`~studio.train.rollout.DesignReward` of such a design.
When a rollout is complete it first reads every HERON group's factor values and model
inputs off the rollout, trains the group's model for one pass (each sample of a minibatch
of 64 paired with a random partner, labelled by the tree, Bradley-Terry on labelled pairs
only), updates the running statistics that standardise the model's output (a moving average
that follows the current model: :class:`MovingStats`), and only then
evaluates the design, so the policy update uses the freshly trained model's standardised
reward. (The authors' released PPO regresses only the critic onto the model: not copied.)

A tenth of each rollout is held out of the fit; the tree's labels on its pairs measure the
model's agreement (``losses/heron/<group>/agreement``), logged with the loss (``.../loss``),
the fraction of pairs the tree labelled and the updates skipped for want of a labelled pair.

Live edits keep each group's model when its inputs keep their size: a new order or sigma
changes the labels from the next update on.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import torch

from studio.core.atomic import atomic_path
from studio.core.compile import CompiledDesign, RewardOutput, compile_design
from studio.core.design import Design, Group, heron_factors
from studio.core.heron import (
    HeronModel,
    RewardModel,
    fit_pass,
    pair_agreement,
    parse_hidden,
    save_models,
)
from studio.core.schedule import param_value
from studio.train.normalize import RunningMeanStd
from studio.train.rollout import DesignReward

HELD_OUT = 0.1
"""Fraction of each rollout kept out of the fit to measure agreement with the tree."""
WEIGHTS_FILE = "heron.safetensors"
"""Name of the weights file a run writes beside its checkpoint."""
# Horizontal root positions: Gymnasium's locomotion observations leave them out.
_NOT_OBSERVED = frozenset({"joint_rootx_pos", "joint_root_x", "joint_root_y"})


def observation_features(catalog: Collection[str] | None) -> list[str]:
    """The features that stand for the observation: joint positions and velocities, without
    the root's horizontal position (as Gymnasium's MuJoCo observations)."""
    return sorted(n for n in catalog or () if n.startswith("joint_") and n not in _NOT_OBSERVED)


OUT_MOMENTUM = 0.9
"""Weight of the past in the output statistics, per rollout (a memory of about 10 rollouts)."""


class MovingStats:
    """Mean and variance of the current model's scores, as an exponential moving average.

    The Bradley-Terry loss sees only differences of scores, so a fit moves the model's
    offset freely. Statistics pooled over the whole run lag that drift, and the current
    policy's standardised reward then takes the drift's sign: a negative one teaches the
    policy to end its episodes early. (With pooled statistics a Hopper run fell from 340 at
    200k steps to 36 at 400k; with this average the same run held 368 at 400k, one seed
    each.) A short memory follows the current model.
    """

    def __init__(self, device: torch.device, momentum: float = OUT_MOMENTUM) -> None:
        self.momentum = momentum
        self.mean = torch.zeros((), dtype=torch.float64, device=device)
        self.var = torch.ones((), dtype=torch.float64, device=device)
        self.started = False

    def update(self, x: torch.Tensor) -> None:
        """Fold in the scores of one rollout."""
        x = x.to(self.mean.device, torch.float64)
        m, v = x.mean(), x.var(unbiased=False)
        k = self.momentum if self.started else 0.0
        self.mean = k * self.mean + (1 - k) * m
        self.var = k * self.var + (1 - k) * v
        self.started = True

    def state_dict(self) -> dict[str, Any]:
        """Tensors and plain numbers (checkpoints load with ``weights_only=True``)."""
        return {"mean": self.mean.cpu(), "var": self.var.cpu(), "started": self.started}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Restore :meth:`state_dict`."""
        device = self.mean.device
        self.mean = torch.as_tensor(state["mean"], dtype=torch.float64, device=device)
        self.var = torch.as_tensor(state["var"], dtype=torch.float64, device=device)
        self.started = bool(state.get("started", True))


class GroupLearner:
    """One HERON group's reward model, its optimiser and its running statistics."""

    def __init__(self, group: Group, inputs: list[str], device: torch.device) -> None:
        use_factors = group.params.get("inputs", "observation") == "observation+factors" or not inputs
        n_factors = len(heron_factors(group))
        hidden = parse_hidden(str(group.params.get("hidden", "256-256")))
        model = RewardModel(len(inputs) + (n_factors if use_factors else 0), hidden).to(device)
        self.heron = HeronModel(model, inputs, use_factors)
        self.lr = float(param_value(group.params.get("lr", 1e-3), 0))  # type: ignore[arg-type]
        self.optimizer = torch.optim.Adam(model.parameters(), lr=self.lr)
        self.in_rms = RunningMeanStd((model.in_dim,), device)
        self.out_rms = MovingStats(device)

    def compatible(self, other: GroupLearner) -> bool:
        """True when ``other`` (built for an edited group) reads the same inputs with the same net."""
        a, b = self.heron, other.heron
        return (a.inputs, a.use_factors, a.model.in_dim, a.model.hidden) == (
            b.inputs, b.use_factors, b.model.in_dim, b.model.hidden)

    def fit(self, name: str, x: torch.Tensor, z: torch.Tensor, group: Group) -> dict[str, float]:
        """One pass over a rollout (x [N, D], z [N, F]); returns this update's metrics."""
        factors = heron_factors(group)
        order = list(range(len(factors)))
        sigmas = [f.sigma for _, f in factors]
        signs = [f.sign for _, f in factors]
        model = self.heron.model
        n = x.shape[0]
        perm = torch.randperm(n, device=x.device)
        n_held = max(2, int(n * HELD_OUT))
        held, train = perm[:n_held], perm[n_held:]
        self.in_rms.update(x[train])
        model.in_mean.copy_(self.in_rms.mean.to(model.in_mean.dtype))
        model.in_std.copy_(torch.sqrt(self.in_rms.var + 1e-8).to(model.in_std.dtype))
        model.train()
        report = fit_pass(model, self.optimizer, x[train], z[train], order, sigmas, signs)
        model.eval()
        with torch.no_grad():
            scores = model(x)
        self.out_rms.update(scores)
        model.out_mean.copy_(self.out_rms.mean.to(model.out_mean.dtype))
        model.out_std.copy_(torch.sqrt(self.out_rms.var + 1e-8).to(model.out_std.dtype))
        out = {
            f"losses/heron/{name}/labelled": report.labelled,
            f"losses/heron/{name}/skipped_updates": float(report.skipped),
            f"losses/heron/{name}/agreement": pair_agreement(scores[held], z[held], order, sigmas, signs),
            # The rollout's mean standardised reward: far from 0, the policy is pushed to end
            # (negative) or to prolong (positive) its episodes whatever it does.
            f"losses/heron/{name}/reward_mean": float(((scores - model.out_mean) / model.out_std).mean()),
        }
        if report.updates:
            out[f"losses/heron/{name}/loss"] = report.loss
        return out

    def state_dict(self) -> dict[str, Any]:
        """Model, optimiser and statistics, for checkpoints."""
        # Tensors only (no numpy), so that checkpoints load with ``weights_only=True``.
        in_rms = {n: torch.as_tensor(v) if isinstance(v, np.ndarray) else v for n, v in self.in_rms.state_dict().items()}
        return {"model": self.heron.model.state_dict(), "optimizer": self.optimizer.state_dict(),
                "in_rms": in_rms, "out_rms": self.out_rms.state_dict()}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Restore :meth:`state_dict`."""
        self.heron.model.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.in_rms.load_state_dict(state["in_rms"])
        self.out_rms.load_state_dict(state["out_rms"])


class _Recorder:
    """The compiled design, remembering the batches it evaluates (to read factors off them)."""

    def __init__(self, compiled: CompiledDesign) -> None:
        self.compiled = compiled
        self.calls: list[tuple[dict[str, torch.Tensor], dict[str, torch.Tensor]]] | None = None

    def __getattr__(self, name: str) -> Any:
        return getattr(self.compiled, name)

    def __call__(self, features: Mapping[str, Any], **kwargs: Any) -> RewardOutput:
        out = self.compiled(features, **kwargs)
        if self.calls is not None:
            feats = {n: self.compiled._tensor(features[n]) for n in self.compiled.required_features}
            self.calls.append((feats, out.values))
        return out


class HeronReward(DesignReward):
    """A design's reward whose HERON groups' models are retrained on each rollout before it pays."""

    def __init__(
        self,
        design: Design,
        version: str,
        catalog: Collection[str] | None,
        device: torch.device,
        previous: DesignReward | None = None,
    ) -> None:
        super().__init__(design, version, catalog, device)
        inputs = observation_features(catalog)
        old = previous.learners if isinstance(previous, HeronReward) else {}
        self.learners: dict[str, GroupLearner] = {}
        for group in design.heron_groups():
            fresh = GroupLearner(group, inputs, device)
            kept = old.get(group.name)
            self.learners[group.name] = kept if kept is not None and kept.compatible(fresh) else fresh
        models = {name: learner.heron for name, learner in self.learners.items()}
        compiled = compile_design(design, features=catalog, device=device, dtype=torch.float32, heron=models)
        self.recorder = _Recorder(compiled)
        self.compiled = self.recorder  # type: ignore[assignment]
        self.feature_names = sorted(compiled.required_features)
        self._metrics: dict[str, float] = {}

    def evaluate(
        self, step: int, terminated: torch.Tensor, truncated: torch.Tensor
    ) -> tuple[torch.Tensor, Any]:
        """Retrain every HERON model on this rollout, then the design's reward with them."""
        state = self.state
        self.recorder.calls = []
        try:
            super().evaluate(step, terminated, truncated)
            calls = self.recorder.calls
        finally:
            self.recorder.calls = None
            self.state = state  # the first pass only read the factors: events pay once
        for name, learner in self.learners.items():
            group = self.design.find(name)
            assert isinstance(group, Group)
            factors = heron_factors(group)
            feats = {n: torch.cat([c[0][n] for c in calls]) for n in calls[0][0]}
            parts = [
                param_value(t.weight, step) * torch.cat([c[1][t.name] for c in calls]) for t, _ in factors
            ]
            x = learner.heron.matrix(feats, parts)
            z = torch.stack(parts, 1)
            self._metrics.update(learner.fit(name, x, z, group))
        return super().evaluate(step, terminated, truncated)

    def pop_metrics(self) -> dict[str, float]:
        """The metrics of the fits since the last call."""
        out, self._metrics = self._metrics, {}
        return out


def make_reward(
    design: Design,
    version: str,
    catalog: Collection[str] | None,
    device: torch.device,
    previous: DesignReward | None = None,
) -> DesignReward:
    """The reward of ``design``: a :class:`HeronReward` when it has a HERON group."""
    if design.heron_groups():
        return HeronReward(design, version, catalog, device, previous)
    return DesignReward(design, version, catalog, device)


def refuse_heron(design: Design, learner: str) -> None:
    """Raise a clear error for a learner that cannot train a HERON group's model online."""
    groups = design.heron_groups()
    if groups:
        raise ValueError(f"the HERON group {groups[0].name!r} learns its reward model online with PPO; "
                         f"{learner} cannot train it: choose PPO for this design")


def heron_metrics(reward: DesignReward) -> dict[str, float]:
    """The HERON models' metrics since the last call (none for other designs)."""
    return reward.pop_metrics() if isinstance(reward, HeronReward) else {}


def heron_state(reward: DesignReward) -> dict[str, Any]:
    """Every HERON group's learner state, for a checkpoint (empty for other designs)."""
    if not isinstance(reward, HeronReward):
        return {}
    return {name: learner.state_dict() for name, learner in reward.learners.items()}


def load_heron_state(reward: DesignReward, state: Mapping[str, Any] | None) -> None:
    """Restore :func:`heron_state` into the learners of the same groups."""
    if not isinstance(reward, HeronReward) or not state:
        return
    for name, learner in reward.learners.items():
        if name in state:
            learner.load_state_dict(state[name])


def save_heron_weights(reward: DesignReward, run_dir: str | Path) -> Path | None:
    """Write the models to ``run_dir/heron.safetensors`` (None for designs without HERON)."""
    if not isinstance(reward, HeronReward):
        return None
    path = Path(run_dir) / WEIGHTS_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as tmp:
        save_models({name: learner.heron for name, learner in reward.learners.items()}, tmp)
    return path
