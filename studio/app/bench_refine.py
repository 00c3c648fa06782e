"""``reward-studio bench refine``: the refinement loop against a proxy human, from a poor start.

    reward-studio bench refine --env HalfCheetah-v5 --rounds 5 --k 4 \\
        --steps-per-candidate 100000 --proposer preference

One run does both sides on the same budget and settings: a policy trained for
``--steps-per-candidate`` steps on the task's own reward (the reference), and the loop
started from a deliberately poor design (below, or ``--start``) with ``--rank proxy`` (the
task score ranks each round's rollouts; the proposer sees only the rankings). Every policy
is judged by the same recorded rollout (``--rollout-steps``, seed ``--seed``). Per round it
prints the best candidate's task score over the reference's; the last line is
``RESULT round1=… … final=… seconds_per_round=…`` (``final``: the last round's ratio).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from studio.core.design import Design, Group, Term

if TYPE_CHECKING:
    from studio.app.refine import RefineConfig, RefineService

__all__ = ["main", "poor_design"]


def poor_design(env_id: str) -> Design:
    """A deliberately poor start: the right quantities, the wrong balance.

    HalfCheetah: paid mostly for keeping the torso level and for not moving its joints, with
    speed a small afterthought, so a policy trained on it stands still. Other tasks: the
    task's own terms with positive weights cut tenfold and penalties made tenfold heavier.
    """
    if env_id.startswith("HalfCheetah"):
        return Design("poor_cheetah", env_id, Group("reward", [
            Term("forward", "x_velocity", weight=0.05, description="speed, barely paid"),
            Term("ctrl_cost", "ctrl_sq", weight=-1.0, description="effort, heavily penalised"),
            Term("level", "body_torso_upright", weight=1.0, description="torso kept level"),
        ]), description="bench refine's poor start design")
    from studio.app.designs import design_from_task

    d = design_from_task(env_id)
    d.name = "poor_" + d.name.split(" ")[0].replace("-", "_")
    for t in d.terms():
        if not isinstance(t.weight, float | int):
            continue
        t.weight = float(t.weight) * (0.1 if t.weight > 0 else 10.0)
    if len(d.terms()) < 2:  # give the fit something to weigh against
        d.root.children.append(Term("effort", "ctrl_sq", weight=-1.0))
    return d


def build_parser() -> argparse.ArgumentParser:
    """Arguments of ``reward-studio bench refine``."""
    p = argparse.ArgumentParser(prog="reward-studio bench refine", description=__doc__.split("\n")[0])
    p.add_argument("--env", default="HalfCheetah-v5")
    p.add_argument("--start", default=None, help="start design JSON (default: the poor design above)")
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--k", type=int, default=4)
    p.add_argument("--steps-per-candidate", type=int, default=100_000)
    p.add_argument("--proposer", default="preference")
    p.add_argument("--preset", default=None, help="training preset (default: the task's tuned one)")
    p.add_argument("--rollout-steps", type=int, default=1000)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--cpu-slots", type=int, default=None, help="candidates trained at once (default: the cores)")
    p.add_argument("--workspace", default=None, help="workspace to keep (default: a temporary one)")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark; prints per-round ratios and the RESULT line."""
    args = build_parser().parse_args(argv)
    from studio.app.designs import design_from_task
    from studio.app.refine import RefineConfig, RefineService, candidate_config
    from studio.refine import loop
    from studio.store import Workspace
    from studio.train.runners.local import LocalRunner

    start = Design.load(args.start) if args.start else poor_design(args.env)
    folder = Path(args.workspace or tempfile.mkdtemp(prefix="bench-refine-"))
    runner = LocalRunner(cpu_slots=args.cpu_slots)
    cfg = RefineConfig(rounds=args.rounds, k=args.k, steps_per_candidate=args.steps_per_candidate,
                       seed=args.seed, rollout_steps=args.rollout_steps, video=False,
                       preset=args.preset)
    device = "cuda" if runner.gpu else "cpu"
    train_cfg = candidate_config(args.env, args.steps_per_candidate, args.seed, args.preset, device)
    print(f"CONFIG env={args.env} rounds={args.rounds} k={args.k} steps_per_candidate="
          f"{args.steps_per_candidate} proposer={args.proposer} rank=proxy cpu_slots={runner.cpu_slots} "
          f"device={device} rollout_steps={args.rollout_steps} seed={args.seed}", flush=True)
    print(f"CONFIG training num_envs={train_cfg.num_envs} num_steps={train_cfg.num_steps} "
          f"minibatches={train_cfg.num_minibatches} epochs={train_cfg.update_epochs} "
          f"lr={train_cfg.learning_rate} hidden={train_cfg.hidden} (both sides)", flush=True)
    print(f"start design {start.name}: " + ", ".join(f"{t.name}={t.weight}" for t in start.terms()),
          flush=True)
    with Workspace.open(folder) as ws:
        service = RefineService(ws, runner=runner)
        try:
            t0 = time.monotonic()
            reference = _reference_score(service, design_from_task(args.env), args.env, cfg)
            ref_s = time.monotonic() - t0
            print(f"reference (task reward, same budget): task score {reference:.1f} in {ref_s:.0f} s",
                  flush=True)
            exp = service.create(start, args.env, args.proposer, "proxy", cfg, name="bench refine")
            t0 = time.monotonic()
            action = service.run(exp)
            seconds = time.monotonic() - t0
            if isinstance(action, loop.Failed):
                print(f"bench refine: the loop failed: {action.reason}", file=sys.stderr)
                return 1
            scores = {i.id: i.task_score for i in service.ranking.rollouts()}
            ratios = []
            for r in service.state(exp).rounds:
                best = max(scores[c.rollout_id] for c in r.recorded if c.rollout_id in scores)
                ratios.append(best / reference if reference > 0 else float("nan"))
                print(f"round {r.index}: best task score {best:.1f}, ratio {ratios[-1]:.3f}", flush=True)
            load = os.getloadavg()
            per_round = seconds / max(len(ratios), 1)
            print(f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}; workspace {folder}")
            keys = " ".join(f"round{i}={v:.3f}" for i, v in enumerate(ratios, 1))
            print(f"RESULT {keys} final={ratios[-1]:.3f} seconds_per_round={per_round:.1f} "
                  f"reference_score={reference:.1f}", flush=True)
            return 0
        finally:
            service.close()


def _reference_score(service: RefineService, design: Design, env_id: str,
                     cfg: RefineConfig) -> float:
    """Train one policy on the task's reward with the candidates' budget; its rollout's score."""
    from studio.app.refine import candidate_config
    from studio.app.run_controller import RunController

    device = "cuda" if getattr(service.runner, "gpu", False) else "cpu"
    config = candidate_config(env_id, cfg.steps_per_candidate, cfg.seed, cfg.preset, device)
    ctl = RunController(service.workspace, service.runner.factory)
    run_id = ctl.start(design, env_id, config)
    while True:
        out = ctl.poll()
        if out.failed is not None:
            raise RuntimeError(f"the reference run failed: {out.failed.cause}")
        if out.finished is not None:
            break
        time.sleep(0.2)
    ctl.close()
    info = service.ranking.record(env_id, "run", design=design, steps=cfg.rollout_steps,
                                  seed=cfg.seed, video=False, run_id=run_id)
    return float(info.task_score)

if __name__ == "__main__":
    sys.exit(main())
