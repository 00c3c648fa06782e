"""``reward-studio agreement``: how well a design's returns agree with the stored rankings.

::

    reward-studio agreement cheetah.json --workspace WS [--env HalfCheetah-v5]

Every ranked rollout of the task is scored under the design from its stored states (no
simulation), and the returns are compared with every ranking: Kendall's τ-b over all
ranked pairs (ties as τ-b handles them) and the fraction of strictly ranked pairs the
design orders the same way. The last line is
``RESULT kendall_tau=… pair_accuracy=… pairs=… rankings=…`` (``nan`` when undefined).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence

DEFAULT_WORKSPACE = "workspaces/default"


def build_parser() -> argparse.ArgumentParser:
    """The parser of ``reward-studio agreement``."""
    p = argparse.ArgumentParser(prog="reward-studio agreement",
                                description="Agreement of a design with the workspace's rankings.")
    p.add_argument("design", help="design file, or 'task' for the task's own reward (needs --env)")
    p.add_argument("--workspace", default=DEFAULT_WORKSPACE,
                   help="workspace folder (default: %(default)s)")
    p.add_argument("--env", help="task whose rollouts are scored (default: the design's task)")
    p.add_argument("--heron-weights", metavar="FILE", default=None,
                   help="a run's heron.safetensors: the trained models of the design's HERON groups")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``reward-studio agreement``; 2 on bad input."""
    args = build_parser().parse_args(list(sys.argv[1:] if argv is None else argv))
    from studio.app.designs import load_design
    from studio.app.ranking import RankingError, RankingService
    from studio.core.design import DesignFileError
    from studio.store import Workspace

    try:
        design = load_design(args.design, args.env)
        heron = None
        if args.heron_weights is not None:
            from studio.core.heron import load_models

            heron = load_models(args.heron_weights)
    except (DesignFileError, OSError, ValueError) as exc:
        print(f"reward-studio agreement: {exc}", file=sys.stderr)
        return 2
    env = args.env or design.task
    with Workspace.open_for_reading(args.workspace) as ws:  # only reads: fine while the app holds it
        service = RankingService(ws)
        t0 = time.perf_counter()
        try:
            a = service.agreement(design, env, heron)
        except RankingError as exc:
            print(f"reward-studio agreement: {exc}", file=sys.stderr)
            return 2
        seconds = time.perf_counter() - t0
    print(f"{design.name!r} on {env}: Kendall tau-b {a.kendall_tau:.4f}, "
          f"{a.pair_accuracy:.1%} of {a.strict_pairs} strictly ranked pairs in order "
          f"({a.pairs} pairs from {a.rankings} rankings)")
    print(f"RESULT kendall_tau={a.kendall_tau:.6f} pair_accuracy={a.pair_accuracy:.6f} "
          f"pairs={a.pairs} rankings={a.rankings} strict_pairs={a.strict_pairs} "
          f"seconds={seconds:.3f}")
    return 0
