"""The training panel offers the task's presets, the tuned one first, and a run starts with it."""

from __future__ import annotations

import pytest

pytest.importorskip("pyqtgraph")

from studio.app.training_presets import run_config  # noqa: E402
from studio.store import Workspace, repo  # noqa: E402
from studio.train.ppo import PPOConfig  # noqa: E402
from studio.train.sac import SACConfig  # noqa: E402
from studio.ui.context import AppContext  # noqa: E402
from studio.ui.dashboard import TrainingPanel  # noqa: E402
from studio.ui.dashboard.presets import PresetPicker  # noqa: E402

ENV = "InvertedPendulum-v5"


def test_the_picker_lists_the_tuned_preset_first_then_the_others(qtbot) -> None:  # type: ignore[no-untyped-def]
    picker = PresetPicker()
    qtbot.addWidget(picker)
    picker.set_task("Hopper-v5", device="cpu")
    labels = [picker.itemText(i) for i in range(picker.count())]
    assert labels[0] == "PPO · tuned (RL Zoo)" and picker.choice().name == "zoo"  # type: ignore[union-attr]
    assert labels[1:] == ["PPO · tuned for a GPU", "PPO · CleanRL (earlier default)", "SAC · tuned (RL Zoo)"]
    picker.setCurrentIndex(3)
    assert isinstance(picker.config("Hopper-v5", 5_000, None), SACConfig)
    picker.set_task("Walker2d-v5", device="cpu")  # the SAC choice survives a change of task
    assert picker.choice().algo == "sac"  # type: ignore[union-attr]


def test_fewer_envs_keep_the_presets_rollout_in_all() -> None:
    c = run_config("HalfCheetah-v5", "ppo", "zoo", 10_000, num_envs=4)
    assert isinstance(c, PPOConfig) and (c.num_envs, c.num_steps, c.batch_size) == (4, 128, 512)
    assert c.minibatch_size == 64  # the zoo's batch_size


def test_a_run_started_from_the_panel_uses_the_tuned_preset(qtbot, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from studio.sim.registry import get_task

    ws = Workspace.open(tmp_path / "ws")
    ctx = AppContext()
    ctx.set_workspace(ws)
    ctx.set_task(get_task(ENV))
    ctx.set_design(get_task(ENV).task_design())
    panel = TrainingPanel(ctx)
    qtbot.addWidget(panel)
    panel.config_overrides = {"snapshot_every": 0, "torch_threads": 1, "device": "cpu"}
    panel.steps_spin.setValue(1_000)
    panel.start_run()
    try:
        run_id = panel.controller.run_id
        with ws.session() as s:
            stored = repo.get_run(s, run_id).config
        # InvertedPendulum-v2 in RL Zoo's ppo.yml: n_steps 32, lr 0.000222425, constant.
        assert stored["learning_rate"] == 0.000222425 and stored["num_steps"] == 32
        assert stored["anneal_lr"] is False and stored["algo"] == "ppo"
    finally:
        panel.shutdown()
        ws.close()


def test_a_sac_design_marker_says_how_many_transitions_were_relabelled(qtbot) -> None:  # type: ignore[no-untyped-def]
    panel = TrainingPanel(AppContext())
    qtbot.addWidget(panel)
    try:
        panel._draw_marker(7, 4096, "design", {"version_id": None, "relabelled": 12345, "relabel_s": 0.042})
        (run_id, step, text), = panel.curves.marker_labels()
        assert (run_id, step) == (7, 4096) and "12,345 re-labelled in 0.04 s" in text
    finally:
        panel.shutdown()


def test_a_resumed_sac_run_marks_its_restored_buffer_or_says_why_not(qtbot) -> None:  # type: ignore[no-untyped-def]
    panel = TrainingPanel(AppContext())
    qtbot.addWidget(panel)
    try:
        panel._draw_marker(7, 8192, "replay", {"restored": 8192, "relabel_s": 0.01})
        panel._draw_marker(7, 8192, "replay", {"restored": 0, "reason": "replay.pt: it was written at step 10,240"})
        texts = [text for _, _, text in panel.curves.marker_labels()]
        assert sorted(texts) == ["buffer refilled by acting", "buffer: 8,192 restored"]
        assert "step 10,240" in panel.status.text()
    finally:
        panel.shutdown()
