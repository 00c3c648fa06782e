"""``reward-studio train DESIGN --env ENV --steps N``: train a policy on a design, headless.

DESIGN is a design JSON file, or the word ``task`` for the task's own reward. Progress is one
line updated in place on a terminal (plain lines otherwise); checkpoints go to ``--run-dir``
(``--resume`` continues from there). Persisting the run into a workspace is the app's job.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

from studio.core.design import Design, DesignError
from studio.train.envs import task_design_document
from studio.train.loop import RunSpec, run_training
from studio.train.messages import Checkpointed, Failed, Finished, Marker, Message, Progress
from studio.train.ppo import PPOConfig


def build_parser() -> argparse.ArgumentParser:
    """Arguments of ``reward-studio train``."""
    p = argparse.ArgumentParser(prog="reward-studio train", description=__doc__.split("\n")[0])
    p.add_argument("design", help="design JSON file, or 'task' for the task's own reward")
    p.add_argument("--env", required=True, help="task id, e.g. HalfCheetah-v5")
    p.add_argument("--steps", type=int, default=1_000_000, help="environment steps in all (default: %(default)s)")
    p.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda"), help="default: %(default)s")
    p.add_argument("--envs", type=int, default=PPOConfig.num_envs, help="parallel environments (default: %(default)s)")
    p.add_argument("--rollout", type=int, default=None,
                   help="steps per env per update (default: 2048 / envs, at least 8); "
                   "training stops at the first multiple of envs x rollout >= --steps")
    p.add_argument("--minibatches", type=int, default=PPOConfig.num_minibatches, help="default: %(default)s")
    p.add_argument("--epochs", type=int, default=PPOConfig.update_epochs, help="default: %(default)s")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--run-dir", default=None, help="checkpoint folder (default: runs/ENV-TIME)")
    p.add_argument("--resume", action="store_true", help="continue from the checkpoint in --run-dir")
    p.add_argument("--checkpoint-every", type=int, default=10, help="updates between checkpoints")
    p.add_argument("--env-factory", default=None, help=argparse.SUPPRESS)  # tests: module:callable
    return p


def config_from_args(args: argparse.Namespace) -> PPOConfig:
    """The PPO config the arguments ask for."""
    # A rollout of 2048 steps in all, or the whole run when it is shorter.
    num_steps = args.rollout or max(8, min(2048, args.steps) // args.envs)
    return PPOConfig(
        total_timesteps=args.steps, num_envs=args.envs, num_steps=num_steps,
        num_minibatches=args.minibatches, update_epochs=args.epochs, seed=args.seed, device=args.device,
    )


def load_design_document(spec: str, env_id: str, env_factory: str | None = None) -> dict[str, Any]:
    """The document of a design file, or of the task's reward for ``task``; checked."""
    if spec == "task":
        return task_design_document(env_id, env_factory)
    doc = Design.loads(Path(spec).read_text()).to_json()
    return doc


def _fmt_time(seconds: float) -> str:
    if seconds != seconds or seconds == float("inf"):
        return "--:--"
    s = int(seconds)
    return f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}" if s >= 3600 else f"{s // 60:02d}:{s % 60:02d}"


class ProgressPrinter:
    """Prints messages for a person: one line rewritten in place on a TTY, plain lines otherwise."""

    def __init__(self, out: TextIO | None = None, every_s: float = 2.0) -> None:
        self.out = sys.stdout if out is None else out
        self.tty = self.out.isatty()
        self.every_s = every_s
        self._last = 0.0
        self._width = 0

    def line(self, p: Progress) -> str:
        """``[#####-----]  40,960/100,000 steps  2,715 steps/s  00:21 left  return 12.3``."""
        frac = min(1.0, p.step / max(p.total, 1))
        bar = "#" * int(frac * 20) + "-" * (20 - int(frac * 20))
        ret = "n/a" if p.mean_return != p.mean_return else f"{p.mean_return:.1f}"
        return (f"[{bar}] {p.step:,}/{p.total:,} steps  {p.sps:,.0f} steps/s  "
                f"{_fmt_time(p.eta_s)} left  return {ret}")

    def __call__(self, msg: Message) -> None:
        if isinstance(msg, Progress):
            now = time.monotonic()
            if self.tty:
                text = self.line(msg)
                self.out.write("\r" + text.ljust(self._width))
                self._width = len(text)
            elif now - self._last >= self.every_s or msg.step >= msg.total:
                self.out.write(self.line(msg) + "\n")
            else:
                return
            self._last = now
            self.out.flush()
        elif isinstance(msg, Marker | Failed | Finished):
            self._newline()
            if isinstance(msg, Marker):
                self.out.write(f"{msg.kind} at step {msg.step:,} {msg.payload or ''}\n")
            elif isinstance(msg, Failed):
                self.out.write(f"training failed: {msg.cause}\n")
            else:
                self.out.write(f"{msg.reason} at step {msg.step:,}\n")
            self.out.flush()
        elif isinstance(msg, Checkpointed):
            self.last_checkpoint = msg.path

    def _newline(self) -> None:
        if self.tty and self._width:
            self.out.write("\n")
            self._width = 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``reward-studio train``; 0 on success, 1 when training failed, 2 on bad input."""
    args = build_parser().parse_args(argv)
    try:
        doc = load_design_document(args.design, args.env, args.env_factory)
    except (OSError, DesignError, KeyError) as exc:
        print(f"reward-studio train: cannot use design {args.design!r}: {exc}", file=sys.stderr)
        return 2
    run_dir = args.run_dir or str(Path("runs") / f"{args.env}-{time.strftime('%Y%m%d-%H%M%S')}")
    spec = RunSpec(config_from_args(args), doc, args.env, run_dir, design_version="cli",
                   resume=args.resume, checkpoint_every=args.checkpoint_every, env_factory=args.env_factory)
    printer = ProgressPrinter()
    print(f"training {args.env} on {doc.get('name', 'design')!r} for {args.steps:,} steps; "
          f"checkpoints in {run_dir}", flush=True)
    return run_training(spec, printer)


if __name__ == "__main__":
    sys.exit(main())
