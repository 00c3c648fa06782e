"""``reward-studio bench agreement``: how fast the editor's agreement follows an edit.

The setting of the issue: ``--rollouts`` (50) stored episodes of ``--steps`` (1000) steps
of ``--env`` (HalfCheetah-v5, random policy, one seed each) and ``--rankings`` rankings of
four rollouts each, ordered by a hidden reference reward (the task's own, plus noise;
close returns tie). Then:

* ``cold_s``: a fresh service's first agreement, which loads every trace and recomputes
  the features the design reads from the stored states;
* ``update_ms_*``: ``--edits`` agreements of the task's design, each with one weight
  changed, as the editor asks after each edit (features cached; the design compiled
  anew, all rollouts scored as one batch, τ-b and pair accuracy over all pairs);
* ``record_video_s`` (unless ``--no-video-episode``): recording one ``--steps`` episode
  with its 480x480 H.264 video, as ``rollout record`` does (target ≤ 20 s), and the CPU
  seconds it took (``record_video_cpu_s``: simulation, OSMesa's rendering threads and
  the ffmpeg encoder), which depend less on what else the machine runs.

The machine is shared, so the load average is printed with the figures. The last line
is ``RESULT update_ms_median=… update_ms_max=… target_ms=200 cold_s=… …``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from studio.sim.bench_sim import load_average


def build_parser() -> argparse.ArgumentParser:
    """The parser of ``reward-studio bench agreement``."""
    p = argparse.ArgumentParser(prog="reward-studio bench agreement",
                                description="Agreement update time on stored rollouts.")
    p.add_argument("--env", default="HalfCheetah-v5")
    p.add_argument("--rollouts", type=int, default=50)
    p.add_argument("--steps", type=int, default=1000)
    p.add_argument("--rankings", type=int, default=40)
    p.add_argument("--edits", type=int, default=30)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--workspace", help="keep the workspace here (default: a temporary folder); "
                   "rollouts of --env already there are reused")
    p.add_argument("--no-video-episode", action="store_true",
                   help="skip timing one recording with its 480x480 video")
    return p


def _cpu() -> float:
    """CPU seconds of this process (all its threads) and of its finished children (ffmpeg)."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def _rank_sets(returns: dict[int, float], n: int, rng: np.random.Generator) -> list[list[list[int]]]:
    """Rankings of four rollouts by noisy returns; returns within 2% of the spread tie."""
    ids = sorted(returns)
    spread = float(np.ptp(list(returns.values()))) or 1.0
    out = []
    for _ in range(n):
        pick = rng.choice(ids, size=min(4, len(ids)), replace=False)
        noisy = sorted(((returns[int(i)] + rng.normal(0, 0.05 * spread), int(i)) for i in pick),
                       reverse=True)
        tiers: list[list[int]] = []
        last = None
        for value, rid in noisy:
            if last is not None and last - value < 0.02 * spread:
                tiers[-1].append(rid)
            else:
                tiers.append([rid])
            last = value
        out.append(tiers)
    return out


def run(args: argparse.Namespace) -> dict[str, float | int | str]:
    """Record (or reuse) the rollouts, rank them, and time cold and warm agreements."""
    from studio.app.designs import design_from_task
    from studio.app.ranking import RankingService
    from studio.store import Workspace

    rng = np.random.default_rng(args.seed)
    folder = Path(args.workspace) if args.workspace else Path(tempfile.mkdtemp(prefix="bench-agree-"))
    design = design_from_task(args.env)
    with Workspace.open(folder) as ws:
        service = RankingService(ws)
        have = [r for r in service.rollouts(args.env)
                if r.length == args.steps and r.trace_path is not None]
        t0 = time.perf_counter()
        for k in range(len(have), args.rollouts):
            service.record(args.env, "random", design=design, steps=args.steps,
                           seed=args.seed + k, video=False)
            print(f"recorded rollout {k + 1}/{args.rollouts} (load {load_average('/')})", flush=True)
        record_s = time.perf_counter() - t0
        infos = service.rollouts(args.env)[: args.rollouts]
        returns = {r.id: float(r.design_return or 0.0) for r in infos}
        # A reused workspace keeps its rankings; only the missing ones are added.
        missing = args.rankings - len([r for r in service.rankings() if r.annotator == "bench"])
        for tiers in _rank_sets(returns, max(missing, 0), rng):
            service.save_ranking(tiers, annotator="bench")

        fresh = RankingService(ws)
        c0, t0 = _cpu(), time.perf_counter()
        first = fresh.agreement(design, args.env)
        cold_s, cold_cpu = time.perf_counter() - t0, _cpu() - c0
        terms = design.terms()
        times = []
        for i in range(args.edits):
            edited = design.copy()
            term = edited.terms()[i % len(terms)]
            term.weight = float(term.weight) * (1.0 + 0.1 * (i + 1))  # type: ignore[arg-type]
            t0 = time.perf_counter()
            fresh.agreement(edited, args.env)
            times.append(1000 * (time.perf_counter() - t0))
        video_s = video_cpu = float("nan")
        if not args.no_video_episode:
            c0, t0 = _cpu(), time.perf_counter()
            service.record(args.env, "random", design=design, steps=args.steps, seed=10_000)
            video_s, video_cpu = time.perf_counter() - t0, _cpu() - c0
    return {
        "update_ms_median": statistics.median(times), "update_ms_max": max(times),
        "update_ms_p90": float(np.percentile(times, 90)), "cold_s": cold_s,
        "record_video_s": video_s, "record_video_cpu_s": video_cpu, "cold_cpu_s": cold_cpu,
        "rollouts": len(infos), "steps": args.steps,
        "pairs": first.pairs, "rankings": first.rankings, "kendall_tau": first.kendall_tau,
        "record_s": record_s, "load": load_average('/'),
    }


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``reward-studio bench agreement``."""
    args = build_parser().parse_args(list(sys.argv[1:] if argv is None else argv))
    print(f"settings: env={args.env} rollouts={args.rollouts} steps={args.steps} "
          f"rankings={args.rankings} (4 rollouts each) edits={args.edits} policy=random "
          f"design=the task's own, one weight changed per edit; cores={os.cpu_count()} "
          f"load={load_average('/')}", flush=True)
    r = run(args)
    print(f"cold agreement (load traces, recompute features): {r['cold_s']:.2f} s "
          f"({r['cold_cpu_s']:.2f} s of CPU); "
          f"update after an edit: median {r['update_ms_median']:.1f} ms, "
          f"p90 {r['update_ms_p90']:.1f} ms, max {r['update_ms_max']:.1f} ms (target 200 ms); "
          f"tau-b {r['kendall_tau']:.3f} over {r['pairs']} pairs of {r['rankings']} rankings")
    if r["record_video_s"] == r["record_video_s"]:
        print(f"one {args.steps}-step episode with its 480x480 video: "
              f"{r['record_video_s']:.1f} s (target 20 s), {r['record_video_cpu_s']:.1f} s of CPU "
              "(simulation, rendering threads and the ffmpeg encoder together)")
    print(f"RESULT update_ms_median={r['update_ms_median']:.1f} update_ms_max={r['update_ms_max']:.1f} "
          f"target_ms=200 cold_s={r['cold_s']:.2f} record_video_s={r['record_video_s']:.1f} "
          f"record_video_cpu_s={r['record_video_cpu_s']:.1f} "
          f"rollouts={r['rollouts']} steps={r['steps']} pairs={r['pairs']} load={r['load']}")
    return 0
