"""The reward editor dock: design tree, feature catalogue and the inspector of the selection.

The panel reads the design from the context's :class:`DesignModel` and changes it only
through it. Derived numbers (effective scales, validation problems) are recomputed at
most every 150 ms after edits, and only once the task's catalogue is known (computing
them needs torch, which loads in the background at start-up).
"""

from __future__ import annotations

import copy
import re
from typing import Any

from PySide6.QtCore import QItemSelectionModel, QModelIndex, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QKeySequence, QResizeEvent
from PySide6.QtWidgets import (
    QFrame,
    QLabel,
    QScrollArea,
    QSplitter,
    QStackedWidget,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from studio.core.design import EventTerm, Group, Shaping, Term
from studio.ui.context import AppContext
from studio.ui.editor.agreement import AgreementWidget
from studio.ui.editor.catalog import FeatureCatalogWidget
from studio.ui.editor.group_inspector import GroupInspector
from studio.ui.editor.inspector import EventInspector, TermInspector
from studio.ui.editor.model import Change
from studio.ui.editor.tree import EVENTS, DesignTreeModel, DesignTreeView

DERIVED_DELAY_MS = 150


class RewardEditor(QWidget):
    """Tree + catalogue on the left, the selected node's inspector on the right.

    Signals:
        message(str): a note for the status bar.
    """

    message = Signal(str)

    def __init__(self, context: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.context = context
        self.model = context.design_model
        self.tree_model = DesignTreeModel(self.model, self)
        self.tree = DesignTreeView()
        self.tree.setModel(self.tree_model)
        self.tree.setContextMenuPolicy(Qt.ContextMenuPolicy.ActionsContextMenu)
        self.catalog = FeatureCatalogWidget()
        self.catalog.set_catalog(context.catalog)

        names = self._feature_names
        self.term_inspector = TermInspector(self.model, lambda: self.context.catalog)
        self.group_inspector = GroupInspector(self.model, names)
        self.event_inspector = EventInspector(self.model, names)
        self.empty_page = QLabel("Select a term or a group to edit it.")
        self.empty_page.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.stack = QStackedWidget()
        for w in (self.empty_page, self.term_inspector, self.group_inspector, self.event_inspector):
            self.stack.addWidget(w)
        for form in (self.term_inspector, self.group_inspector, self.event_inspector):
            form.message.connect(self.message)

        self.toolbar = QToolBar()
        self.toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        self.actions_: dict[str, QAction] = {}
        for key, text, tip, slot in (
            ("add_term", "+ Term", "Add a term (Insert)", self.add_term),
            ("add_group", "+ Group", "Add a group", self.add_group),
            ("add_event", "+ Event", "Add a one-off event payment", self.add_event),
            ("remove", "Remove", "Remove the selection (Delete)", self.remove_selected),
            ("up", "▲", "Move up (Ctrl+Up)", lambda: self.move_selected(-1)),
            ("down", "▼", "Move down (Ctrl+Down)", lambda: self.move_selected(+1)),
            ("duplicate", "Duplicate", "Duplicate the selection (Ctrl+D)", self.duplicate_selected),
        ):
            act = QAction(text, self)
            act.setToolTip(tip)
            act.triggered.connect(slot)
            self.actions_[key] = act
            if key != "duplicate":
                self.toolbar.addAction(act)
        # Editor shortcuts act while the focus is anywhere in the editor, not window-wide.
        for key, shortcut in (("duplicate", "Ctrl+D"),):
            self.actions_[key].setShortcut(QKeySequence(shortcut))
        find = QAction("Find a feature", self)
        find.setShortcut(QKeySequence.StandardKey.Find)
        find.triggered.connect(lambda: (self.catalog.filter.setFocus(), self.catalog.filter.selectAll()))
        self.actions_["find"] = find
        for act in self.actions_.values():
            act.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            self.addAction(act)

        for key in ("add_term", "add_group", "add_event", "duplicate", "remove", "up", "down"):
            self.tree.addAction(self.actions_[key])

        left = QWidget()
        ll = QVBoxLayout(left)
        ll.setContentsMargins(0, 0, 0, 0)
        ll.setSpacing(2)
        ll.addWidget(self.toolbar)
        ll.addWidget(self.tree, 1)
        self.left_split = QSplitter(Qt.Orientation.Vertical)
        self.left_split.addWidget(left)
        self.left_split.addWidget(self.catalog)
        self.left_split.setStretchFactor(0, 2)
        self.left_split.setStretchFactor(1, 3)
        self.split = QSplitter(Qt.Orientation.Horizontal)
        self.split.addWidget(self.left_split)
        # The inspector scrolls rather than forcing the dock (and the window) wider.
        self.inspector_scroll = QScrollArea()
        self.inspector_scroll.setWidget(_Holder(self.stack))
        self.inspector_scroll.setWidgetResizable(True)
        self.inspector_scroll.setFrameShape(QFrame.Shape.NoFrame)
        self.inspector_scroll.setMinimumWidth(220)
        self.split.addWidget(self.inspector_scroll)
        self.split.setStretchFactor(0, 1)
        self.split.setStretchFactor(1, 1)
        self.split.setChildrenCollapsible(False)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(2, 2, 2, 2)
        lay.addWidget(self.split)
        # Live agreement of the design with every stored ranking (computed in a worker).
        self.agreement = AgreementWidget(context)
        lay.addWidget(self.agreement)

        self._derived_timer = QTimer(self)
        self._derived_timer.setSingleShot(True)
        self._derived_timer.setInterval(DERIVED_DELAY_MS)
        self._derived_timer.timeout.connect(self.update_derived)

        self.tree.selectionModel().currentChanged.connect(self._on_current)
        self.tree.addRequested.connect(self.add_term)
        self.tree.removeRequested.connect(self.remove_selected)
        self.tree.moveRequested.connect(self.move_selected)
        self.catalog.featureActivated.connect(self.use_feature)
        self.model.changed.connect(self._on_change)
        context.taskChanged.connect(self._on_task)
        self._selected: Any = None
        self._shares: dict[str, float] = {}
        self._after_reset()

    # --- selection ---------------------------------------------------------------------------
    def selected(self) -> Any:
        """The selected node (Term, Group, EventTerm, Shaping, ``EVENTS``) or None."""
        return self.tree_model.node(self.tree.currentIndex())

    def select(self, node: Any) -> None:
        """Select ``node`` in the tree and show its inspector."""
        index = self.tree_model.index_of(node)
        if index.isValid():
            self.tree.selectionModel().setCurrentIndex(
                index, QItemSelectionModel.SelectionFlag.ClearAndSelect
                | QItemSelectionModel.SelectionFlag.Rows)
            self.tree.scrollTo(index)
        else:
            self._show(None)

    def _on_current(self, current: QModelIndex, _previous: QModelIndex) -> None:
        self._show(self.tree_model.node(current))

    def _show(self, node: Any) -> None:
        self._selected = node
        if isinstance(node, Term):
            self.term_inspector.set_node(node)
            self.stack.setCurrentWidget(self.term_inspector)
            self._show_scale()
        elif isinstance(node, Group | Shaping):
            group = node if isinstance(node, Group) else self.model.design.root
            self.group_inspector.set_node(group)
            self.stack.setCurrentWidget(self.group_inspector)
        elif isinstance(node, EventTerm):
            self.event_inspector.set_node(node)
            self.stack.setCurrentWidget(self.event_inspector)
        else:
            for form in (self.term_inspector, self.group_inspector, self.event_inspector):
                form.node = None
            self.stack.setCurrentWidget(self.empty_page)

    # --- following the model -----------------------------------------------------------------
    def _on_change(self, change: Change) -> None:
        if change.kind == "reset":
            self._after_reset()
        elif change.kind == "structure":
            self.tree.expandAll()
            self.tree.resizeColumnToContents(0)
            keep = self._selected
            alive = keep is EVENTS or self.tree_model.index_of(keep).isValid()
            self.select(keep if alive else self.model.design.root)
        self._derived_timer.start()

    def _after_reset(self) -> None:
        from studio.ui.term_colours import assign_design

        assign_design(self.model.design)  # terms get their colours in tree order
        self.tree.expandAll()
        self.tree.resizeColumnToContents(0)
        terms = self.model.design.terms()
        self.select(terms[0] if terms else self.model.design.root)
        self._derived_timer.start()

    def _on_task(self, _task: Any) -> None:
        self.catalog.set_catalog(self.context.catalog)
        self.term_inspector.curve.invalidate()
        if isinstance(self._selected, Term):
            self.term_inspector.refresh()
        elif self.stack.currentWidget() is self.group_inspector:
            self.group_inspector.refresh()  # the combiners may have just been loaded
        self._derived_timer.start()

    def _feature_names(self) -> list[str] | None:
        cat = self.context.catalog
        return cat.names() if cat is not None and len(cat) else None

    def update_derived(self) -> None:
        """Recompute effective scales and the checks before training, and show them.

        Errors mark their node red; a term that gives NaN or inf on the task's typical
        states is flagged (tree and inspector) while editing; an empty group is a draft
        with a hint. The findings go to the context, where the training panel reads why
        Start is disabled.
        """
        cat = self.context.catalog
        if cat is None:
            return
        from studio.app.checks import check_design
        from studio.core.analysis import DOMINANCE_SHARE, effective_scales, shares

        design = self.model.design
        scales = effective_scales(design, cat)
        self._shares = shares(scales)
        dominant = {k for k, s in self._shares.items() if s > DOMINANCE_SHARE} if len(scales) > 1 else set()
        checks = check_design(design, cat)
        problems: dict[str, str] = {}
        notes: dict[str, tuple[str, str]] = {}
        for c in checks:
            if c.level == "error":
                problems[c.node] = f"{problems[c.node]}\n{c.message}" if c.node in problems else c.message
            elif c.node not in notes:
                notes[c.node] = (c.level, c.message)
        self.tree_model.set_derived(scales, dominant, problems, notes)
        self.context.set_checks(checks)
        self._show_scale()

    def _show_scale(self) -> None:
        node = self._selected
        if isinstance(node, Term):
            tm = self.tree_model
            self.term_inspector.set_scale(tm.scales.get(node.name),
                                          self._shares.get(node.name),
                                          node.name in tm.dominant)
            level, text = tm.notes.get(node.name, ("", ""))
            self.term_inspector.set_check(text if level == "warning" else "", level)

    # --- editing actions ---------------------------------------------------------------------
    def _insertion_point(self) -> tuple[Group, int]:
        node = self._selected
        if isinstance(node, Group):
            return node, len(node.children)
        if isinstance(node, Term):
            where = self.model.container_of(node)
            parent = self.model.parent_of(node)
            if where is not None and parent is not None:
                return parent, where[1] + 1
        root = self.model.design.root
        return root, len(root.children)

    def add_term(self, source: str | None = None) -> Term | None:
        """Add a term after the selection (or into the selected group); events get an event."""
        if self._selected is EVENTS or isinstance(self._selected, EventTerm):
            return self.add_event()  # type: ignore[return-value]
        if not isinstance(source, str) or not source:
            names = self._feature_names()
            source = names[0] if names else "0"
        base = source if re.fullmatch(r"[A-Za-z_]\w*", source) else "term"
        term = Term(self.model.unique_name(base), source, "linear")
        parent, index = self._insertion_point()
        self.model.insert(parent, index, term, f"Add term {term.name}")
        self.select(term)
        return term

    def add_group(self) -> Group:
        """Add an empty group (sum) after the selection."""
        group = Group(self.model.unique_name("group"))
        parent, index = self._insertion_point()
        self.model.insert(parent, index, group, f"Add group {group.name}")
        self.select(group)
        return group

    def add_event(self) -> EventTerm:
        """Add a termination event after the selected event (or at the end)."""
        ev = EventTerm(self.model.unique_name("event"), "termination", weight=-1.0)
        node = self._selected
        where = self.model.container_of(node) if isinstance(node, EventTerm) else None
        index = where[1] + 1 if where else len(self.model.design.events)
        self.model.insert(None, index, ev, f"Add event {ev.name}")
        self.select(ev)
        return ev

    def remove_selected(self) -> None:
        """Remove the selected term, group or event (or the shaping)."""
        node = self._selected
        if isinstance(node, Shaping):
            self.model.set_shaping(None)
        elif isinstance(node, Term | Group | EventTerm) and node is not self.model.design.root:
            neighbour = self._neighbour(node)
            self.model.remove(node)
            self.select(neighbour)

    def _neighbour(self, node: Any) -> Any:
        where = self.model.container_of(node)
        if where is None:
            return self.model.design.root
        lst, i = where
        if i + 1 < len(lst):
            return lst[i + 1]
        if i > 0:
            return lst[i - 1]
        return self.model.parent_of(node) or (EVENTS if isinstance(node, EventTerm) else self.model.design.root)

    def move_selected(self, delta: int) -> None:
        """Move the selection up (-1) or down (+1) among its siblings."""
        node = self._selected
        where = self.model.container_of(node) if isinstance(node, Term | Group | EventTerm) else None
        if where is None:
            return
        lst, i = where
        j = i + delta
        if not 0 <= j < len(lst):
            return
        self.model.move(node, self.model.parent_of(node), j + 1 if delta > 0 else j)
        self.select(node)

    def duplicate_selected(self) -> Any:
        """Insert a copy of the selected term, group (with fresh names inside) or event after it."""
        node = self._selected
        where = self.model.container_of(node) if isinstance(node, Term | Group | EventTerm) else None
        if where is None:
            return None
        twin = copy.deepcopy(node)
        taken = self.model.names()
        for part in _subtree(twin):
            base = re.sub(r"_copy(_\d+)?$", "", part.name) + "_copy"
            name, i = base, 2
            while name in taken:
                name, i = f"{base}_{i}", i + 1
            part.name = name
            taken.add(name)
        parent = self.model.parent_of(node)
        self.model.insert(parent, where[1] + 1, twin, f"Duplicate {node.name}")
        self.select(twin)
        return twin

    def use_feature(self, name: str) -> None:
        """Use feature ``name`` as the selected term's source, or add a new term reading it."""
        node = self._selected
        if isinstance(node, Term):
            self.model.edit(node, {"source": name}, f"Source of {node.name}: {name}")
        else:
            self.add_term(name)


def _subtree(node: Any) -> list[Any]:
    """``node`` and, for a group, everything below it."""
    out = [node]
    for child in getattr(node, "children", []):
        out.extend(_subtree(child))
    return out


class _Holder(QWidget):
    """Hosts the inspector stack in the scroll area, sized by its minimum only.

    A scroll area makes a child whose layout has height-for-width (word-wrapped labels)
    at least as tall as its *preferred* height, so the stretchy curve would always
    scroll; this holder has no layout and reports the child's minimum size instead.
    """

    def __init__(self, child: QWidget) -> None:
        super().__init__()
        self.child = child
        child.setParent(self)

    def minimumSizeHint(self) -> QSize:  # noqa: N802 - Qt's name
        return self.child.minimumSizeHint()

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt's name
        return self.child.minimumSizeHint()

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 - Qt's name
        self.child.setGeometry(self.rect())


__all__ = ["RewardEditor"]


