"""Help > Plugins: every plugin the studio loaded, and each one that failed with its reason."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

__all__ = ["PluginsDialog", "open_plugins_dialog"]


class PluginsDialog(QDialog):
    """A table: group, plugin, target, state (``loaded`` or the failure's reason)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        from studio.app.plugins import plugin_report

        self.setWindowTitle("Plugins")
        self.setObjectName("plugins_dialog")
        self.rows = plugin_report()
        failed = [r for r in self.rows if not r.ok]
        layout = QVBoxLayout(self)
        self.summary = QLabel(
            f"{len(self.rows)} plugins, {len(failed)} failed"
            + (": a failed plugin was skipped; its reason is in the last column." if failed else "."))
        self.summary.setProperty("problem", bool(failed))
        layout.addWidget(self.summary)
        self.table = QTableWidget(len(self.rows), 4, self)
        self.table.setHorizontalHeaderLabels(["Group", "Plugin", "Target", "State"])
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        for i, r in enumerate(self.rows):
            state = "loaded" if r.ok else f"failed: {r.error}"
            for j, text in enumerate((r.group.removeprefix("reward_studio."), r.name, r.target, state)):
                item = QTableWidgetItem(text)
                item.setToolTip(text)
                if not r.ok:
                    item.setData(Qt.ItemDataRole.UserRole, "failed")
                self.table.setItem(i, j, item)
        self.table.horizontalHeader().setSectionResizeMode(3, QHeaderView.ResizeMode.Stretch)
        layout.addWidget(self.table)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.resize(820, 320)


def open_plugins_dialog(context: Any, parent: QWidget | None = None) -> PluginsDialog:
    """Open Help > Plugins (non-modal)."""
    dialog = PluginsDialog(parent)
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    dialog.open()
    return dialog
