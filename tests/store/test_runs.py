"""Runs, their lifecycle, metric series, markers and checkpoints."""

from __future__ import annotations

import math

import pytest

from studio.store import InvalidRunTransitionError, RunStatus, StoreError, Workspace, repo
from studio.store.models import Run


def _run(ws: Workspace) -> Run:
    with ws.session() as s:
        v = repo.save_design_version(s, "Walker2d-v5", "walk", {"terms": []}, "m")
        return repo.create_run(s, v.id, {"lr": 3e-4, "envs": 8}, device="cpu", seed=7)


def test_run_round_trip(ws: Workspace) -> None:
    run = _run(ws)
    with ws.session() as s:
        got = repo.get_run(s, run.id)
        assert got is not None
        assert (got.status, got.config, got.device, got.seed) == ("queued", {"lr": 3e-4, "envs": 8},
                                                                  "cpu", 7)
        assert got.task.env_id == "Walker2d-v5"
        assert [r.id for r in repo.list_runs(s, got.design_version_id)] == [run.id]
        assert repo.list_runs(s, 999) == []
    with pytest.raises(StoreError, match="does not exist"), ws.session() as s:
        repo.create_run(s, 999)


def test_run_lifecycle_stamps_times_and_refuses_bad_moves(ws: Workspace) -> None:
    run = _run(ws)
    with ws.session() as s:
        run = s.merge(run)
        repo.set_run_status(s, run, RunStatus.RUNNING)
        started = run.started_at
        repo.set_run_status(s, run, "paused")
        repo.set_run_status(s, run, "running")
        assert run.started_at == started and run.ended_at is None
        repo.set_run_status(s, run, "failed", error="NaN in reward term 'forward'")
    with ws.session() as s:
        got = repo.get_run(s, run.id)
        assert got is not None and got.status == "failed" and got.ended_at is not None
        assert got.error == "NaN in reward term 'forward'"
        with pytest.raises(InvalidRunTransitionError, match="cannot become stopped"):
            repo.set_run_status(s, got, "stopped")  # a failed run ended: only a retry runs it again
        repo.set_run_status(s, got, "running")  # the retry
        repo.set_run_status(s, got, "completed")
        with pytest.raises(InvalidRunTransitionError, match="start a new run"):
            repo.set_run_status(s, got, "running")  # completed is final
        with pytest.raises(ValueError):
            repo.set_run_status(s, got, "exploded")


def test_metrics_bulk_upsert_nan_and_incremental_reads(ws: Workspace) -> None:
    run = _run(ws)
    with ws.session() as s:
        n = repo.append_metric_rows(s, run.id, [
            (step, {"charts/SPS": 1000.0 + step, "Episode_Reward/forward": step / 10})
            for step in range(0, 5000, 100)])
        assert n == 100
        repo.append_metrics(s, run.id, 4900, {"task/score": float("nan")})
        repo.append_metrics(s, run.id, 0, {"charts/SPS": -1.0})  # resumed run rewrites step 0
        assert repo.append_metric_rows(s, run.id, []) == 0
    with ws.session() as s:
        assert repo.metric_keys(s, run.id) == ["Episode_Reward/forward", "charts/SPS",
                                               "task/score"]
        steps, values = repo.metric_series(s, run.id, "charts/SPS")
        assert steps == list(range(0, 5000, 100))
        assert values[0] == -1.0 and values[1] == 1100.0
        steps, values = repo.metric_series(s, run.id, "charts/SPS", since_step=4700)
        assert steps == [4800, 4900]
        steps, values = repo.metric_series(s, run.id, "task/score")
        assert steps == [4900] and math.isnan(values[0])
        assert repo.metric_series(s, run.id, "nope") == ([], [])


def test_markers_round_trip(ws: Workspace) -> None:
    run = _run(ws)
    with ws.session() as s:
        repo.add_marker(s, run.id, 2000, "design_switched", {"from": 1, "to": 2})
        repo.add_marker(s, run.id, 500, "note", "hello")
    with ws.session() as s:
        markers = repo.run_markers(s, run.id)
        assert [(m.step, m.kind, m.payload) for m in markers] == [
            (500, "note", "hello"), (2000, "design_switched", {"from": 1, "to": 2})]
        assert len(repo.run_markers(s, run.id, kind="note")) == 1


def test_checkpoints_round_trip(ws: Workspace) -> None:
    run = _run(ws)
    with ws.session() as s:
        assert repo.latest_checkpoint(s, run.id) is None
        repo.add_checkpoint(s, run.id, 1000, "media/checkpoints/r1-1000.pt", {"task/score": 1.5})
        repo.add_checkpoint(s, run.id, 3000, "media/checkpoints/r1-3000.pt")
        repo.add_checkpoint(s, run.id, 2000, "media/checkpoints/r1-2000.pt")
        with pytest.raises(ValueError, match="relative"):
            repo.add_checkpoint(s, run.id, 1, "/abs/x.pt")
    with ws.session() as s:
        latest = repo.latest_checkpoint(s, run.id)
        assert latest is not None and latest.step == 3000 and latest.metrics is None
        listed = repo.list_checkpoints(s, run.id)
        assert [c.step for c in listed] == [1000, 2000, 3000]
        assert listed[0].metrics == {"task/score": 1.5}
