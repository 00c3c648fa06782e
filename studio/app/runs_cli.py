"""``reward-studio runs list --workspace WS [--json]``: the workspace's training runs.

Per run: its id, design version, task, status (``queued``, ``running``, ``paused``,
``stopped``, ``interrupted``, ``finished``, ``failed``), the environment steps done, the
last checkpoint and where it ran (host, process id, device). The workspace is opened
read-only: listing takes no lock and changes nothing, so it is safe while a run trains;
``alive`` says whether the process of a live-status run still exists on this host.
With ``--json`` stdout holds only the JSON list.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

__all__ = ["SHOWN_STATUS", "RunSummary", "main", "run_summaries"]

SHOWN_STATUS = {"completed": "finished"}
"""Stored statuses shown under another name: a run that trained to the end has *finished*."""


@dataclass(frozen=True)
class RunSummary:
    """One row of ``runs list``."""

    id: int
    design: str
    design_version_id: int
    env: str
    status: str
    steps_done: int
    last_checkpoint: str | None
    last_checkpoint_step: int | None
    host: str | None
    pid: int | None
    device: str | None
    alive: bool | None
    """For a live-status run on this host: whether its process exists; else None."""
    error: str | None


def run_summaries(ws: Any) -> list[RunSummary]:
    """Summaries of every run of an open workspace, oldest first (one reading transaction)."""
    from studio.store import repo
    from studio.store.liveness import LIVE, pid_alive, this_host
    from studio.store.models import MetricPoint

    rows: list[RunSummary] = []
    with ws.reading() as s:
        steps = dict(s.execute(select(MetricPoint.run_id, func.max(MetricPoint.step))
                               .group_by(MetricPoint.run_id)).tuples().all())
        for run in repo.list_runs(s):
            ckpt = repo.latest_checkpoint(s, run.id)
            version = run.design_version
            alive = (pid_alive(run.pid) if run.status in LIVE and run.pid is not None
                     and run.host == this_host() else None)
            done = max(int(steps.get(run.id) or 0), ckpt.step if ckpt is not None else 0)
            rows.append(RunSummary(
                id=run.id, design=f"{version.design.name} v{version.number}",
                design_version_id=version.id, env=run.task.env_id,
                status=SHOWN_STATUS.get(run.status, run.status),
                steps_done=done, last_checkpoint=ckpt.path if ckpt is not None else None,
                last_checkpoint_step=ckpt.step if ckpt is not None else None,
                host=run.host, pid=run.pid, device=run.device, alive=alive, error=run.error))
    return rows


def _table(rows: list[RunSummary]) -> str:
    head = ("id", "design", "env", "status", "steps", "last checkpoint", "where")
    body = [(str(r.id), r.design, r.env,
             r.status + (" (process gone)" if r.alive is False else ""),
             f"{r.steps_done:,}",
             f"{r.last_checkpoint} @ {r.last_checkpoint_step:,}" if r.last_checkpoint else "-",
             f"{r.host or '?'} pid {r.pid or '?'} {r.device or ''}".strip())
            for r in rows]
    widths = [max(len(c) for c in col) for col in zip(head, *body, strict=False)]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)).rstrip()
                     for line in [head, *body])


def main(argv: Sequence[str] | None = None) -> int:
    """``runs list``; 0 on success, 2 when the workspace cannot be read."""
    p = argparse.ArgumentParser(prog="reward-studio runs", description="The workspace's training runs.")
    sub = p.add_subparsers(dest="command", required=True)
    lst = sub.add_parser("list", help="list the runs with status, steps and last checkpoint")
    lst.add_argument("--workspace", default="workspaces/default", help="default: %(default)s")
    lst.add_argument("--json", action="store_true", help="print JSON only")
    args = p.parse_args(list(sys.argv[1:] if argv is None else argv))

    from studio.store import Workspace, WorkspaceError

    try:
        with Workspace.open(Path(args.workspace), read_only=True) as ws:
            rows = run_summaries(ws)
    except WorkspaceError as exc:
        print(f"reward-studio runs: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps([asdict(r) for r in rows], indent=1))
    elif rows:
        print(_table(rows))
    else:
        print(f"no runs in {args.workspace}: start one with `reward-studio train`")
    return 0
