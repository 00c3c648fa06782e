"""Importing a Eureka-style reward, and the sandbox that runs what cannot be imported."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from studio.core.compile import compile_design
from studio.export.importer import evaluate_code_terms, import_reward
from studio.export.sandbox import SandboxError, SandboxLimits, run_sandboxed
from studio.sim.registry import get_task

SOURCE = (Path(__file__).parent / "data" / "eureka_halfcheetah.py").read_text()


@pytest.fixture(scope="module")
def names() -> list[str]:
    return get_task("HalfCheetah-v5").catalog.names()


def test_expressible_components_become_editable_terms(names) -> None:
    r = import_reward(SOURCE, "HalfCheetah-v5", names)
    terms = {t.name: t for t in r.design.terms()}
    assert r.terms == ["speed_reward", "level_reward", "ctrl_penalty", "height_bonus"]
    assert terms["speed_reward"].shape == "exp_kernel" and terms["speed_reward"].params == {"temperature": 4.0}
    assert terms["speed_reward"].weight == 2.0 and terms["level_reward"].weight == 0.5
    assert terms["ctrl_penalty"].weight == -0.1 and terms["ctrl_penalty"].source == "ctrl_sq"
    assert r.skipped == ["thigh_energy"] and not r.code_terms
    from studio.core.design import validate

    assert validate(r.design, names) == []  # the editor can open and train it as it is
    report = r.report()
    assert "line 31" not in report  # the loop over range(2) is unrolled: only its input (line 30) fails
    assert "line 30" in report and "pow(2).mean" in report  # why thigh_energy is not a term


def test_imported_design_with_code_term_reproduces_the_original(names) -> None:
    r = import_reward(SOURCE, "HalfCheetah-v5", names, allow_code=True)
    assert [c.name for c in r.code_terms] == ["thigh_energy"]
    rng = np.random.default_rng(0)
    args = ["x_velocity", "ctrl_sq", "torso_angle", "torso_height", "joint_bthigh_vel"]
    feats = {a: rng.normal(size=64) for a in args}
    feats["ctrl_sq"] = np.abs(feats["ctrl_sq"])
    feats |= evaluate_code_terms(r, feats)
    out = compile_design(r.design, dtype=torch.float64)(feats)
    total, _ = run_sandboxed(SOURCE.replace("@torch.jit.script\n", ""), "compute_reward", {a: feats[a] for a in args})
    assert np.max(np.abs(out.total.numpy() - total)) < 1e-9


def test_endless_loop_is_killed() -> None:
    src = "def f(x):\n    while True:\n        x = x + 1\n"
    with pytest.raises(SandboxError, match="killed"):
        run_sandboxed(src, "f", {"x": np.zeros(2)}, SandboxLimits(wall_seconds=10, cpu_seconds=1))


@pytest.mark.parametrize("body", [
    "import socket\n    socket.socket(socket.AF_INET, socket.SOCK_STREAM)",
    "return open('/etc/passwd').read()",
    "import os\n    os.system('true')",
])
def test_network_files_and_processes_are_refused(body: str) -> None:
    with pytest.raises(SandboxError, match="refused by the sandbox"):
        run_sandboxed(f"def f(x):\n    {body}\n", "f", {"x": np.zeros(2)})


def test_the_temporary_folder_is_usable() -> None:
    src = "def f(x):\n    open('scratch.txt', 'w').write('ok')\n    return x + len(open('scratch.txt').read())\n"
    total, parts = run_sandboxed(src, "f", {"x": np.zeros(2)})
    assert total.tolist() == [2.0, 2.0] and parts == {}


def test_nothing_is_run_at_import(tmp_path: Path, names) -> None:
    marker = tmp_path / "ran"
    src = f"open({str(marker)!r}, 'w')\ndef compute_reward(x_velocity):\n    return x_velocity, {{'v': x_velocity}}\n"
    r = import_reward(src, "HalfCheetah-v5", names)
    assert r.terms == ["v"] and not marker.exists()


def test_import_command_writes_design_and_report(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from studio.core.design import Design
    from studio.export.importer import main

    out = tmp_path / "d.json"
    src = Path(__file__).parent / "data" / "eureka_halfcheetah.py"
    # thigh_energy cannot be a term, so the design's total differs from the original's:
    # refused without --accept-mismatch, written with a warning with it.
    assert main([str(src), "--task", "HalfCheetah-v5", "-o", str(out)]) == 1
    assert not out.exists() and "--accept-mismatch" in capsys.readouterr().err
    assert main([str(src), "--task", "HalfCheetah-v5", "--accept-mismatch", "-o", str(out)]) == 0
    d = Design.loads(out.read_text())
    assert [t.name for t in d.terms()] == ["speed_reward", "level_reward", "ctrl_penalty", "height_bonus"]
    assert d.description.startswith("WARNING: imported with --accept-mismatch")
    printed = capsys.readouterr().out
    assert "line 30" in printed and "MISMATCH" in printed


def test_exp_of_x_over_temperature_is_an_exp_kernel(names) -> None:
    src = (
        "import torch\n"
        "def compute_reward(x_velocity, torso_angle):\n"
        "    temperature = 2.0\n"
        "    r_speed = torch.exp(x_velocity / temperature)\n"
        "    r_level = torch.exp(-torch.abs(torso_angle) / 0.5)\n"
        "    return 0.3 * r_speed - r_level, {'r_speed': r_speed, 'r_level': r_level}\n"
    )
    r = import_reward(src, "HalfCheetah-v5", names)
    terms = {t.name: t for t in r.design.terms()}
    assert terms["r_speed"].shape == "exp_kernel" and terms["r_speed"].params == {"temperature": 2.0}
    assert terms["r_speed"].weight == 0.3 and terms["r_level"].weight == -1.0
    x, a = torch.linspace(-2, 2, 9, dtype=torch.float64), torch.linspace(-1, 1, 9, dtype=torch.float64)
    out = compile_design(r.design, dtype=torch.float64)({"x_velocity": x, "torso_angle": a})
    expected = 0.3 * torch.exp(x / 2.0) - torch.exp(-torch.abs(a) / 0.5)
    assert torch.allclose(out.total, expected, atol=1e-12)
