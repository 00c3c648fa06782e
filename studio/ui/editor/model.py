"""The design being edited, and the undoable commands that are the only way to change it.

A :class:`DesignModel` owns one :class:`~studio.core.design.Design` and a ``QUndoStack``.
Views never mutate the design: they call the model's edit methods, each of which pushes a
command; the command mutates the design in place and the model emits ``changed`` with a
:class:`Change` saying what moved. Commands hold the node objects themselves (not names
or paths), so undo and redo stay correct through renames and reorders; ``reset`` clears
the stack, so no command outlives the objects it refers to.

Consecutive edits of the same field of the same node (a slider being dragged) merge into
one undo step through ``QUndoCommand.mergeWith``.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QUndoCommand, QUndoStack

from studio.core.design import Design, EventTerm, Group, Shaping, Term

Node = Term | Group | EventTerm
"""Anything with a name that lives in the tree or in the events list."""

_MISSING = object()
_MERGE_ID = 0x5253  # one id for every mergeable edit; mergeWith compares keys


@dataclass(frozen=True)
class Change:
    """What an edit changed.

    Attributes:
        kind: ``"reset"`` (a whole new design), ``"structure"`` (nodes added, removed or
            moved; events and shaping included) or ``"edit"`` (fields of one node).
        node: the edited node for ``"edit"`` (a Term, Group, EventTerm or Shaping).
        fields: the edited field names for ``"edit"``; parameters read ``params.<name>``.
    """

    kind: str
    node: Any = None
    fields: tuple[str, ...] = ()


def _get(node: Any, key: str) -> Any:
    if key.startswith("params."):
        return node.params.get(key[7:], _MISSING)
    return getattr(node, key)


def _set(node: Any, key: str, value: Any) -> None:
    if key.startswith("params."):
        if value is _MISSING:
            node.params.pop(key[7:], None)
        else:
            node.params[key[7:]] = value
    else:
        setattr(node, key, value)


class _EditCommand(QUndoCommand):
    """Set fields of one node; merges with the next edit of the same ``merge_key``."""

    def __init__(self, model: DesignModel, node: Any, values: dict[str, Any], text: str,
                 merge_key: object | None) -> None:
        super().__init__(text)
        self._model = model
        self._node = node
        self._new = dict(values)
        self._old = {k: _get(node, k) for k in values}
        self._merge_key = merge_key

    def id(self) -> int:  # noqa: A003 - Qt's name
        return _MERGE_ID if self._merge_key is not None else -1

    def mergeWith(self, other: QUndoCommand) -> bool:  # noqa: N802 - Qt's name
        if not isinstance(other, _EditCommand) or other._merge_key != self._merge_key:
            return False
        if other._node is not self._node or set(other._new) != set(self._new):
            return False
        self._new = dict(other._new)
        return True

    def redo(self) -> None:
        for k, v in self._new.items():
            _set(self._node, k, v)
        self._model._emit(Change("edit", self._node, tuple(self._new)))

    def undo(self) -> None:
        for k, v in self._old.items():
            _set(self._node, k, v)
        self._model._emit(Change("edit", self._node, tuple(self._old)))


class _ListCommand(QUndoCommand):
    """Move ``node`` from (src list, index) to (dst list, index); either end may be None."""

    def __init__(self, model: DesignModel, node: Any, src: tuple[list[Any], int] | None,
                 dst: tuple[list[Any], int] | None, text: str) -> None:
        super().__init__(text)
        self._model = model
        self._node = node
        self._src = src
        self._dst = dst

    @staticmethod
    def _move(node: Any, a: tuple[list[Any], int] | None, b: tuple[list[Any], int] | None) -> None:
        if a is not None:
            a[0].pop(a[1])
        if b is not None:
            b[0].insert(b[1], node)

    def redo(self) -> None:
        self._move(self._node, self._src, self._dst)
        self._model._emit(Change("structure"))

    def undo(self) -> None:
        self._move(self._node, self._dst, self._src)
        self._model._emit(Change("structure"))


class _ShapingCommand(QUndoCommand):
    """Turn potential-based shaping on (a Shaping) or off (None)."""

    def __init__(self, model: DesignModel, new: Shaping | None, text: str) -> None:
        super().__init__(text)
        self._model = model
        self._old = model.design.shaping
        self._new = new

    def redo(self) -> None:
        self._model.design.shaping = self._new
        self._model._emit(Change("structure"))

    def undo(self) -> None:
        self._model.design.shaping = self._old
        self._model._emit(Change("structure"))


class _ReplaceCommand(QUndoCommand):
    """Swap the whole design (a version or a file loaded over the draft); undo brings it back.

    The old design object itself is kept, so the commands below this one on the stack,
    which hold its nodes, stay valid.
    """

    def __init__(self, model: DesignModel, design: Design, version_id: int | None,
                 saved_doc: dict[str, Any] | None, text: str) -> None:
        super().__init__(text)
        self._model = model
        self._new = (design, version_id, saved_doc)
        self._old = (model.design, model.version_id, model._saved_doc)

    def redo(self) -> None:
        self._model._swap(*self._new)

    def undo(self) -> None:
        self._model._swap(*self._old)


class DesignModel(QObject):
    """One design under edit, with undo.

    Read ``design`` freely; change it only through the methods below.

    Signals:
        changed(Change): after every edit, undo, redo and reset.
    """

    changed = Signal(object)

    def __init__(self, design: Design | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.design: Design = design if design is not None else Design("untitled", "")
        self.undo_stack = QUndoStack(self)
        self.version_id: int | None = None
        """The saved version this design was loaded from or last saved as, if any."""
        self._saved_doc: dict[str, Any] | None = None
        """The document of ``version_id`` as saved: the design is modified when it differs."""
        self._dirty: bool | None = None
        """Cached comparison with ``_saved_doc`` (None: compute on the next read)."""
        self._merge_epoch = 0

    # --- whole design ------------------------------------------------------------------------
    def reset(self, design: Design, version_id: int | None = None) -> None:
        """Replace the design (not undoable: the undo history is cleared)."""
        self.undo_stack.clear()
        self.design = design
        self.version_id = version_id
        self._saved_doc = design.to_json()
        self._dirty = None
        self.undo_stack.setClean()
        self._emit(Change("reset"))

    def replace(self, design: Design, version_id: int | None = None, text: str = "",
                saved: bool = True) -> None:
        """Replace the design as one undoable step (Ctrl+Z returns to the previous one).

        ``saved``: ``design`` is exactly what ``version_id`` holds (False: a new, unsaved
        design).
        """
        doc = design.to_json() if saved else None
        self.undo_stack.push(_ReplaceCommand(self, design, version_id, doc,
                                             text or f"Open {design.name}"))

    def _swap(self, design: Design, version_id: int | None, saved_doc: dict[str, Any] | None) -> None:
        self.design, self.version_id, self._saved_doc = design, version_id, saved_doc
        self._dirty = None
        self._emit(Change("reset"))

    def mark_saved(self, version_id: int, document: dict[str, Any] | None = None) -> None:
        """Record that the current state (or ``document``) was saved as ``version_id``."""
        self.version_id = version_id
        self._saved_doc = document if document is not None else self.design.to_json()
        self._dirty = None
        self.undo_stack.setClean()

    def mark_unsaved(self) -> None:
        """The design is not what any saved version holds (a draft, a new design)."""
        self._saved_doc = None
        self._dirty = None
        self.undo_stack.resetClean()

    @property
    def dirty(self) -> bool:
        """Whether the design differs from the version it was loaded from or saved as.

        Compares content, not the undo history: an edit undone by hand, or an undo back
        to a saved state, is clean; a weight edit of any size is not.
        """
        if self._dirty is None:
            self._dirty = self._saved_doc is None or self.design.to_json() != self._saved_doc
        return self._dirty

    # --- lookup ------------------------------------------------------------------------------
    def find(self, name: str) -> Node | Shaping | None:
        """The term, group, event or shaping called ``name``."""
        node = self.design.find(name)
        if node is None and self.design.shaping is not None and self.design.shaping.name == name:
            return self.design.shaping
        return node

    def parent_of(self, node: Any) -> Group | None:
        """The group holding ``node`` (None for the root, events and shaping)."""
        for _, n in self.design.walk():
            if isinstance(n, Group) and any(c is node for c in n.children):
                return n
        return None

    def container_of(self, node: Any) -> tuple[list[Any], int] | None:
        """The list holding ``node`` and its index there, or None."""
        parent = self.parent_of(node)
        lst = parent.children if parent is not None else self.design.events
        for i, c in enumerate(lst):
            if c is node:
                return lst, i
        return None

    def names(self) -> set[str]:
        """Every name used in the design."""
        out = {n.name for _, n in self.design.walk()} | {e.name for e in self.design.events}
        if self.design.shaping is not None:
            out.add(self.design.shaping.name)
        return out

    def unique_name(self, base: str) -> str:
        """``base``, or ``base_2``, ``base_3``… whichever is not used yet."""
        used = self.names()
        if base not in used:
            return base
        return next(f"{base}_{i}" for i in itertools.count(2) if f"{base}_{i}" not in used)

    # --- edits -------------------------------------------------------------------------------
    def edit(self, node: Any, values: dict[str, Any], text: str = "",
             merge: bool = False) -> None:
        """Set fields of ``node`` (``{"weight": 0.5, "params.scale": 2.0}``) as one undo step.

        With ``merge``, a run of edits of the same fields of the same node (a slider drag)
        becomes one undo step, until :meth:`end_merge`. A parameter set to ``MISSING`` is removed (back to default).
        """
        if all(_get(node, k) == v for k, v in values.items()):
            return
        label = text or f"Edit {getattr(node, 'name', '')} {', '.join(values)}"
        key = (id(node), tuple(sorted(values)), self._merge_epoch) if merge else None
        self.undo_stack.push(_EditCommand(self, node, values, label, key))

    def end_merge(self) -> None:
        """The current drag ended: the next mergeable edit starts a new undo step."""
        self._merge_epoch += 1

    def insert(self, parent: Group | None, index: int, node: Node, text: str = "") -> None:
        """Insert ``node`` into ``parent``'s children (or the events list when None)."""
        lst = parent.children if parent is not None else self.design.events
        index = max(0, min(index, len(lst)))
        self.undo_stack.push(_ListCommand(self, node, None, (lst, index), text or f"Add {node.name}"))

    def remove(self, node: Node, text: str = "") -> None:
        """Remove a term, group or event (the root cannot be removed)."""
        where = self.container_of(node)
        if where is None:
            return
        self.undo_stack.push(_ListCommand(self, node, where, None, text or f"Remove {node.name}"))

    def move(self, node: Node, parent: Group | None, index: int, text: str = "") -> bool:
        """Move ``node`` to position ``index`` of ``parent`` (index counted before removal).

        Returns False (and does nothing) for an impossible move: a group into itself or
        its descendants, an event into the tree or a tree node into the events.
        """
        src = self.container_of(node)
        if src is None:
            return False
        if isinstance(node, EventTerm) != (parent is None):
            return False
        if isinstance(node, Group) and parent is not None and _contains(node, parent):
            return False
        dst_list = parent.children if parent is not None else self.design.events
        if dst_list is src[0] and index > src[1]:
            index -= 1
        index = max(0, min(index, len(dst_list) - (1 if dst_list is src[0] else 0)))
        if dst_list is src[0] and index == src[1]:
            return False
        self.undo_stack.push(_ListCommand(self, node, src, (dst_list, index), text or f"Move {node.name}"))
        return True

    def set_shaping(self, shaping: Shaping | None, text: str = "") -> None:
        """Add, replace or (with None) remove potential-based shaping."""
        self.undo_stack.push(_ShapingCommand(
            self, shaping, text or ("Remove shaping" if shaping is None else "Set shaping")))

    def _emit(self, change: Change) -> None:
        self._dirty = None
        self.changed.emit(change)


def _contains(group: Group, node: Any) -> bool:
    """Whether ``node`` is ``group`` or one of its descendants."""
    if node is group:
        return True
    return any(_contains(c, node) for c in group.children if isinstance(c, Group))


MISSING = _MISSING
"""Pass as a value to :meth:`DesignModel.edit` to remove a parameter (back to its default)."""
