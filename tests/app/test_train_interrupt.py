"""``reward-studio train`` as a user runs it: Ctrl-C checkpoints and stops, --resume continues, runs list."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

from tests.test_cli import ROOT, cli


def _train_then_ctrl_c(*where: str) -> tuple[int, str, str]:
    """Start a long ``train`` (``where``: ``--workspace WS`` or ``--no-store --run-dir D``),
    press Ctrl-C once it trains, and return its exit code, stdout and stderr."""
    env = {**os.environ, "PYTHONPATH": f"{ROOT}{os.pathsep}{ROOT / 'plugins'}"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "studio.cli", "train", "task", "--env", "InvertedPendulum-v5",
         "--steps", "10000000", "--envs", "4", "--rollout", "16", "--preset", "cleanrl",
         "--minibatches", "2", "--epochs", "1", *where],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT, env=env,
        start_new_session=True)  # its own process group, as a terminal's job is
    try:
        assert proc.stdout is not None
        for line in proc.stdout:  # wait until training really runs
            if "steps/s" in line:
                break
        # Ctrl-C in a terminal reaches every process of the job, the trainer child too.
        os.killpg(proc.pid, signal.SIGINT)
        out, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    return proc.returncode, out, err


def _runs(ws: Path) -> list[dict]:
    r = cli("runs", "list", "--workspace", str(ws), "--json")
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)  # stdout is JSON only


def test_ctrl_c_checkpoints_and_stops_then_resume_continues_the_same_run(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    code, _out, err = _train_then_ctrl_c("--workspace", str(ws))
    assert code == 0, err
    assert "stopping: the run checkpoints" in err and "Traceback" not in err
    (run,) = _runs(ws)
    assert run["status"] == "stopped" and run["env"] == "InvertedPendulum-v5"
    assert run["last_checkpoint"] == f"media/runs/run-{run['id']}/checkpoint.pt"
    stopped_at = run["last_checkpoint_step"]
    assert stopped_at > 0 and run["steps_done"] >= stopped_at and run["pid"] is not None

    total = stopped_at + 4 * 16 * 3  # three more updates of 4 envs x 16 steps
    r = cli("train", "--resume", str(run["id"]), "--workspace", str(ws), "--steps", str(total))
    assert r.returncode == 0, r.stderr
    assert f"resuming run {run['id']}" in r.stdout and f"completed at step {total:,}" in r.stdout
    (again,) = _runs(ws)
    assert again["id"] == run["id"] and again["status"] == "finished"  # stored as completed
    assert again["last_checkpoint_step"] == total


def test_resume_refuses_a_run_that_cannot_continue(tmp_path: Path) -> None:
    from studio.store import RunStatus, Workspace, repo

    ws = tmp_path / "ws"
    with Workspace.open(ws) as w, w.session() as s:  # a run that ended: nothing to continue
        v = repo.save_design_version(s, "InvertedPendulum-v5", "up", {"terms": []}, "m")
        run = repo.create_run(s, v.id)
        repo.set_run_status(s, run, RunStatus.RUNNING)
        repo.set_run_status(s, run, RunStatus.COMPLETED)
    r = cli("train", "--resume", "1", "--workspace", str(ws))
    assert r.returncode == 2 and "cannot resume: run 1 is completed" in r.stderr
    r = cli("train", "task", "--env", "InvertedPendulum-v5", "--resume", "--no-store")
    assert r.returncode == 2 and "give the run's folder with --run-dir" in r.stderr
    assert "Traceback" not in r.stderr


def test_ctrl_c_without_a_workspace_checkpoints_into_the_run_dir(tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    code, out, err = _train_then_ctrl_c("--no-store", "--run-dir", str(run_dir))
    assert code == 0, err
    assert "stopped at step" in out and "Traceback" not in err
    assert (run_dir / "checkpoint.pt").is_file()
