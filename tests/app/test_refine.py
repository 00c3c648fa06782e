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
from studio.store import Workspace, repo
from studio.store import refinement as rstore
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


def recorded_round(service: RefineService, exp: int, video: bool = False) -> list[int]:
    """Round 1 proposed through the service, its candidates recorded with a random policy
    instead of trained (the proposal path needs rollouts, not good policies)."""
    assert service.step(exp) == loop.Propose(1)
    r1 = service.state(exp).rounds[0]
    ids = []
    for c in r1.candidates:
        info = service.ranking.record(ENV, "random", design=Design.from_json(c.document), steps=25,
                                      seed=c.index, video=video, round_id=r1.id)
        with service.workspace.session() as s:
            rstore.update_candidate(s, c.id, status="recorded", rollout_id=info.id)
        ids.append(info.id)
    return ids


def test_a_persons_ranking_without_a_round_id_drives_the_preference_proposal(tmp_path: Path) -> None:
    with Workspace.open(tmp_path / "ws") as ws:
        service = RefineService(ws, runner=LocalRunner(cpu_slots=1, gpu=False))
        exp = service.create(start_design(), ENV, "preference", "app", tiny(k=3))
        a, b, c = recorded_round(service, exp)
        r1 = service.state(exp).rounds[0]
        # Round 1: the start design itself, then variants of it.
        assert TermSpace.of(Design.from_json(r1.candidates[0].document)).weights() == [1.0, -0.5, -0.2]
        assert TermSpace.of(Design.from_json(r1.candidates[1].document)).weights() != [1.0, -0.5, -0.2]
        assert service.step(exp) == loop.AwaitRanking(1)
        assert service.status(exp) == ("awaiting_ranking", None)
        assert service.step(exp) == loop.AwaitRanking(1)  # nothing proceeds without a ranking
        # A person ranks as `reward-studio rank` does (no round id), with a tie and a comment.
        service.ranking.save_ranking([[b], [a, c]], annotator="tester", comment="wobbles")
        service.resume(exp)
        assert service.step(exp) == loop.Propose(2)
        r2 = service.state(exp).rounds[1]
        designs = [Design.from_json(x.document) for x in r2.candidates]
        assert len(designs) == 3 and all(d.meta["proposer"] == "preference" for d in designs)
        assert all([t.name for t in d.terms()] == ["alive", "effort", "lean"] for d in designs)
        assert designs[0].meta["parent"] == Design.from_json(r1.candidates[1].document).name
        assert service.step(exp) == loop.Train(2, [0, 1, 2])
        # The candidates of round 2 are queued on the runner (one slot) and are stopped here.
        service.close()


def test_llm_proposals_store_every_exchange_with_the_round(tmp_path: Path) -> None:
    from tests.refine.test_llm import ChatServer

    start = start_design()
    good = start.copy()
    good.name = "from_llm"
    reply = "```json\n" + good.dumps() + "\n```"
    server = ChatServer([("content", "no design, sorry"), ("content", reply), ("content", reply)])
    try:
        with Workspace.open(tmp_path / "ws") as ws:
            service = RefineService(ws, runner=LocalRunner(cpu_slots=1, gpu=False))
            cfg = tiny(model="test-model", proposer_options={"base_url": server.url,
                                                            "api_key": "sk-never-stored"})
            exp = service.create(start, ENV, "llm", "app", cfg)
            a, b = recorded_round(service, exp)
            service.ranking.save_ranking([[a], [b]], comment="too jittery")
            assert service.step(exp) == loop.Propose(2)
            r2 = service.state(exp).rounds[1]
            assert [Design.from_json(c.document).meta["model"] for c in r2.candidates] == ["test-model"] * 2
            with ws.session() as s:
                rows = repo.list_llm_exchanges(s, r2.id - 1) + repo.list_llm_exchanges(s, r2.id)
                config = rstore.get_experiment(s, exp).config
            assert [e.parsed_ok for e in rows] == [False, True, True]
            assert all(e.model == "test-model" and e.latency_s is not None for e in rows)
            assert "too jittery" in rows[0].prompt
            summary = service.summary(exp)
            assert summary["llm_calls"] == 3 and summary["llm_retries"] == 1
            assert "api_key" not in config["proposer_options"]
            assert config["proposer_options"]["base_url"] == server.url
            service.close()
        # Nowhere in the database files (the main file and its write-ahead log).
        for f in (tmp_path / "ws").glob("studio.db*"):
            assert b"sk-never-stored" not in f.read_bytes()
        assert server.auth[0] == "Bearer sk-never-stored"  # yet the key was sent
    finally:
        server.close()


def _db_rows(db: Path, sql: str) -> list[tuple[object, ...]]:
    try:
        with sqlite3.connect(db, timeout=5) as conn:
            return conn.execute(sql).fetchall()
    except sqlite3.OperationalError:
        return []


@pytest.mark.slow
@pytest.mark.timeout(900)  # real processes on a shared 2-core machine; ~40 s of CPU in all
def test_proxy_loop_killed_mid_round_resumes_and_ranks_by_task_score(tmp_path: Path) -> None:
    ws_dir = tmp_path / "ws"
    design_file = tmp_path / "start.json"
    design_file.write_text(start_design().dumps())
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    args = [sys.executable, "-m", "studio.cli", "refine", str(design_file), "--env", ENV,
            "--workspace", str(ws_dir), "--proposer", "preference", "--rounds", "2", "--k", "2",
            "--steps-per-candidate", "2000", "--rank", "proxy", "--no-video",
            "--rollout-steps", "60", "--cpu-slots", "2", "--checkpoint-every", "20"]
    proc = subprocess.Popen(args, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    db = ws_dir / "studio.db"
    deadline = time.monotonic() + 600
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
                          capture_output=True, text=True, timeout=800)
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


def test_a_proposer_that_fails_marks_the_experiment_failed_and_resume_asks_again(tmp_path: Path) -> None:
    from tests.refine.test_llm import ChatServer

    good = start_design()
    reply = "```json\n" + good.dumps() + "\n```"
    server = ChatServer([("status", 500), ("status", 500), ("content", reply), ("content", reply)])
    try:
        with Workspace.open(tmp_path / "ws") as ws:
            service = RefineService(ws, runner=LocalRunner(cpu_slots=1, gpu=False))
            exp = service.create(start_design(), ENV, "llm", "app",
                                 tiny(llm_retries=1, proposer_options={"base_url": server.url}))
            a, b = recorded_round(service, exp)
            service.ranking.save_ranking([[a], [b]])
            action = service.step(exp)
            assert isinstance(action, loop.Failed) and "HTTP 500" in action.reason
            assert service.status(exp)[0] == "failed" and len(service.state(exp).rounds) == 1
            service.resume(exp)
            assert service.step(exp) == loop.Propose(2)
            assert len(service.state(exp).rounds) == 2
            service.close()
    finally:
        server.close()
