"""Stepping speed: the studio's VectorEnv against Gymnasium's vector envs and raw MuJoCo.

    python -m studio.sim.bench_sim --env HalfCheetah-v5 --envs 32 --seconds 2

Prints, for the same number of environments, env steps per second of the studio
:class:`~studio.sim.vector.VectorEnv` (with and without the task design's features),
Gymnasium's ``SyncVectorEnv`` and ``AsyncVectorEnv``, and the raw limit: one core's
``mj_step`` rate times ``os.cpu_count()`` divided by the frame skip. The last line is
machine-readable::

    RESULT studio_steps_per_s=... gym_sync_steps_per_s=... gym_async_steps_per_s=...
    limit_steps_per_s=... share_of_limit=...

(all on one line). Every measurement runs in a short burst of ``--seconds`` after a
warm-up, on fixed random actions. The limit and the studio rate are measured
alternately ``--repeat`` times and the best of each kept, which makes their ratio
robust to other load on a shared machine; the Gymnasium figures are single bursts.
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable, Sequence

import mujoco
import numpy as np


def _rate(step: Callable[[], None], seconds: float, per_call: int, warmup: int = 3) -> float:
    """Calls of ``step`` for ``seconds``; returns units per second (``per_call`` per call)."""
    for _ in range(warmup):
        step()
    calls, start = 0, time.perf_counter()
    while True:
        step()
        calls += 1
        elapsed = time.perf_counter() - start
        if elapsed >= seconds:
            return calls * per_call / elapsed


def _actions(low: np.ndarray, high: np.ndarray, num_envs: int, count: int = 64) -> np.ndarray:
    rng = np.random.default_rng(0)
    low = np.where(np.isfinite(low), low, -1.0)
    high = np.where(np.isfinite(high), high, 1.0)
    return rng.uniform(low, high, size=(count, num_envs, low.shape[0]))


def bench_studio(env_id: str, num_envs: int, seconds: float, features: bool = False,
                 threads: int | None = None) -> float:
    """Env steps per second of the studio VectorEnv (optionally computing the task design's features)."""
    from studio.core.compile import compile_design
    from studio.sim.registry import get_task
    from studio.sim.vector import VectorEnv

    task = get_task(env_id)
    actions = _actions(task.action_low, task.action_high, num_envs)
    with VectorEnv(task, num_envs, seed=0, threads=threads) as env:
        if features:
            env.set_feature_names(compile_design(task.task_design()).required_features)
        env.reset()
        k = [0]

        def step() -> None:
            env.step(actions[k[0] % len(actions)])
            k[0] += 1

        return _rate(step, seconds, num_envs)


def bench_gym(env_id: str, num_envs: int, seconds: float, asynchronous: bool) -> float:
    """Env steps per second of Gymnasium's Sync/AsyncVectorEnv (default autoreset)."""
    import gymnasium as gym

    fns = [lambda: gym.make(env_id) for _ in range(num_envs)]
    venv = gym.vector.AsyncVectorEnv(fns) if asynchronous else gym.vector.SyncVectorEnv(fns)
    try:
        space = venv.single_action_space
        assert isinstance(space, gym.spaces.Box), space
        actions = _actions(space.low, space.high, num_envs).astype(space.dtype)
        venv.reset(seed=0)
        k = [0]

        def step() -> None:
            venv.step(actions[k[0] % len(actions)])
            k[0] += 1

        return _rate(step, seconds, num_envs)
    finally:
        venv.close()


def bench_mj_step(model: mujoco.MjModel, seconds: float, chunk: int = 100) -> float:
    """Single-core ``mj_step`` calls per second (chunks of ``nstep`` to hide Python overhead)."""
    data = mujoco.MjData(model)
    rng = np.random.default_rng(0)
    low, high = model.actuator_ctrlrange[:, 0], model.actuator_ctrlrange[:, 1]
    limited = model.actuator_ctrllimited.astype(bool)
    low, high = np.where(limited, low, -1.0), np.where(limited, high, 1.0)

    def step() -> None:
        data.ctrl[:] = rng.uniform(low, high)
        mujoco.mj_step(model, data, nstep=chunk)
        if data.time > 20.0 or not np.isfinite(data.qacc).all():  # keep a typical, bounded state
            mujoco.mj_resetData(model, data)

    return _rate(step, seconds, chunk)


def bench_threadpool(model: mujoco.MjModel, frame_skip: int, num_envs: int, seconds: float, threads: int) -> float:
    """The alternative design: a Python thread pool over one MjData per env, gathering qpos/qvel.

    ``mj_step`` releases the GIL, but the per-environment control write and state copies
    do not, so the threads queue on the GIL between physics calls.
    """
    from concurrent.futures import ThreadPoolExecutor

    datas = [mujoco.MjData(model) for _ in range(num_envs)]
    qpos, qvel = np.zeros((num_envs, model.nq)), np.zeros((num_envs, model.nv))
    actions = _actions(model.actuator_ctrlrange[:, 0], model.actuator_ctrlrange[:, 1], num_envs)
    slices = [range(i, num_envs, threads) for i in range(threads)]
    k = [0]

    def work(rows: range) -> None:
        a = actions[k[0] % len(actions)]
        for i in rows:
            d = datas[i]
            d.ctrl[:] = a[i]
            mujoco.mj_step(model, d, nstep=frame_skip)
            qpos[i], qvel[i] = d.qpos, d.qvel
            if d.time > 20.0:
                mujoco.mj_resetData(model, d)

    with ThreadPoolExecutor(threads) as pool:

        def step() -> None:
            list(pool.map(work, slices))
            k[0] += 1

        return _rate(step, seconds, num_envs)


def bench_rollout(model: mujoco.MjModel, frame_skip: int, num_envs: int, seconds: float, threads: int) -> float:
    """The other alternative: ``mujoco.rollout`` with a persistent pool, state in and out.

    It returns only state vectors (no ``xpos``, ``cvel``, ``cfrc_ext`` without another
    ``mj_forward``), so it is an upper bound for tasks whose observation is qpos/qvel.
    """
    from mujoco import rollout

    spec = mujoco.mjtState.mjSTATE_FULLPHYSICS
    nstate = mujoco.mj_stateSize(model, spec)
    data = mujoco.MjData(model)
    state = np.zeros((num_envs, nstate))
    mujoco.mj_getState(model, data, state[0], spec)
    state[:] = state[0]
    out = np.zeros((num_envs, frame_skip, nstate))
    actions = _actions(model.actuator_ctrlrange[:, 0], model.actuator_ctrlrange[:, 1], num_envs)
    datas = [mujoco.MjData(model) for _ in range(threads)]
    k = [0]
    with rollout.Rollout(nthread=threads) as pool:

        def step() -> None:
            control = np.repeat(actions[k[0] % len(actions)][:, None, :], frame_skip, axis=1)
            pool.rollout([model] * num_envs, datas, state, control, nstep=frame_skip, state=out, skip_checks=True)
            state[:] = out[:, -1]
            k[0] += 1

        return _rate(step, seconds, num_envs)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark and print the figures; returns the process exit code."""
    cores = os.cpu_count() or 1
    parser = argparse.ArgumentParser(prog="bench_sim", description="Vector stepping speed of a task.")
    parser.add_argument("--env", default="HalfCheetah-v5", help="task id (default HalfCheetah-v5)")
    parser.add_argument("--envs", type=int, default=16 * cores,
                        help="number of environments (default 16 x cores: enough to amortise "
                        "the per-step Python work over the batch)")
    parser.add_argument("--seconds", type=float, default=2.0, help="length of each measurement burst")
    parser.add_argument("--repeat", type=int, default=3,
                        help="alternate the limit and studio bursts this many times, keep the best of each")
    parser.add_argument("--threads", type=int, default=None, help="studio physics threads (default min(envs, cores))")
    parser.add_argument("--skip-gym", action="store_true", help="skip the Gymnasium vector envs (reported as 0)")
    parser.add_argument("--backends", action="store_true",
                        help="also time the designs not chosen (Python thread pool, mujoco.rollout)")
    args = parser.parse_args(list(argv) if argv is not None else None)

    from studio.sim.registry import get_task

    task = get_task(args.env)
    n, s = args.envs, args.seconds
    print(f"{args.env}: {n} envs, frame_skip {task.frame_skip}, {cores} CPU cores, {s:g} s per burst")
    # The share is a ratio of two rates: measure them alternately and keep the best of
    # each, so that load from other processes on a shared machine biases neither.
    mj_rate = studio = 0.0
    for _ in range(max(1, args.repeat)):
        mj_rate = max(mj_rate, bench_mj_step(task.model, s))
        studio = max(studio, bench_studio(args.env, n, s, threads=args.threads))
    limit = mj_rate * cores / task.frame_skip
    print(f"  raw mj_step, one core       {mj_rate:12,.0f} mj_step/s")
    print(f"  limit (x {cores} cores / {task.frame_skip})      {limit:12,.0f} env steps/s")
    print(f"  studio VectorEnv            {studio:12,.0f} env steps/s  ({studio / limit:.0%} of the limit)")
    one = bench_studio(args.env, n, s, threads=1)
    one_limit = mj_rate / task.frame_skip
    print(f"  studio VectorEnv, 1 thread  {one:12,.0f} env steps/s  ({one / one_limit:.0%} of one core's limit:"
          " insensitive to other load)")
    studio_f = bench_studio(args.env, n, s, features=True, threads=args.threads)
    print(f"  studio, task-design features{studio_f:12,.0f} env steps/s")
    if args.backends:
        threads = args.threads or min(n, cores)
        pool = bench_threadpool(task.model, task.frame_skip, n, s, threads)
        print(f"  alt: Python thread pool     {pool:12,.0f} env steps/s  (physics + qpos/qvel only)")
        roll = bench_rollout(task.model, task.frame_skip, n, s, threads)
        print(f"  alt: mujoco.rollout         {roll:12,.0f} env steps/s  (physics + state only)")
    sync = async_ = 0.0
    if not args.skip_gym:
        sync = bench_gym(args.env, n, s, asynchronous=False)
        print(f"  gymnasium SyncVectorEnv     {sync:12,.0f} env steps/s")
        async_ = bench_gym(args.env, n, s, asynchronous=True)
        print(f"  gymnasium AsyncVectorEnv    {async_:12,.0f} env steps/s")
    print(
        f"RESULT studio_steps_per_s={studio:.0f} gym_sync_steps_per_s={sync:.0f} "
        f"gym_async_steps_per_s={async_:.0f} limit_steps_per_s={limit:.0f} share_of_limit={studio / limit:.3f}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
