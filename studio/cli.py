"""The ``reward-studio`` command line: the app by default, one subcommand per headless job.

Heavy modules (Qt, torch, MuJoCo) are imported inside each command, so ``--help`` is quick
and headless commands never load Qt.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

DEFAULT_WORKSPACE = Path("workspaces/default")


class CLIError(Exception):
    """An error the user can fix: printed as one line, exit status 2."""


def _app(args: argparse.Namespace) -> int:
    from studio.ui.app import run_app

    size = None
    if args.size:
        try:
            w, h = (int(v) for v in args.size.lower().split("x"))
        except ValueError:
            raise CLIError(f"--size expects WIDTHxHEIGHT, e.g. 1600x1000, got {args.size!r}") from None
        size = (w, h)
    workspace = Path(args.workspace) if args.workspace else None
    return run_app(workspace, screenshot=args.screenshot, size=size, task=args.task, show=args.show)


def _design(args: argparse.Namespace) -> int:
    from studio.app.designs import design_from_task, validate_design_file

    if args.design_cmd == "from-task":
        design = design_from_task(args.env)
        out = Path(args.output)
        out.write_text(design.dumps() + "\n")
        print(f"wrote the task's own reward for {args.env} to {out} "
              f"({len(design.terms())} terms, {len(design.events)} events)")
        return 0
    problems = validate_design_file(Path(args.file))
    if not problems:
        print(f"{args.file}: valid")
        return 0
    for p in problems:
        print(f"{args.file}: {p}", file=sys.stderr)
    return 1


def _eval(args: argparse.Namespace) -> int:
    from studio.app.evaluate import evaluate_random, format_stats

    stats = evaluate_random(args.design, args.env, steps=args.steps, envs=args.envs, seed=args.seed)
    print(format_stats(stats))
    return 0


def _delegate(module: str) -> Callable[[argparse.Namespace], int]:
    def run(args: argparse.Namespace) -> int:
        import importlib

        main = importlib.import_module(module).main
        return int(main(list(args.rest)) or 0)

    return run


# Commands that own their whole argument list: name -> (module with ``main(argv)``, help).
DELEGATED: dict[str, tuple[str, str]] = {
    "train": ("studio.app.train_cli", "train a policy on a design"),
    "export": ("studio.export.cli", "export a design as code"),
    "import": ("studio.export.import_cli", "import reward code as a design"),
    "distance": ("studio.app.distance", "EPIC distance between two designs"),
    "runs": ("studio.app.runs_cli", "list the workspace's training runs"),
    "rollout": ("studio.app.rollout_cli", "record and list rollouts (trace and video)"),
    "rank": ("studio.app.rank_cli", "save a ranking of rollouts, best first"),
    "agreement": ("studio.app.agreement_cli", "how well a design agrees with the rankings"),
    "refine": ("studio.app.refine_cli", "refinement rounds: train, rank, propose"),
    "archive": ("studio.app.archive", "export or import one experiment as a zip"),
}

BENCHES = {
    "sim": "studio.sim.bench_sim",
    "train": "studio.train.bench_train",
    "viewer": "studio.ui.bench_viewer",
    "gui": "studio.ui.bench_gui",
    "agreement": "studio.app.bench_agreement",
    "refine": "studio.app.bench_refine",
    "heron": "studio.train.bench_heron",
}


def _bench(args: argparse.Namespace) -> int:
    import importlib

    main = importlib.import_module(BENCHES[args.which]).main
    return int(main(list(args.rest)) or 0)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``reward-studio``."""
    p = argparse.ArgumentParser(
        prog="reward-studio",
        description="Design reward functions visually, train on them live, export the code. "
        "Without a subcommand, opens the app.",
    )
    p.add_argument("--workspace", default=None,
                   help=f"workspace folder (default: the one used last, else {DEFAULT_WORKSPACE})")
    p.add_argument("--screenshot", metavar="FILE.png", help="open the app, save a screenshot of the main window, exit")
    p.add_argument("--size", metavar="WxH", help="window size for --screenshot, e.g. 1600x1000")
    p.add_argument("--task", metavar="ENV",
                   help="work on this task: a built-in or Gymnasium MuJoCo id, or an MJCF file "
                        "(its last design, else its own reward as a first version)")
    p.add_argument("--show", choices=("window", "task-picker", "dashboard", "shortcuts", "guide"),
                   default="window", help="what --screenshot pictures (default: the window)")
    p.set_defaults(func=_app)
    sub = p.add_subparsers(dest="cmd", metavar="COMMAND")

    d = sub.add_parser("design", help="create and check design files")
    dsub = d.add_subparsers(dest="design_cmd", required=True, metavar="ACTION")
    ft = dsub.add_parser("from-task", help="write the task's own reward as an editable design")
    ft.add_argument("env", help="task id, e.g. HalfCheetah-v5")
    ft.add_argument("-o", "--output", required=True, help="design file to write")
    va = dsub.add_parser("validate", help="check a design file; problems are printed with their path")
    va.add_argument("file")
    d.set_defaults(func=_design)

    e = sub.add_parser("eval", help="roll out a random policy and print each term's statistics")
    e.add_argument("design", help="design file, or 'task' for the task's own reward")
    e.add_argument("--env", required=True, help="task id, e.g. HalfCheetah-v5")
    e.add_argument("--steps", type=int, default=2000, help="environment steps in all (default: %(default)s)")
    e.add_argument("--envs", type=int, default=4, help="parallel environments (default: %(default)s)")
    e.add_argument("--seed", type=int, default=0)
    e.set_defaults(func=_eval)

    for name, (module, text) in DELEGATED.items():
        s = sub.add_parser(name, help=f"{text} (see: {name} --help)", add_help=False)
        s.add_argument("rest", nargs=argparse.REMAINDER)
        s.set_defaults(func=_delegate(module))

    b = sub.add_parser("bench", help=f"benchmarks: {', '.join(BENCHES)} (each ends with a RESULT line)")
    b.add_argument("which", choices=sorted(BENCHES))
    b.add_argument("rest", nargs=argparse.REMAINDER)
    b.set_defaults(func=_bench)
    return p


def _prepare_runtime() -> None:
    """Choose MuJoCo's GL backend before anything imports it, and route its warnings to logging."""
    import logging
    import os

    logging.basicConfig(level=os.environ.get("STUDIO_LOG", "WARNING"), format="%(levelname)s %(name)s: %(message)s")
    from studio.sim.render import select_gl_backend

    select_gl_backend()
    try:
        from studio.sim.mjlog import install_warning_handler

        install_warning_handler()
    except Exception:  # never let logging set-up stop a command
        logging.getLogger("studio").debug("MuJoCo warning handler not installed", exc_info=True)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``reward-studio`` console script."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] in DELEGATED:
        # These commands own their whole argument list, --help included.
        import importlib

        _prepare_runtime()
        return _guard(lambda: int(importlib.import_module(DELEGATED[argv[0]][0]).main(argv[1:]) or 0))
    if len(argv) >= 2 and argv[0] == "bench" and argv[1] in BENCHES:
        import importlib

        _prepare_runtime()
        return _guard(lambda: int(importlib.import_module(BENCHES[argv[1]]).main(argv[2:]) or 0))
    args = build_parser().parse_args(argv)
    _prepare_runtime()
    return _guard(lambda: int(args.func(args) or 0))


def _guard(run: Callable[[], int]) -> int:
    """Run a command; errors the user can act on become one line on stderr (status 2)."""
    try:
        return run()
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except Exception as exc:
        from studio.errors import user_message

        msg = user_message(exc)
        if msg is None:
            raise
        print(f"reward-studio: {msg}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
