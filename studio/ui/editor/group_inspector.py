"""The group inspector: combiner and its parameters, and (on the root) potential shaping."""

from __future__ import annotations

import sys
from collections.abc import Callable, Collection
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QLabel,
    QVBoxLayout,
    QWidget,
)

from studio.core.design import Group, Shaping
from studio.ui.editor.heron_list import HeronList
from studio.ui.editor.inspector import NodeForm
from studio.ui.editor.model import MISSING, Change, DesignModel
from studio.ui.editor.params_form import ParamsForm
from studio.ui.widgets import ExpressionEdit, ParamSlider

COMBINER_LABELS = {
    "sum": "weighted sum",
    "krc": "KRC (sign-aware geometric mean)",
    "product": "product (hard AND)",
    "softmin": "soft-min",
    "heron": "HERON (ranked factors, learned reward)",
}


def combiners() -> dict[str, Any] | None:
    """The registered combiners, or None until ``studio.core.combine`` is imported.

    That module imports torch (seconds): the background task loader imports it, and the
    inspector never does so on the GUI thread; until then it offers the built-in names.
    """
    module = sys.modules.get("studio.core.combine")
    return None if module is None else module.COMBINERS


class ShapingBox(QGroupBox):
    """Potential-based shaping F = γΦ(s') − Φ(s): checkable, on when the design has it."""

    def __init__(self, model: DesignModel, names: Callable[[], Collection[str] | None],
                 parent: QWidget | None = None) -> None:
        super().__init__("Potential-based shaping", parent)
        self.model = model
        self.setCheckable(True)
        self.setToolTip("F = γ·Φ(s') − Φ(s) added to the reward; with negative slope 1 it "
                        "keeps the optimal policy unchanged (Ng et al. 1999).")
        self.potential = ExpressionEdit(names)
        self.gamma = QDoubleSpinBox()
        self.gamma.setRange(0.001, 1.0)
        self.gamma.setDecimals(4)
        self.gamma.setSingleStep(0.005)
        self.gamma.setKeyboardTracking(False)
        self.weight = ParamSlider((-10.0, 10.0))
        self.slope = QDoubleSpinBox()
        self.slope.setRange(0.0, 10.0)
        self.slope.setSingleStep(0.1)
        self.slope.setKeyboardTracking(False)
        self.slope.setToolTip("Multiplier of negative F; 1 keeps the optimal policy unchanged.")
        form = QFormLayout(self)
        form.addRow("Potential Φ", self.potential)
        form.addRow("γ", self.gamma)
        form.addRow("Weight", self.weight)
        form.addRow("Negative slope", self.slope)
        self.toggled.connect(self._toggle)
        self.potential.committed.connect(lambda t: self._edit({"potential": t}, "Shaping potential"))
        self.gamma.valueChanged.connect(lambda v: self._edit({"gamma": v}, "Shaping γ"))
        self.weight.valueEdited.connect(
            lambda v, drag: self._edit({"weight": v}, "Shaping weight", merge=drag))
        self.weight.dragFinished.connect(model.end_merge)
        self.slope.valueChanged.connect(lambda v: self._edit({"negative_slope": v}, "Shaping slope"))
        model.changed.connect(self._on_change)
        self.refresh()

    def _edit(self, values: dict[str, Any], text: str, merge: bool = False) -> None:
        if self.model.design.shaping is not None:
            self.model.edit(self.model.design.shaping, values, text, merge=merge)

    def _toggle(self, on: bool) -> None:
        has = self.model.design.shaping is not None
        if on and not has:
            self.model.set_shaping(Shaping(potential="0", name=self.model.unique_name("shaping")),
                                   "Add potential shaping")
        elif not on and has:
            self.model.set_shaping(None)

    def _on_change(self, change: Change) -> None:
        if change.kind != "edit" or change.node is self.model.design.shaping:
            self.refresh()

    def refresh(self) -> None:
        """Show the design's shaping (unchecked and empty when it has none)."""
        s = self.model.design.shaping
        for w in (self, self.gamma, self.slope):
            w.blockSignals(True)
        self.setChecked(s is not None)
        for child in (self.potential, self.gamma, self.weight, self.slope):
            child.setEnabled(s is not None)
        shown = s if s is not None else Shaping(potential="")
        if s is not None:
            self.potential.set_text(s.potential)
        else:
            self.potential.clear()
        self.gamma.setValue(shown.gamma)
        self.slope.setValue(shown.negative_slope)
        if isinstance(shown.weight, float | int):
            self.weight.set_value(float(shown.weight))
        for w in (self, self.gamma, self.slope):
            w.blockSignals(False)


class GroupInspector(NodeForm):
    """A group: combiner (with its temperature for soft-min), weight, enabled; shaping on the root."""

    def __init__(self, model: DesignModel, names: Callable[[], Collection[str] | None],
                 parent: QWidget | None = None) -> None:
        super().__init__(model, parent)
        self.combiner = QComboBox()
        self.combiner.currentIndexChanged.connect(self._set_combiner)
        self.combiner_doc = QLabel()
        self.combiner_doc.setWordWrap(True)
        self.combiner_doc.setStyleSheet("color: palette(mid);")
        self.params = ParamsForm()
        self.params.paramEdited.connect(
            lambda k, v, drag: self._edit({f"params.{k}": v}, k + " of {name}", merge=drag))
        self.params.dragFinished.connect(model.end_merge)
        self._filled_from_registry = False
        self.children_label = QLabel()
        self.shaping = ShapingBox(model, names)
        self.heron = HeronList(model)
        self.form.addRow("Name", self.name_edit)
        self.form.addRow("Combiner", self.combiner)
        self.form.addRow("", self.combiner_doc)
        self.form.addRow(self.params)
        self.form.addRow("Weight", self.weight)
        self.form.addRow("", self.weight_note)
        self.form.addRow("", self.enabled_box)
        self.form.addRow("Description", self.description)
        self.form.addRow("Children", self.children_label)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(6, 6, 6, 6)
        lay.addLayout(self.form)
        lay.addWidget(self.heron)
        lay.addWidget(self.shaping)
        lay.addStretch(1)

    def _fill_combiners(self) -> dict[str, Any]:
        registry = combiners()
        if self.combiner.count() and (registry is None or self._filled_from_registry):
            return registry or {}
        self.combiner.blockSignals(True)
        self.combiner.clear()
        for name in (registry or COMBINER_LABELS):
            self.combiner.addItem(COMBINER_LABELS.get(name, name), name)
            if registry is not None:
                self.combiner.setItemData(self.combiner.count() - 1, registry[name].doc,
                                          Qt.ItemDataRole.ToolTipRole)
        self.combiner.blockSignals(False)
        self._filled_from_registry = registry is not None
        return registry or {}

    def refresh(self) -> None:
        super().refresh()
        registry = self._fill_combiners()
        g: Group = self.node
        is_root = g is self.model.design.root
        self.enabled_box.setVisible(not is_root)
        self.shaping.setVisible(is_root)
        self.combiner.blockSignals(True)
        i = self.combiner.findData(g.combiner)
        if i < 0:
            self.combiner.addItem(g.combiner, g.combiner)
            i = self.combiner.count() - 1
        self.combiner.setCurrentIndex(i)
        self.combiner.blockSignals(False)
        comb = registry.get(g.combiner)
        if comb is None:
            known = not registry and g.combiner in COMBINER_LABELS
            self.combiner_doc.setText("loading…" if known else f"unknown combiner {g.combiner!r}")
        else:
            self.combiner_doc.setText(comb.doc)
        self.params.set_specs(comb.params if comb else ())
        self.params.set_values(g.params)
        self.children_label.setText(", ".join(c.name for c in g.children) or "none yet")
        self.heron.setVisible(g.combiner == "heron")
        self.heron.set_group(g if g.combiner == "heron" else None)

    def _on_change(self, change: Change) -> None:
        super()._on_change(change)
        if self.node is not None and change.kind == "structure":
            self.refresh()

    def _set_combiner(self, index: int) -> None:
        name = self.combiner.itemData(index)
        if self.node is None or not name or name == self.node.combiner:
            return
        values: dict[str, Any] = {"combiner": name}
        values.update({f"params.{k}": MISSING for k in self.node.params})
        self._edit(values, f"Combiner of {self.node.name}: {name}")
