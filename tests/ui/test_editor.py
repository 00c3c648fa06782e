"""The reward editor: curves follow parameters, undo/redo, tree editing, expression errors."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QModelIndex, Qt

from studio.core.design import Design, EventTerm, Group, Term
from studio.core.shapes import SHAPES
from studio.ui.editor.tree import EVENTS


def design_abc() -> Design:
    return Design("abc", "HalfCheetah-v5", Group("reward", [
        Term("a", "x_velocity", "exp_kernel", {"temperature": 1.0}),
        Term("b", "ctrl_sq", weight=-0.1),
        Group("g", [Term("c", "torso_angle", "tanh")]),
    ]), events=[EventTerm("fall", "termination", weight=-5.0)])


def names(group: Group) -> list[str]:
    return [c.name for c in group.children]


# --- curves ------------------------------------------------------------------------------


def test_parameter_change_updates_the_curve(make_editor):
    ed = make_editor(design_abc())
    term = ed.model.design.find("a")
    ed.select(term)
    curve = ed.term_inspector.curve
    x, y0 = curve.curve.getData()
    assert len(x) == 200 and x[0] < x[-1]
    np.testing.assert_allclose(y0, np.exp(-x / 1.0))
    item_before = curve.curve

    slider = ed.term_inspector.params.editors["temperature"]
    slider.slider.setValue(slider.slider.value() + 100)
    new_t = term.params["temperature"]
    assert new_t != 1.0
    x1, y1 = curve.curve.getData()
    assert curve.curve is item_before  # setData on the same item, not a new one
    np.testing.assert_allclose(y1, SHAPES["exp_kernel"].fn(np, x1, temperature=new_t))


def test_curve_follows_every_step_of_a_slider_drag(make_editor):
    # Timing belongs to `reward-studio bench gui`; here: every step of a drag redraws the
    # curve for the value the slider shows, and the dashed curve follows the weight.
    ed = make_editor(design_abc())
    term = ed.model.design.find("a")
    ed.select(term)
    curve = ed.term_inspector.curve
    editor = ed.term_inspector.params.editors["temperature"]
    editor.slider.setSliderDown(True)
    seen = set()
    for pos in range(editor.slider.value() + 20, editor.slider.value() + 320, 60):
        editor.slider.setValue(pos)
        t = editor.value()
        assert term.params["temperature"] == pytest.approx(t)
        x, y = curve.curve.getData()
        np.testing.assert_allclose(y, np.exp(-x / t))  # exp kernel written out, not looked up
        seen.add(round(t, 6))
    editor.slider.setSliderDown(False)
    assert len(seen) == 5  # five different temperatures, five different curves
    weight = ed.term_inspector.weight
    weight.slider.setValue(weight.slider.value() + 50)
    x, y = curve.curve.getData()
    _, wy = curve.weighted.getData()
    np.testing.assert_allclose(wy, term.weight * y)
    assert term.weight != 1.0


# --- undo and redo -----------------------------------------------------------------------


def test_slider_drag_merges_into_one_undo_step(make_editor):
    ed = make_editor(design_abc())
    term = ed.model.design.find("a")
    ed.select(term)
    stack = ed.model.undo_stack
    slider = ed.term_inspector.params.editors["temperature"].slider
    slider.setSliderDown(True)  # as the mouse does
    for v in (300, 320, 340, 360):
        slider.setValue(v)
    slider.setSliderDown(False)  # released: the next drag is a new step
    assert stack.count() == 1
    dragged = term.params["temperature"]
    slider.setSliderDown(True)
    slider.setValue(400)
    slider.setSliderDown(False)
    assert stack.count() == 2
    stack.undo()
    assert term.params["temperature"] == dragged
    stack.undo()
    assert term.params.get("temperature") == 1.0
    assert ed.term_inspector.params.editors["temperature"].value() == 1.0  # the view follows
    stack.redo()
    assert term.params["temperature"] == dragged


def test_slider_keyboard_steps_are_separate_undo_steps(make_editor, qtbot):
    ed = make_editor(design_abc())
    ed.select(ed.model.design.find("a"))
    slider = ed.term_inspector.params.editors["temperature"].slider
    slider.setFocus()
    qtbot.keyClick(slider, Qt.Key.Key_PageUp)
    qtbot.keyClick(slider, Qt.Key.Key_PageUp)
    assert ed.model.undo_stack.count() == 2


def test_event_condition_shows_only_for_condition_trigger(make_editor):
    ed = make_editor(design_abc())
    fall = ed.model.design.events[0]
    ed.select(fall)
    ei = ed.event_inspector
    assert not ei.form.isRowVisible(ei.condition)
    ei.trigger.setCurrentText("condition")
    assert fall.trigger == "condition" and ei.form.isRowVisible(ei.condition)
    assert ei.condition.error_label.text() == "Column 1: the expression is empty"


def test_rename_and_describe(make_editor):
    ed = make_editor(design_abc())
    term = ed.model.design.find("a")
    ed.select(term)
    ti = ed.term_inspector
    ti.name_edit.setText("forward_exp")
    ti.name_edit.editingFinished.emit()
    assert term.name == "forward_exp"
    ti.name_edit.setText("b")  # taken: refused, the field shows the name again
    ti.name_edit.editingFinished.emit()
    assert term.name == "forward_exp" and ti.name_edit.text() == "forward_exp"
    ti.description.setText("go fast")
    ti.description.editingFinished.emit()
    assert term.description == "go fast"
    ed.model.undo_stack.undo()
    ed.model.undo_stack.undo()
    assert term.name == "a" and term.description == "" and ti.name_edit.text() == "a"


def test_weight_spin_edit_is_undoable(make_editor):
    ed = make_editor(design_abc())
    term = ed.model.design.find("b")
    ed.select(term)
    ed.term_inspector.weight.spin.setValue(-0.5)
    assert term.weight == -0.5
    ed.model.undo_stack.undo()
    assert term.weight == -0.1
    assert ed.term_inspector.weight.value() == pytest.approx(-0.1)


def test_shape_change_drops_old_params_in_one_step(make_editor):
    ed = make_editor(design_abc())
    term = ed.model.design.find("a")
    ed.select(term)
    ed.term_inspector.shape_combo.setCurrentText("tolerance")
    assert term.shape == "tolerance" and term.params == {}
    assert "margin" in ed.term_inspector.params.editors
    ed.model.undo_stack.undo()
    assert term.shape == "exp_kernel" and term.params == {"temperature": 1.0}


# --- tree editing ------------------------------------------------------------------------


def test_keyboard_add_remove_and_reorder(make_editor, qtbot):
    ed = make_editor(design_abc())
    root = ed.model.design.root
    stack = ed.model.undo_stack
    ed.select(root.children[0])  # a
    ed.tree.setFocus()

    qtbot.keyClick(ed.tree, Qt.Key.Key_Insert)
    assert len(root.children) == 4
    added = root.children[1]
    assert ed.selected() is added and added.source == "x_velocity"

    qtbot.keyClick(ed.tree, Qt.Key.Key_Down, Qt.KeyboardModifier.ControlModifier)
    assert names(root) == ["a", "b", added.name, "g"]
    qtbot.keyClick(ed.tree, Qt.Key.Key_Up, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClick(ed.tree, Qt.Key.Key_Up, Qt.KeyboardModifier.ControlModifier)
    assert names(root) == [added.name, "a", "b", "g"]

    qtbot.keyClick(ed.tree, Qt.Key.Key_Delete)
    assert names(root) == ["a", "b", "g"]

    # every step undoes and redoes
    stack.undo()
    assert names(root) == [added.name, "a", "b", "g"]
    stack.undo()
    stack.undo()
    assert names(root) == ["a", "b", added.name, "g"]
    stack.undo()
    assert names(root) == ["a", added.name, "b", "g"]
    stack.undo()
    assert names(root) == ["a", "b", "g"]
    for _ in range(5):
        stack.redo()
    assert names(root) == ["a", "b", "g"]
    assert ed.tree_model.rowCount(ed.tree_model.index_of(root)) == 3


def test_insert_on_events_adds_an_event(make_editor):
    ed = make_editor(design_abc())
    ed.select(EVENTS)
    ed.add_term()
    assert [e.name for e in ed.model.design.events] == ["fall", "event"]


def test_drag_and_drop_moves_a_term_into_a_group(make_editor):
    ed = make_editor(design_abc())
    tm = ed.tree_model
    d = ed.model.design
    a, g = d.find("a"), d.find("g")
    data = tm.mimeData([tm.index_of(a)])
    assert tm.canDropMimeData(data, Qt.DropAction.MoveAction, 0, 0, tm.index_of(g))
    assert tm.dropMimeData(data, Qt.DropAction.MoveAction, 0, 0, tm.index_of(g))
    assert names(d.root) == ["b", "g"] and names(g) == ["a", "c"]
    # the tree model mirrors the move
    assert tm.node(tm.index(0, 0, tm.index_of(g))) is a
    ed.model.undo_stack.undo()
    assert names(d.root) == ["a", "b", "g"] and names(g) == ["c"]


def test_drop_reorders_within_a_group_and_appends_with_row_minus_one(make_editor):
    ed = make_editor(design_abc())
    tm, d = ed.tree_model, ed.model.design
    root_index = tm.index_of(d.root)
    tm.dropMimeData(tm.mimeData([tm.index_of(d.find("a"))]), Qt.DropAction.MoveAction,
                    -1, 0, root_index)
    assert names(d.root) == ["b", "g", "a"]
    tm.dropMimeData(tm.mimeData([tm.index_of(d.find("a"))]), Qt.DropAction.MoveAction,
                    0, 0, root_index)
    assert names(d.root) == ["a", "b", "g"]


def test_invalid_drops_are_refused(make_editor):
    ed = make_editor(design_abc())
    tm, d = ed.tree_model, ed.model.design
    g = d.find("g")
    # a group into itself, an event into the tree, a term into the events, onto a term
    assert not tm.dropMimeData(tm.mimeData([tm.index_of(g)]), Qt.DropAction.MoveAction, 0, 0,
                               tm.index_of(g))
    fall = d.events[0]
    assert not tm.canDropMimeData(tm.mimeData([tm.index_of(fall)]), Qt.DropAction.MoveAction,
                                  0, 0, tm.index_of(d.root))
    assert not tm.canDropMimeData(tm.mimeData([tm.index_of(d.find("a"))]),
                                  Qt.DropAction.MoveAction, 0, 0, tm.index_of(EVENTS))
    assert not tm.canDropMimeData(tm.mimeData([tm.index_of(d.find("a"))]),
                                  Qt.DropAction.MoveAction, 0, 0, tm.index_of(d.find("b")))
    assert names(d.root) == ["a", "b", "g"] and ed.model.undo_stack.count() == 0


def test_checkbox_in_the_tree_disables_a_term(make_editor):
    ed = make_editor(design_abc())
    tm = ed.tree_model
    b = ed.model.design.find("b")
    tm.setData(tm.index_of(b), Qt.CheckState.Unchecked.value, Qt.ItemDataRole.CheckStateRole)
    assert b.enabled is False
    ed.model.undo_stack.undo()
    assert b.enabled is True


# --- catalogue ---------------------------------------------------------------------------


def test_catalogue_filters_and_activation_sets_the_source(make_editor, qtbot):
    ed = make_editor(design_abc())
    cat = ed.catalog
    cat.filter.setText("torso height")
    assert [s.name for s in cat.model.rows][0] == "torso_height"
    row = cat.model.index(0, 3)
    assert cat.model.data(row) and cat.model.data(cat.model.index(0, 1)) == "m"
    term = ed.model.design.find("b")
    ed.select(term)
    cat.table.setCurrentIndex(cat.model.index(0, 0))
    qtbot.keyClick(cat.table, Qt.Key.Key_Return)
    assert term.source == "torso_height"
    # with a group selected, a new term is added
    ed.select(ed.model.design.root)
    cat.table.doubleClicked.emit(cat.model.index(0, 0))
    assert ed.model.design.find("torso_height") is not None


# --- expressions -------------------------------------------------------------------------


def test_expression_error_is_underlined_at_its_column(make_editor, qtbot):
    ed = make_editor(design_abc())
    ed.select(ed.model.design.find("a"))
    source = ed.term_inspector.source
    source.line.setPlainText("x_velocity + nope")
    assert source.error_label.isVisibleTo(ed)
    assert source.error_label.text() == "Column 14: unknown feature 'nope'"
    assert source.error_span() == (13, 4)
    source.line.setPlainText("x_velocity * * 2")
    assert source.error_label.text().startswith("Column 14: syntax error")
    assert source.error_span() == (13, 1)
    source.line.setPlainText("abs(x_velocity) - 0.1")
    assert source.error_span() is None and not source.error_label.isVisibleTo(ed)
    # Enter commits the text as one undoable edit
    source.line.setFocus()
    qtbot.keyClick(source.line, Qt.Key.Key_Return)
    assert ed.model.design.find("a").source == "abs(x_velocity) - 0.1"
    ed.model.undo_stack.undo()
    assert ed.model.design.find("a").source == "x_velocity"
    assert source.text() == "x_velocity"


def test_invalid_design_is_flagged_in_the_tree(make_editor):
    ed = make_editor(design_abc())
    a = ed.model.design.find("a")
    ed.model.edit(a, {"source": "bogus_feature"})
    ed.update_derived()
    tm = ed.tree_model
    assert "a" in tm.problems and "bogus_feature" in tm.problems["a"]
    assert tm.data(tm.index_of(a), Qt.ItemDataRole.DisplayRole).startswith("⚠")


# --- groups, scales ----------------------------------------------------------------------


def test_group_inspector_sets_softmin_with_temperature(make_editor):
    ed = make_editor(design_abc())
    g = ed.model.design.find("g")
    ed.select(g)
    gi = ed.group_inspector
    gi.combiner.setCurrentIndex(gi.combiner.findData("softmin"))
    assert g.combiner == "softmin"
    gi.params.editors["temperature"].spin.setValue(0.5)
    assert g.params["temperature"] == 0.5
    ed.model.undo_stack.undo()
    ed.model.undo_stack.undo()
    assert g.combiner == "sum" and g.params == {}


def test_shaping_box_adds_and_removes_shaping(make_editor):
    ed = make_editor(design_abc())
    d = ed.model.design
    ed.select(d.root)
    box = ed.group_inspector.shaping
    box.setChecked(True)
    assert d.shaping is not None
    box.potential.set_text("-abs(torso_angle)")
    box.potential.committed.emit("-abs(torso_angle)")
    box.gamma.setValue(0.95)
    assert d.shaping.potential == "-abs(torso_angle)" and d.shaping.gamma == 0.95
    assert ed.tree_model.index_of(d.shaping).isValid()
    box.setChecked(False)
    assert d.shaping is None
    ed.model.undo_stack.undo()
    assert d.shaping is not None and d.shaping.gamma == 0.95


def test_dominating_term_is_flagged(make_editor):
    ed = make_editor(design_abc())
    b = ed.model.design.find("b")
    ed.model.edit(b, {"weight": -100.0})
    ed.update_derived()
    tm = ed.tree_model
    assert tm.dominant == {"b"}
    assert "◆" in tm.data(tm.index_of(b, 3))
    ed.select(b)
    assert "dominates" in ed.term_inspector.scale_label.text()


def test_undo_of_a_removal_restores_the_selection_target(make_editor):
    ed = make_editor(design_abc())
    c = ed.model.design.find("c")
    ed.select(c)
    ed.remove_selected()
    assert ed.model.design.find("c") is None
    assert ed.selected() is ed.model.design.find("g")  # the parent, its only child gone
    ed.model.undo_stack.undo()
    assert ed.tree_model.index_of(c) != QModelIndex()


def test_duplicate_gives_fresh_names_and_undoes(make_editor, qtbot):
    ed = make_editor(design_abc())
    d = ed.model.design
    ed.select(d.find("g"))
    with qtbot.waitActive(ed):  # shortcuts fire in the active window only
        ed.activateWindow()
    ed.tree.setFocus()
    qtbot.keyClick(ed.tree, Qt.Key.Key_D, Qt.KeyboardModifier.ControlModifier)
    assert names(d.root) == ["a", "b", "g", "g_copy"]
    assert names(d.find("g_copy")) == ["c_copy"]
    twin = ed.duplicate_selected()  # the copy is selected: a copy of the copy
    assert twin.name == "g_copy_2" and names(twin) == ["c_copy_2"]
    ed.model.undo_stack.undo()
    ed.model.undo_stack.undo()
    assert names(d.root) == ["a", "b", "g"]


def test_find_shortcut_focuses_the_feature_search(make_editor, qtbot):
    ed = make_editor(design_abc())
    with qtbot.waitActive(ed):
        ed.activateWindow()
    ed.tree.setFocus()
    qtbot.keyClick(ed.tree, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    assert ed.catalog.filter.hasFocus()


def test_typing_a_name_offers_completions(make_editor, qtbot):
    ed = make_editor(design_abc())
    ed.select(ed.model.design.find("a"))
    line = ed.term_inspector.source.line
    line.setPlainText("")
    line.setFocus()
    qtbot.keyClicks(line, "abs(torso_he")
    popup = line.completer.popup()
    assert popup.isVisible()
    assert line.completer.currentCompletion() == "torso_height"
    line.completer.activated.emit(line.completer.currentCompletion())  # as Enter in the popup
    assert line.toPlainText() == "abs(torso_height"
