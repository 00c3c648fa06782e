"""Opening a workspace in the app tells the user which runs were interrupted and how to continue."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from studio.app.workspace_service import WorkspaceService
from studio.store import RunStatus, Workspace, repo
from studio.store.liveness import claim_run, this_host


def test_a_run_whose_process_died_is_named_with_the_resume_command(tmp_path: Path) -> None:
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    with Workspace.open(tmp_path) as ws, ws.session() as s:
        v = repo.save_design_version(s, "Hopper-v5", "hop", {"terms": []}, "m")
        run = repo.create_run(s, v.id)
        repo.set_run_status(s, run, RunStatus.RUNNING)
        claim_run(s, run, pid=dead.pid, host=this_host())
        rid = run.id
    service = WorkspaceService.open(tmp_path)
    try:
        (notice,) = service.interrupted_notices()
        assert f"run {rid} was interrupted" in notice and f"--resume {rid}" in notice
    finally:
        service.close()
    again = WorkspaceService.open(tmp_path)  # marked once: the next open has nothing to say
    try:
        assert again.interrupted_notices() == []
    finally:
        again.close()
