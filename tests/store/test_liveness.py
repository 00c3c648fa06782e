"""Runs whose process is gone become ``interrupted`` on open; live ones never do; readers take no lock."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

from studio.store import RunStatus, Workspace, repo
from studio.store.coltypes import utcnow
from studio.store.liveness import STALE_AFTER_S, claim_run, this_host
from studio.store.models import Run


def _running_run(ws: Workspace, pid: int, host: str, beat_age_s: float = 0.0) -> int:
    with ws.session() as s:
        v = repo.save_design_version(s, "Hopper-v5", "hop", {"terms": []}, "m")
        run = repo.create_run(s, v.id)
        repo.set_run_status(s, run, RunStatus.RUNNING)
        claim_run(s, run, pid=pid, host=host)
        run.heartbeat_at = utcnow() - timedelta(seconds=beat_age_s)
        return run.id


def _status(folder: Path, run_id: int) -> tuple[str, str | None]:
    with Workspace.open(folder, read_only=True) as ws, ws.reading() as s:
        run = s.get(Run, run_id)
        assert run is not None
        return run.status, run.error


def test_run_of_a_dead_process_is_interrupted_naming_its_checkpoint(tmp_path: Path) -> None:
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()  # reaped: the pid names no process now
    with Workspace.open(tmp_path) as ws:
        rid = _running_run(ws, dead.pid, this_host())
        with ws.session() as s:
            repo.add_checkpoint(s, rid, 4096, "media/runs/run-1/checkpoint.pt")
    with Workspace.open(tmp_path) as ws:
        assert ws.interrupted == [rid]
    status, error = _status(tmp_path, rid)
    assert status == "interrupted"
    assert error is not None and "media/runs/run-1/checkpoint.pt" in error and "4,096" in error


def test_run_of_a_live_process_is_never_marked(tmp_path: Path) -> None:
    live = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        with Workspace.open(tmp_path) as ws:
            rid = _running_run(ws, live.pid, this_host())
        for _ in range(2):  # opened again and again while it lives
            with Workspace.open(tmp_path) as ws:
                assert ws.interrupted == []
        assert _status(tmp_path, rid) == ("running", None)
    finally:
        live.kill()
        live.wait()
    with Workspace.open(tmp_path) as ws:
        assert ws.interrupted == [rid]


def test_run_on_another_host_is_marked_only_after_its_heartbeat_goes_stale(tmp_path: Path) -> None:
    with Workspace.open(tmp_path) as ws:
        fresh = _running_run(ws, 1, "some-other-host", beat_age_s=STALE_AFTER_S / 2)
        stale = _running_run(ws, 1, "some-other-host", beat_age_s=STALE_AFTER_S * 2)
    with Workspace.open(tmp_path) as ws:
        assert ws.interrupted == [stale]
    assert _status(tmp_path, fresh)[0] == "running"
    assert "no checkpoint" in str(_status(tmp_path, stale)[1])


def test_an_interrupted_run_can_run_again_and_then_end(tmp_path: Path) -> None:
    with Workspace.open(tmp_path) as ws:
        rid = _running_run(ws, 1, "elsewhere", beat_age_s=STALE_AFTER_S * 2)
    with Workspace.open(tmp_path) as ws, ws.session() as s:
        run = repo.get_run(s, rid)
        assert run is not None and run.status == "interrupted" and run.ended_at is not None
        repo.set_run_status(s, run, RunStatus.RUNNING)  # resumed
        assert run.ended_at is None
        repo.set_run_status(s, run, RunStatus.COMPLETED)
        assert run.ended_at is not None


def test_a_reading_session_does_not_hold_the_write_lock(ws: Workspace) -> None:
    other = sqlite3.connect(ws.db_path, timeout=0, isolation_level=None)
    try:
        with ws.reading() as s:
            assert repo.list_runs(s) == []
            # A writer that would not wait a millisecond still gets in while we read.
            other.execute("BEGIN IMMEDIATE")
            other.execute("INSERT INTO settings (key, value, updated_at) VALUES ('x', '1', '2026-01-01')")
            other.execute("COMMIT")
        with ws.session() as s:
            repo.list_runs(s)  # the transaction begins at the first statement
            try:
                other.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError as exc:  # a writing session does hold it
                assert "locked" in str(exc)
            else:
                raise AssertionError("a writing session let another writer in")
    finally:
        other.close()
