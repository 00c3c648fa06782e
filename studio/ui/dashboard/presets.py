"""The training settings picker: each task's presets, the tuned one selected by default."""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import QComboBox, QWidget

from studio.app.training_presets import PresetChoice, preset_choices, run_config


class PresetPicker(QComboBox):
    """A combo box of :class:`PresetChoice` for the current task; :meth:`config` builds the run's."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setToolTip("Training settings: RL Zoo's tuned PPO for the task (the default), its GPU "
                        "variant, the earlier CleanRL settings, or SAC")
        self.env_id: str | None = None
        # Wide enough for the longest label ("PPO · CleanRL (earlier default)"), not cut to "PPO · tun".
        self.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)

    def set_task(self, env_id: str, device: str = "auto") -> None:
        """List ``env_id``'s presets, keeping the current choice when the new task has it."""
        if env_id == self.env_id:
            return
        keep = self.choice()
        self.env_id = env_id
        self.clear()
        for c in preset_choices(env_id, device):
            self.addItem(c.label, c)
        if keep is not None:
            for i in range(self.count()):
                if self.itemData(i) == keep or (self.itemData(i).algo, self.itemData(i).name) == (keep.algo, keep.name):
                    self.setCurrentIndex(i)
                    break

    def choice(self) -> PresetChoice | None:
        """The selected preset (None before a task is set)."""
        data = self.currentData()
        return data if isinstance(data, PresetChoice) else None

    def config(self, env_id: str, steps: int, envs: int | None, /, **overrides: Any) -> Any:
        """The learner config of a run of ``env_id`` with the selected preset; ``envs`` None: the
        preset's. ``num_envs`` and ``total_timesteps`` in ``overrides`` win."""
        self.set_task(env_id)
        c = self.choice()
        assert c is not None
        num_envs = overrides.pop("num_envs", envs)
        steps = overrides.pop("total_timesteps", steps)
        return run_config(env_id, c.algo, c.name, steps, num_envs, **overrides)
