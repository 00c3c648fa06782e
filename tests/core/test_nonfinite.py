"""NaN and infinity in a design document are errors named by their path."""

from __future__ import annotations

import json

import pytest

from studio.core.design import Design, DesignError, Group, Term


def _doc() -> dict:
    return Design("d", "Hopper-v5", Group("reward", [Term("fwd", "x_velocity"), Term("c", "ctrl_sq")])).to_json()


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity"])
def test_a_non_finite_weight_is_refused_with_its_path(literal: str) -> None:
    doc = _doc()
    doc["root"]["children"][0]["weight"] = "@@"
    text = json.dumps(doc).replace('"@@"', literal)  # what a hand-edited file holds
    with pytest.raises(DesignError) as info:
        Design.loads(text)
    assert info.value.path == "root.children[0].weight"
    assert "not a finite number" in info.value.message


def test_an_infinite_schedule_step_count_is_an_error_not_an_overflow() -> None:
    doc = _doc()
    doc["root"]["children"][1]["weight"] = {"schedule": "linear", "start": 0.0, "end": 1.0,
                                            "steps": float("inf")}
    with pytest.raises(DesignError) as info:
        Design.from_json(doc)
    assert info.value.path == "root.children[1].weight.steps"


def test_finite_documents_still_load() -> None:
    assert Design.loads(json.dumps(_doc())).root.children[0].weight == 1.0
