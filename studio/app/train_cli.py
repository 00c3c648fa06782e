"""``reward-studio train``: the trainer's command line, with the run stored in the workspace.

The arguments are those of :mod:`studio.train.cli_train`, plus ``--workspace`` (default
``workspaces/default``) where the run, its config, metric series and checkpoints are kept,
and ``--no-store`` to train without a workspace (checkpoints in ``--run-dir`` only).

``reward-studio train --resume RUN_ID [--workspace WS] [--steps N]`` continues a stored
``stopped`` or ``interrupted`` run from its last checkpoint: the same run and id, its steps
counting on from the checkpoint's (``--steps`` gives a new total).

Ctrl-C asks the run to checkpoint and stop at the next update (status ``stopped``); a
second Ctrl-C ends the training process at once (still ``stopped``, at the last checkpoint).
"""

from __future__ import annotations

import argparse
import signal
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from types import FrameType
from typing import Any

from studio.train import cli_train


def build_parser() -> argparse.ArgumentParser:
    """The trainer's parser with the workspace options added."""
    p = cli_train.build_parser()
    p.add_argument("--workspace", default="workspaces/default",
                   help="workspace that stores the run (default: %(default)s)")
    p.add_argument("--no-store", action="store_true",
                   help="do not store the run in a workspace; checkpoints go to --run-dir")
    return p


def _resume_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="reward-studio train --resume",
                                description="Continue a stored run from its last checkpoint.")
    p.add_argument("--resume", type=int, required=True, metavar="RUN_ID",
                   help="the run to continue (see `reward-studio runs list`)")
    p.add_argument("--workspace", default="workspaces/default", help="default: %(default)s")
    p.add_argument("--steps", type=int, default=None,
                   help="new total of environment steps (default: the run's own)")
    p.add_argument("--checkpoint-every", type=int, default=10, help="updates between checkpoints")
    p.add_argument("--env-factory", default=None, help=argparse.SUPPRESS)
    return p


def _resume_id(argv: list[str]) -> bool:
    """``--resume RUN_ID`` (a stored run), as opposed to ``--resume`` with ``--run-dir``."""
    if "--resume" not in argv:
        return False
    i = argv.index("--resume")
    return i + 1 < len(argv) and argv[i + 1].isdigit()


def main(argv: Sequence[str] | None = None) -> int:
    """Train, storing the run; 0 on success, 1 when training failed, 2 on bad input."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if _resume_id(argv):
        return _resume(_resume_parser().parse_args(argv))
    args = build_parser().parse_args(argv)
    if args.no_store or args.resume:
        # Resuming a --run-dir without a workspace is the trainer's own job.
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
        try:
            config = cli_train.config_from_args(args)
        except (KeyError, ValueError) as exc:
            print(f"reward-studio train: --preset: {exc.args[0] if exc.args else exc}", file=sys.stderr)
            return 2
        run_id = controller.start(design, args.env, config, checkpoint_every=args.checkpoint_every,
                                  env_factory=args.env_factory)
        print(f"training {args.env} on {design.name!r} for {args.steps:,} steps as run {run_id} "
              f"in {ws.root}", flush=True)
        return _follow_interruptible(controller)


def _resume(args: argparse.Namespace) -> int:
    from studio.app.run_controller import RunController
    from studio.store import Workspace, WorkspaceError

    try:
        ws = Workspace.open(Path(args.workspace), create=False)
    except WorkspaceError as exc:
        print(f"reward-studio train: {exc}", file=sys.stderr)
        return 2
    with ws:
        controller = RunController(ws)
        try:
            run_id = controller.resume_run(args.resume, total_timesteps=args.steps,
                                           env_factory=args.env_factory,
                                           checkpoint_every=args.checkpoint_every)
        except RuntimeError as exc:
            print(f"reward-studio train: cannot resume: {exc}", file=sys.stderr)
            return 2
        print(f"resuming run {run_id} ({controller.env_id}) from its last checkpoint in {ws.root}",
              flush=True)
        return _follow_interruptible(controller)


def _follow_interruptible(controller: Any) -> int:
    """Follow the run; Ctrl-C stops it with a checkpoint, a second Ctrl-C ends it at once."""
    printer = cli_train.ProgressPrinter()
    presses = [0]

    def on_sigint(signum: int, frame: FrameType | None) -> None:
        presses[0] += 1
        if presses[0] == 1:
            print("\nstopping: the run checkpoints at the next update (Ctrl-C again to end it "
                  "now, keeping the last checkpoint)…", file=sys.stderr, flush=True)
            controller.stop()
        else:
            raise KeyboardInterrupt

    previous = signal.signal(signal.SIGINT, on_sigint)
    try:
        return _follow(controller, printer)
    except KeyboardInterrupt:
        controller.force_stop()
        print(f"run {controller.run_id} ended at once: stopped at its last checkpoint",
              file=sys.stderr)
        return 130
    finally:
        signal.signal(signal.SIGINT, previous)
        controller.close()


def _follow(controller: Any, printer: cli_train.ProgressPrinter) -> int:
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
