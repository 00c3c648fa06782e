"""Fit linear term weights to rankings: Bradley-Terry, Plackett-Luce and Knox et al.'s regret.

A reward that is linear in its terms, ``r = w . phi``, gives each rollout a score
``s_i = w . phi_i`` where ``phi_i`` holds the rollout's per-term returns (unweighted). A
ranking with ties (tiers, best first) is evidence about ``w``:

* ``plackett_luce``: each tier is "chosen" from itself and every tier below it; tied items
  are chosen together (Breslow's rule for tied events), so a tie pulls scores together;
* ``bradley_terry``: every pair from different tiers is a win; a tied pair is Davidson's
  third outcome (``P(tie) ~ nu * sqrt(e^{s_a} e^{s_b})``), or half a win each way (``half``);
* ``regret`` (Knox et al. 2022): Bradley-Terry on ``-regret``; with a linear reward the
  regret of a segment is ``w . (psi(s_0) - phi - psi(s_T))`` for successor features ``psi``
  of the best policy, so the fit runs on ``phi + psi(s_T) - psi(s_0)`` (``value_features``).

Every likelihood above is a product of multinomial-logit choices whose scores are linear
in ``w``, so one Newton solver serves them all. With a Gaussian prior the log posterior is
concave; the Laplace approximation around its maximum gives a Gaussian posterior to sample.

:func:`choose_disagreeing` picks, among posterior samples, the K on which the rankings they
imply of a set of probe rollouts disagree most (active preference learning).

>>> phi = np.array([[1.0, 0.0], [0.0, 1.0], [0.5, 0.5]])
>>> fit = fit_preferences(phi, [[[0], [2], [1]]] * 20)
>>> bool(fit.mean[0] > fit.mean[1])
True
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import combinations
from typing import Literal

import numpy as np

Model = Literal["plackett_luce", "bradley_terry", "regret"]
TieRule = Literal["davidson", "half"]
MODELS: tuple[str, ...] = ("plackett_luce", "bradley_terry", "regret")
Tiers = Sequence[Sequence[int]]
"""A ranking: tiers of item indices, best tier first; items in one tier are tied."""


@dataclass
class _Choice:
    """``weight * (chosen . w + offset - mult * logsumexp(options @ w + offsets))``."""

    chosen: np.ndarray
    offset: float
    options: np.ndarray
    option_offsets: np.ndarray
    mult: float = 1.0
    weight: float = 1.0


@dataclass
class PreferenceFit:
    """A Gaussian (Laplace) posterior over term weights, in the units of the input returns."""

    mean: np.ndarray
    """The MAP weights ``[d]``."""
    cov: np.ndarray
    """Posterior covariance ``[d, d]``."""
    model: str
    ties: str
    n_rankings: int
    n_choices: int
    log_posterior: float
    """Log posterior at the MAP (up to a constant)."""
    term_names: list[str] = field(default_factory=list)

    @property
    def std(self) -> np.ndarray:
        """Posterior standard deviation of each weight."""
        out: np.ndarray = np.sqrt(np.clip(np.diag(self.cov), 0.0, None))
        return out

    def sample(self, n: int, seed: int | np.random.Generator = 0) -> np.ndarray:
        """``n`` weight vectors ``[n, d]`` drawn from the posterior."""
        rng = np.random.default_rng(seed)
        draws: np.ndarray = rng.multivariate_normal(self.mean, self.cov, size=n, method="eigh")
        return draws

    def prob_prefer(self, phi_a: np.ndarray, phi_b: np.ndarray) -> float:
        """P(a ranked above b) under the MAP weights (Bradley-Terry)."""
        return float(_sigmoid(float(self.mean @ (np.asarray(phi_a) - np.asarray(phi_b)))))


def _sigmoid(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-z)) if z >= 0 else math.exp(z) / (1.0 + math.exp(z))


def _check_ranking(tiers: Tiers, n: int, which: int) -> list[list[int]]:
    out = [[int(i) for i in tier] for tier in tiers if len(tier)]
    flat = [i for tier in out for i in tier]
    if len(set(flat)) != len(flat):
        raise ValueError(f"ranking {which}: an item appears twice; rank each rollout once")
    bad = [i for i in flat if not 0 <= i < n]
    if bad:
        raise ValueError(f"ranking {which}: items {bad} are out of range 0..{n - 1}")
    return out


def _choices(x: np.ndarray, rankings: Sequence[Tiers], model: str, ties: str,
             tie_strength: float) -> list[_Choice]:
    """The multinomial-logit choices a set of rankings amounts to."""
    log_nu = math.log(tie_strength)
    out: list[_Choice] = []
    for r, tiers_in in enumerate(rankings):
        tiers = _check_ranking(tiers_in, x.shape[0], r)
        if model == "plackett_luce":
            for k, tier in enumerate(tiers):  # the last tier too: a tie there is evidence
                rest = [i for t in tiers[k:] for i in t]
                if len(rest) < 2:
                    continue
                out.append(_Choice(x[tier].sum(0), 0.0, x[rest], np.zeros(len(rest)), len(tier)))
            continue
        for ka, ta in enumerate(tiers):  # pairs across tiers: a (better) beats b
            for tb in tiers[ka + 1:]:
                for a in ta:
                    for b in tb:
                        out.extend(_pair(x[a], x[b], won=True, ties=ties, log_nu=log_nu))
            for a, b in combinations(ta, 2):
                out.extend(_pair(x[a], x[b], won=False, ties=ties, log_nu=log_nu))
    return out


def _pair(xa: np.ndarray, xb: np.ndarray, *, won: bool, ties: str, log_nu: float) -> list[_Choice]:
    if ties == "davidson":
        mid = 0.5 * (xa + xb)
        opts, offs = np.stack([xa, xb, mid]), np.array([0.0, 0.0, log_nu])
        return [_Choice(xa, 0.0, opts, offs) if won else _Choice(mid, log_nu, opts, offs)]
    opts, offs = np.stack([xa, xb]), np.zeros(2)
    if won:
        return [_Choice(xa, 0.0, opts, offs)]
    return [_Choice(xa, 0.0, opts, offs, weight=0.5), _Choice(xb, 0.0, opts, offs, weight=0.5)]


def _objective(w: np.ndarray, choices: list[_Choice], prec: float,
               mean0: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
    """Log posterior, its gradient and its Hessian at ``w``."""
    d = w - mean0
    val = -0.5 * prec * float(d @ d)
    grad = -prec * d
    hess = -prec * np.eye(w.shape[0])
    for c in choices:
        z = c.options @ w + c.option_offsets
        zmax = float(z.max())
        p = np.exp(z - zmax)
        lse = zmax + math.log(float(p.sum()))
        p /= p.sum()
        mean = p @ c.options
        val += c.weight * (float(c.chosen @ w) + c.offset - c.mult * lse)
        grad += c.weight * (c.chosen - c.mult * mean)
        centred = c.options - mean
        hess -= c.weight * c.mult * (centred.T * p) @ centred
    return val, grad, hess


def fit_preferences(phi: np.ndarray, rankings: Sequence[Tiers], *,
                    model: str = "plackett_luce", ties: str = "davidson",
                    prior_std: float = 1.0, tie_strength: float = 1.0,
                    value_features: np.ndarray | None = None, standardize: bool = True,
                    prior_mean: np.ndarray | None = None,
                    term_names: Sequence[str] = (), max_iter: int = 100) -> PreferenceFit:
    """The Laplace posterior of linear weights ``w`` given ``rankings`` of rows of ``phi``.

    Args:
        phi: ``[n, d]`` per-term returns of the n ranked rollouts.
        rankings: each a list of tiers of row indices, best first.
        model: ``plackett_luce``, ``bradley_terry`` or ``regret``.
        ties: for the pairwise models, ``davidson`` (a tie is its own outcome) or ``half``.
        prior_std: std of the isotropic Gaussian prior on standardised weights.
        prior_mean: the prior's mean in the units of ``phi`` (default zero), e.g. the
            designer's own weights: with few rankings, samples stay near them.
        tie_strength: Davidson's ``nu`` (1: a tie is as likely as a win between equals).
        value_features: ``[n, d]`` ``psi(s_T) - psi(s_0)`` per rollout, for ``regret``.
        standardize: fit in units of each term's typical size over the rollouts (its root
            mean square, so the prior treats terms of different magnitudes alike and a
            term that barely varies gets little say), then convert back.
    """
    if model not in MODELS:
        raise ValueError(f"unknown preference model {model!r}: use one of {', '.join(MODELS)}")
    if ties not in ("davidson", "half"):
        raise ValueError(f"unknown tie rule {ties!r}: use davidson or half")
    x = np.asarray(phi, dtype=np.float64)
    if x.ndim != 2:
        raise ValueError(f"phi must be [n_rollouts, n_terms], got shape {x.shape}")
    if model == "regret":
        if value_features is None:
            raise ValueError("the regret model needs value_features (psi(s_T) - psi(s_0) per rollout)")
        x = x + np.asarray(value_features, dtype=np.float64)
    scale = np.ones(x.shape[1])
    if standardize and x.shape[0] > 1:
        size = np.sqrt(np.mean(x**2, axis=0))
        scale = np.where(size > 1e-12, size, 1.0)
    xs = x / scale
    pair_model = "bradley_terry" if model == "regret" else model
    choices = _choices(xs, rankings, pair_model, ties, tie_strength)
    prec = 1.0 / prior_std**2
    mean0 = np.zeros(x.shape[1]) if prior_mean is None else np.asarray(prior_mean, np.float64) * scale
    w = mean0.copy()
    val, grad, hess = _objective(w, choices, prec, mean0)
    for _ in range(max_iter):  # Newton with backtracking: the objective is strictly concave
        step = np.linalg.solve(-hess, grad)
        t = 1.0
        while t > 1e-8:
            new_val, new_grad, new_hess = _objective(w + t * step, choices, prec, mean0)
            if new_val >= val - 1e-12:
                break
            t *= 0.5
        w, done = w + t * step, float(grad @ step) < 1e-10
        val, grad, hess = new_val, new_grad, new_hess
        if done:
            break
    cov_s = np.linalg.inv(-hess)
    cov_s = 0.5 * (cov_s + cov_s.T)
    return PreferenceFit(mean=w / scale, cov=cov_s / np.outer(scale, scale), model=model,
                         ties=ties, n_rankings=len(rankings), n_choices=len(choices),
                         log_posterior=val, term_names=list(term_names))


# --- active choice ---------------------------------------------------------------------------


def disagreement(wa: np.ndarray, wb: np.ndarray, probe: np.ndarray) -> float:
    """Fraction of probe pairs the two weight vectors order differently (ties count half)."""
    sa, sb = probe @ wa, probe @ wb
    i, j = np.triu_indices(probe.shape[0], k=1)
    if i.size == 0:
        return 0.0
    da, db = np.sign(sa[i] - sa[j]), np.sign(sb[i] - sb[j])
    return float(np.mean(np.abs(da - db)) / 2.0)


def choose_disagreeing(samples: np.ndarray, k: int, probe: np.ndarray, *,
                       first: int | None = 0) -> list[int]:
    """Indices of ``k`` samples whose rankings of the ``probe`` rollouts disagree most.

    Greedy farthest-point selection: each new sample is the one whose smallest disagreement
    with those chosen is largest, so no two candidates are near-duplicates (a sum would
    reward piling onto one far direction). Farthest-point is within a factor 2 of the best
    max-min set. ``first`` is kept in the set (the MAP: exploit while exploring); None
    starts from the most disagreeing pair.
    Angles between weight vectors break ties, so distinct directions win over duplicates
    even when the probe set is too small to tell them apart.
    """
    n = samples.shape[0]
    if k >= n:
        return list(range(n))
    unit = samples / np.maximum(np.linalg.norm(samples, axis=1, keepdims=True), 1e-12)
    dis = np.zeros((n, n))
    for a in range(n):
        for b in range(a + 1, n):
            angle = 1.0 - float(unit[a] @ unit[b])
            dis[a, b] = dis[b, a] = disagreement(samples[a], samples[b], probe) + 1e-3 * angle
    if first is None:
        ia, ib = np.unravel_index(int(np.argmax(dis)), dis.shape)
        chosen = [int(ia), int(ib)]
    else:
        chosen = [int(first)]
    while len(chosen) < k:
        gain = dis[:, chosen].min(axis=1)
        gain[chosen] = -np.inf
        chosen.append(int(np.argmax(gain)))
    return chosen[:k]


def set_disagreement(samples: np.ndarray, chosen: Sequence[int], probe: np.ndarray) -> float:
    """The smallest pairwise disagreement within a set (what :func:`choose_disagreeing` raises)."""
    return min((disagreement(samples[a], samples[b], probe) for a, b in combinations(chosen, 2)),
               default=0.0)
