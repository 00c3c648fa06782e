"""File › Export for a HERON design: pick the run's weights, the code reads them beside itself."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from studio.ui.export_dialog import ExportDialog
from tests.export.test_heron_export import cheetah_heron, weights


def test_a_heron_design_exports_with_the_chosen_weights(qtbot: Any, make_context: Any, tmp_path: Path,
                                                        no_leaked_widgets: None) -> None:
    ctx = make_context(cheetah_heron())
    dialog = ExportDialog(ctx)
    qtbot.addWidget(dialog)
    dialog.show()
    try:
        qtbot.waitUntil(lambda: not dialog.runner.is_running(), timeout=20_000)
        # Without weights: a message with the remedy, nothing to save.
        assert dialog.heron_row.isVisible()
        assert "trained model" in dialog.error_label.text() and not dialog.save_button.isEnabled()
        w = weights(tmp_path / "heron.safetensors")
        with qtbot.waitSignal(dialog.runner.finished, timeout=20_000):
            dialog.set_heron_weights(str(w))
        assert "heron_reward(" in dialog.text() and dialog.save_button.isEnabled()
        assert dialog.save_to(tmp_path / "out" / "reward.py")
        assert (tmp_path / "out" / "reward.heron.safetensors").read_bytes() == w.read_bytes()
    finally:
        dialog.runner.wait(10)
        dialog.close()
