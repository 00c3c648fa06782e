"""The term statistics table: mean, min, max, share of magnitude, correlation with the task score.

A term that dominates (more than 80% of the reward's magnitude) or never changes is
highlighted with the reason in its tooltip and in the Flags column (Eureka's reflection).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import QHeaderView, QTableWidget, QTableWidgetItem, QWidget

from studio.app.detectors import term_statistics

COLUMNS = ("term", "mean", "min", "max", "share in episode", "corr. task", "flags")
TIPS = {"share in episode": "The term's mean |contribution| over all terms' along the recorded "
                            "episode (the editor's 'expected share' is computed from typical "
                            "ranges, before any rollout)",
        "corr. task": "Correlation of the term with the task's own reward along the episode",
        "flags": "Dominates (more than 80% of the magnitude) or never changes"}


class StatsTable(QTableWidget):
    """One row per term; rebuilt from scratch on every :meth:`show_stats`."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(0, len(COLUMNS), parent)
        self.setHorizontalHeaderLabels(COLUMNS)
        for c, name in enumerate(COLUMNS):
            if name in TIPS:
                self.horizontalHeaderItem(c).setToolTip(TIPS[name])
        self.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.horizontalHeader().setStretchLastSection(True)
        self.verticalHeader().setVisible(False)
        self.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.setSortingEnabled(False)
        self.flags: dict[str, list[str]] = {}

    def show_stats(self, components: Mapping[str, np.ndarray], task_score: np.ndarray | None) -> None:
        """Statistics of ``components`` (per step), correlated with ``task_score``."""
        stats = term_statistics(components, task_score)
        self.setRowCount(len(stats))
        self.flags = {}
        for r, st in enumerate(stats):
            flags = []
            if st.dominates:
                flags.append(f"dominates ({st.share:.0%}): rescale it or the others")
            if st.never_changes:
                flags.append("never changes: drop it or change its shape")
            self.flags[st.name] = flags
            cells = [st.name, f"{st.mean:.4g}", f"{st.min:.4g}", f"{st.max:.4g}",
                     f"{st.share:.0%}", "—" if np.isnan(st.correlation) else f"{st.correlation:+.2f}",
                     "; ".join(flags)]
            for c, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if flags:
                    item.setBackground(QBrush(QColor(120, 60, 20, 90)))
                    item.setToolTip("\n".join(flags))
                self.setItem(r, c, item)
