"""Offscreen rendering, video files, MuJoCo warnings through logging, the viewer benchmark."""

from __future__ import annotations

import logging
import os
import threading
from pathlib import Path

os.environ.setdefault("MUJOCO_GL", "osmesa")  # before anything imports mujoco

import gymnasium as gym
import mujoco
import numpy as np
import pytest

from studio.sim import mjlog
from studio.sim.render import OffscreenRenderer, select_gl_backend
from studio.sim.video import (
    VideoError,
    VideoWriter,
    read_video_frames,
    record_frames,
    record_qpos,
)


def _env_state(env_id: str, steps: int = 10) -> tuple[mujoco.MjModel, mujoco.MjData]:
    env = gym.make(env_id)
    env.reset(seed=0)
    env.action_space.seed(0)
    for _ in range(steps):
        env.step(env.action_space.sample())
    return env.unwrapped.model, env.unwrapped.data


def _assert_not_blank(img: np.ndarray, width: int = 320, height: int = 240) -> None:
    assert img.shape == (height, width, 3) and img.dtype == np.uint8
    assert img.std() > 20.0
    assert len(np.unique(img.reshape(-1, 3), axis=0)) > 50


def test_select_gl_backend_honours_the_user(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MUJOCO_GL", "egl")
    assert select_gl_backend() == "egl"
    monkeypatch.delenv("MUJOCO_GL")
    monkeypatch.delenv("PYOPENGL_PLATFORM", raising=False)
    chosen = select_gl_backend()
    assert os.environ["MUJOCO_GL"] == chosen
    nvidia = Path("/proc/driver/nvidia/version").exists() or Path("/dev/nvidia0").exists()
    assert chosen == ("egl" if nvidia else "osmesa")
    monkeypatch.delenv("MUJOCO_GL")
    monkeypatch.setenv("PYOPENGL_PLATFORM", "osmesa")  # PyOpenGL's choice binds ours
    assert select_gl_backend() == "osmesa"


@pytest.mark.parametrize("env_id", ["HalfCheetah-v5", "Hopper-v5"])
def test_render_is_not_blank_and_follows_the_camera(env_id: str) -> None:
    model, data = _env_state(env_id)
    with OffscreenRenderer(model, 320, 240) as r:
        if r.backend in ("osmesa",):
            assert not r.shadows and not r.reflections  # CPU defaults
        first = r.render(data)
        _assert_not_blank(first)
        np.testing.assert_array_equal(r.render(data), first)  # deterministic

        r.orbit(d_azimuth=60.0, d_elevation=-15.0)
        turned = r.render(data)
        _assert_not_blank(turned)
        assert np.abs(turned.astype(int) - first).mean() > 5.0

        r.zoom(0.5)
        assert np.abs(r.render(data).astype(int) - turned).mean() > 5.0
        before = r.lookat
        r.pan(right=0.3)
        assert np.linalg.norm(r.lookat - before) == pytest.approx(0.3)

        r.track_body(1)
        r.render(data)
        np.testing.assert_allclose(r.lookat, data.subtree_com[1], atol=1e-9)
        assert r.tracked_body == 1
        r.track_body(None)
        assert r.tracked_body is None

        plain = r.render(data)
        r.shadows = r.reflections = True
        assert r.shadows and r.reflections
        assert np.abs(r.render(data).astype(int) - plain).mean() > 1.0


def test_bigger_than_the_model_framebuffer_and_model_untouched() -> None:
    model, data = _env_state("Hopper-v5", steps=0)
    width = model.vis.global_.offwidth + 160
    with OffscreenRenderer(model, width, 96, offsamples=0) as r:
        img = r.render(data)
    assert img.shape == (96, width, 3) and img.std() > 10.0
    assert model.vis.global_.offwidth == width - 160
    assert model.vis.quality.offsamples == 4


def test_create_and_render_in_a_worker_thread_only() -> None:
    model, data = _env_state("HalfCheetah-v5", steps=0)
    result: dict[str, object] = {}

    def work() -> None:
        try:
            with OffscreenRenderer(model, 320, 240, track="torso") as r:
                result["img"] = r.render(data)
                result["renderer"] = r
                result["ready"] = True
                result["stop"].wait(10)  # type: ignore[attr-defined]
        except Exception as err:  # noqa: BLE001 - reported to the test thread
            result["error"] = err

    result["stop"] = threading.Event()
    worker = threading.Thread(target=work)
    worker.start()
    for _ in range(200):
        if "ready" in result or "error" in result:
            break
        threading.Event().wait(0.05)
    assert "error" not in result, result.get("error")
    _assert_not_blank(result["img"])  # type: ignore[arg-type]
    with pytest.raises(RuntimeError, match="another thread"):
        result["renderer"].render(data)  # type: ignore[attr-defined]
    result["stop"].set()  # type: ignore[attr-defined]
    worker.join(10)
    assert "error" not in result


def test_mujoco_warnings_go_to_logging(caplog: pytest.LogCaptureFixture) -> None:
    model = mujoco.MjModel.from_xml_string(
        "<mujoco><worldbody><body><freejoint/><geom size='.1'/></body></worldbody></mujoco>"
    )
    mjlog.install_warning_handler()
    mjlog.install_warning_handler()  # idempotent
    mjlog.forget_seen()
    try:
        assert mjlog.is_installed()
        data = mujoco.MjData(model)
        data.qpos[0] = np.nan
        with caplog.at_level(logging.WARNING, logger=mjlog.LOGGER_NAME):
            mujoco.mj_step(model, data)  # MuJoCo warns: unstable, then resets the state
        records = [r for r in caplog.records if r.name == "studio.mujoco"]
        assert len(records) == 1
        assert "Nan, Inf or huge value in QPOS" in records[0].getMessage()
        assert records[0].levelno == logging.WARNING
    finally:
        mjlog.uninstall_warning_handler()
    assert not mjlog.is_installed()


def test_video_round_trip(tmp_path: Path) -> None:
    model, data = _env_state("HalfCheetah-v5", steps=0)
    frames = []
    with OffscreenRenderer(model, 161, 120, track=1) as r:  # odd width: padded to even
        rng = np.random.default_rng(0)
        for _ in range(30):
            data.ctrl[:] = rng.uniform(-1, 1, model.nu)
            mujoco.mj_step(model, data, nstep=5)
            frames.append(r.render(data))
    path = tmp_path / "clip.mp4"
    record_frames(path, frames, fps=30)
    assert path.exists() and not list(tmp_path.glob("*.tmp*"))
    back = read_video_frames(path)
    assert back.shape == (30, 120, 162, 3) and back.dtype == np.uint8
    assert back[0].std() > 20.0
    # Lossy, but close to what went in (the padded column aside).
    assert np.abs(back[10, :, :161].astype(int) - frames[10]).mean() < 12.0
    assert read_video_frames(path, max_frames=5).shape[0] == 5


def test_record_a_qpos_trajectory(tmp_path: Path) -> None:
    model, data = _env_state("Hopper-v5", steps=0)
    qpos = [data.qpos.copy() for _ in range(12)]
    for k, q in enumerate(qpos):
        q[0] += 0.05 * k  # the hopper slides forward; the camera follows it
    path = tmp_path / "sub" / "hop.mp4"
    assert record_qpos(path, model, qpos, fps=20, width=96, height=64) == 12
    frames = read_video_frames(path)
    assert frames.shape == (12, 64, 96, 3) and frames.std() > 10.0


def test_video_errors_name_the_path(tmp_path: Path) -> None:
    missing = tmp_path / "nope.mp4"
    with pytest.raises(VideoError, match="nope.mp4"):
        read_video_frames(missing)
    good = tmp_path / "good.mp4"
    record_frames(good, [np.full((64, 64, 3), v, np.uint8) for v in range(0, 250, 10)], fps=10)
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    with pytest.raises(VideoError, match="cut.mp4"):
        read_video_frames(cut)
    # A failure while writing leaves neither a partial file nor a temporary one.
    bad = tmp_path / "bad.mp4"
    with pytest.raises(ValueError, match="frame"), VideoWriter(bad, fps=10) as w:
        w.add(np.zeros((64, 64, 3), np.uint8))
        w.add(np.zeros((32, 64, 3), np.uint8))
    assert not bad.exists() and sorted(p.name for p in tmp_path.iterdir()) == [
        "cut.mp4",
        "good.mp4",
    ]


def test_renderer_bench_prints_one_result_line(capsys: pytest.CaptureFixture[str]) -> None:
    from studio.sim.bench_viewer import main

    argv = ["--env", "Hopper-v5", "--width", "160", "--height", "120", "--seconds", "0.3"]
    assert main(argv) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) >= 3 and sum(line.startswith("RESULT") for line in lines) == 1
    fields = dict(item.split("=") for item in lines[-1].split()[1:])
    assert list(fields) == ["fps", "width", "height", "backend", "shadows_on_fps"]
    assert float(fields["fps"]) > 0 and float(fields["shadows_on_fps"]) > 0
    assert (fields["width"], fields["height"]) == ("160", "120")
    assert fields["backend"] == os.environ["MUJOCO_GL"]


def test_a_repeated_mujoco_warning_is_one_warning(caplog: pytest.LogCaptureFixture) -> None:
    model = mujoco.MjModel.from_xml_string(
        "<mujoco><worldbody><body><freejoint/><geom size='.1'/></body></worldbody></mujoco>"
    )
    mjlog.install_warning_handler()
    mjlog.forget_seen()
    try:
        with caplog.at_level(logging.DEBUG, logger=mjlog.LOGGER_NAME):
            for _ in range(3):
                data = mujoco.MjData(model)
                data.qpos[0] = np.nan
                mujoco.mj_step(model, data)
        levels = [r.levelno for r in caplog.records if r.name == "studio.mujoco"]
        assert levels == [logging.WARNING, logging.DEBUG, logging.DEBUG]
    finally:
        mjlog.uninstall_warning_handler()
