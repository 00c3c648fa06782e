"""Inspectors: the form that edits the node selected in the design tree.

Each form mirrors its node (``refresh``) whenever the design model reports a change of
it, and turns user input into undoable ``DesignModel.edit`` calls. Forms never keep a
value of their own, so undo and redo show up in them for free.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from studio.core.design import _NAME_RE, TRIGGERS, EventTerm, Term
from studio.core.features import FeatureCatalog
from studio.core.schedule import Schedule
from studio.core.shapes import SHAPES
from studio.ui.editor.curve import ShapeCurve
from studio.ui.editor.model import MISSING, Change, DesignModel
from studio.ui.editor.params_form import ParamsForm, weight_range
from studio.ui.widgets import ExpressionEdit, MessageLabel, ParamSlider


class NodeForm(QWidget):
    """What every inspector shares: name, weight, enabled, and following the model.

    Signals:
        message(str): a one-line note for the status bar (a refused rename...).
    """

    message = Signal(str)

    def __init__(self, model: DesignModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = model
        self.node: Any = None
        self.form = QFormLayout()
        self.form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.name_edit = QLineEdit()
        self.name_edit.editingFinished.connect(self._rename)
        self.enabled_box = QCheckBox("enabled")
        self.enabled_box.toggled.connect(
            lambda on: self._edit({"enabled": on}, ("Enable" if on else "Disable") + " {name}"))
        self.weight = ParamSlider()
        self.weight.valueEdited.connect(
            lambda v, drag: self._edit({"weight": v}, "Weight of {name}", merge=drag))
        self.weight.dragFinished.connect(model.end_merge)
        self.weight_note = QLabel()
        self.weight_note.hide()
        self.description = QLineEdit()
        self.description.setPlaceholderText("what this is for (free text)")
        self.description.editingFinished.connect(self._describe)
        model.changed.connect(self._on_change)

    def _edit(self, values: dict[str, Any], text: str, merge: bool = False) -> None:
        """An undoable edit of the shown node; ``{name}`` in ``text`` is its name."""
        if self.node is not None:
            self.model.edit(self.node, values, text.format(name=self.node.name), merge=merge)

    def set_node(self, node: Any) -> None:
        """Edit ``node`` (None: nothing)."""
        self.node = node
        if node is None:
            return
        w = node.weight
        scheduled = isinstance(w, Schedule)
        self.weight.setEnabled(not scheduled)
        self.weight_note.setVisible(scheduled)
        if scheduled:
            self.weight_note.setText(f"weight follows a schedule: {w.to_json()}")
        else:
            self.weight.set_slider_range(*weight_range(float(w)))
        self.refresh()

    def refresh(self) -> None:
        """Show the node's current values (subclasses add theirs)."""
        n = self.node
        self.name_edit.setText(n.name)
        self.description.setText(n.description)
        self.enabled_box.blockSignals(True)
        self.enabled_box.setChecked(n.enabled)
        self.enabled_box.blockSignals(False)
        if not isinstance(n.weight, Schedule):
            self.weight.set_value(float(n.weight))

    def _on_change(self, change: Change) -> None:
        if self.node is None:
            return
        if change.kind == "edit" and change.node is self.node:
            self.refresh()

    def _describe(self) -> None:
        if self.node is not None and self.description.text() != self.node.description:
            self._edit({"description": self.description.text()}, f"Describe {self.node.name}")

    def _rename(self) -> None:
        if self.node is None:
            return
        new = self.name_edit.text().strip()
        if new == self.node.name:
            return
        if not _NAME_RE.match(new):
            self.message.emit(f"“{new}” is not a valid name: use letters, digits and _, "
                              "not starting with a digit.")
        elif new in self.model.names():
            self.message.emit(f"The name “{new}” is already used in this design.")
        else:
            self._edit({"name": new}, f"Rename {self.node.name} to {new}")
            return
        self.name_edit.setText(self.node.name)


class TermInspector(NodeForm):
    """Source expression, shape and its parameters, weight, the curve and the scale."""

    def __init__(self, model: DesignModel, catalog: Callable[[], FeatureCatalog | None],
                 parent: QWidget | None = None) -> None:
        super().__init__(model, parent)
        self._catalog = catalog
        self.source = ExpressionEdit(self._names)
        self.source.committed.connect(
            lambda text: self._edit({"source": text}, "Source of {name}"))
        self.shape_combo = QComboBox()
        for name, shape in SHAPES.items():
            self.shape_combo.addItem(name)
            self.shape_combo.setItemData(self.shape_combo.count() - 1,
                                         f"{shape.doc}\n{shape.formula}", Qt.ItemDataRole.ToolTipRole)
        self.shape_combo.currentTextChanged.connect(self._set_shape)
        self.formula = QLabel()
        self.formula.setStyleSheet("color: palette(mid);")
        self.formula.setWordWrap(True)
        self.params = ParamsForm()
        self.params.paramEdited.connect(
            lambda k, v, drag: self._edit({f"params.{k}": v}, k + " of {name}", merge=drag))
        self.params.dragFinished.connect(model.end_merge)
        self.scale_label = QLabel()
        self.scale_label.setWordWrap(True)
        self.scale_label.setToolTip(
            "Effective scale: |weight| × the 95th percentile of |shaped value| over the source's "
            "typical range. Expected share: this term's scale over all terms' scales, before "
            "any rollout. The Plots table's 'share in episode' measures the same on a recorded "
            "episode instead (Help › Documentation: the two share figures).")
        self.curve = ShapeCurve()
        self.check_label = MessageLabel()
        """A finding on this term while editing (NaN on typical states), one elided line."""
        self.check_label.hide()

        self.form.addRow("Name", self.name_edit)
        self.form.addRow("Source", self.source)
        self.form.addRow("", self.check_label)
        self.form.addRow("Shape", self.shape_combo)
        self.form.addRow("", self.formula)
        self.form.addRow(self.params)
        self.form.addRow("Weight", self.weight)
        self.form.addRow("", self.weight_note)
        self.form.addRow("", self.enabled_box)
        self.form.addRow("Description", self.description)
        self.form.addRow("Scale", self.scale_label)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(6, 6, 6, 6)
        lay.addLayout(self.form)
        lay.addWidget(self.curve, 1)

    def _names(self) -> Collection[str] | None:
        cat = self._catalog()
        return cat.names() if cat is not None and len(cat) else None

    def refresh(self) -> None:
        super().refresh()
        t: Term = self.node
        self.source.set_text(t.source)
        self.shape_combo.blockSignals(True)
        self.shape_combo.setCurrentText(t.shape)
        self.shape_combo.blockSignals(False)
        shape = SHAPES.get(t.shape)
        self.formula.setText(f"{shape.formula}: {shape.doc}" if shape else f"unknown shape {t.shape!r}")
        self.params.set_specs(shape.params if shape else ())
        self.params.set_values(t.params)
        self.curve.show_term(t, self._catalog())

    def _set_shape(self, name: str) -> None:
        if self.node is None or name == self.node.shape:
            return
        # Parameters of the old shape mean nothing to the new one: drop them in the same step.
        values: dict[str, Any] = {"shape": name}
        values.update({f"params.{k}": MISSING for k in self.node.params})
        self._edit(values, f"Shape of {self.node.name}: {name}")

    def set_check(self, text: str, level: str = "warning") -> None:
        """Show a finding on the term (empty: none)."""
        self.check_label.set_message(text, level if text else "")
        self.check_label.setVisible(bool(text))

    def set_scale(self, scale: float | None, share: float | None, dominant: bool) -> None:
        """Show the term's effective scale and whether it dominates."""
        if scale is None:
            self.scale_label.setText("—")
            return
        text = f"{scale:.3g}  (|weight| × typical magnitude"
        text += f"; expected share {100 * share:.0f}%)" if share is not None else ")"
        if dominant:
            text = f"<b style='color:#c77700'>⚠ dominates:</b> {text}"
        self.scale_label.setText(text)


class EventInspector(NodeForm):
    """An event: trigger, condition and the amount it pays."""

    def __init__(self, model: DesignModel, names: Callable[[], Collection[str] | None],
                 parent: QWidget | None = None) -> None:
        super().__init__(model, parent)
        self.trigger = QComboBox()
        self.trigger.addItems(list(TRIGGERS))
        self.trigger.currentTextChanged.connect(
            lambda t: self._edit({"trigger": t}, "Trigger of {name}"))
        self.condition = ExpressionEdit(names)
        self.condition.committed.connect(
            lambda text: self._edit({"condition": text}, "Condition of {name}"))
        self.form.addRow("Name", self.name_edit)
        self.form.addRow("Trigger", self.trigger)
        self.form.addRow("Condition", self.condition)
        self.form.addRow("Pays", self.weight)
        self.form.addRow("", self.weight_note)
        self.form.addRow("", self.enabled_box)
        self.form.addRow("Description", self.description)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(6, 6, 6, 6)
        lay.addLayout(self.form)
        lay.addStretch(1)

    def refresh(self) -> None:
        super().refresh()
        e: EventTerm = self.node
        self.trigger.blockSignals(True)
        self.trigger.setCurrentText(e.trigger)
        self.trigger.blockSignals(False)
        self.condition.set_text(e.condition)
        self.form.setRowVisible(self.condition, e.trigger == "condition")
