"""``reward-studio train DESIGN --env ENV --steps N``: train a policy on a design, headless.

DESIGN is a design JSON file, or the word ``task`` for the task's own reward. Progress is one
line updated in place on a terminal (plain lines otherwise); checkpoints go to ``--run-dir``
(``--resume`` continues from there). Persisting the run into a workspace is the app's job.
"""

from __future__ import annotations

import argparse
import signal
import sys
import time
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from types import FrameType
from typing import Any, TextIO

from studio.core.design import Design, DesignError
from studio.train.envs import task_design_document
from studio.train.loop import RunSpec, checkpoint_path, run_training
from studio.train.messages import (
    Checkpointed,
    Command,
    Failed,
    Finished,
    Marker,
    Message,
    Progress,
    Stop,
)
from studio.train.ppo import PPOConfig
from studio.train.presets import apply_preset, default_preset
from studio.train.sac import SACConfig


def build_parser() -> argparse.ArgumentParser:
    """Arguments of ``reward-studio train``."""
    p = argparse.ArgumentParser(prog="reward-studio train", description=__doc__.split("\n")[0])
    p.add_argument("design", help="design JSON file, or 'task' for the task's own reward")
    p.add_argument("--env", required=True, help="task id, e.g. HalfCheetah-v5")
    p.add_argument("--steps", type=int, default=1_000_000, help="environment steps in all (default: %(default)s)")
    p.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda"), help="default: %(default)s")
    p.add_argument("--algo", default="ppo", choices=("ppo", "sac"), help="learner (default: %(default)s)")
    p.add_argument("--preset", default=None,
                   help="settings for the task: zoo (RL Zoo's tuned PPO; the default on a CPU), zoo-gpu "
                   "(the default on CUDA), cleanrl (the studio's earlier default); with --algo sac: zoo. "
                   "--envs/--rollout/--minibatches/--epochs override the preset's values")
    p.add_argument("--envs", type=int, default=None, help="parallel environments (default: the preset's)")
    p.add_argument("--rollout", type=int, default=None,
                   help="PPO steps per env per update (default: the preset's; cleanrl: 2048 / envs, at least 8); "
                   "training stops at the first multiple of envs x rollout >= --steps")
    p.add_argument("--minibatches", type=int, default=None, help="PPO minibatches (default: the preset's)")
    p.add_argument("--epochs", type=int, default=None, help="PPO epochs (default: the preset's)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--run-dir", default=None, help="checkpoint folder (default: runs/ENV-TIME)")
    p.add_argument("--resume", action="store_true",
                   help="continue from the checkpoint in --run-dir (a run stored in a workspace: "
                   "--resume RUN_ID)")
    p.add_argument("--checkpoint-every", type=int, default=10, help="updates between checkpoints")
    p.add_argument("--env-factory", default=None, help=argparse.SUPPRESS)  # tests: module:callable
    return p


def resolved_device(name: str) -> str:
    """``auto`` -> ``cuda`` when torch sees one, else ``cpu``."""
    if name != "auto":
        return name
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def config_from_args(args: argparse.Namespace) -> PPOConfig | SACConfig:
    """The learner config the arguments ask for: the preset, then the explicit options.

    Raises KeyError naming the choices when the preset does not exist for the task.
    """
    algo = getattr(args, "algo", "ppo")
    preset = getattr(args, "preset", None) or default_preset(args.env, resolved_device(args.device), algo)
    if algo == "sac":
        sac = apply_preset(SACConfig(total_timesteps=args.steps, seed=args.seed, device=args.device),
                           args.env, preset, "sac")
        return replace(sac, num_envs=args.envs or sac.num_envs)
    config = apply_preset(PPOConfig(total_timesteps=args.steps, seed=args.seed, device=args.device), args.env, preset)
    envs = args.envs or config.num_envs
    if args.rollout:
        num_steps = args.rollout
    elif preset == "cleanrl" or args.envs:
        # The preset's rollout in all (cleanrl: 2048) over the envs asked for, or the whole run when shorter.
        num_steps = max(8, min(config.batch_size, args.steps) // envs)
    else:
        num_steps = config.num_steps
    return replace(config, num_envs=envs, num_steps=num_steps,
                   num_minibatches=args.minibatches or config.num_minibatches,
                   update_epochs=args.epochs or config.update_epochs)


def describe_config(config: PPOConfig | SACConfig) -> str:
    """The settings a person checks first, in one phrase."""
    if isinstance(config, SACConfig):
        return (f"{config.num_envs} envs, batch {config.batch_size}, lr {config.learning_rate:g}, "
                f"learning starts {config.learning_starts:,}")
    return (f"{config.num_envs} envs x {config.num_steps} steps, {config.update_epochs} epochs of "
            f"{config.minibatch_size}, lr {config.learning_rate:g}{' annealed' if config.anneal_lr else ''}, "
            f"{config.activation} {'x'.join(map(str, config.hidden))}")


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
                self.out.write(describe_marker(msg) + "\n")
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


def describe_marker(m: Marker) -> str:
    """One line for a marker: plain words for the ones a terminal user meets, else its payload."""
    p = m.payload if isinstance(m.payload, dict) else {}
    if m.kind == "restored":
        return f"resumed at step {m.step:,} from {p.get('path', 'the checkpoint')}"
    if m.kind == "replay" and p.get("restored"):
        return (f"replay buffer restored: {int(p['restored']):,} transitions, re-labelled in "
                f"{float(p.get('relabel_s', 0.0)):.2f} s")
    if m.kind == "replay":
        return f"replay buffer not restored ({p.get('reason', 'empty')}); the run refills it by acting"
    return f"{m.kind} at step {m.step:,} {m.payload or ''}"


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``reward-studio train``; 0 on success, 1 when training failed, 2 on bad input."""
    args = build_parser().parse_args(argv)
    try:
        doc = load_design_document(args.design, args.env, args.env_factory)
    except (OSError, DesignError, KeyError) as exc:
        print(f"reward-studio train: cannot use design {args.design!r}: {exc}", file=sys.stderr)
        return 2
    if args.resume and (args.run_dir is None or not checkpoint_path(args.run_dir).is_file()):
        where = "give the run's folder with --run-dir" if args.run_dir is None else (
            f"there is no checkpoint at {checkpoint_path(args.run_dir)}")
        print(f"reward-studio train: cannot resume: {where} (a run stored in a workspace "
              "resumes with --resume RUN_ID)", file=sys.stderr)
        return 2
    try:
        config = config_from_args(args)
    except (KeyError, ValueError) as exc:
        print(f"reward-studio train: --preset: {exc.args[0] if exc.args else exc}", file=sys.stderr)
        return 2
    run_dir = args.run_dir or str(Path("runs") / f"{args.env}-{time.strftime('%Y%m%d-%H%M%S')}")
    spec = RunSpec(config, doc, args.env, run_dir, design_version="cli",
                   resume=args.resume, checkpoint_every=args.checkpoint_every, env_factory=args.env_factory)
    printer = ProgressPrinter()
    print(f"training {args.env} on {doc.get('name', 'design')!r} for {args.steps:,} steps with "
          f"{args.algo.upper()} ({describe_config(config)}); "
          f"checkpoints in {run_dir}", flush=True)
    # Ctrl-C: checkpoint and stop at the next update; a second Ctrl-C ends at once.
    presses = [0]

    def on_sigint(signum: int, frame: FrameType | None) -> None:
        presses[0] += 1
        if presses[0] > 1:
            raise KeyboardInterrupt
        print("\nstopping: checkpointing at the next update (Ctrl-C again to end now)…",
              file=sys.stderr, flush=True)

    def next_command(block: bool) -> Command | None:
        return Stop() if presses[0] else None

    previous = signal.signal(signal.SIGINT, on_sigint)
    try:
        return run_training(spec, printer, next_command)
    except KeyboardInterrupt:
        print(f"ended at once; the last checkpoint in {run_dir} is kept", file=sys.stderr)
        return 130
    finally:
        signal.signal(signal.SIGINT, previous)


if __name__ == "__main__":
    sys.exit(main())
