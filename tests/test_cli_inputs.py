"""Inputs that used to crash or slip through: one line on stderr with the place, no traceback, no noise."""

from __future__ import annotations

import json
from pathlib import Path

from tests.test_cli import cli


def test_from_task_of_an_unknown_task_is_one_line_naming_the_known_ones(tmp_path: Path) -> None:
    r = cli("design", "from-task", "Nope-v9", "-o", str(tmp_path / "x.json"))
    assert r.returncode == 2
    assert "Traceback" not in r.stderr and len(r.stderr.strip().splitlines()) == 1
    assert "unknown task 'Nope-v9'" in r.stderr and "Hopper-v5" in r.stderr
    assert not (tmp_path / "x.json").exists()


def test_a_gymnasium_model_runs_without_printing_mujocos_deprecation_warning() -> None:
    # HalfCheetah's XML (Gymnasium's, not the user's) uses settotalmass.
    r = cli("eval", "task", "--env", "HalfCheetah-v5", "--steps", "10")
    assert r.returncode == 0, r.stderr
    assert "settotalmass" not in r.stderr + r.stdout


def test_validate_names_a_nan_weight_by_its_path(tmp_path: Path) -> None:
    r = cli("design", "from-task", "Hopper-v5", "-o", str(tmp_path / "d.json"))
    assert r.returncode == 0, r.stderr
    doc = json.loads((tmp_path / "d.json").read_text())
    doc["root"]["children"][0]["weight"] = "@@"
    (tmp_path / "d.json").write_text(json.dumps(doc).replace('"@@"', "NaN"))
    r = cli("design", "validate", str(tmp_path / "d.json"))
    assert r.returncode != 0 and "Traceback" not in r.stderr
    assert "root.children[0].weight: nan is not a finite number" in r.stderr


def test_import_with_an_unknown_task_is_one_line(tmp_path: Path) -> None:
    code = tmp_path / "reward.py"
    code.write_text("def compute_reward(x_velocity):\n    return x_velocity, {}\n")
    r = cli("import", str(code), "--task", "Foo-v0", "-o", str(tmp_path / "d.json"))
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert "unknown task 'Foo-v0'" in r.stderr and len(r.stderr.strip().splitlines()) == 1
