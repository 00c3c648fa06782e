"""Help > Plugins shows every plugin, and a failed one with its reason."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from PySide6.QtWidgets import QApplication

from studio.core.plugin_table import reset_term_plugins
from tests.plugin_dist import installed_plugin


def test_help_plugins_lists_a_broken_plugin_with_its_reason(
        qtbot: Any, make_main_window: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from studio.ui.plugins_dialog import PluginsDialog

    with installed_plugin(tmp_path, monkeypatch, "broken-terms",
                          {"broken_terms2": "raise RuntimeError('needs a GPU driver')\n"},
                          {"reward_studio.terms": {"broken2": "broken_terms2:register"}}):
        reset_term_plugins()
        try:
            window = make_main_window(wait_task=False)
            window.act_plugins.trigger()  # the menu entry, as a user clicks it
            dialogs = [w for w in QApplication.topLevelWidgets()
                       if isinstance(w, PluginsDialog) and w.isVisible()]
            assert len(dialogs) == 1
            dialog = dialogs[0]
            table = dialog.table
            rows = {(table.item(i, 0).text(), table.item(i, 1).text()): table.item(i, 3).text()
                    for i in range(table.rowCount())}
            assert rows[("terms", "broken2")] == "failed: RuntimeError: needs a GPU driver"
            assert rows[("terms", "builtin")] == "loaded" and rows[("envs", "builtin")] == "loaded"
            assert dialog.summary.property("problem") is True and "1 failed" in dialog.summary.text()
            dialog.close()
        finally:
            reset_term_plugins()
