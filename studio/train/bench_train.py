"""``reward-studio bench train``: the studio's learner against Stable-Baselines3's, one config.

Both sides train the same task with the task's own reward (the studio through the design,
SB3 through Gymnasium's reward, which the studio's simulator reproduces exactly) from ONE
configuration, translated into SB3's terms by :mod:`studio.train.bench_sb3`: the same
rollout batch, epochs, minibatch size, learning rate and schedule, γ, λ, clip, entropy and
value weights, gradient clip, network and normalisation (SB3 through ``VecNormalize``), the
same number of envs and torch threads. Each side's *effective* settings are printed as a
``CONFIG side {json}`` line (SB3's read back from its objects) before the RESULT line.

``--preset NAME`` picks that configuration from :mod:`studio.train.presets` (default
``cleanrl``, the studio's earlier default; ``zoo``: RL Zoo's tuned settings for the task;
``studio``: what the app trains with by default, the tuned preset for the device).
``--sb3-preset NAME`` gives SB3 its own preset instead (then the sides differ, and both
CONFIG lines say how). ``--algo sac`` compares the SACs (RL Zoo's ``sac.yml`` settings).
``--seeds N`` runs each side N times (seeds ``--seed`` .. ``--seed+N-1``, the sides
alternating) and reports means and spreads; ``--jobs J`` runs J seeds at once, each in its
own process with 1/J of the torch threads (the header says how many each had). ``--target-return X`` (or ``sb3``: SB3's mean
final return) gives each side's wall-clock seconds until its running mean of the last 10
episode returns first reached X. ``--curve FILE.csv`` writes every side's return against
wall-clock and steps; a coarse curve is printed either way. The last line::

    RESULT studio_steps_per_s=... sb3_steps_per_s=... speedup=... studio_return=...
    sb3_return=... studio_time_to_target_s=... sb3_time_to_target_s=... time_ratio=...
    studio_return_std=... sb3_return_std=... studio_reached=k/N sb3_reached=k/N target=... seeds=N
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import os
import platform
import statistics
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace

import torch

from studio.train.bench_sb3 import (
    History,
    Running,
    build_sb3,
    run_sb3,
    sb3_effective,
    studio_effective,
)
from studio.train.envs import catalog_names, make_env, task_design_document
from studio.train.ppo import PPO, PPOConfig
from studio.train.presets import apply_preset, default_preset
from studio.train.runtime import torch_threads
from studio.train.sac import SAC, SACConfig

REQUIRED_KEYS = ("rollout_batch", "n_epochs", "minibatch_size", "learning_rate", "lr_schedule", "gamma",
                 "gae_lambda", "clip_range", "norm_obs", "norm_reward")


@dataclass
class BenchResult:
    """One training run's figures."""

    steps: int
    seconds: float
    history: list[tuple[float, float]]
    """(seconds since start, mean task return of the last 10 episodes) at each episode end."""
    step_history: list[int] | None = None
    """The env step of each ``history`` entry."""

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

    @classmethod
    def of(cls, steps: int, seconds: float, history: History) -> BenchResult:
        """From a :data:`History` of (seconds, steps, return)."""
        return cls(steps, seconds, [(t, r) for t, _, r in history], [s for _, s, _ in history])


def bench_studio(env_id: str, config: PPOConfig | SACConfig) -> BenchResult:
    """Train the studio's learner on the task's own reward (the real stepper); time it."""
    env = make_env(env_id, config.num_envs, config.seed, config.max_episode_steps)
    learner = SAC if isinstance(config, SACConfig) else PPO
    trainer = learner(config, env, task_design_document(env_id), feature_names=catalog_names(env_id))  # type: ignore[arg-type]
    running = Running()
    while not trainer.done:
        trainer.train_update()
        running.add(trainer.stats.last_scores, trainer.global_step)
    seconds = time.perf_counter() - running.start
    env.close()
    return BenchResult.of(trainer.global_step, seconds, running.history)


def bench_sb3(env_id: str, config: PPOConfig | SACConfig, device: str) -> tuple[BenchResult, dict[str, object]]:
    """Train SB3's learner with ``config`` translated; (figures, its effective settings)."""
    model, venv = build_sb3(env_id, config, device)
    effective = sb3_effective(model, venv)
    steps, seconds, history = run_sb3(model, venv, config.total_timesteps)
    return BenchResult.of(steps, seconds, history), effective


def _run_seed(env_id: str, seed: int, sb3_config: PPOConfig | SACConfig, config: PPOConfig | SACConfig,
              skip_sb3: bool, device: str, threads: int,
              ) -> tuple[BenchResult | None, dict[str, object] | None, BenchResult, float]:
    """Both sides of one seed, SB3 first: (SB3's figures, its settings, the studio's, load after)."""
    from studio.sim.mjlog import install_warning_handler

    install_warning_handler()  # a spawned worker starts without the CLI's handler
    torch.set_num_threads(threads)  # SB3 runs with the studio's thread count
    config = replace(config, torch_threads=threads)
    sb3 = eff = None
    if not skip_sb3:
        sb3, eff = bench_sb3(env_id, sb3_config, device)
        print(f"sb3    seed {seed}: {sb3.steps:,} steps in {sb3.seconds:.1f} s = {sb3.steps_per_s:,.0f} "
              f"steps/s, final return {sb3.final_return:.1f}; load {os.getloadavg()[0]:.2f}", flush=True)
    studio = bench_studio(env_id, config)
    load = os.getloadavg()[0]
    print(f"studio seed {seed}: {studio.steps:,} steps in {studio.seconds:.1f} s = {studio.steps_per_s:,.0f} "
          f"steps/s, final return {studio.final_return:.1f}; load {load:.2f}", flush=True)
    return sb3, eff, studio, load


def _f(x: float) -> str:
    return "nan" if x != x else f"{x:.4g}"


def _mean_std(xs: Sequence[float]) -> tuple[float, float]:
    ok = [x for x in xs if x == x]
    if not ok:
        return math.nan, math.nan
    return statistics.fmean(ok), statistics.stdev(ok) if len(ok) > 1 else 0.0


def side_config(args: argparse.Namespace, preset: str, seed: int, device: str) -> PPOConfig | SACConfig:
    """One side's config: the preset for the task (``studio``: the app's default for the device),
    then the explicit options."""
    if preset == "studio":
        preset = default_preset(args.env, device, args.algo)
    if args.algo == "sac":
        sac = apply_preset(SACConfig(total_timesteps=args.steps, seed=seed, device=device), args.env, preset, "sac")
        return replace(sac, num_envs=args.envs or sac.num_envs,
                       learning_starts=sac.learning_starts if args.learning_starts is None else args.learning_starts)
    c = apply_preset(PPOConfig(total_timesteps=args.steps, seed=seed, device=device), args.env, preset)
    # SB3 cannot clip the value loss CleanRL's way, and VecNormalize updates its statistics at
    # every step: both sides leave the value loss unclipped and normalise step by step.
    c = replace(c, clip_vloss=False, norm_every_step=True)
    envs = args.envs or c.num_envs
    num_steps = args.rollout or (max(8, c.batch_size // envs) if args.envs else c.num_steps)
    return replace(c, num_envs=envs, num_steps=num_steps, num_minibatches=args.minibatches or c.num_minibatches,
                   update_epochs=args.epochs or c.update_epochs)


def curve_rows(side: str, seed: int, r: BenchResult) -> list[tuple[str, int, float, int, float]]:
    """(side, seed, seconds, steps, return) rows of one run."""
    steps = r.step_history or [0] * len(r.history)
    return [(side, seed, t, s, ret) for (t, ret), s in zip(r.history, steps, strict=True)]


def curve_marks(results: dict[str, list[BenchResult]], points: int = 10) -> list[float]:
    """Wall-clock moments shared by every side: ``points`` even steps to the longest run."""
    longest = max((r.seconds for rs in results.values() for r in rs), default=0.0)
    return [longest * i / points for i in range(1, points + 1)]


def return_at(r: BenchResult, t: float) -> float:
    """The running mean return at second ``t`` of run ``r``: NaN before its first; after the run
    ended, its final return (the policy a user has by then), so that every seed counts at every mark."""
    last = [ret for s, ret in r.history if s <= t]
    return last[-1] if last else math.nan


def print_curve(name: str, runs: list[BenchResult], marks: Sequence[float]) -> None:
    """Return against wall-clock, the mean over seeds at the same moments for every side."""
    cells = []
    for t in marks:
        mean, _ = _mean_std([return_at(r, t) for r in runs])
        cells.append(f"{t:.0f}s:{_f(mean) if mean == mean else '-'}")
    print(f"curve {name} (mean of {len(runs)} seed(s), seconds:return): " + "  ".join(cells))


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark; the last printed line is the RESULT line."""
    p = argparse.ArgumentParser(prog="reward-studio bench train", description=__doc__.split("\n")[0])
    p.add_argument("--env", default="HalfCheetah-v5")
    p.add_argument("--algo", default="ppo", choices=("ppo", "sac"))
    p.add_argument("--steps", type=int, default=1_000_000)
    p.add_argument("--preset", default=None,
                   help="both sides' settings: zoo, zoo-gpu, cleanrl, or studio (the app's default for the "
                   "task and device) (default: cleanrl; sac: zoo)")
    p.add_argument("--sb3-preset", default=None, help="SB3's own settings instead (default: --preset)")
    p.add_argument("--target-return", default=None, help="a number, or 'sb3' for SB3's mean final return")
    p.add_argument("--seeds", type=int, default=1, help="runs per side (default: %(default)s)")
    p.add_argument("--seed", type=int, default=1, help="first seed (default: %(default)s)")
    p.add_argument("--envs", type=int, default=None, help="envs for both (default: the preset's)")
    p.add_argument("--rollout", type=int, default=None, help="PPO steps per env per update, both sides")
    p.add_argument("--minibatches", type=int, default=None, help="PPO minibatches, both sides")
    p.add_argument("--epochs", type=int, default=None, help="PPO epochs, both sides")
    p.add_argument("--learning-starts", type=int, default=None, help="SAC random steps, both sides")
    p.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda"))
    p.add_argument("--curve", default=None, help="write (side, seed, seconds, steps, return) rows to this CSV")
    p.add_argument("--jobs", type=int, default=1,
                   help="seeds run at once, each in its own process with its share of the torch threads; "
                   "both sides of a seed run one after the other in that process (default: %(default)s)")
    p.add_argument("--skip-sb3", action="store_true", help="only the studio (RESULT has nan for SB3)")
    args = p.parse_args(argv)
    if args.seeds < 1:
        p.error("--seeds must be at least 1")
    if not 1 <= args.jobs <= args.seeds:
        p.error("--jobs must be between 1 and --seeds")

    device = "cuda" if args.device == "auto" and torch.cuda.is_available() else args.device
    device = "cpu" if device == "auto" else device
    preset = args.preset or ("zoo" if args.algo == "sac" else "cleanrl")
    sb3_preset = args.sb3_preset or preset
    try:
        configs = {side: [side_config(args, name, args.seed + i, device) for i in range(args.seeds)]
                   for side, name in (("studio", preset), ("sb3", sb3_preset))}
    except KeyError as exc:
        print(f"reward-studio bench train: {exc.args[0]}", file=sys.stderr)
        return 2
    # Each of the ``--jobs`` seeds at once gets the same share of the cores.
    threads = torch_threads(args.jobs)
    torch.set_num_threads(threads)
    c0 = configs["studio"][0]
    print(f"machine: {platform.machine()} {os.cpu_count()} cores, torch {torch.__version__}, device {device}; "
          f"{args.env}, {args.algo}, {args.steps:,} steps x {args.seeds} seed(s); presets studio={preset} "
          f"sb3={sb3_preset}; {c0.num_envs} envs; {args.jobs} seed(s) at once, {threads} torch thread(s) "
          f"each; load average {os.getloadavg()[0]:.2f}", flush=True)

    results: dict[str, list[BenchResult]] = {"studio": [], "sb3": []}
    effective: dict[str, dict[str, object]] = {"studio": studio_effective(c0, threads)}
    loads = [os.getloadavg()[0]]
    jobs = [(args.env, args.seed + i, configs["sb3"][i], configs["studio"][i], args.skip_sb3, device, threads)
            for i in range(args.seeds)]
    if args.jobs == 1:
        outcomes = [_run_seed(*job) for job in jobs]
    else:  # whole seeds side by side, one process each; each side of a seed runs in that process
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        with ProcessPoolExecutor(args.jobs, mp_context=multiprocessing.get_context("spawn")) as pool:
            outcomes = list(pool.map(_run_seed, *zip(*jobs, strict=True)))
    for sb3, eff, studio, load in outcomes:
        if sb3 is not None and eff is not None:
            effective.setdefault("sb3", eff)
            results["sb3"].append(sb3)
        results["studio"].append(studio)
        loads.append(load)

    sb3_final, sb3_final_std = _mean_std([r.final_return for r in results["sb3"]])
    studio_final, studio_final_std = _mean_std([r.final_return for r in results["studio"]])
    target = sb3_final if args.target_return == "sb3" else (
        None if args.target_return is None else float(args.target_return))
    times = {side: [r.time_to(target) for r in rs] for side, rs in results.items()}
    t_studio, t_studio_std = _mean_std(times["studio"])
    t_sb3, t_sb3_std = _mean_std(times["sb3"])
    sps = {side: _mean_std([r.steps_per_s for r in rs])[0] for side, rs in results.items()}
    marks = curve_marks(results)
    for name, rs in results.items():
        if rs:
            print_curve(name, rs, marks)
    if args.curve:
        with open(args.curve, "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(["side", "seed", "seconds", "steps", "return"])
            for side, rs in results.items():
                for i, r in enumerate(rs):
                    w.writerows(curve_rows(side, args.seed + i, r))
    print(f"load average over the run: {min(loads):.2f} to {max(loads):.2f} (other work skews both sides)")
    if target is not None:
        reached = {s: sum(t == t for t in ts) for s, ts in times.items()}
        print(f"time to a running mean return of {target:.1f}: studio {_f(t_studio)} ± {_f(t_studio_std)} s "
              f"({reached['studio']}/{len(times['studio'])}), sb3 {_f(t_sb3)} ± {_f(t_sb3_std)} s "
              f"({reached['sb3']}/{len(times['sb3'])})")
    for side in ("studio", "sb3"):
        if side in effective:
            print(f"CONFIG {side} {json.dumps(effective[side], sort_keys=True)}")
    n = args.seeds
    reached_s = sum(t == t for t in times["studio"])
    reached_b = sum(t == t for t in times["sb3"])
    print(f"RESULT studio_steps_per_s={_f(sps['studio'])} sb3_steps_per_s={_f(sps['sb3'])} "
          f"speedup={_f(sps['studio'] / sps['sb3'])} studio_return={_f(studio_final)} "
          f"sb3_return={_f(sb3_final)} studio_time_to_target_s={_f(t_studio)} "
          f"sb3_time_to_target_s={_f(t_sb3)} time_ratio={_f(t_studio / t_sb3)} "
          f"studio_return_std={_f(studio_final_std)} sb3_return_std={_f(sb3_final_std)} "
          f"studio_time_to_target_std={_f(t_studio_std)} sb3_time_to_target_std={_f(t_sb3_std)} "
          f"studio_reached={reached_s}/{n} sb3_reached={reached_b}/{len(times['sb3'])} "
          f"target={_f(math.nan if target is None else target)} seeds={n}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
