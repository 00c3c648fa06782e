"""The preference proposer: fit term weights to every ranking so far, propose from the posterior.

No LLM. The best design of the last round fixes the structure (terms, shapes, parameters);
its :class:`~studio.refine.term_space.TermSpace` gives one coordinate per weighted
component. Every ranked rollout is re-scored under the *unit* design (all weights 1) from
its stored states, so rollouts of designs with different weights share one term space.
A Plackett-Luce (or Bradley-Terry, or Knox's regret) fit with a Gaussian prior gives a
Laplace posterior; the K proposals are the MAP and the posterior samples whose rankings of
the stored rollouts disagree most (active preference learning), each rescaled to the base
design's magnitude so that reward scale does not drift from round to round. The prior is
centred on the base design's own weights (their direction), and the active choice keeps to
the posterior's 50% credible region, so a handful of rankings refines the design rather
than flipping it at random.
"""

from __future__ import annotations

import numpy as np

from studio.core.design import Design
from studio.core.preference_fit import MODELS, PreferenceFit, choose_disagreeing, fit_preferences
from studio.refine.proposers import Feedback, ProposerError
from studio.refine.term_space import TermSpace


class PreferenceProposer:
    """Bradley-Terry / Plackett-Luce / regret fit of term weights, active choice of K."""

    name = "preference"

    def __init__(self, model: str = "plackett_luce", ties: str = "davidson",
                 prior_std: float = 0.5, samples: int = 256, seed: int = 0,
                 gamma: float = 0.99) -> None:
        if model not in MODELS:
            raise ValueError(f"unknown preference model {model!r}: use one of {', '.join(MODELS)}")
        self.model = model
        """``plackett_luce``, ``bradley_terry`` or ``regret`` (Knox et al.)."""
        self.ties = ties
        self.prior_std = prior_std
        """Std of the prior on standardised weights: smaller explores less."""
        self.samples = samples
        """Posterior samples the active choice picks from."""
        self.gamma = gamma
        """Discount of the regret model's value of where a segment ends."""
        self.rng = np.random.default_rng(seed)
        self.last_fit: PreferenceFit | None = None
        """The posterior of the latest :meth:`propose` (for display and tests)."""

    def propose(self, feedback: Feedback, k: int) -> list[Design]:
        """``k`` designs: the MAP weights first, then the most disagreeing samples."""
        if not feedback.ranked:
            raise ProposerError("the preference proposer needs a ranked round first")
        if feedback.rescore is None or not feedback.rankings:
            raise ProposerError("the preference proposer needs stored rankings of rollouts "
                                "with their states (rank a round first)")
        base = feedback.ranked[0]
        space = TermSpace.of(base)
        if not space.names:
            raise ProposerError(f"design {base.name!r} has no component with a numeric weight "
                                "to fit; use the llm or perturb proposer")
        ids = sorted({i for r in feedback.rankings for tier in r.tiers for i in tier})
        returns = feedback.rescore(space.unit_design())
        missing = [i for i in ids if i not in returns]
        if missing:
            raise ProposerError(f"rollouts {missing} could not be re-scored (trace files missing?)")
        phi = np.array([[float(returns[i].get(n, 0.0)) for n in space.names] for i in ids])
        pos = {rid: j for j, rid in enumerate(ids)}
        tiers = [[[pos[i] for i in tier] for tier in r.tiers] for r in feedback.rankings]
        value = self._value_features(feedback, ids, phi, tiers) if self.model == "regret" else None
        # Terms in units of their typical size over the rollouts (as the fit standardises).
        # A term that barely moved in these rollouts (a cheetah that stood still earns no
        # speed) is measured against a tenth of the largest term: otherwise rescaling gives
        # it a weight of +-100 on no evidence (measured on bench refine, HalfCheetah).
        rms = np.sqrt(np.mean(phi**2, axis=0))
        rms = np.maximum(rms, 0.1 * float(rms.max()) if rms.size else 0.0)
        rms = np.where(rms > 1e-12, rms, 1.0)
        base_w = np.array(space.weights())
        # The prior is centred on the designer's own weights, as a direction of unit size:
        # with few rankings the proposals stay near them, and move as evidence accumulates.
        norm = float(np.linalg.norm(base_w * rms))
        prior_mean = base_w / norm if norm > 0 else None
        fit = fit_preferences(phi / rms, tiers, model=self.model, ties=self.ties,
                              prior_std=self.prior_std,
                              value_features=None if value is None else value / rms,
                              prior_mean=None if prior_mean is None else prior_mean * rms,
                              standardize=False, term_names=space.names)
        fit.mean, fit.cov = fit.mean / rms, fit.cov / np.outer(rms, rms)
        self.last_fit = fit
        draws = fit.sample(max(self.samples, k), self.rng)
        draws[0] = fit.mean
        # Active choice among the plausible: the MAP and samples in the 50% credible region
        # (extreme samples disagree most, but mostly with the evidence).
        centred = draws - fit.mean
        d2 = np.einsum("ij,jk,ik->i", centred, np.linalg.pinv(fit.cov), centred)
        keep = np.flatnonzero(d2 <= np.median(d2))
        keep = np.concatenate([[0], keep[keep != 0]])
        chosen = [int(keep[i]) for i in choose_disagreeing(draws[keep], k, phi, first=0)]
        target = float(np.abs(base_w * rms).sum()) or 1.0
        out = []
        for n, c in enumerate(chosen):
            w = draws[c]
            size = float(np.abs(w * rms).sum())
            w = w * (target / size) if size > 0 else w
            d = space.with_weights([float(x) for x in w])
            d.name = f"{_stem(base.name)}_r{feedback.round_index}c{n + 1}"
            d.meta = {**d.meta, "proposer": self.name, "parent": base.name,
                      "posterior": "map" if n == 0 else "sample", "model": self.model}
            out.append(d)
        return out

    def _value_features(self, feedback: Feedback, ids: list[int], phi: np.ndarray,
                        tiers: list[list[list[int]]]) -> np.ndarray:
        """``psi(s_T) - psi(s_0)`` per rollout: the best rollout's per-step term rate over
        the steps left to the episode's horizon (zero where it terminated or ran the whole
        horizon); ``psi(s_0)`` is alike for rollouts from the same reset and cancels."""
        best = tiers[-1][0][0]
        length_best = feedback.rollout_ends.get(ids[best], (feedback.max_episode_steps, False))[0]
        rate = phi[best] / max(length_best, 1)
        out = np.zeros_like(phi)
        for j, rid in enumerate(ids):
            length, terminated = feedback.rollout_ends.get(rid, (feedback.max_episode_steps, True))
            left = max(feedback.max_episode_steps - length, 0)
            if not terminated and left:
                out[j] = rate * self.gamma * (1 - self.gamma**left) / (1 - self.gamma)
        return out


def _stem(name: str) -> str:
    """``cheetah_r2c3`` -> ``cheetah`` so names do not grow round after round."""
    head, sep, tail = name.rpartition("_r")
    return head if sep and tail.replace("c", "", 1).isdigit() else name
