"""EPIC distances between designs over a task's states (``reward-studio distance``).

The states come from random-policy rollouts of the task (:func:`random_pool`): the
workspace's recorded rollouts hold returns and videos but no simulator states, so they
cannot be used for now. Every pooled state remembers the transition that reached it
(``before``, ``action``, ``after``): a synthetic transition (s, a, s') reads its features
with ``before = after[s]``, ``after = after[s']`` and the pooled action ``a``, and potential
shaping reads Phi(s) from the features of the transition that reached s, exactly as the
vector environment hands a design ``prev_features``.

>>> build_parser().prog
'reward-studio distance'
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from studio.core.design import Design
from studio.core.epic import (
    EpicSamples,
    canonicalize,
    design_reward,
    epic_matrix_of,
    pearson_distance,
)


@dataclass
class StatePool:
    """Pooled states of one task, each with the transition that reached it."""

    task: Any
    before: Any
    """StateBatch [P]: the state before the transition that reached each pooled state."""
    after: Any
    """StateBatch [P]: the pooled states."""
    actions: np.ndarray
    """[P, act_dim]: the action of that transition (also the action pool)."""
    pred: np.ndarray
    """[P]: the pooled index of each state's predecessor in its episode, or -1."""
    terminal: np.ndarray
    """[P] bool: the state ends its episode (the task's termination rule)."""

    def __len__(self) -> int:
        return len(self.actions)

    def features(self, s: np.ndarray, a: np.ndarray, s_next: np.ndarray, names: Collection[str]) -> dict[str, np.ndarray]:
        """Features of the transitions (after[s], actions[a], after[s_next])."""
        out: dict[str, np.ndarray] = self.task.features(
            self.after.select(s), self.after.select(s_next), self.actions[a], list(names)
        )
        return out

    def state_features(self, s: np.ndarray, names: Collection[str]) -> dict[str, np.ndarray]:
        """Features of the transitions that reached the states ``s`` (Phi(s) reads them)."""
        out: dict[str, np.ndarray] = self.task.features(
            self.before.select(s), self.after.select(s), self.actions[s], list(names)
        )
        return out

    def transitions(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(s, a, s_next) indices of the real transitions between pooled states."""
        nxt = np.flatnonzero(self.pred >= 0)
        return self.pred[nxt], nxt, nxt

    def transition_done(self) -> np.ndarray:
        """Whether each of :meth:`transitions` ends in a terminal state."""
        return np.asarray(self.terminal[self.pred >= 0], dtype=bool)


def random_pool(env_id: str, states: int = 1000, envs: int = 8, seed: int = 0) -> StatePool:
    """``states`` states of ``env_id`` under uniformly random actions.

    The task is stepped here from its own reset distribution, frame skip, termination
    rule and time limit, as :class:`studio.sim.vector.VectorEnv` steps it, but without its
    same-step autoreset: the terminal states (a Hopper that fell) must be in the pool, or
    a reward that pays for staying healthy would look constant.
    """
    import mujoco

    from studio.sim.registry import get_task
    from studio.sim.state import StateBatch

    task = get_task(env_id)
    m = task.model
    contact = bool(task.state_feature_fields(task.feature_names())) or bool(task.obs_needs)
    rngs = [np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed + i))) for i in range(envs)]
    act_rng = np.random.default_rng(seed)
    low = np.where(np.isfinite(task.action_low), task.action_low, -1.0)
    high = np.where(np.isfinite(task.action_high), task.action_high, 1.0)
    limit = task.max_episode_steps or 1000
    datas = [mujoco.MjData(m) for _ in range(envs)]
    elapsed = np.zeros(envs, dtype=np.int64)

    def reset(i: int) -> None:
        d = datas[i]
        mujoco.mj_resetData(m, d)
        d.qpos[:], d.qvel[:] = task.sample_reset(rngs[i])
        mujoco.mj_forward(m, d)
        if contact:
            mujoco.mj_rnePostConstraint(m, d)
        elapsed[i] = 0

    for i in range(envs):
        reset(i)
    befores, afters, actions, preds, terms = [], [], [], [], []
    last = np.full(envs, -1)
    for t in range(max(2, -(-states // envs))):
        before = StateBatch.from_datas(datas)
        act = act_rng.uniform(low, high, size=(envs, task.act_dim))
        for i, d in enumerate(datas):
            d.ctrl[:] = act[i]
            mujoco.mj_step(m, d, nstep=task.frame_skip)
            if contact:
                mujoco.mj_rnePostConstraint(m, d)
        after = StateBatch.from_datas(datas)
        elapsed += 1
        finite = np.isfinite(after.qpos).all(axis=1) & np.isfinite(after.qvel).all(axis=1)
        terminated = task.terminated(after) | ~finite
        idx = t * envs + np.arange(envs)
        befores.append(before)
        afters.append(after)
        actions.append(act)
        preds.append(last.copy())
        terms.append(terminated)
        done = terminated | (elapsed >= limit)
        last = np.where(done, -1, idx)
        for row in np.flatnonzero(done).tolist():
            reset(row)
    cat = {k: np.concatenate([getattr(b, k) for b in afters]) for k in afters[0].__dict__}
    cat_b = {k: np.concatenate([getattr(b, k) for b in befores]) for k in befores[0].__dict__}
    keep = np.isfinite(cat["qpos"]).all(axis=1) & np.isfinite(cat["qvel"]).all(axis=1)
    pred = np.concatenate(preds)
    pool = StatePool(task, StateBatch(**cat_b), StateBatch(**cat), np.concatenate(actions), pred,
                     np.concatenate(terms))
    if not keep.all():  # a diverged simulation: drop its states and the links to them
        ids = np.flatnonzero(keep)
        remap = np.full(len(keep), -1)
        remap[ids] = np.arange(len(ids))
        pool = StatePool(task, pool.before.select(ids), pool.after.select(ids), pool.actions[ids],
                         np.where(pred[ids] >= 0, remap[np.maximum(pred[ids], 0)], -1), pool.terminal[ids])
    return pool


def pool_samples(pool: StatePool, n: int, seed: int = 0) -> EpicSamples:
    """N coverage transitions (real ones) and N canonicalisation draws from ``pool``."""
    rng = np.random.default_rng(seed)
    ids = np.arange(len(pool))
    return EpicSamples.draw(ids, ids, n, n, rng, transitions=pool.transitions(), done=pool.transition_done())


def epic_gamma(designs: Sequence[Design], gamma: float | None = None) -> float:
    """The canonicalisation's discount: ``gamma``, else the first enabled shaping's, else 0.99."""
    if gamma is not None:
        return gamma
    for d in designs:
        if d.shaping is not None and d.shaping.enabled:
            return float(d.shaping.gamma)
    return 0.99


class EpicCancelled(Exception):
    """The ``cancelled`` hook of :func:`epic_matrix` said stop."""


class EpicDesignError(ValueError):
    """A design cannot be evaluated on the task's states (an unknown feature, a code term)."""

    user_facing = True

    def __init__(self, label: str, env: str, why: str) -> None:
        self.label = label
        super().__init__(f"{label} cannot be evaluated on {env}'s states: {why}. Fix it in the "
                         "editor, or leave it out of the comparison.")


def epic_matrix(
    designs: Sequence[Design],
    samples: int = 500,
    env: str | None = None,
    *,
    pool: StatePool | None = None,
    gamma: float | None = None,
    seed: int = 0,
    labels: Sequence[str] | None = None,
    progress: Callable[[float, str], None] | None = None,
    cancelled: Callable[[], bool] | None = None,
    heron: Sequence[Mapping[str, Any] | None] | None = None,
) -> np.ndarray:
    """Pairwise EPIC distances [K, K] of designs of one task (symmetric, zero diagonal).

    ``samples`` is both the number of coverage transitions and of canonicalisation draws
    (the reference 500 x 500). ``gamma`` defaults to the first design's shaping discount,
    else 0.99. ``progress(percent, status)`` reports the steps (sampling, then each
    design); ``cancelled()`` is asked between them. ``heron[i]`` holds the trained models of
    design i's HERON groups (``studio.core.heron.load_models``).

    Raises:
        EpicDesignError: a design cannot be evaluated (named by its label).
        EpicCancelled: ``cancelled()`` returned True.
    """
    if not designs:
        return np.zeros((0, 0))
    env = env or designs[0].task
    names = list(labels) if labels is not None else [d.name or f"design {i + 1}" for i, d in enumerate(designs)]
    report = progress or (lambda pct, status: None)

    def check() -> None:
        if cancelled is not None and cancelled():
            raise EpicCancelled

    report(2, f"sampling {env} states under a random policy…")
    pool = pool or random_pool(env, states=max(2 * samples, 200), seed=seed)
    check()
    epic_samples = pool_samples(pool, samples, seed)
    report(30, f"canonicalising {names[0]} (1/{len(designs)})…")

    def reward_of(i: int) -> Any:
        try:
            fn = design_reward(designs[i], pool.features, pool.state_features,
                               heron=heron[i] if heron is not None else None)
        except Exception as exc:
            raise EpicDesignError(names[i], env, _why(exc)) from exc

        def reward(*args: Any) -> Any:
            try:
                return fn(*args)
            except Exception as exc:
                raise EpicDesignError(names[i], env, _why(exc)) from exc

        return reward

    def done(i: int) -> None:
        check()
        k = len(designs)
        report(30 + 65 * (i + 1) / k, f"canonicalising {names[i + 1]} ({i + 2}/{k})…" if i + 1 < k else "")

    rewards = [reward_of(i) for i in range(len(designs))]
    matrix = epic_matrix_of(rewards, epic_samples, epic_gamma(designs, gamma), on_canonical=done)
    report(100, "")
    return matrix


def _why(exc: BaseException) -> str:
    from studio.errors import user_message

    return user_message(exc) or f"{type(exc).__name__}: {exc}"


def distance(a: Design, b: Design, samples: int = 500, env: str | None = None, **kw: Any) -> float:
    """D_EPIC between two designs."""
    return float(epic_matrix([a, b], samples, env, **kw)[0, 1])


def build_parser() -> argparse.ArgumentParser:
    """The parser of ``reward-studio distance``."""
    p = argparse.ArgumentParser(
        prog="reward-studio distance",
        description="EPIC distance (Gleave et al. 2021) between two designs: 0 when they differ only "
        "by potential shaping and positive scale, 1 for opposite rewards. States come from "
        "random-policy rollouts of the task. The last line is 'RESULT epic=<D>'.",
    )
    p.add_argument("a", metavar="A", help="design file, WORKSPACE_DIR:name[@version], or 'task'")
    p.add_argument("b", metavar="B", help="the other design (same forms)")
    p.add_argument("--samples", type=int, default=500, help="coverage transitions and canonicalisation draws (default: %(default)s)")
    p.add_argument("--env", help="task id (default: the first design's task)")
    p.add_argument("--gamma", type=float, help="discount of the canonicalisation (default: a design's shaping gamma, else 0.99)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--heron-weights-a", metavar="FILE", help="a run's heron.safetensors for A's HERON groups")
    p.add_argument("--heron-weights-b", metavar="FILE", help="the same for B")
    return p


def _load(ref: str, env: str | None) -> Design:
    if ref == "task":
        if env is None:
            raise ValueError("'task' needs --env")
        from studio.sim.registry import get_task

        return get_task(env).task_design()
    from studio.export.cli import load_design_ref

    return load_design_ref(ref)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``reward-studio distance``."""
    args = build_parser().parse_args(argv)
    if args.samples < 10:
        print("reward-studio distance: --samples must be at least 10", file=sys.stderr)
        return 2
    try:
        da = _load(args.a, args.env)
        db = _load(args.b, args.env or da.task)
        from studio.core.heron import load_models

        heron = [None if w is None else load_models(w) for w in (args.heron_weights_a, args.heron_weights_b)]
    except Exception as exc:  # user errors arrive as one line
        print(f"reward-studio distance: {exc}", file=sys.stderr)
        return 2
    env = args.env or da.task
    if db.task != da.task and args.env is None:
        print(f"reward-studio distance: the designs are for {da.task} and {db.task}: pass --env", file=sys.stderr)
        return 2
    try:
        m = epic_matrix([da, db], args.samples, env, gamma=args.gamma, seed=args.seed, heron=heron)
    except EpicDesignError as exc:
        print(f"reward-studio distance: {exc}", file=sys.stderr)
        return 2
    print(f"task {env}, {args.samples} coverage x {args.samples} canonicalisation samples")
    print(f"A: {da.name}\nB: {db.name}")
    print(f"RESULT epic={m[0, 1]:.6f}")
    return 0


__all__ = ["EpicCancelled", "EpicDesignError", "StatePool", "canonicalize", "distance", "epic_matrix", "main", "pearson_distance", "random_pool"]


if __name__ == "__main__":
    sys.exit(main())
