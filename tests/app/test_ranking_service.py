"""RankingService on a real workspace: recorded rollouts, rankings with ties, live agreement."""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from studio.app.ranking import RankingError, RankingService
from studio.app.recording import RecordingCancelled
from studio.core.design import Design, Group, Term
from studio.core.preference import agreement_of
from studio.sim.video import read_video_frames
from studio.store import Workspace

ENV = "InvertedPendulum-v5"


def _design(scale: float = 1.0) -> Design:
    return Design("p", ENV, Group("reward", [
        Term("alive", "healthy", weight=1.0 * scale),
        Term("angle", "pole_angle * pole_angle", weight=-20.0 * scale),
        Term("drift", "cart_position", weight=0.5 * scale),
    ]))


@pytest.fixture
def service(tmp_path: Path) -> Iterator[RankingService]:
    with Workspace.open(tmp_path / "ws") as ws:
        yield RankingService(ws)


def _record_set(service: RankingService) -> list[int]:
    """Five short episodes of unlike length and return, without video."""
    runs = [("zero", 0, 25), ("random", 1, 25), ("zero", 2, 8), ("random", 3, 25), ("zero", 4, 15)]
    return [service.record(ENV, p, design=_design(), steps=n, seed=s, video=False).id
            for p, s, n in runs]


def test_record_writes_trace_and_video_and_stores_the_scores(service: RankingService) -> None:
    info = service.record(ENV, "zero", design=_design(), steps=12, seed=5, size=(48, 32))
    assert info.env_id == ENV and info.policy == "zero" and info.seed == 5
    assert info.trace_rel is not None and info.trace_rel.startswith("media/rollouts/")
    assert info.video_rel is not None and info.video_rel.endswith(".mp4")
    assert info.trace_path == service.workspace.root / info.trace_rel
    frames = read_video_frames(info.video_path)  # type: ignore[arg-type]
    assert frames.shape == (info.length, 32, 48, 3)  # one frame per env step
    import imageio_ffmpeg

    reader = imageio_ffmpeg.read_frames(str(info.video_path))
    meta = next(reader)
    reader.close()
    assert meta["codec"] == "h264" and meta["pix_fmt"].startswith("yuv420p")
    assert meta["fps"] == pytest.approx(1 / 0.04)  # the task's real time: dt = 0.04 s
    trace = service.load_trace(info.id)
    assert trace.length == info.length == 12
    assert info.task_score == pytest.approx(float(np.sum(trace.task_reward)), abs=1e-12)
    assert set(info.term_returns) == {"alive", "angle", "drift"}
    assert info.design_return == pytest.approx(sum(info.term_returns.values()), abs=1e-12)
    assert [r.id for r in service.rollouts(ENV)] == [info.id] and service.rollouts("Hopper-v5") == []


def test_one_episode_stops_at_its_end(service: RankingService) -> None:
    info = service.record(ENV, "random", steps=500, seed=1, video=False)
    trace = service.load_trace(info.id)
    assert info.length < 500 and trace.terminated[-1] and not trace.terminated[:-1].any()


def test_agreement_uses_recomputed_returns_equal_to_the_recorded_ones(
        service: RankingService) -> None:
    ids = _record_set(service)
    service.save_ranking([[ids[0]], [ids[4], ids[2]], [ids[1]]], comment="tie in the middle")
    service.save_ranking([[ids[3]], [ids[1]], [ids[2]]])
    service.save_ranking([[ids[2], ids[0]]], skipped=True)  # skipped: does not count
    recorded = {r.id: r.design_return for r in service.rollouts(ENV)}
    index = {rid: k for k, rid in enumerate(ids)}
    tiers = [[[index[i] for i in t] for t in r.tiers] for r in service.rankings() if not r.skipped]
    expected = agreement_of(tiers, np.array([recorded[i] for i in ids]))
    got = service.agreement(_design())
    assert got.kendall_tau == pytest.approx(expected.kendall_tau, abs=1e-12)
    assert (got.pair_accuracy, got.pairs, got.strict_pairs, got.rankings) == (
        expected.pair_accuracy, 6 + 3, 5 + 3, 2)


def test_agreement_same_for_a_positive_multiple_and_opposite_for_the_negation(
        service: RankingService) -> None:
    ids = _record_set(service)
    service.save_ranking([[ids[1]], [ids[0], ids[3]], [ids[2]], [ids[4]]])
    service.save_ranking([[ids[2]], [ids[3]]])
    base = service.agreement(_design())
    assert not math.isnan(base.kendall_tau) and base.kendall_tau != 0
    assert service.agreement(_design(4.5)) == base
    negated = service.agreement(_design(-1.0))
    assert negated.kendall_tau == pytest.approx(-base.kendall_tau, abs=1e-12)
    assert negated.pairs == base.pairs


def test_agreement_without_rollouts_or_rankings_is_undefined_not_an_error(
        service: RankingService) -> None:
    empty = service.agreement(_design())
    assert math.isnan(empty.kendall_tau) and (empty.pairs, empty.rankings) == (0, 0)
    service.record(ENV, "zero", steps=5, video=False)
    unranked = service.agreement(_design())
    assert math.isnan(unranked.pair_accuracy) and unranked.pairs == 0


def test_term_series_adds_up_to_the_stored_returns(service: RankingService) -> None:
    info = service.record(ENV, "zero", design=_design(), steps=20, seed=0, video=False)
    series = service.term_series(info.id, _design())
    assert set(series) == {"alive", "angle", "drift", "task_reward"}
    for term, total in info.term_returns.items():
        assert float(np.sum(series[term])) == pytest.approx(total, abs=1e-12)
        assert series[term].shape == (info.length,)
    assert float(np.sum(series["task_reward"])) == pytest.approx(info.task_score, abs=1e-12)
    doubled = service.term_series(info.id, _design(2.0))
    np.testing.assert_allclose(doubled["angle"], 2 * series["angle"], rtol=1e-12, atol=0)
    recorded = service.term_series(info.id, None)
    np.testing.assert_allclose(recorded["drift"], series["drift"], rtol=0, atol=1e-12)


def test_rankings_name_existing_rollouts_of_one_task(service: RankingService) -> None:
    a = service.record(ENV, "zero", steps=5, video=False).id
    b = service.record(ENV, "random", steps=5, video=False).id
    other = service.record("Swimmer-v5", "zero", steps=3, video=False).id
    with pytest.raises(RankingError, match=r"rollout 99 does not exist .*deleted"):
        service.save_ranking([[a], [99]])
    with pytest.raises(RankingError, match="mixes rollouts of InvertedPendulum-v5, Swimmer-v5"):
        service.save_ranking([[a], [other]])
    with pytest.raises(RankingError, match="more than once"):
        service.save_ranking([[a], [a, b]])
    assert service.rankings() == []
    rid = service.save_ranking([[a, b]], annotator="ada", round_id=None)
    (saved,) = service.rankings()
    assert (saved.id, saved.tiers, saved.annotator, saved.skipped) == (rid, [[a, b]], "ada", False)


def test_only_an_unranked_rollout_is_deleted_with_its_files(service: RankingService) -> None:
    kept, other = (service.record(ENV, "zero", steps=4, size=(16, 16)) for _ in range(2))
    loose = service.record(ENV, "random", steps=4, size=(16, 16))
    service.save_ranking([[kept.id], [other.id]])
    with pytest.raises(RankingError, match=r"ranked \(ranking 1\) and cannot be deleted"):
        service.delete_rollout(kept.id)
    service.delete_rollout(loose.id)
    assert [r.id for r in service.rollouts()] == [kept.id, other.id]
    assert loose.trace_path is not None and not loose.trace_path.exists()
    assert loose.video_path is not None and not loose.video_path.exists()
    assert kept.trace_path is not None and kept.trace_path.exists()
    with pytest.raises(RankingError, match="does not exist"):
        service.delete_rollout(loose.id)


def test_a_missing_trace_is_reported_and_left_out_of_agreement(service: RankingService) -> None:
    ids = _record_set(service)[:3]
    service.save_ranking([[ids[0]], [ids[1]], [ids[2]]])
    lost = service.rollouts(ids=[ids[2]])[0].trace_path
    assert lost is not None
    lost.unlink()
    with pytest.raises(RankingError, match="missing"):
        service.load_trace(ids[2])
    assert service.agreement(_design()).pairs == 3  # features cached before the loss still count
    fresh = RankingService(service.workspace)  # e.g. the next session
    assert fresh.agreement(_design()).pairs == 1  # only the pair of the two left


class _StopAt:
    def __init__(self, percent: float) -> None:
        self.percent, self.seen = percent, [0.0]

    def set_progress(self, p: float) -> None:
        self.seen.append(p)

    def is_interruption_requested(self) -> bool:
        return self.seen[-1] >= self.percent


@pytest.mark.parametrize("stop_at", [5.0, 50.0])  # during the episode; during the video
def test_a_cancelled_recording_stores_nothing(service: RankingService, stop_at: float) -> None:
    with pytest.raises(RecordingCancelled):
        service.record(ENV, "zero", steps=100, state=_StopAt(stop_at), size=(32, 32))
    assert service.rollouts() == []
    assert list((service.workspace.root / "media" / "rollouts").glob("*")) == []


def test_a_runs_latest_checkpoint_drives_the_episode(service: RankingService) -> None:
    from studio.app.rollouts import policy_from_checkpoint
    from studio.sim.vector import VectorEnv
    from studio.store import repo
    from studio.train.loop import save_checkpoint
    from studio.train.ppo import PPO, PPOConfig

    with VectorEnv(ENV, 1, seed=0) as env:
        trainer = PPO(PPOConfig(num_envs=1, num_steps=8, hidden=(8,), device="cpu", torch_threads=1),
                      env,
                      _design())
        path, rel = service.workspace.media_path("checkpoints", "c.pt")
        save_checkpoint(trainer.state_dict(), path)
    with service.workspace.session() as s:
        version = repo.save_design_version(s, ENV, "p", _design().to_json())
        run = repo.create_run(s, version.id)
        ckpt = repo.add_checkpoint(s, run.id, 8, rel)
        run_id, ckpt_id, version_id = run.id, ckpt.id, version.id
    by_run = service.record(ENV, "run", run_id=run_id, design=_design(), steps=10, video=False)
    assert (by_run.policy, by_run.run_id, by_run.design_version_id) == (
        f"run:{run_id}@8", run_id, version_id)
    trace = service.load_trace(by_run.id)
    act = policy_from_checkpoint(str(path))  # the deterministic actor the run saved
    low, high = trace.action_low, trace.action_high
    np.testing.assert_allclose(trace.actions, np.clip(act(trace.obs), low, high), rtol=0, atol=1e-12)
    by_file = service.record(ENV, str(path), steps=5, video=False)
    assert by_file.policy == "checkpoint:media/checkpoints/c.pt" and by_file.run_id is None
    with service.workspace.reading() as s:
        assert repo.get_rollout(s, by_run.id).checkpoint_id == ckpt_id  # type: ignore[union-attr]
    with pytest.raises(RankingError, match="Checkpoint file not found"):
        service.record(ENV, "nowhere.pt", steps=5, video=False)
