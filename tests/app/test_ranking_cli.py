"""The rollout, rank and agreement commands: RESULT lines, --json, clear errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from studio.app import agreement_cli, rank_cli, rollout_cli
from studio.app.designs import load_design
from studio.app.rank_cli import parse_tiers
from studio.app.ranking import RankingService
from studio.store import Workspace

ENV = "InvertedPendulum-v5"


def _result(out: str) -> dict[str, str]:
    last = out.strip().splitlines()[-1]
    assert last.startswith("RESULT ")
    return dict(kv.split("=", 1) for kv in last.split()[1:])


def test_record_list_rank_and_agreement(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ws = str(tmp_path / "ws")
    assert rollout_cli.main(["record", "--workspace", ws, "--env", ENV, "--policy", "zero",
                             "--design", "task", "--episodes", "3", "--steps", "12",
                             "--seed", "4", "--no-video"]) == 0
    out = capsys.readouterr().out
    results = [line for line in out.splitlines() if line.startswith("RESULT ")]
    assert len(results) == 3  # one per episode, the last line is the last episode's
    last = _result(out)
    assert last["rollout_id"] == "3" and last["length"] == "12"
    assert float(last["task_score"]) == float(last["design_return"])  # the task's own reward
    assert float(last["seconds"]) > 0

    assert rollout_cli.main(["list", "--workspace", ws, "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)  # nothing but JSON on stdout
    assert [r["id"] for r in listed] == [1, 2, 3] and [r["seed"] for r in listed] == [4, 5, 6]
    first = listed[0]
    assert (first["env"], first["policy"], first["length"], first["video"]) == (ENV, "zero", 12, None)
    assert first["trace"].startswith("media/rollouts/") and (tmp_path / "ws" / first["trace"]).is_file()

    assert rank_cli.main(["--workspace", ws, "3", "1=2", "--comment", "falls at the end"]) == 0
    out = capsys.readouterr().out
    assert _result(out) == {"ranking_id": "1", "rollouts": "3", "tiers": "2"}
    with Workspace.open(ws) as w:
        (saved,) = RankingService(w).rankings()
        assert (saved.tiers, saved.comment) == ([[3], [1, 2]], "falls at the end")
        expected = RankingService(w).agreement(load_design("task", ENV))

    assert agreement_cli.main(["task", "--env", ENV, "--workspace", ws]) == 0
    got = _result(capsys.readouterr().out)
    assert int(got["pairs"]) == expected.pairs == 3 and got["rankings"] == "1"
    assert got["kendall_tau"] == f"{expected.kendall_tau:.6f}"
    assert got["pair_accuracy"] == f"{expected.pair_accuracy:.6f}"


def test_rank_refuses_unknown_ids_and_bad_places(tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    ws = str(tmp_path / "ws")
    assert rollout_cli.main(["record", "--workspace", ws, "--env", ENV, "--steps", "3",
                             "--no-video"]) == 0
    capsys.readouterr()
    assert rank_cli.main(["--workspace", ws, "1", "7"]) == 2
    err = capsys.readouterr().err
    assert "rollout 7 does not exist" in err and "Traceback" not in err
    assert rank_cli.main(["--workspace", ws, "1", "2=x"]) == 2
    assert "'2=x' is not a rollout id" in capsys.readouterr().err


def test_parse_tiers() -> None:
    assert parse_tiers(["7", "3=5", "2"]) == [[7], [3, 5], [2]]


def test_list_of_an_empty_workspace(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    Workspace.open(tmp_path / "ws").close()
    assert rollout_cli.main(["list", "--workspace", str(tmp_path / "ws"), "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == []


def test_a_design_of_another_task_is_one_line_error(tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    from studio.cli import main

    design = tmp_path / "cheetah.json"
    assert main(["design", "from-task", "HalfCheetah-v5", "-o", str(design)]) == 0
    capsys.readouterr()
    assert main(["rollout", "record", "--workspace", str(tmp_path / "ws"), "--env", ENV,
                 "--design", str(design), "--steps", "3", "--no-video"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "cannot score InvertedPendulum-v5" in err
    assert "x_velocity" in err
