"""``reward-studio train``: the trainer's command line, with the run stored in the workspace.

The arguments are those of :mod:`studio.train.cli_train`, plus ``--workspace`` (default
``workspaces/default``) where the run, its config, metric series and checkpoints are kept,
and ``--no-store`` to train without a workspace (checkpoints in ``--run-dir`` only).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Sequence
from pathlib import Path

from studio.train import cli_train


def build_parser():  # type: ignore[no-untyped-def]
    """The trainer's parser with the workspace options added."""
    p = cli_train.build_parser()
    p.add_argument("--workspace", default="workspaces/default",
                   help="workspace that stores the run (default: %(default)s)")
    p.add_argument("--no-store", action="store_true",
                   help="do not store the run in a workspace; checkpoints go to --run-dir")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Train, storing the run; 0 on success, 1 when training failed, 2 on bad input."""
    argv = list(sys.argv[1:] if argv is None else argv)
    args = build_parser().parse_args(argv)
    if args.no_store or args.resume:
        # Resuming continues the checkpoints of a --run-dir; it is the trainer's own job.
        rest = [a for a in argv if a != "--no-store"]
        if "--workspace" in rest:
            i = rest.index("--workspace")
            del rest[i : i + 2]
        return cli_train.main(rest)

    from studio.app.designs import DesignFileError, load_design
    from studio.app.run_controller import RunController
    from studio.store import Workspace

    try:
        design = load_design(args.design, args.env)
    except DesignFileError as exc:
        print(f"reward-studio train: {exc}", file=sys.stderr)
        return 2
    with Workspace.open(Path(args.workspace)) as ws:
        controller = RunController(ws)
        config = cli_train.config_from_args(args)
        run_id = controller.start(design, args.env, config, checkpoint_every=args.checkpoint_every,
                                  env_factory=args.env_factory)
        print(f"training {args.env} on {design.name!r} for {args.steps:,} steps as run {run_id} "
              f"in {ws.root}", flush=True)
        printer = cli_train.ProgressPrinter()
        try:
            return _follow(controller, printer)
        except KeyboardInterrupt:
            print("\nstopping: the run checkpoints at the next update…", file=sys.stderr)
            controller.stop()
            return _follow(controller, printer)
        finally:
            controller.close()


def _follow(controller, printer) -> int:  # type: ignore[no-untyped-def]
    """Print and persist messages until the run ends."""
    while True:
        out = controller.poll()
        if out.progress is not None:
            printer(out.progress)
        for m in out.markers:
            printer(m)
        if out.failed is not None:
            printer(out.failed)
            return 1
        if out.finished is not None:
            printer(out.finished)
            return 0
        if out.empty:
            time.sleep(0.1)
