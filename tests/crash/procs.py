"""Real ``reward-studio`` processes to kill, and what a workspace had committed before a kill.

:func:`spawn` starts a command in its own process group (the trainer child goes with it),
:class:`Lines` collects its output in a thread so that a test can wait for a line without
blocking, and :func:`kill` sends SIGKILL to the whole group and counts it in :data:`KILLS`.

:func:`committed` reads a workspace database straight through SQLite (read-only, so it may
run while a writer holds the workspace) into sets of rows; a kill must lose none of them.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parents[2]

KILLS: list[str] = []
"""One entry per SIGKILL sent, ``phase: when`` (reported at the end of the session)."""


def env() -> dict[str, str]:
    """The environment of a child: the checkout importable, headless Qt and MuJoCo, one thread."""
    return {**os.environ, "PYTHONPATH": f"{ROOT}{os.pathsep}{ROOT / 'plugins'}",
            "QT_QPA_PLATFORM": "offscreen", "MUJOCO_GL": os.environ.get("MUJOCO_GL", "osmesa"),
            "OMP_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1"}


@dataclass
class Lines:
    """A started process and the lines it has printed so far (stdout and stderr merged)."""

    proc: subprocess.Popen[str]
    lines: list[str] = field(default_factory=list)
    started: float = field(default_factory=time.monotonic)

    def __post_init__(self) -> None:
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.append(line)

    @property
    def text(self) -> str:
        return "".join(self.lines)

    def wait_for(self, needle: str, count: int = 1, timeout: float = 120.0) -> bool:
        """Wait until ``needle`` appeared in ``count`` lines; False if the process ended first."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if sum(needle in line for line in list(self.lines)) >= count:
                return True
            if self.proc.poll() is not None:
                time.sleep(0.2)  # let the reader take the last lines
                return sum(needle in line for line in list(self.lines)) >= count
            time.sleep(0.05)
        raise AssertionError(f"no {needle!r} within {timeout} s; output so far:\n{self.text}")

    def finish(self, timeout: float = 180.0) -> int:
        """Wait for the process to end; its exit status."""
        code = self.proc.wait(timeout=timeout)
        time.sleep(0.1)
        return code


def spawn(*args: str, module: str = "studio.cli") -> Lines:
    """Start ``python -m module args`` in its own process group, in the checkout."""
    proc = subprocess.Popen([sys.executable, "-m", module, *args], cwd=ROOT, env=env(),
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            start_new_session=True)
    return Lines(proc)


def spawn_python(code: str, *args: str) -> Lines:
    """Start ``python -c code args`` in its own process group."""
    proc = subprocess.Popen([sys.executable, "-c", code, *args], cwd=ROOT, env=env(),
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            start_new_session=True)
    return Lines(proc)


def kill(p: Lines, phase: str) -> str:
    """SIGKILL the process group of ``p`` now; returns (and counts) what was killed when.

    The record names the last line the process printed, to show where the kill landed.
    """
    alive = p.proc.poll() is None
    with contextlib.suppress(ProcessLookupError):  # it may have ended by itself
        os.killpg(p.proc.pid, signal.SIGKILL)
    p.proc.wait(timeout=30)
    last = next((line.strip() for line in reversed(p.lines) if line.strip()), "")
    when = f"{phase}: {time.monotonic() - p.started:.2f} s after start" + (
        "" if alive else " (it had already ended)") + (f", after {last[:60]!r}" if last else "")
    KILLS.append(when)
    return when


def wait_for_lock(ws: Path, p: Lines, timeout: float = 120.0) -> None:
    """Wait until process ``p`` holds the workspace's lock (its pid is in the lock file)."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        lock = ws / ".lock"
        if lock.is_file() and lock.read_text().split("\n")[0] == str(p.proc.pid):
            return
        assert p.proc.poll() is None, f"it ended without opening {ws}:\n{p.text}"
        time.sleep(0.1)
    raise AssertionError(f"process {p.proc.pid} did not open {ws}:\n{p.text}")


# --- what a database holds -------------------------------------------------------------------

Row = dict[str, object]
Snapshot = dict[str, dict[tuple[object, ...], Row]]
"""Kind -> key -> the row's columns (those the schema of the moment has)."""

_WANTED = {
    "design_versions": (("id",), ("design_id", "number", "content_hash")),
    "rankings": (("id",), ("ranked_by", "comment")),
    "ranking_entries": (("ranking_id", "position"), ("rollout_id",)),
    "rollouts": (("id",), ("trace_path", "video_path", "length")),
    "checkpoints": (("id",), ("run_id", "step", "path")),
    "runs": (("id",), ("design_version_id",)),
}


def connect_ro(db: Path) -> sqlite3.Connection:
    """A read-only SQLite connection (it changes nothing, waits for no writer)."""
    return sqlite3.connect(f"file:{quote(str(db))}?mode=ro", uri=True, timeout=10)


def committed(db: Path) -> Snapshot:
    """The rows a kill must not lose, read in one transaction."""
    out: Snapshot = {k: {} for k in _WANTED}
    if not db.exists():
        return out
    conn = connect_ro(db)
    try:
        conn.execute("BEGIN")
        for table, (key, wanted) in _WANTED.items():
            have = {r[1] for r in conn.execute(f"PRAGMA table_info({table})")}
            cols = [c for c in (*key, *wanted) if c in have]
            if not set(key) <= have:
                continue
            for values in conn.execute(f"SELECT {', '.join(cols)} FROM {table}"):
                row = dict(zip(cols, values, strict=True))
                out[table][tuple(row[k] for k in key)] = row
        conn.execute("COMMIT")
        return out
    finally:
        conn.close()


def lost(before: Snapshot, after: Snapshot) -> dict[str, list[object]]:
    """The rows of ``before`` that ``after`` lacks or holds changed (on ``before``'s columns)."""
    out: dict[str, list[object]] = {}
    for kind, rows in before.items():
        gone = [key for key, row in rows.items()
                if {c: after[kind].get(key, {}).get(c, object()) for c in row} != row]
        if gone:
            out[kind] = gone
    return out


def integrity(db: Path) -> list[str]:
    """``PRAGMA integrity_check`` and ``foreign_key_check`` of ``db``: ``["ok"]`` when healthy."""
    conn = sqlite3.connect(db)
    try:
        rows = [str(r[0]) for r in conn.execute("PRAGMA integrity_check")]
        rows += [f"foreign key: {r}" for r in conn.execute("PRAGMA foreign_key_check")]
        return rows
    finally:
        conn.close()


def run_statuses(db: Path) -> dict[int, str]:
    """Run id -> status."""
    conn = connect_ro(db)
    try:
        return {int(i): str(s) for i, s in conn.execute("SELECT id, status FROM runs")}
    finally:
        conn.close()
