"""``reward-studio export`` from a file and from a workspace design version."""

from __future__ import annotations

from pathlib import Path

import pytest

from studio.export.cli import main
from tests.export.designs import every_shape_design


def test_export_every_format_from_file(tmp_path: Path) -> None:
    src = tmp_path / "d.json"
    src.write_text(every_shape_design().dumps())
    for fmt in ("python", "torch", "gymnasium", "json"):
        out = tmp_path / f"out_{fmt}"
        assert main([str(src), "--format", fmt, "-o", str(out)]) == 0
        text = out.read_text()
        assert text.strip()
        if fmt != "json":
            compile(text, str(out), "exec")


def test_export_from_workspace_version(tmp_path: Path) -> None:
    from studio.store import Workspace, repo

    ws_dir = tmp_path / "ws"
    d1 = every_shape_design()
    d2 = every_shape_design()
    d2.root.weight = 0.5
    with Workspace.open(ws_dir) as ws, ws.session() as s:
        repo.save_design_version(s, d1.task, "fast", d1.to_json(), "first")
        v2 = repo.save_design_version(s, d2.task, "fast", d2.to_json(), "second")
        hash2 = v2.content_hash
    out = tmp_path / "r.py"
    assert main([f"{ws_dir}:fast@1", "--format", "python", "-o", str(out)]) == 0
    assert "REWARD_WEIGHT = 0.9" in out.read_text() and "(version 1)" in out.read_text()
    assert main([f"{ws_dir}:fast", "--format", "python", "-o", str(out)]) == 0
    text = out.read_text()
    assert "REWARD_WEIGHT = 0.5" in text and f"sha256:{hash2}" in text and "(version 2)" in text


def test_errors_are_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([str(tmp_path / "missing.json"), "-o", str(tmp_path / "x.py")]) == 2
    assert "no such design file" in capsys.readouterr().err
    bad = tmp_path / "bad.json"
    bad.write_text('{"name": "x", "task": "HalfCheetah-v5", "root": {"type": "group", "name": "r", '
                   '"children": [{"type": "term", "name": "t", "source": "nope"}]}}')
    assert main([str(bad), "-o", str(tmp_path / "x.py")]) == 2
    assert "nope" in capsys.readouterr().err
