"""``reward-studio bench train``: the studio's PPO against Stable-Baselines3's, same task.

Both train on the same env with the task's own reward (the studio through the design, SB3
through Gymnasium's reward, which the studio's simulator reproduces exactly), with the same
number of envs and device. SB3 runs with its default PPO settings; it is a benchmark-only
extra (``pip install reward-studio[bench]``) and imported only here.

Reported per trainer: steps/s over the whole run (updates included), the mean task return
of its last 10 episodes at the end, and with ``--target-return`` the wall-clock seconds
until that running mean first reached the target (``--target-return sb3``: SB3's final
return). SB3 runs first. The last line is machine-readable::

    RESULT studio_steps_per_s=... sb3_steps_per_s=... speedup=... studio_return=...
    sb3_return=... studio_time_to_target_s=... sb3_time_to_target_s=... time_ratio=...
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from studio.train.envs import catalog_names, make_env, task_design_document
from studio.train.ppo import PPO, PPOConfig


@dataclass
class BenchResult:
    """One trainer's figures."""

    steps: int
    seconds: float
    history: list[tuple[float, float]]
    """(seconds since start, mean task return of the last 10 episodes) at each episode end."""

    @property
    def steps_per_s(self) -> float:
        """Environment steps per wall-clock second, updates included."""
        return self.steps / self.seconds

    @property
    def final_return(self) -> float:
        """Mean task return of the last 10 episodes."""
        return self.history[-1][1] if self.history else math.nan

    def time_to(self, target: float | None) -> float:
        """Seconds until the running mean first reached ``target`` (NaN: never)."""
        if target is None or target != target:
            return math.nan
        return next((t for t, r in self.history if r >= target), math.nan)


class _Running:
    """Running mean of the last ``window`` episode returns, logged with the time."""

    def __init__(self, window: int = 10) -> None:
        self.scores: list[float] = []
        self.window = window
        self.history: list[tuple[float, float]] = []
        self.start = time.perf_counter()

    def add(self, scores: Sequence[float]) -> None:
        now = time.perf_counter() - self.start
        for s in scores:
            self.scores.append(float(s))
            if len(self.scores) >= self.window:
                self.history.append((now, float(np.mean(self.scores[-self.window :]))))


def bench_studio(env_id: str, config: PPOConfig) -> BenchResult:
    """Train the studio's PPO on the task's own reward; time it and its task return."""
    env = make_env(env_id, config.num_envs, config.seed, config.max_episode_steps)
    trainer = PPO(config, env, task_design_document(env_id), feature_names=catalog_names(env_id))
    running = _Running()
    while not trainer.done:
        trainer.train_update()
        running.add(trainer.stats.last_scores)
    seconds = time.perf_counter() - running.start
    env.close()
    return BenchResult(trainer.global_step, seconds, running.history)


def bench_sb3(env_id: str, steps: int, num_envs: int, device: str, seed: int, subproc: bool) -> BenchResult:
    """Train SB3's PPO (default settings) for ``steps``; time it and its task return."""
    from stable_baselines3 import PPO as SB3PPO
    from stable_baselines3.common.callbacks import BaseCallback
    from stable_baselines3.common.env_util import make_vec_env
    from stable_baselines3.common.vec_env import DummyVecEnv, SubprocVecEnv

    running = _Running()

    class Watch(BaseCallback):  # type: ignore[misc]
        def _on_step(self) -> bool:
            running.add([info["episode"]["r"] for info in self.locals.get("infos", []) if "episode" in info])
            return True

    venv = make_vec_env(env_id, n_envs=num_envs, seed=seed,
                        vec_env_cls=SubprocVecEnv if subproc else DummyVecEnv)
    model = SB3PPO("MlpPolicy", venv, device=device, seed=seed, verbose=0)
    running.start = time.perf_counter()
    model.learn(total_timesteps=steps, callback=Watch())
    seconds = time.perf_counter() - running.start
    venv.close()
    return BenchResult(int(model.num_timesteps), seconds, running.history)


def _f(x: float) -> str:
    return "nan" if x != x else f"{x:.4g}"


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark; the last printed line is the RESULT line."""
    p = argparse.ArgumentParser(prog="reward-studio bench train", description=__doc__.split("\n")[0])
    p.add_argument("--env", default="HalfCheetah-v5")
    p.add_argument("--steps", type=int, default=1_000_000)
    p.add_argument("--target-return", default=None,
                   help="a number, or 'sb3' for SB3's final return (SB3 then runs first)")
    p.add_argument("--envs", type=int, default=8, help="envs for both trainers (default: %(default)s)")
    p.add_argument("--rollout", type=int, default=None, help="studio steps per env per update (default: 2048/envs)")
    p.add_argument("--minibatches", type=int, default=32, help="studio minibatches (default: %(default)s)")
    p.add_argument("--epochs", type=int, default=10, help="studio epochs (default: %(default)s)")
    p.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda"))
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--sb3-envs", type=int, default=None,
                   help="envs for SB3 when they should differ (default: --envs; SB3's rollout is 2048 per env)")
    p.add_argument("--sb3-subproc", action="store_true", help="SB3 on SubprocVecEnv (default DummyVecEnv)")
    p.add_argument("--skip-sb3", action="store_true", help="only the studio (RESULT has nan for SB3)")
    args = p.parse_args(argv)

    device = "cuda" if args.device == "auto" and torch.cuda.is_available() else args.device
    device = "cpu" if device == "auto" else device
    config = PPOConfig(
        total_timesteps=args.steps, num_envs=args.envs, num_steps=args.rollout or max(8, 2048 // args.envs),
        num_minibatches=args.minibatches, update_epochs=args.epochs, seed=args.seed, device=device,
    )
    print(f"machine: {platform.machine()} {os.cpu_count()} cores, torch {torch.__version__}, device {device}; "
          f"{args.env}, {args.steps:,} steps, {args.envs} envs; studio batch {config.batch_size} "
          f"x {config.update_epochs} epochs / {config.num_minibatches} minibatches; SB3 {args.sb3_envs or args.envs} envs; "
          f"load average {os.getloadavg()[0]:.2f}", flush=True)

    nan = BenchResult(0, math.nan, [])
    sb3 = nan
    if not args.skip_sb3:
        sb3 = bench_sb3(args.env, args.steps, args.sb3_envs or args.envs, device, args.seed, args.sb3_subproc)
        print(f"sb3:    {sb3.steps:,} steps in {sb3.seconds:.1f} s = {sb3.steps_per_s:,.0f} steps/s, "
              f"final return {sb3.final_return:.1f}", flush=True)
    studio = bench_studio(args.env, config)
    print(f"studio: {studio.steps:,} steps in {studio.seconds:.1f} s = {studio.steps_per_s:,.0f} steps/s, "
          f"final return {studio.final_return:.1f}", flush=True)
    print(f"load average at the end {os.getloadavg()[0]:.2f} (other work on the machine skews both figures)")
    if args.target_return == "sb3":
        target: float | None = sb3.final_return
    else:
        target = None if args.target_return is None else float(args.target_return)
    t_studio, t_sb3 = studio.time_to(target), sb3.time_to(target)
    if target is not None:
        print(f"time to a running mean return of {target:.1f}: studio {_f(t_studio)} s, sb3 {_f(t_sb3)} s")
    print(f"RESULT studio_steps_per_s={_f(studio.steps_per_s)} sb3_steps_per_s={_f(sb3.steps_per_s)} "
          f"speedup={_f(studio.steps_per_s / sb3.steps_per_s)} studio_return={_f(studio.final_return)} "
          f"sb3_return={_f(sb3.final_return)} studio_time_to_target_s={_f(t_studio)} "
          f"sb3_time_to_target_s={_f(t_sb3)} time_ratio={_f(t_studio / t_sb3)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
