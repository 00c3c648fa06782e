"""The command line as a user runs it: a real subprocess of the installed entry point."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def cli(*args: str, cwd: Path | None = None, timeout: float = 240) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": f"{ROOT}{os.pathsep}{ROOT / 'plugins'}"}
    return subprocess.run([sys.executable, "-m", "studio.cli", *args], capture_output=True, text=True,
                          cwd=cwd or ROOT, env=env, timeout=timeout)


@pytest.mark.parametrize("args", [[], ["design"], ["eval"], ["bench"]])
def test_help(args: list[str]) -> None:
    r = cli(*args, "--help")
    assert r.returncode == 0, r.stderr
    assert "usage: reward-studio" in r.stdout


@pytest.mark.parametrize("sub", ["train", "export", "distance"])
def test_delegated_help(sub: str) -> None:
    r = cli(sub, "--help")
    assert r.returncode == 0, r.stderr
    assert "usage:" in r.stdout


def test_from_task_validate_and_eval(tmp_path: Path) -> None:
    out = tmp_path / "hopper.json"
    r = cli("design", "from-task", "Hopper-v5", "-o", str(out))
    assert r.returncode == 0, r.stderr
    doc = json.loads(out.read_text())
    assert doc["task"] == "Hopper-v5" and doc["format"] == "reward-studio/design"
    r = cli("design", "validate", str(out))
    assert r.returncode == 0 and "valid" in r.stdout, r.stderr
    r = cli("eval", str(out), "--env", "Hopper-v5", "--steps", "600", "--envs", "2")
    assert r.returncode == 0, r.stderr
    names = [t["name"] for t in _terms(doc["root"])]
    for name in names:
        assert name in r.stdout
    assert "episode task_score" in r.stdout


def _terms(node: dict) -> list[dict]:  # type: ignore[type-arg]
    if node["type"] == "term":
        return [node]
    return [t for c in node["children"] for t in _terms(c)]


def test_validate_reports_the_path_and_exits_nonzero(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({
        "name": "bad", "task": "HalfCheetah-v5",
        "root": {"type": "group", "name": "reward", "children": [
            {"type": "term", "name": "speed", "source": "x_velocityy", "shape": "exp_kernel", "params": {"temperature": 0}},
        ]},
    }))
    r = cli("design", "validate", str(bad))
    assert r.returncode == 1
    assert "root.children[0].source" in r.stderr and "did you mean 'x_velocity'" in r.stderr
    assert "root.children[0].params.temperature" in r.stderr


def test_malformed_file_is_one_clear_line(tmp_path: Path) -> None:
    bad = tmp_path / "broken.json"
    bad.write_text("{ not json")
    r = cli("eval", str(bad), "--env", "HalfCheetah-v5", "--steps", "10")
    assert r.returncode == 2
    assert "broken.json" in r.stderr and "not valid JSON at line 1" in r.stderr
    assert "Traceback" not in r.stderr
    r = cli("eval", str(tmp_path / "missing.json"), "--env", "HalfCheetah-v5")
    assert r.returncode == 2 and "no such design file" in r.stderr


def test_train_stores_the_run_in_the_workspace(tmp_path: Path) -> None:
    ws_dir = tmp_path / "ws"
    r = cli("train", "task", "--env", "InvertedPendulum-v5", "--steps", "2048", "--envs", "4",
            "--workspace", str(ws_dir))
    assert r.returncode == 0, r.stderr
    assert "completed at step 2,048" in r.stdout
    from studio.store import Workspace, repo

    with Workspace.open(ws_dir) as ws, ws.session() as s:
        (run,) = repo.list_runs(s)
        assert run.status == "completed"
        keys = repo.metric_keys(s, run.id)
        assert "charts/SPS" in keys and any(k.startswith("Episode_Reward/") for k in keys)
        steps, values = repo.metric_series(s, run.id, "charts/SPS")
        assert len(steps) >= 1 and all(v > 0 for v in values)
        assert repo.latest_checkpoint(s, run.id) is not None
