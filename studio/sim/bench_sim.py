"""Stepping speed: the studio's VectorEnv against the same physics run natively, and Gymnasium.

    python -m studio.sim.bench_sim --env HalfCheetah-v5 --envs 32 --seconds 2

Every side steps the same task with the same fixed random actions, and each side's
settings are printed before its figure:

* **reference**: the same workload without Python, ``mujoco.rollout`` stepping the same
  batch of E simulations ``frame_skip`` substeps per control step, on as many threads as
  the studio uses (by default every usable core: the affinity mask, as the stepper counts
  them), state in and state out, rows reset at the task's episode limit. It does only the
  physics of what the studio does (no observation, reward, features or autoreset), so the
  studio's share of it is at most 1 by construction, up to measurement noise.
* **studio**: :class:`~studio.sim.vector.VectorEnv` (observation, task reward, termination,
  autoreset), and again with the task design's features.
* **Gymnasium**: ``SyncVectorEnv`` over the same E envs in this process, and
  ``AsyncVectorEnv`` with one worker process per usable core (its design: one env per
  process, so E = cores there; more processes than cores would only measure contention).

Sampling is the same for every side: ``--repeat`` rounds, each side measured once per
round in the same order (so load from other processes on a shared machine is spread over
all sides), each burst ``--seconds`` long after a warm-up, and the best burst of each side
kept. The load average is printed with the figures. The last line is::

    RESULT studio_steps_per_s=... reference_steps_per_s=... share_of_reference=...
    gym_sync_steps_per_s=... gym_async_steps_per_s=... ...

(all on one line).
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, ExitStack, contextmanager

import mujoco
import numpy as np

Step = Callable[[], None]
Maker = Callable[[], AbstractContextManager[Step]]


def _rate(step: Step, seconds: float, per_call: int, warmup: int = 3) -> float:
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


def actions_for(low: np.ndarray, high: np.ndarray, num_envs: int, count: int = 64) -> np.ndarray:
    """``count`` batches of uniform random actions (unbounded dimensions in [-1, 1]), seeded."""
    rng = np.random.default_rng(0)
    low = np.where(np.isfinite(low), low, -1.0)
    high = np.where(np.isfinite(high), high, 1.0)
    return rng.uniform(low, high, size=(count, num_envs, low.shape[0]))


@contextmanager
def studio_stepper(env_id: str, num_envs: int, threads: int, features: bool = False) -> Iterator[Step]:
    """A step function of the studio VectorEnv (optionally computing the design's features)."""
    from studio.core.compile import compile_design
    from studio.sim.registry import get_task
    from studio.sim.vector import VectorEnv

    task = get_task(env_id)
    actions = actions_for(task.action_low, task.action_high, num_envs)
    with VectorEnv(task, num_envs, seed=0, threads=threads) as env:
        if features:
            env.set_feature_names(compile_design(task.task_design()).required_features)
        env.reset()
        k = [0]

        def step() -> None:
            env.step(actions[k[0] % len(actions)])
            k[0] += 1

        yield step


class NativeReference:
    """The same physics natively: ``mujoco.rollout`` of the batch, one control step per call.

    Each call rolls every simulation ``frame_skip`` substeps under the same control as the
    studio (held over the substeps, as the studio and Gymnasium do), writes the states out
    and feeds the last one back in; a row restarts from the initial state at the task's
    episode limit, as the studio's time-limit reset does. ``state`` is the [E, nstate]
    full physics state after the last call.
    """

    def __init__(self, env_id: str, num_envs: int, threads: int) -> None:
        from mujoco import rollout

        from studio.sim.registry import get_task

        task = get_task(env_id)
        self.model, self.frame_skip = task.model, task.frame_skip
        self.spec = mujoco.mjtState.mjSTATE_FULLPHYSICS
        data = mujoco.MjData(self.model)
        mujoco.mj_forward(self.model, data)
        self.initial = np.zeros(mujoco.mj_stateSize(self.model, self.spec))
        mujoco.mj_getState(self.model, data, self.initial, self.spec)
        self.state = np.tile(self.initial, (num_envs, 1))
        self._out = np.zeros((num_envs, self.frame_skip, self.initial.shape[0]))
        self.actions = actions_for(task.action_low, task.action_high, num_envs)
        self._controls = np.repeat(self.actions[:, :, None, :], self.frame_skip, axis=2)  # [count, E, skip, nu]
        self._limit = task.max_episode_steps or 1000
        self._datas = [mujoco.MjData(self.model) for _ in range(threads)]
        self._models = [self.model] * num_envs
        self._pool = rollout.Rollout(nthread=threads)
        self.calls = 0

    def step(self) -> None:
        """One control step of every simulation."""
        self._pool.rollout(self._models, self._datas, self.state,
                           self._controls[self.calls % len(self._controls)], nstep=self.frame_skip,
                           state=self._out, skip_checks=True)
        self.state[:] = self._out[:, -1]
        self.calls += 1
        if self.calls % self._limit == 0:
            self.state[:] = self.initial

    def close(self) -> None:
        """Stop the thread pool."""
        self._pool.close()


@contextmanager
def reference_stepper(env_id: str, num_envs: int, threads: int) -> Iterator[Step]:
    """A step function of :class:`NativeReference`."""
    ref = NativeReference(env_id, num_envs, threads)
    try:
        yield ref.step
    finally:
        ref.close()


@contextmanager
def gym_stepper(env_id: str, num_envs: int, asynchronous: bool) -> Iterator[Step]:
    """A step function of Gymnasium's Sync/AsyncVectorEnv (default autoreset)."""
    import gymnasium as gym

    fns = [lambda: gym.make(env_id) for _ in range(num_envs)]
    venv = gym.vector.AsyncVectorEnv(fns) if asynchronous else gym.vector.SyncVectorEnv(fns)
    try:
        space = venv.single_action_space
        assert isinstance(space, gym.spaces.Box), space
        actions = actions_for(space.low, space.high, num_envs).astype(space.dtype)
        venv.reset(seed=0)
        k = [0]

        def step() -> None:
            venv.step(actions[k[0] % len(actions)])
            k[0] += 1

        yield step
    finally:
        venv.close()


def bench_threadpool(model: mujoco.MjModel, frame_skip: int, num_envs: int, seconds: float, threads: int) -> float:
    """The design not chosen: a Python thread pool over one MjData per env, gathering qpos/qvel.

    ``mj_step`` releases the GIL, but the per-environment control write and state copies
    do not, so the threads queue on the GIL between physics calls.
    """
    from concurrent.futures import ThreadPoolExecutor

    datas = [mujoco.MjData(model) for _ in range(num_envs)]
    qpos, qvel = np.zeros((num_envs, model.nq)), np.zeros((num_envs, model.nv))
    actions = actions_for(model.actuator_ctrlrange[:, 0], model.actuator_ctrlrange[:, 1], num_envs)
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


def load_average(sep: str = " ") -> str:
    """``1.23 0.98 0.75`` (1, 5, 15 minutes; ``sep`` between them), or ``n/a``.

    Every benchmark prints it: on a shared machine a wall-clock figure means little without it.
    """
    try:
        return sep.join(f"{v:.2f}" for v in os.getloadavg())
    except OSError:
        return "n/a"


def measure(sides: Sequence[tuple[str, Maker, int]], seconds: float, repeat: int) -> dict[str, float]:
    """Best-of-``repeat`` rate of every side, the sides measured in turn each round."""
    best = {name: 0.0 for name, _, _ in sides}
    with ExitStack() as stack:
        steps = [(name, stack.enter_context(make()), per_call) for name, make, per_call in sides]
        for _ in range(max(1, repeat)):
            for name, step, per_call in steps:
                best[name] = max(best[name], _rate(step, seconds, per_call))
    return best


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark and print the figures; returns the process exit code."""
    from studio.sim.vector import usable_cores

    cores = usable_cores()
    parser = argparse.ArgumentParser(prog="bench_sim", description="Vector stepping speed of a task.")
    parser.add_argument("--env", default="HalfCheetah-v5", help="task id (default HalfCheetah-v5)")
    parser.add_argument("--envs", type=int, default=16 * cores,
                        help="number of environments E (default 16 x usable cores: enough to "
                        "amortise the per-step Python work over the batch)")
    parser.add_argument("--seconds", type=float, default=2.0, help="length of each measurement burst")
    parser.add_argument("--repeat", type=int, default=3,
                        help="rounds; every side is measured once per round and its best burst kept")
    parser.add_argument("--threads", type=int, default=None,
                        help="physics threads of the studio and the reference (default min(E, usable cores))")
    parser.add_argument("--skip-gym", action="store_true", help="skip the Gymnasium vector envs (reported as 0)")
    parser.add_argument("--backends", action="store_true",
                        help="also time the design not chosen (a Python thread pool over MjData)")
    args = parser.parse_args(list(argv) if argv is not None else None)

    from studio.sim.registry import get_task

    task = get_task(args.env)
    n, s = args.envs, args.seconds
    threads = args.threads or min(n, cores)
    procs = cores
    print(f"{args.env}: E={n} envs, frame_skip {task.frame_skip}, {cores} usable cores "
          f"(affinity mask), {s:g} s bursts, best of {max(1, args.repeat)} rounds, all sides in turn")
    print(f"load average before: {load_average()}")
    sides: list[tuple[str, Maker, int]] = [
        ("reference", lambda: reference_stepper(args.env, n, threads), n),
        ("studio", lambda: studio_stepper(args.env, n, threads), n),
        ("studio_features", lambda: studio_stepper(args.env, n, threads, features=True), n),
    ]
    settings = {
        "reference": f"mujoco.rollout, E={n}, {threads} threads, {task.frame_skip} substeps per "
                     "control, state in/out, physics only",
        "studio": f"VectorEnv, E={n}, {threads} threads: obs, task reward, termination, autoreset",
        "studio_features": f"VectorEnv, E={n}, {threads} threads, plus the task design's features",
    }
    if not args.skip_gym:
        sides += [("gym_sync", lambda: gym_stepper(args.env, n, asynchronous=False), n),
                  ("gym_async", lambda: gym_stepper(args.env, procs, asynchronous=True), procs)]
        settings["gym_sync"] = f"gymnasium SyncVectorEnv, E={n}, one process"
        settings["gym_async"] = f"gymnasium AsyncVectorEnv, E={procs}: one worker process per usable core"
    best = measure(sides, s, args.repeat)
    ref = best["reference"]
    share = best["studio"] / ref if ref > 0 else float("nan")
    for name, _, _ in sides:
        extra = f"  ({best[name] / ref:.0%} of the reference)" if name != "reference" and ref > 0 else ""
        print(f"  {name:<16}{best[name]:12,.0f} env steps/s{extra}\n      {settings[name]}")
    if args.backends:
        pool = bench_threadpool(task.model, task.frame_skip, n, s, threads)
        print(f"  alt: Python thread pool{pool:12,.0f} env steps/s  (physics + qpos/qvel only, one burst)")
    load = load_average()
    print(f"load average after: {load}")
    print(
        f"RESULT studio_steps_per_s={best['studio']:.0f} reference_steps_per_s={ref:.0f} "
        f"share_of_reference={share:.3f} studio_features_steps_per_s={best['studio_features']:.0f} "
        f"gym_sync_steps_per_s={best.get('gym_sync', 0.0):.0f} "
        f"gym_async_steps_per_s={best.get('gym_async', 0.0):.0f} envs={n} threads={threads} "
        f"async_procs={procs if not args.skip_gym else 0} cores={cores} "
        f"load1={load.split()[0] if load != 'n/a' else 'nan'}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
