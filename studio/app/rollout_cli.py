"""``reward-studio rollout``: record episodes (trace and video) into a workspace, and list them.

::

    reward-studio rollout record --workspace WS --env HalfCheetah-v5 --policy random \\
        [--design cheetah.json] [--episodes 3] [--steps 1000] [--seed 0] [--no-video]
    reward-studio rollout list --workspace WS [--env ENV] [--json]

``record`` prints one ``RESULT rollout_id=… task_score=… design_return=… length=… seconds=…``
line per episode (episode ``k`` uses seed ``S + k``); the last line is the last episode's.
``list --json`` writes a JSON list and nothing else on stdout; paths are relative to the
workspace.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from typing import Any

DEFAULT_WORKSPACE = "workspaces/default"


def build_parser() -> argparse.ArgumentParser:
    """The parser of ``reward-studio rollout``."""
    p = argparse.ArgumentParser(prog="reward-studio rollout",
                                description="Record episodes of a policy with their trace and "
                                "video, or list the recorded ones.")
    sub = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    r = sub.add_parser("record", help="record episodes (trace, video, scores) into the workspace")
    r.add_argument("--workspace", default=DEFAULT_WORKSPACE,
                   help="workspace folder (default: %(default)s)")
    r.add_argument("--env", required=True, help="task id, e.g. HalfCheetah-v5")
    src = r.add_mutually_exclusive_group()
    src.add_argument("--checkpoint", help="a checkpoint file saved by the trainer")
    src.add_argument("--run", type=int, help="use the latest checkpoint of this run")
    src.add_argument("--policy", choices=("random", "zero"),
                     help="a built-in policy (default: random)")
    r.add_argument("--design", help="design file scored on every step, or 'task' for the task's "
                   "own reward")
    r.add_argument("--episodes", type=int, default=1, help="episodes to record (default: 1)")
    r.add_argument("--steps", type=int, default=1000,
                   help="most steps per episode (default: %(default)s)")
    r.add_argument("--seed", type=int, default=0, help="seed of the first episode (default: 0)")
    r.add_argument("--no-video", action="store_true", help="do not render the video")
    r.add_argument("--size", default="480x480", help="video size WxH (default: %(default)s)")
    r.add_argument("--round", type=int, help="refinement round the episodes belong to")
    ls = sub.add_parser("list", help="list the recorded rollouts")
    ls.add_argument("--workspace", default=DEFAULT_WORKSPACE,
                    help="workspace folder (default: %(default)s)")
    ls.add_argument("--env", help="only rollouts of this task")
    ls.add_argument("--json", action="store_true", help="a JSON list, nothing else on stdout")
    return p


def _size(text: str) -> tuple[int, int]:
    try:
        w, h = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise SystemExit(f"reward-studio rollout: --size expects WIDTHxHEIGHT, e.g. 480x480, "
                         f"got {text!r}") from None
    if w < 16 or h < 16:
        raise SystemExit(f"reward-studio rollout: --size {text} is too small (at least 16x16)")
    return w, h


def _record(args: argparse.Namespace) -> int:
    from studio.app.designs import load_design
    from studio.app.ranking import RankingService
    from studio.core.design import DesignFileError
    from studio.store import Workspace

    if args.episodes < 1 or args.steps < 1:
        print("reward-studio rollout: --episodes and --steps must be at least 1", file=sys.stderr)
        return 2
    size = _size(args.size)
    design = None
    if args.design:
        try:
            design = load_design(args.design, args.env)
        except DesignFileError as exc:
            print(f"reward-studio rollout: {exc}", file=sys.stderr)
            return 2
    policy: str = args.checkpoint or ("run" if args.run is not None else args.policy or "random")
    with Workspace.open(args.workspace) as ws:
        service = RankingService(ws)
        for k in range(args.episodes):
            t0 = time.perf_counter()
            info = service.record(args.env, policy, design=design, steps=args.steps,
                                  seed=args.seed + k, video=not args.no_video,
                                  round_id=args.round, run_id=args.run, size=size)
            seconds = time.perf_counter() - t0
            video = info.video_rel or "no video"
            print(f"rollout {info.id}: {info.env_id} {info.policy} seed {info.seed}, "
                  f"{info.length} steps, trace {info.trace_rel}, {video}", flush=True)
            ret = "none" if info.design_return is None else f"{info.design_return:.6g}"
            print(f"RESULT rollout_id={info.id} task_score={info.task_score:.6g} "
                  f"design_return={ret} length={info.length} seconds={seconds:.2f}", flush=True)
    return 0


def rollout_json(info: Any) -> dict[str, Any]:
    """One rollout as ``rollout list --json`` writes it (paths relative to the workspace)."""
    return {
        "id": info.id, "env": info.env_id, "policy": info.policy, "seed": info.seed,
        "length": info.length, "task_score": info.task_score,
        "design_return": info.design_return, "term_returns": info.term_returns,
        "trace": info.trace_rel, "video": info.video_rel,
        "design_version_id": info.design_version_id, "run_id": info.run_id,
        "round_id": info.round_id,
        "created_at": None if info.created_at is None else info.created_at.isoformat(),
    }


def _list(args: argparse.Namespace) -> int:
    from studio.app.ranking import RankingService
    from studio.store import Workspace

    # Listing only reads: it works while the app or a recording holds the workspace.
    with Workspace.open_for_reading(args.workspace) as ws:
        infos = RankingService(ws).rollouts(args.env)
    if args.json:
        json.dump([rollout_json(i) for i in infos], sys.stdout, indent=1)
        sys.stdout.write("\n")
        return 0
    if not infos:
        print("no rollouts yet: record some with `reward-studio rollout record`")
        return 0
    print(f"{'id':>4}  {'env':<22} {'policy':<24} {'seed':>5} {'length':>6} {'task':>10} "
          f"{'design':>10}  trace / video")
    for i in infos:
        ret = "-" if i.design_return is None else f"{i.design_return:.4g}"
        score = "-" if i.task_score is None else f"{i.task_score:.4g}"
        seed = "-" if i.seed is None else str(i.seed)
        print(f"{i.id:>4}  {i.env_id:<22} {i.policy:<24} {seed:>5} {i.length:>6} {score:>10} "
              f"{ret:>10}  {i.trace_rel or '-'} / {i.video_rel or '-'}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``reward-studio rollout``."""
    args = build_parser().parse_args(list(sys.argv[1:] if argv is None else argv))
    return _record(args) if args.action == "record" else _list(args)
