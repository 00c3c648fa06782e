"""``bench agreement`` runs end to end on a small setting and ends with its RESULT line."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from studio.app import bench_agreement


def test_small_bench_prints_settings_and_one_result_line(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert bench_agreement.main(["--rollouts", "4", "--steps", "8", "--rankings", "2",
                                 "--edits", "2", "--workspace", str(tmp_path / "ws")]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0].startswith("settings: env=HalfCheetah-v5 rollouts=4 steps=8")
    assert lines[-1].startswith("RESULT ")
    result = dict(kv.split("=", 1) for kv in lines[-1].split()[1:])
    assert result["rollouts"] == "4" and result["steps"] == "8"
    assert int(result["pairs"]) == 2 * 6  # two rankings of four rollouts
    assert not math.isnan(float(result["record_video_s"]))
    assert float(result["update_ms_median"]) > 0 and "load" in result
