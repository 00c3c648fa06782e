"""HERON (spec §2): the designer ranks reward factors; a decision tree labels pairs; a model learns.

Two items i, j with factor vectors z are compared factor by factor, most important first:
the first factor whose (signed) values differ by more than its margin decides; a pair tied
at every level is dropped. A reward model trained with the Bradley-Terry loss on those
labels becomes the reward.

>>> import torch
>>> z_i = torch.tensor([[1.0, 0.0], [0.0, 5.0], [0.0, 0.0]])
>>> z_j = torch.tensor([[0.0, 9.0], [0.0, 1.0], [0.0, 0.0]])
>>> label(z_i, z_j, order=[0, 1], margins=torch.tensor([0.5, 0.5]), signs=[1, 1]).tolist()
[1.0, 1.0, 0.0]

Two places where the authors' code is not copied: every level uses its own sigma (theirs
reuses sigma[1] for levels 3 and 4), and the policy is trained on the model's reward, not
only its critic regressed onto it (see ``studio.train.heron_reward``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

DEFAULT_HIDDEN = (256, 256)
PAIR_BATCH = 64
"""Samples per minibatch; each is paired with one random partner (the authors' setting)."""


def label(
    z_i: torch.Tensor,
    z_j: torch.Tensor,
    order: Sequence[int],
    margins: torch.Tensor | Sequence[float],
    signs: torch.Tensor | Sequence[float],
) -> torch.Tensor:
    """The tree's verdict on B pairs: +1 (i preferred), -1 (j preferred) or 0 (tied throughout).

    ``z_i``, ``z_j`` are [B, F]; ``order`` lists factor indices, most important first;
    ``margins`` [F] and ``signs`` [F] (+1 more is better, -1 for a cost) are indexed by factor.
    """
    if z_i.shape != z_j.shape or z_i.dim() != 2:
        raise ValueError(f"expected z_i and z_j of the same shape [B, F], got {tuple(z_i.shape)} and {tuple(z_j.shape)}")
    m = torch.as_tensor(margins, dtype=z_i.dtype, device=z_i.device)
    s = torch.as_tensor(signs, dtype=z_i.dtype, device=z_i.device)
    out = torch.zeros(z_i.shape[0], dtype=z_i.dtype, device=z_i.device)
    undecided = torch.ones(z_i.shape[0], dtype=torch.bool, device=z_i.device)
    for k in order:
        a, b = s[k] * z_i[:, k], s[k] * z_j[:, k]
        win = undecided & (a > b + m[k])
        lose = undecided & (b > a + m[k])
        out = torch.where(win, torch.ones_like(out), out)
        out = torch.where(lose, -torch.ones_like(out), out)
        undecided = undecided & ~(win | lose)
    return out


def level_margins(z: torch.Tensor, sigmas: torch.Tensor | Sequence[float]) -> torch.Tensor:
    """Margin of each factor: its own sigma times the factor's std over the batch ``z`` [B, F].

    The std is the population one (numpy's default, as the authors compute it).
    """
    sig = torch.as_tensor(sigmas, dtype=z.dtype, device=z.device)
    if sig.shape != (z.shape[1],):
        raise ValueError(f"expected one sigma per factor ({z.shape[1]}), got {tuple(sig.shape)}")
    std = z.std(dim=0, correction=0) if z.shape[0] > 1 else torch.zeros_like(sig)
    return sig * std


def sample_partners(n: int, generator: torch.Generator | None = None) -> torch.Tensor:
    """A random partner j != i for each of ``n`` samples (indices [n]); needs n >= 2."""
    if n < 2:
        raise ValueError("pairing needs at least two samples")
    shift = torch.randint(1, n, (n,), generator=generator)
    return (torch.arange(n) + shift) % n


def bradley_terry_loss(r_i: torch.Tensor, r_j: torch.Tensor, labels: torch.Tensor) -> torch.Tensor | None:
    """``-log sigmoid(R(winner) - R(loser))`` averaged over labelled pairs; None when there are none."""
    keep = labels != 0
    if not bool(keep.any()):
        return None
    diff = (r_i - r_j)[keep] * labels[keep]
    return nn.functional.softplus(-diff).mean()  # softplus(-x) = -log sigmoid(x), stably


class RewardModel(nn.Module):
    """MLP input -> hidden -> 1 (ReLU), with input and output standardisation as buffers.

    :meth:`forward` is the raw Bradley-Terry score of standardised inputs; :meth:`reward` is
    that score standardised by the running statistics the trainer keeps in ``out_mean`` and
    ``out_std``: the per-step reward that training and export use.
    """

    in_mean: torch.Tensor
    in_std: torch.Tensor
    out_mean: torch.Tensor
    out_std: torch.Tensor

    def __init__(self, in_dim: int, hidden: Sequence[int] = DEFAULT_HIDDEN) -> None:
        super().__init__()
        sizes = [in_dim, *hidden, 1]
        layers: list[nn.Module] = []
        for a, b in zip(sizes[:-1], sizes[1:], strict=True):
            layers += [nn.Linear(a, b), nn.ReLU()]
        self.net = nn.Sequential(*layers[:-1])
        self.in_dim = in_dim
        self.hidden = tuple(hidden)
        self.register_buffer("in_mean", torch.zeros(in_dim))
        self.register_buffer("in_std", torch.ones(in_dim))
        self.register_buffer("out_mean", torch.zeros(()))
        self.register_buffer("out_std", torch.ones(()))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Raw score [B] of inputs [B, in_dim]."""
        h = (x.to(self.in_mean.dtype) - self.in_mean) / self.in_std
        out: torch.Tensor = self.net(h)
        return out.squeeze(-1)

    def reward(self, x: torch.Tensor) -> torch.Tensor:
        """The standardised reward [B]: ``(score - out_mean) / out_std``."""
        return (self.forward(x) - self.out_mean) / self.out_std


def parse_hidden(text: str) -> tuple[int, ...]:
    """``"256-256"`` -> (256, 256); raises ValueError with the expected form."""
    try:
        sizes = tuple(int(p) for p in text.replace(",", "-").split("-") if p.strip())
    except ValueError:
        raise ValueError(f"expected layer sizes like '256-256', got {text!r}") from None
    if not sizes or any(s < 1 for s in sizes):
        raise ValueError(f"expected layer sizes like '256-256', got {text!r}")
    return sizes


@dataclass
class FitReport:
    """What one pass of :func:`fit_pass` did."""

    loss: float
    """Mean Bradley-Terry loss over the minibatches that had a labelled pair (NaN if none)."""
    updates: int
    """Gradient steps taken."""
    skipped: int
    """Minibatches skipped because the tree labelled none of their pairs."""
    labelled: float
    """Fraction of pairs the tree labelled."""


def fit_pass(
    model: RewardModel,
    optimizer: torch.optim.Optimizer,
    x: torch.Tensor,
    z: torch.Tensor,
    order: Sequence[int],
    sigmas: Sequence[float],
    signs: Sequence[float],
    batch: int = PAIR_BATCH,
    generator: torch.Generator | None = None,
) -> FitReport:
    """One pass over a rollout (x [N, D] model inputs, z [N, F] factors) in shuffled minibatches.

    Each sample of a minibatch is paired with one random partner from the same minibatch,
    the minibatch's pairs are labelled with margins from the minibatch's own std, and the
    model takes one Adam step on the Bradley-Terry loss, or none when nothing is labelled.
    """
    n = x.shape[0]
    perm = torch.randperm(n, generator=generator).to(x.device)
    losses: list[float] = []
    skipped = 0
    labelled = 0
    pairs = 0
    for start in range(0, n - 1, batch):
        idx = perm[start : start + batch]
        if idx.numel() < 2:
            break
        partner = sample_partners(idx.numel(), generator).to(x.device)
        zb = z[idx]
        labels = label(zb, zb[partner], order, level_margins(zb, sigmas), signs)
        pairs += idx.numel()
        labelled += int((labels != 0).sum())
        xb = x[idx]
        scores = model(xb)
        loss = bradley_terry_loss(scores, scores[partner], labels)
        if loss is None:
            skipped += 1
            continue
        optimizer.zero_grad(set_to_none=True)
        loss.backward()  # type: ignore[no-untyped-call]
        optimizer.step()
        losses.append(float(loss.detach()))
    return FitReport(
        loss=sum(losses) / len(losses) if losses else float("nan"),
        updates=len(losses),
        skipped=skipped,
        labelled=labelled / max(pairs, 1),
    )


def pair_agreement(
    scores: torch.Tensor,
    z: torch.Tensor,
    order: Sequence[int],
    sigmas: Sequence[float],
    signs: Sequence[float],
    generator: torch.Generator | None = None,
) -> float:
    """Fraction of the tree's labelled pairs (random partners over ``z``) the scores order alike.

    NaN when the tree labels no pair.
    """
    partner = sample_partners(z.shape[0], generator).to(z.device)
    labels = label(z, z[partner], order, level_margins(z, sigmas), signs)
    keep = labels != 0
    if not bool(keep.any()):
        return float("nan")
    agree = torch.sign(scores - scores[partner])[keep] == labels[keep]
    return float(agree.float().mean())


@dataclass
class TreeDiagnostics:
    """How the tree splits a set of pairs: what a designer tunes order and sigma with."""

    pairs: int
    """Pairs compared."""
    decided: list[int]
    """Pairs decided at each level, in the order's sequence (most important first)."""
    ties: int
    """Pairs tied at every level (dropped from training)."""
    direction_agreement: list[float]
    """Per factor index: fraction of pairs where the factor's signed difference has the sign of
    the task score's difference (pairs where either difference is zero are left out; NaN if none)."""


def tree_diagnostics(
    z: torch.Tensor,
    order: Sequence[int],
    sigmas: Sequence[float],
    signs: Sequence[float],
    score: torch.Tensor | None = None,
    generator: torch.Generator | None = None,
) -> TreeDiagnostics:
    """Pair every row of ``z`` [N, F] with a random partner and count where the tree decides.

    ``score`` [N] is the task's per-step reward of the same transitions (None: agreement NaN).
    """
    partner = sample_partners(z.shape[0], generator).to(z.device)
    zi, zj = z, z[partner]
    margins = level_margins(z, sigmas)
    s = torch.as_tensor(signs, dtype=z.dtype, device=z.device)
    undecided = torch.ones(z.shape[0], dtype=torch.bool, device=z.device)
    decided: list[int] = []
    for k in order:
        a, b = s[k] * zi[:, k], s[k] * zj[:, k]
        hit = undecided & ((a > b + margins[k]) | (b > a + margins[k]))
        decided.append(int(hit.sum()))
        undecided = undecided & ~hit
    agreement: list[float] = []
    for k in range(z.shape[1]):
        if score is None:
            agreement.append(float("nan"))
            continue
        dz = torch.sign(s[k] * (zi[:, k] - zj[:, k]))
        ds = torch.sign(score - score[partner]).to(dz.dtype)
        keep = (dz != 0) & (ds != 0)
        agreement.append(float((dz[keep] == ds[keep]).float().mean()) if bool(keep.any()) else float("nan"))
    return TreeDiagnostics(int(z.shape[0]), decided, int(undecided.sum()), agreement)


class HeronModel:
    """A HERON group's reward model with what it reads: input features, then factor values.

    ``inputs`` are feature names (the observation's quantities); with ``use_factors`` the
    group's factor values (its children's weighted values, in order) follow them.
    """

    def __init__(self, model: RewardModel, inputs: Sequence[str], use_factors: bool) -> None:
        self.model = model
        self.inputs = list(inputs)
        self.use_factors = use_factors

    def matrix(self, feats: Mapping[str, torch.Tensor], parts: Sequence[torch.Tensor]) -> torch.Tensor:
        """The model's input [B, D] from features [B] by name and the factor values [B]."""
        cols = [feats[n] for n in self.inputs] + (list(parts) if self.use_factors else [])
        return torch.stack([c.to(self.model.in_mean.dtype) for c in cols], 1)

    def __call__(self, feats: Mapping[str, torch.Tensor], parts: Sequence[torch.Tensor]) -> torch.Tensor:
        """The standardised reward [B] (no gradient)."""
        with torch.no_grad():
            return self.model.reward(self.matrix(feats, parts))


def save_models(models: Mapping[str, HeronModel], path: str | Path) -> None:
    """Write every group's weights and statistics to one safetensors file, keyed ``group/name``.

    The metadata records each group's input features, factor flag and layer sizes, so the
    file alone rebuilds the models (:func:`load_models`) in the studio or in exported code.
    """
    from safetensors.torch import save_file

    tensors: dict[str, torch.Tensor] = {}
    meta: dict[str, str] = {"format": "reward-studio/heron", "groups": json.dumps(sorted(models))}
    for group, m in models.items():
        for key, value in m.model.state_dict().items():
            tensors[f"{group}/{key}"] = value.detach().to("cpu", torch.float64).contiguous()
        meta[f"{group}/inputs"] = json.dumps(m.inputs)
        meta[f"{group}/use_factors"] = json.dumps(m.use_factors)
        meta[f"{group}/hidden"] = json.dumps(list(m.model.hidden))
    save_file(tensors, str(path), metadata=meta)


def load_models(path: str | Path, dtype: torch.dtype = torch.float64) -> dict[str, HeronModel]:
    """Read :func:`save_models`' file; a file that is not one raises ValueError naming it."""
    from safetensors import SafetensorError, safe_open

    try:
        handle = safe_open(str(path), framework="pt")
    except SafetensorError as exc:
        raise ValueError(f"{path}: not a safetensors file ({exc})") from None
    with handle as f:
        meta = f.metadata() or {}
        if meta.get("format") != "reward-studio/heron":
            raise ValueError(f"{path}: not a HERON weights file (no 'reward-studio/heron' metadata)")
        out: dict[str, HeronModel] = {}
        for group in json.loads(meta["groups"]):
            inputs = json.loads(meta[f"{group}/inputs"])
            use_factors = bool(json.loads(meta[f"{group}/use_factors"]))
            hidden = tuple(json.loads(meta[f"{group}/hidden"]))
            names = f.keys()
            state = {k.split("/", 1)[1]: f.get_tensor(k) for k in names if k.startswith(f"{group}/")}
            model = RewardModel(int(state["in_mean"].shape[0]), hidden)
            model.load_state_dict(state)
            out[group] = HeronModel(model.to(dtype).eval(), inputs, use_factors)
    return out


__all__ = [
    "DEFAULT_HIDDEN",
    "PAIR_BATCH",
    "FitReport",
    "HeronModel",
    "RewardModel",
    "TreeDiagnostics",
    "bradley_terry_loss",
    "fit_pass",
    "label",
    "level_margins",
    "load_models",
    "pair_agreement",
    "parse_hidden",
    "sample_partners",
    "save_models",
    "tree_diagnostics",
]
