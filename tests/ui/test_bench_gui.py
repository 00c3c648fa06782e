"""bench gui: an idle reference and the busy phase in one run; a failed setup is exit 2, no RESULT."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest


def test_setup_failure_exits_2_without_a_result(tmp_path: Path, qapp: Any, no_leaked_widgets: None,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    from studio.ui.bench_gui import main

    not_a_folder = tmp_path / "file"
    not_a_folder.write_text("x")
    assert main(["--seconds", "0.1", "--workspace", str(not_a_folder)]) == 2
    out, err = capsys.readouterr()
    assert "RESULT" not in out and "bench_gui: could not open the workspace" in err


def test_both_phases_are_measured_and_reported(tmp_path: Path, qapp: Any,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    from studio.ui.bench_gui import STALL_MS, summarise

    # The statistics, by hand: 100 ticks, two of them stalls.
    lateness = [0.5] * 97 + [10.0, 60.0, 120.0]
    st = summarise(lateness)
    assert (st["ticks"], st["stalls"], st["max"], st["p50"]) == (100, 2, 120.0, 0.5)
    assert st["p99"] == 60.0 and STALL_MS == 50.0

    from studio.ui.bench_gui import main

    code = main(["--seconds", "0.3", "--env", "InvertedPendulum-v5", "--num-envs", "2",
                 "--workspace", str(tmp_path / "ws")])
    out = capsys.readouterr().out
    assert code == 0, out
    last = out.strip().splitlines()[-1]
    fields = dict(kv.split("=") for kv in last.split()[1:])
    assert list(fields)[:6] == ["idle_p99_ms", "idle_max_ms", "idle_stalls", "p99_ms", "max_ms", "stalls"]
    assert float(fields["steps_per_s"]) > 0 and "idle" in out and "busy" in out
