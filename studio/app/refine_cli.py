"""``reward-studio refine DESIGN --env ENV``: refinement rounds (ICPL) from the command line.

    reward-studio refine start.json --env InvertedPendulum-v5 --workspace WS \\
        --proposer preference --rounds 3 --k 4 --steps-per-candidate 50000 --rank proxy

Each round trains K candidates (in parallel up to the cores), records a rollout of each,
ranks them (``--rank proxy``: by the task score; ``--rank app``: stops at "round N awaits
a ranking" until a person ranks the videos in the app or with ``reward-studio rank``), and
proposes the next K. ``--resume`` continues the workspace's latest experiment (or
``--experiment ID``) where it stopped: after a kill, or once the ranking is saved. The
last line is ``RESULT rounds=… best_task_score=… llm_calls=… llm_retries=…``.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

__all__ = ["CLIError", "build_parser", "main"]


class CLIError(RuntimeError):
    """Bad input: the command line prints the message as one line and exits with status 2."""

    user_facing = True


def build_parser() -> argparse.ArgumentParser:
    """Arguments of ``reward-studio refine``."""
    p = argparse.ArgumentParser(prog="reward-studio refine", description=__doc__.split("\n")[0])
    p.add_argument("design", nargs="?", help="start design JSON, or 'task' (omit with --resume)")
    p.add_argument("--env", help="task id, e.g. HalfCheetah-v5 (default: the design's task)")
    p.add_argument("--workspace", default="workspaces/default", help="default: %(default)s")
    p.add_argument("--proposer", default="preference", help="preference, llm or perturb (default: %(default)s)")
    p.add_argument("--rounds", type=int, default=5, help="default: %(default)s")
    p.add_argument("--k", type=int, default=4, help="candidates per round (default: %(default)s)")
    p.add_argument("--steps-per-candidate", type=int, default=100_000, help="default: %(default)s")
    p.add_argument("--rank", choices=("proxy", "app"), default="proxy",
                   help="proxy: by the task score; app: a person ranks (default: %(default)s)")
    p.add_argument("--resume", action="store_true", help="continue the latest (or --experiment) experiment")
    p.add_argument("--experiment", type=int, default=None, help="experiment id for --resume")
    p.add_argument("--list", action="store_true", help="list the workspace's experiments and stop")
    p.add_argument("--llm-retries", type=int, default=3, help="repairs per LLM reply (default: %(default)s)")
    p.add_argument("--model", default=None, help="LLM model name (OPENAI_BASE_URL, OPENAI_API_KEY from the environment)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--rollout-steps", type=int, default=1000, help="steps of each recorded rollout")
    p.add_argument("--no-video", action="store_true", help="record traces only (proxy ranking needs no video)")
    p.add_argument("--preset", default=None,
                   help="training preset of every candidate (default: the task's tuned one)")
    p.add_argument("--checkpoint-every", type=int, default=10,
                   help="updates between a candidate's checkpoints (default: %(default)s)")
    p.add_argument("--cpu-slots", type=int, default=None, help="candidates trained at once (default: the cores)")
    p.add_argument("--backend", choices=("local", "ray"), default="local",
                   help="where candidates train: local processes, or a Ray cluster (default: %(default)s)")
    p.add_argument("--address", default=None,
                   help="with --backend ray: the cluster's address ('auto', 'ray://host:10001'); "
                   "default: start a local Ray instance on loopback")
    p.add_argument("--env-factory", default=None, help=argparse.SUPPRESS)  # tests: module:callable
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``reward-studio refine``; 0 when done or waiting for a ranking, 1 when it failed."""
    args = build_parser().parse_args(argv)
    from studio.app.designs import load_design
    from studio.app.refine import RefineConfig, RefineService
    from studio.refine import loop
    from studio.store import Workspace
    from studio.store import refinement as rstore
    from studio.train.runners import make_runner

    if args.list:
        with Workspace.open(Path(args.workspace)) as ws, ws.session() as s:
            for e in rstore.list_experiments(s):
                rounds = len(rstore.experiment_rounds(s, e.id))
                print(f"{e.id}\t{e.name}\t{e.task.env_id}\t{e.proposer}\t{e.rank_mode}\t"
                      f"{e.status}\t{rounds}/{e.config.get('rounds')} rounds")
        return 0
    if not args.resume and not args.design:
        raise CLIError("refine: give a start DESIGN file (or 'task'), or --resume an experiment")
    with Workspace.open(Path(args.workspace)) as ws:
        runner = (make_runner("ray", address=args.address) if args.backend == "ray"
                  else make_runner("local", cpu_slots=args.cpu_slots))
        service = RefineService(ws, runner=runner,
                                env_factory=args.env_factory)
        service.log = lambda msg: print(msg, flush=True)
        try:
            if args.resume:
                exp_id = args.experiment
                if exp_id is None:
                    with ws.session() as s:
                        found = rstore.list_experiments(s)
                        if not found:
                            raise CLIError(f"refine --resume: {ws.root} has no experiment to resume; "
                                           "start one with a DESIGN")
                        exp_id = found[0].id
                service.resume(exp_id)
                print(f"resuming experiment {exp_id} in {ws.root}", flush=True)
            else:
                design = load_design(args.design, args.env)
                env_id = args.env or design.task
                cfg = RefineConfig(rounds=args.rounds, k=args.k,
                                   steps_per_candidate=args.steps_per_candidate, seed=args.seed,
                                   rollout_steps=args.rollout_steps,
                                   video=not args.no_video,
                                   model=args.model, llm_retries=args.llm_retries,
                                   checkpoint_every=args.checkpoint_every, preset=args.preset)
                try:
                    exp_id = service.create(design, env_id, args.proposer, args.rank, cfg)
                except ValueError as exc:
                    raise CLIError(f"refine: {exc}") from None
                print(f"experiment {exp_id}: {args.rounds} rounds of {args.k} candidates on {env_id}, "
                      f"{args.steps_per_candidate:,} steps each, proposer {args.proposer}, "
                      f"ranked by {args.rank}", flush=True)
            try:
                action = service.run(exp_id)
            except KeyboardInterrupt:
                print("\ninterrupted: candidates checkpoint; continue with --resume", file=sys.stderr)
                service.close()
                return 130
            summary = service.summary(exp_id)
            print(f"RESULT rounds={summary['rounds']} best_task_score={summary['best_task_score']:.2f} "
                  f"llm_calls={summary['llm_calls']} llm_retries={summary['llm_retries']}", flush=True)
            return 1 if isinstance(action, loop.Failed) else 0
        finally:
            service.close()


if __name__ == "__main__":
    sys.exit(main())
