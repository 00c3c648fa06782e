"""The Workspace dock: designs with their version history and runs, rollouts and rankings.

It reads the store through :class:`~studio.app.workspace_service.WorkspaceService` and
rebuilds itself when the workspace changes or a version is saved. Double-clicking a
version (or Enter on it) asks the main window to load it (a single click only selects,
so browsing never replaces the design); the context menu opens, compares and branches.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QPoint, Qt, QTimer, Signal
from PySide6.QtGui import QBrush, QColor, QFont
from PySide6.QtWidgets import QHeaderView, QMenu, QTreeWidget, QTreeWidgetItem, QVBoxLayout, QWidget

if TYPE_CHECKING:  # the store (SQLAlchemy) loads with the workspace, after the window shows
    from studio.app.workspace_service import Overview, VersionInfo, WorkspaceService

ROLE = Qt.ItemDataRole.UserRole
CURRENT_BG = QColor("#dbe8f7")
POLL_MS = 5000


def _when(v: Any) -> str:
    return v.strftime("%Y-%m-%d %H:%M") if v is not None else ""


class WorkspaceBrowser(QWidget):
    """A tree of what the workspace holds.

    Signals:
        versionSelected(int): the user activated a version (double-click, Enter, Open).
        compareRequested(int, int): compare version A with version B.
        newFromVersion(int): start a new design from this version.
    """

    versionSelected = Signal(int)  # noqa: N815
    compareRequested = Signal(int, int)  # noqa: N815
    newFromVersion = Signal(int)  # noqa: N815

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.service: WorkspaceService | None = None
        self.overview: Overview | None = None
        self.current_version: int | None = None
        self.tree = QTreeWidget()
        self.tree.setHeaderLabels(["Item", "Details"])
        self.tree.header().setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        self.tree.setAlternatingRowColors(True)
        self.tree.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.tree.customContextMenuRequested.connect(self._menu)
        self.tree.itemActivated.connect(self._activated)
        self.tree.setToolTip("Double-click a version (or press Enter) to open it; "
                             "Ctrl+Z brings back the design it replaced")
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.tree)
        # Runs and rollouts are added by other parts of the studio: poll, cheaply.
        self._poll = QTimer(self)
        self._poll.setInterval(POLL_MS)
        self._poll.timeout.connect(self.poll)
        self._poll.start()

    def set_service(self, service: WorkspaceService | None) -> None:
        """Browse ``service``'s workspace (None: nothing open)."""
        self.service = service
        self.refresh()

    def set_current(self, version_id: int | None) -> None:
        """Highlight the version loaded in the editor."""
        self.current_version = version_id
        self._mark_current()

    def poll(self) -> None:
        """Rebuild the tree if the workspace changed since the last look (while visible)."""
        if self.service is None or not self.isVisible():
            return
        try:
            overview = self.service.overview()
        except Exception:  # noqa: BLE001 - a closed or busy workspace: try next time
            return
        if overview != self.overview:
            self.refresh()

    def refresh(self) -> None:
        """Read the workspace again and rebuild the tree (expansion is kept)."""
        expanded = {self._key(it) for it in self._items() if it.isExpanded()}
        self.tree.clear()
        if self.service is None:
            QTreeWidgetItem(self.tree, ["No workspace open", "File › Open workspace…"])
            return
        ov = self.overview = self.service.overview()
        bold = QFont()
        bold.setBold(True)
        designs = QTreeWidgetItem(self.tree, ["Designs", f"{len(ov.designs)}"])
        designs.setFont(0, bold)
        designs.setData(0, ROLE, ("folder", "designs"))
        for d in ov.designs:
            item = QTreeWidgetItem(designs, [d.name, d.task])
            item.setData(0, ROLE, ("design", d.id))
            item.setToolTip(0, f"{d.name} ({d.task}), {len(d.versions)} versions")
            for v in reversed(d.versions):
                vi = QTreeWidgetItem(item, [f"v{v.number}", v.message or "(no message)"])
                vi.setData(0, ROLE, ("version", v.id))
                vi.setToolTip(0, f"{v.label}, saved {_when(v.created_at)}\n{v.message}")
                vi.setToolTip(1, vi.toolTip(0))
                for r in d.runs.get(v.id, []):
                    ri = QTreeWidgetItem(vi, [f"run {r.id}", r.status])
                    ri.setData(0, ROLE, ("run", r.id))
        for title, key, rows in (
            ("Rollouts", "rollouts", [(f"rollout {r.id}", _score(r.task_score, r.length), r.id)
                                      for r in ov.rollouts]),
            ("Rankings", "rankings", [(f"ranking {r.id}", f"{len(r.rollout_ids)} rollouts by "
                                       f"{r.annotator}" + (" (skipped)" if r.skipped else ""), r.id) for r in ov.rankings]),
        ):
            folder = QTreeWidgetItem(self.tree, [title, str(len(rows))])
            folder.setFont(0, bold)
            folder.setData(0, ROLE, ("folder", key))
            for text, detail, rid in rows:
                QTreeWidgetItem(folder, [text, detail]).setData(0, ROLE, (key[:-1], rid))
        designs.setExpanded(True)
        for it in self._items():
            if self._key(it) in expanded:
                it.setExpanded(True)
        self._mark_current()

    # --- helpers -----------------------------------------------------------------------------
    def _items(self) -> list[QTreeWidgetItem]:
        out: list[QTreeWidgetItem] = []
        root = self.tree.invisibleRootItem()
        stack = [root.child(i) for i in range(root.childCount())]
        while stack:
            it = stack.pop()
            out.append(it)
            stack.extend(it.child(i) for i in range(it.childCount()))
        return out

    @staticmethod
    def _key(item: QTreeWidgetItem) -> Any:
        return item.data(0, ROLE)

    def version_item(self, version_id: int) -> QTreeWidgetItem | None:
        """The tree item of ``version_id``."""
        return next((it for it in self._items() if self._key(it) == ("version", version_id)), None)

    def versions(self) -> list[VersionInfo]:
        """Every version listed."""
        return [] if self.overview is None else [v for d in self.overview.designs for v in d.versions]

    def _mark_current(self) -> None:
        for it in self._items():
            key = self._key(it)
            if key and key[0] == "version":
                current = key[1] == self.current_version
                brush = QBrush(CURRENT_BG) if current else QBrush()
                for c in range(2):
                    it.setBackground(c, brush)
                if current:
                    parent = it.parent()
                    while parent is not None:
                        parent.setExpanded(True)
                        parent = parent.parent()

    def _activated(self, item: QTreeWidgetItem, _column: int = 0) -> None:
        key = self._key(item)
        if key and key[0] == "version" and key[1] != self.current_version:
            self.versionSelected.emit(key[1])

    def _menu(self, pos: QPoint) -> None:
        item = self.tree.itemAt(pos)
        key = self._key(item) if item is not None else None
        menu = QMenu(self)
        if key and key[0] == "version":
            vid = key[1]
            menu.addAction("Open", lambda: self.versionSelected.emit(vid))
            compare = menu.addMenu("Compare with…")
            for v in self.versions():
                if v.id != vid:
                    compare.addAction(f"{v.label} — {v.message or '(no message)'}",
                                      lambda other=v.id: self.compareRequested.emit(vid, other))
            compare.setEnabled(not compare.isEmpty())
            menu.addAction("New design from this version", lambda: self.newFromVersion.emit(vid))
            menu.addSeparator()
        menu.addAction("Refresh", self.refresh)
        menu.exec(self.tree.viewport().mapToGlobal(pos))


def _score(score: float | None, length: int | None) -> str:
    parts = []
    if score is not None:
        parts.append(f"score {score:.3g}")
    if length is not None:
        parts.append(f"{length} steps")
    return ", ".join(parts)
