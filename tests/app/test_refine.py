"""Refinement rounds end to end on InvertedPendulum-v5: real training processes, real
rollouts and rankings in a real workspace, a person's ranking, a proxy loop killed and
resumed (tiny budgets: the point is the bookkeeping, not the policies)."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from studio.app.ranking import RankingService
from studio.app.refine import RefineConfig, RefineService
from studio.core.design import Design, Group, Term
from studio.refine import loop
from studio.refine.term_space import TermSpace
from studio.store import Workspace
from studio.train.runners.local import LocalRunner

ENV = "InvertedPendulum-v5"
ROOT = Path(__file__).resolve().parents[2]


def start_design() -> Design:
    return Design("pendulum", ENV, Group("reward", [
        Term("alive", "healthy", weight=1.0),
        Term("effort", "ctrl_sq", weight=-0.5),
        Term("lean", "abs(pole_angle)", weight=-0.2)]))


def tiny(**kw: object) -> RefineConfig:
    return RefineConfig(**{"rounds": 2, "k": 2, "steps_per_candidate": 512, "rollout_steps": 60,
                           "video": False, **kw})  # type: ignore[arg-type]


def test_app_ranking_stops_the_loop_and_a_persons_ranking_drives_round_two(tmp_path: Path) -> None:
    with Workspace.open(tmp_path / "ws") as ws:
        service = RefineService(ws, runner=LocalRunner(cpu_slots=2, gpu=False))
        try:
            exp = service.create(start_design(), ENV, "preference", "app", tiny())
            action = service.run(exp, poll_s=0.05)
            assert action == loop.AwaitRanking(1)
            state = service.state(exp)
            r1 = state.rounds[0]
            assert [c.status for c in r1.candidates] == ["recorded", "recorded"]
            assert all(c.place and c.place.startswith("local pid") for c in r1.candidates)
            assert all(c.device == "cpu" for c in r1.candidates)
            # Round 1: the start design and a variant of it.
            assert TermSpace.of(Design.from_json(r1.candidates[0].document)).weights() == [1.0, -0.5, -0.2]
            # Nothing proceeds without a ranking.
            assert service.step(exp) == loop.AwaitRanking(1)
            # A person ranks (as `reward-studio rank` does: no round id), with a comment.
            ranking = RankingService(ws)
            a, b = (c.rollout_id for c in r1.candidates)
            assert a is not None and b is not None
            ranking.save_ranking([[b], [a]], annotator="tester", comment="the first one wobbles")
            action = service.run(exp, poll_s=0.05)
            assert action == loop.AwaitRanking(2)
            r2 = service.state(exp).rounds[1]
            designs = [Design.from_json(c.document) for c in r2.candidates]
            assert all(d.meta["proposer"] == "preference" for d in designs)
            assert all([t.name for t in d.terms()] == ["alive", "effort", "lean"] for d in designs)
            assert designs[0].meta["parent"] == Design.from_json(r1.candidates[1].document).name
            ranking.save_ranking([[r2.candidates[0].rollout_id], [r2.candidates[1].rollout_id]],
                                 round_id=r2.id)
            assert service.run(exp, poll_s=0.05) == loop.Done("completed 2 of 2 rounds")
            summary = service.summary(exp)
            assert summary["rounds"] == 2 and summary["llm_calls"] == 0
            scores = [i.task_score for i in ranking.rollouts()]
            assert summary["best_task_score"] == max(scores)
        finally:
            service.close()


def _db_rows(db: Path, sql: str) -> list[tuple[object, ...]]:
    try:
        with sqlite3.connect(db, timeout=5) as conn:
            return conn.execute(sql).fetchall()
    except sqlite3.OperationalError:
        return []


def test_proxy_loop_killed_mid_round_resumes_and_ranks_by_task_score(tmp_path: Path) -> None:
    ws_dir = tmp_path / "ws"
    design_file = tmp_path / "start.json"
    design_file.write_text(start_design().dumps())
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    args = [sys.executable, "-m", "studio.cli", "refine", str(design_file), "--env", ENV,
            "--workspace", str(ws_dir), "--proposer", "preference", "--rounds", "2", "--k", "2",
            "--steps-per-candidate", "6144", "--rank", "proxy", "--no-video",
            "--rollout-steps", "60", "--cpu-slots", "2", "--checkpoint-every", "20"]
    proc = subprocess.Popen(args, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    db = ws_dir / "studio.db"
    deadline = time.monotonic() + 240
    # Kill once a candidate of round 1 is still training and has a checkpoint recorded.
    mid_run = ("SELECT DISTINCT rc.run_id FROM refinement_candidates rc JOIN checkpoints c "
               "ON c.run_id = rc.run_id WHERE rc.status = 'training'")
    while time.monotonic() < deadline and proc.poll() is None and not _db_rows(db, mid_run):
        time.sleep(0.05)
    assert proc.poll() is None, proc.stdout.read().decode() if proc.stdout else ""
    proc.send_signal(signal.SIGKILL)
    proc.wait(30)
    resumable = _db_rows(db, mid_run)
    assert resumable
    time.sleep(1.0)  # the orphaned trainers notice their parent is gone and stop
    done = subprocess.run([*args[:4], "--workspace", str(ws_dir), "--resume"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=400)
    assert done.returncode == 0, done.stdout + done.stderr
    for (run_id,) in resumable:
        assert f"run {run_id} resumed from its checkpoint" in done.stdout
    last = done.stdout.strip().splitlines()[-1]
    assert last.startswith("RESULT rounds=2 best_task_score=") and "llm_calls=0" in last
    with Workspace.open(ws_dir) as ws:
        service = RefineService(ws, runner=LocalRunner(cpu_slots=1, gpu=False))
        state = service.state(1)
        ranking = RankingService(ws)
        score = {i.id: i.task_score for i in ranking.rollouts()}
        assert len(state.rounds) == 2
        for r in state.rounds:
            assert [c.status for c in r.candidates] == ["recorded", "recorded"]
            (info,) = ranking.rankings(round_id=r.id)
            # The proxy human: tiers by task score, best first (ties share a tier).
            flat = [i for tier in info.tiers for i in tier]
            assert [score[i] for i in flat] == sorted((score[i] for i in flat), reverse=True)
        # A candidate killed mid-training kept its run: restored from the checkpoint, completed.
        for (run_id,) in resumable:
            assert _db_rows(ws_dir / "studio.db", f"SELECT status FROM runs WHERE id={run_id}") == [("completed",)]
            kinds = _db_rows(ws_dir / "studio.db", f"SELECT kind FROM run_events WHERE run_id={run_id}")
            assert ("restored",) in kinds
        service.close()


@pytest.mark.parametrize("bad", [{"k": 1}])
def test_bad_settings_are_refused_before_anything_runs(tmp_path: Path, bad: dict[str, int]) -> None:
    with Workspace.open(tmp_path / "ws") as ws:
        service = RefineService(ws, runner=LocalRunner(cpu_slots=1, gpu=False))
        with pytest.raises(ValueError, match="at least 2 candidates"):
            service.create(start_design(), ENV, "preference", "proxy", tiny(**bad))
        with pytest.raises(ValueError, match="unknown proposer 'oracle'"):
            service.create(start_design(), ENV, "oracle", "proxy", tiny())
        service.close()
