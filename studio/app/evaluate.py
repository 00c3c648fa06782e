"""``reward-studio eval``: roll out a random policy and report each term's statistics."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from studio.core.analysis import TermStats, effective_scales, shares, term_statistics
from studio.core.compile import compile_design


@dataclass
class EvalStats:
    """What a random-policy rollout of a design shows."""

    design: str
    env: str
    steps: int
    episodes: int
    per_step: list[TermStats]
    """Statistics of each component per step, against the task reward per step."""
    episode_returns: dict[str, list[float]]
    """Per-episode return of each component, of ``total`` and of ``task_score``."""
    scales: dict[str, float] = field(default_factory=dict)
    """Effective scale of each term before training (weight x typical shaped magnitude)."""


def evaluate_random(
    design_arg: str | Path, env_id: str, steps: int = 2000, envs: int = 4, seed: int = 0
) -> EvalStats:
    """Roll out uniformly random actions for ``steps`` env steps and gather term statistics."""
    from studio.app.designs import load_design
    from studio.sim.registry import get_task
    from studio.sim.vector import VectorEnv

    design = load_design(design_arg, env_id)
    task = get_task(env_id)
    from studio.sim.code_terms import CodeTerms

    code = CodeTerms.of(design)  # imported code terms run in a sandbox worker, batched per step
    names = task.catalog.names() + (list(code.features) if code is not None else [])
    compiled = compile_design(design, names, dtype=torch.float64)
    venv = VectorEnv(task, envs, seed=seed)
    try:
        required = compiled.required_features
        venv.set_feature_names(code.feature_names(required) if code is not None else required)
        venv.reset(seed=seed)
        rng = np.random.default_rng(seed)
        names = compiled.component_names
        per_step: dict[str, list[np.ndarray]] = {n: [] for n in names}
        task_steps: list[np.ndarray] = []
        running = {n: np.zeros(envs) for n in [*names, "total", "task_score"]}
        returns: dict[str, list[float]] = {n: [] for n in running}
        state = compiled.initial_state(envs)
        low, high = venv.action_low, venv.action_high
        for _ in range(max(1, steps // envs)):
            actions = rng.uniform(low, high, size=(envs, venv.act_dim))
            res = venv.step(actions)
            if code is not None:
                res.features.update(code.compute(res.features))
            out = compiled(res.features, prev_features=res.prev_features, terminated=res.terminated,
                           truncated=res.truncated, state=state)
            state = out.state
            for n in names:
                v = out.components[n].numpy()
                per_step[n].append(v)
                running[n] += v
            running["total"] += out.total.numpy()
            running["task_score"] += res.task_reward
            task_steps.append(res.task_reward)
            done = res.terminated | res.truncated
            for i in np.flatnonzero(done):
                for n in running:
                    returns[n].append(float(running[n][i]))
                    running[n][i] = 0.0
    finally:
        venv.close()
        if code is not None:
            code.close()
    comps = {n: np.concatenate(v) for n, v in per_step.items()}
    stats = term_statistics(comps, np.concatenate(task_steps))
    return EvalStats(
        design=design.name,
        env=env_id,
        steps=max(1, steps // envs) * envs,
        episodes=len(returns["total"]),
        per_step=stats,
        episode_returns=returns,
        scales=effective_scales(design, task.catalog),
    )


def format_stats(s: EvalStats) -> str:
    """A plain-text report: one row per component, flags underneath."""
    lines = [
        f"design {s.design!r} on {s.env}: {s.steps} random-policy steps, {s.episodes} finished episodes",
        "",
        f"{'component':<24}{'mean':>11}{'min':>11}{'max':>11}{'share':>8}{'corr(task)':>12}{'eff.scale':>11}{'ep.return':>11}",
    ]
    share = shares(s.scales)
    for st in s.per_step:
        ep = s.episode_returns.get(st.name, [])
        ep_mean = f"{np.mean(ep):11.3f}" if ep else f"{'-':>11}"
        scale = f"{s.scales[st.name]:11.3g}" if st.name in s.scales else f"{'-':>11}"
        corr = f"{st.correlation:12.2f}" if np.isfinite(st.correlation) else f"{'-':>12}"
        lines.append(f"{st.name:<24}{st.mean:11.4f}{st.min:11.4f}{st.max:11.4f}{st.share:8.0%}{corr}{scale}{ep_mean}")
    for key in ("total", "task_score"):
        ep = s.episode_returns.get(key, [])
        if ep:
            lines.append(f"{'episode ' + key:<24}{'':>11}{min(ep):11.3f}{max(ep):11.3f}{'':>8}{'':>12}{'':>11}{np.mean(ep):11.3f}")
    flags = [f"  {st.name}: {flag}" for st in s.per_step for flag in st.flags]
    flags += [f"  {n}: effective scale is {v:.0%} of all terms' before training"
              for n, v in share.items() if v > 0.8 and len(share) > 1]
    if flags:
        lines += ["", "warnings:", *flags]
    return "\n".join(lines)
