"""Two processes on one workspace: while the app holds it, others refuse clearly or only read.

A real app (offscreen Qt) opens the workspace and keeps it. Meanwhile, all at once: a
second app opens it read-only with a banner naming the app's process (its screenshot
mode prints the banner's text); ``rank`` and ``train`` (writers) refuse with the one-line
message that names the app's process, no traceback; ``runs list`` and ``rollout list``
(readers) work, opening the workspace read-only. Afterwards the database holds exactly
what it held before, and passes its integrity check.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from studio.app.ranking import RankingService
from studio.store import Workspace
from tests.crash.procs import committed, integrity, kill, spawn, wait_for_lock

pytestmark = pytest.mark.slow


def test_while_the_app_holds_a_workspace_a_second_app_reads_writers_refuse_readers_read(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    with Workspace.open(ws) as w:  # two rollouts to rank and list
        service = RankingService(w)
        ids = [service.record("InvertedPendulum-v5", "zero", steps=3, video=False, seed=k).id
               for k in range(2)]
    before = committed(ws / "studio.db")

    app = spawn("--workspace", str(ws))
    try:
        wait_for_lock(ws, app)
        others = {
            "second app": spawn("--workspace", str(ws), "--screenshot", str(tmp_path / "x.png")),
            "rank": spawn("rank", "--workspace", str(ws), str(ids[0]), str(ids[1])),
            "train": spawn("train", "task", "--env", "InvertedPendulum-v5", "--steps", "64",
                           "--workspace", str(ws)),
            "runs list": spawn("runs", "list", "--workspace", str(ws), "--json"),
            "rollout list": spawn("rollout", "list", "--workspace", str(ws), "--json"),
        }
        codes = {name: p.finish() for name, p in others.items()}
        assert app.proc.poll() is None, app.text  # the app kept running throughout
    finally:
        kill(app, "app holding the workspace (two at once)")

    held = f"already open in process {app.proc.pid}"
    for name in ("rank", "train"):
        text = others[name].text
        assert codes[name] == 2, f"{name}: {text}"
        assert held in text and "Traceback" not in text, f"{name}: {text}"
    # The second app opens the workspace read-only, with a banner saying why.
    second = others["second app"].text
    assert codes["second app"] == 0, second
    assert f"Read-only: {ws} is open in process {app.proc.pid}" in second, second
    assert "Traceback" not in second and (tmp_path / "x.png").stat().st_size > 0
    assert json.loads(others["runs list"].text) == [], others["runs list"].text
    listed = json.loads(others["rollout list"].text)
    assert codes["rollout list"] == 0 and [r["id"] for r in listed] == ids
    assert committed(ws / "studio.db") == before  # nobody wrote
    assert integrity(ws / "studio.db") == ["ok"]

