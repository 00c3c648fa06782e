"""SIGKILL at random points of real processes; after each kill the workspace keeps what it had.

Each kill is drawn from a seeded generator (``STUDIO_CRASH_SEED``, default 15): a delay
after a point the process reached (its start, a line it printed). What the workspace had
committed is read straight from SQLite just before the kill; afterwards the workspace is
opened again (as the next user would: recovery, migration, marking dead runs) and checked:
every committed design version, run, checkpoint, rollout and ranking is still there, the
files they name exist and load, ``PRAGMA integrity_check`` is ok, and no run is left
``running`` by a dead process. The trainer's run, killed mid-training, is ``interrupted``
and resumes to its end with ``reward-studio train --resume``.

The phases share one workspace, so later kills also check the rows earlier phases left.
The number of kills is printed at the end of the session (``KILLS``).
"""

from __future__ import annotations

import json
import os
import random
import shutil
import sqlite3
import time
from pathlib import Path

import pytest
import torch

from studio.app.ranking import RankingService
from studio.store import Workspace
from tests.crash.procs import (
    KILLS,
    Lines,
    Snapshot,
    committed,
    integrity,
    kill,
    lost,
    run_statuses,
    spawn,
    spawn_python,
    wait_for_lock,
)

pytestmark = pytest.mark.slow

SEED = int(os.environ.get("STUDIO_CRASH_SEED", "15"))
FIXTURES = Path(__file__).resolve().parents[1] / "store" / "fixtures"
TRAIN = ("--env", "InvertedPendulum-v5", "--envs", "4", "--rollout", "16", "--preset", "cleanrl",
         "--minibatches", "2", "--epochs", "1", "--checkpoint-every", "1")
LIVE = {"queued", "running", "paused"}


def _reopen_and_check(ws: Path, before: Snapshot, phase: str, files: bool = True) -> Snapshot:
    """Open the workspace again after a kill and check it lost nothing of ``before``."""
    db = ws / "studio.db"
    with Workspace.open(ws):  # what the next user does: recovery, migration, dead runs marked
        pass
    assert integrity(db) == ["ok"], phase
    after = committed(db)
    assert not lost(before, after), f"{phase}: committed rows lost: {lost(before, after)}"
    statuses = run_statuses(db)
    assert not {i for i, s in statuses.items() if s in LIVE}, f"{phase}: a dead run is live: {statuses}"
    if files:
        _check_files(ws, after, phase)
    return after


def _check_files(ws: Path, rows: Snapshot, phase: str) -> None:
    """Every stored rollout's trace and video, and each run's last checkpoint, load."""
    from studio.app.rollouts import RolloutTrace
    from studio.sim.video import read_video_frames

    for r in rows["rollouts"].values():
        assert RolloutTrace.load(ws / str(r["trace_path"])).length == r["length"], phase
        if r["video_path"] is not None:
            assert len(read_video_frames(ws / str(r["video_path"]), max_frames=2)) >= 1, phase
    last: dict[int, tuple[int, str]] = {}
    for r in rows["checkpoints"].values():
        run_id, step = int(r["run_id"]), int(r["step"])  # type: ignore[call-overload]
        if step >= last.get(run_id, (-1, ""))[0]:
            last[run_id] = (step, str(r["path"]))
    for run_id, (step, path) in last.items():
        state = torch.load(ws / path, map_location="cpu", weights_only=True)
        # The file is rewritten in place by later checkpoints, never older than its row.
        assert state["global_step"] >= step, f"{phase}: run {run_id} checkpoint older than its row"


def _design_file(folder: Path, name: str) -> Path:
    from studio.app.designs import load_design

    design = load_design("task", "InvertedPendulum-v5")
    doc = design.to_json()
    doc["name"] = name
    path = folder / f"{name}.json"
    path.write_text(json.dumps(doc))
    return path


def _wait_for_row(db: Path, sql: str, timeout: float = 120.0) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10)
            try:
                if conn.execute(sql).fetchone() is not None:
                    return
            finally:
                conn.close()
        except sqlite3.OperationalError:
            pass
        time.sleep(0.1)
    raise AssertionError(f"no row for {sql!r} within {timeout} s")


_OPEN = """
import sys, time
from studio.store import Workspace
print("ready", flush=True)
t0 = time.perf_counter()
ws = Workspace.open(sys.argv[1])
print(f"opened in {time.perf_counter() - t0:.3f} s", flush=True)
time.sleep(60)
"""


def test_a_migration_killed_at_random_points_loses_nothing(tmp_path: Path) -> None:
    """v1 and v2 fixture workspaces upgraded side by side, each killed three times, each
    time from the old file again, then opened again to finish the upgrade."""
    rng = random.Random(f"{SEED}-migration")
    fixtures = ("v1.db", "v2.db")
    folders = {f: tmp_path / f.removesuffix(".db") for f in fixtures}
    before = {}
    for fixture, ws in folders.items():
        ws.mkdir()
        shutil.copy(FIXTURES / fixture, ws / "studio.db")
        before[fixture] = committed(ws / "studio.db")
        assert before[fixture]["design_versions"] and before[fixture]["rankings"]  # rows to lose
    # The window to kill in is how long an upgrade takes here, learnt from the runs that
    # finished it; the first guess suits a loaded 2-core machine.
    window = dict.fromkeys(fixtures, 0.8)
    for _ in range(3):
        procs = {f: spawn_python(_OPEN, str(ws)) for f, ws in folders.items()}
        deadlines = {}
        for fixture, p in procs.items():
            p.wait_for("ready")
            deadlines[fixture] = time.monotonic() + rng.uniform(0.0, window[fixture])
        for fixture in sorted(deadlines, key=deadlines.__getitem__):
            p = procs[fixture]
            time.sleep(max(0.0, deadlines[fixture] - time.monotonic()))
            when = kill(p, f"migration of {fixture}")
            backup = any(folders[fixture].glob("studio.db.before-*.bak"))
            KILLS[-1] = (f"{when}, schema then {_revision(folders[fixture] / 'studio.db')}"
                         f"{', backup taken' if backup else ''}")
            done = [line for line in p.lines if line.startswith("opened in")]
            if done:
                window[fixture] = float(done[-1].split()[2])
        for fixture, ws in folders.items():
            # The file is a healthy database at its old schema or the new one, never between.
            assert integrity(ws / "studio.db") == ["ok"]
            assert _revision(ws / "studio.db") in {"0001", "0002", "0005"}
            for bak in ws.glob("studio.db.before-*.bak"):
                assert integrity(bak) == ["ok"]
                assert committed(bak) == before[fixture]  # the backup is the whole old file
            # Opening again finishes the upgrade; the fixture's media files are not part of
            # it, so its rows are checked, not its files.
            _reopen_and_check(ws, before[fixture], f"migration of {fixture}", files=False)
            assert _revision(ws / "studio.db") == "0005"
            shutil.rmtree(ws)  # the next kill gets the old workspace again
            ws.mkdir()
            shutil.copy(FIXTURES / fixture, ws / "studio.db")


def _revision(db: Path) -> str:
    conn = sqlite3.connect(db)
    try:
        return str(conn.execute("SELECT version_num FROM alembic_version").fetchone()[0])
    finally:
        conn.close()


def test_trainer_cli_and_app_killed_at_random_points_lose_nothing(tmp_path: Path) -> None:
    rng = random.Random(SEED)
    ws = tmp_path / "ws"
    db = ws / "studio.db"
    designs = tmp_path / "designs"
    designs.mkdir()
    seen = committed(db)

    # 1. `train` on a new design, killed anywhere from its start to its first updates:
    #    while importing, saving the design version, creating the run, or training.
    p = spawn("train", str(_design_file(designs, "kill_early")), *TRAIN, "--steps", "100000",
              "--workspace", str(ws))
    time.sleep(rng.uniform(2.0, 8.0))
    seen = committed(db) if db.exists() else seen
    kill(p, "train (design save, start)")
    KILLS[-1] += f", design versions then {len(committed(db)['design_versions'])}"
    seen = _reopen_and_check(ws, seen, "train killed early")

    # 2. `train` killed mid-training, after its first checkpoint: interrupted, then resumed.
    p = spawn("train", str(_design_file(designs, "kill_mid")), *TRAIN, "--steps", "100000",
              "--workspace", str(ws))
    _wait_for_row(db, "SELECT 1 FROM checkpoints c JOIN runs r ON r.id = c.run_id "
                      "WHERE r.status = 'running'")
    time.sleep(rng.uniform(0.0, 1.5))
    seen = committed(db)
    kill(p, "train (training)")
    seen = _reopen_and_check(ws, seen, "train killed mid-training")
    runs = json.loads(_ok(spawn("runs", "list", "--workspace", str(ws), "--json")))
    killed = max(runs, key=lambda r: r["id"])
    assert killed["status"] == "interrupted" and killed["last_checkpoint_step"] > 0
    assert "ended without stopping it" in killed["error"]
    # The kill may land after the trainer wrote a newer checkpoint file but before the CLI
    # committed its row: resuming continues from the file, never from anything older.
    on_disk = torch.load(ws / killed["last_checkpoint"], map_location="cpu", weights_only=True)
    assert on_disk["global_step"] >= killed["last_checkpoint_step"]
    total = on_disk["global_step"] + 4 * 16 * 2
    out = _ok(spawn("train", "--resume", str(killed["id"]), "--workspace", str(ws),
                    "--steps", str(total)))
    assert f"resuming run {killed['id']}" in out and f"completed at step {total:,}" in out
    assert run_statuses(db)[killed["id"]] == "completed"
    seen = committed(db)

    # 3. `rollout record` killed between and inside episodes (trace, video, row).
    p = spawn("rollout", "record", "--workspace", str(ws), "--env", "InvertedPendulum-v5",
              "--policy", "random", "--episodes", "6", "--steps", "15", "--size", "32x32")
    p.wait_for("RESULT rollout_id=", count=2)
    time.sleep(rng.uniform(0.0, 2.0))
    seen = committed(db)
    kill(p, "rollout record")
    seen = _reopen_and_check(ws, seen, "rollout record killed")
    ids = sorted(int(k[0]) for k in seen["rollouts"])  # type: ignore[call-overload]
    assert len(ids) >= 2

    # 4. `rank` killed at a random point of its life; then a ranking saved here.
    p = spawn("rank", "--workspace", str(ws), str(ids[0]), str(ids[1]), "--comment", "killed")
    time.sleep(rng.uniform(2.5, 6.0))  # it imports for ~2 s, then saves and exits
    seen = committed(db)
    kill(p, "rank")
    KILLS[-1] += f", rankings then {len(committed(db)['rankings'])}"
    seen = _reopen_and_check(ws, seen, "rank killed")
    with Workspace.open(ws) as w:  # a ranking the app's kill below must keep
        RankingService(w).save_ranking([[ids[1], ids[0]]], comment="kept")
    seen = committed(db)
    assert any(r["comment"] == "kept" for r in seen["rankings"].values())

    # 5. The app, holding the workspace, killed at a random point after it opened it.
    app = spawn("--workspace", str(ws))
    wait_for_lock(ws, app)
    time.sleep(rng.uniform(0.0, 3.0))
    seen = committed(db)
    kill(app, "app")
    _reopen_and_check(ws, seen, "app killed")


def _ok(p: Lines) -> str:
    code = p.finish()
    assert code == 0, p.text
    return p.text

