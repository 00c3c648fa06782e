"""The design document: JSON round trip, schema, and validation errors that name the path."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from studio.core.design import Design, DesignError, EventTerm, Group, Shaping, Term, check, validate
from studio.core.schedule import Schedule

SCHEMA = Path(__file__).resolve().parents[2] / "studio" / "core" / "design.schema.json"
FEATURES = {"x_velocity", "ctrl_sq", "torso_height", "healthy", "dist"}


def rich_design() -> Design:
    return Design(
        name="rich",
        task="Hopper-v5",
        description="every kind of node",
        root=Group(
            "reward",
            [
                Term("forward", "x_velocity", "linear", {"scale": 1.0}, weight=Schedule("linear", 0.0, 1.0, 1000)),
                Term("ctrl", "ctrl_sq", "power", {"exponent": 1.0}, weight=-1e-3),
                Group(
                    "posture",
                    [
                        Term("height", "torso_height", "tolerance", {"lower": 1.2, "upper": 2.0, "margin": 0.5, "sigmoid": "long_tail"}),
                        Term("near", "dist", "distance", {"dispersion": Schedule("piecewise", points=((0, 1.0), (500, 2.0)))}),
                    ],
                    combiner="krc",
                    weight=0.5,
                ),
                Group("soft", [Term("a", "healthy"), Term("b", "1 - healthy", enabled=False)], combiner="softmin", params={"temperature": 0.2}),
            ],
        ),
        events=[
            EventTerm("fall", "termination", weight=-10.0),
            EventTerm("tall", "condition", condition="torso_height > 1.5", weight=Schedule("cosine", 5.0, 0.0, 200, begin=10)),
        ],
        shaping=Shaping("-dist", gamma=0.98, negative_slope=0.5),
        meta={"origin": "test"},
    )


def test_round_trip_is_exact() -> None:
    d = rich_design()
    assert Design.loads(d.dumps()) == d
    assert Design.from_json(json.loads(json.dumps(d.to_json()))) == d
    assert validate(d, FEATURES) == []


def test_document_is_versioned() -> None:
    doc = rich_design().to_json()
    assert doc["format"] == "reward-studio/design" and doc["schema_version"] == 1
    doc["schema_version"] = 99
    with pytest.raises(DesignError, match="newer studio") as info:
        Design.from_json(doc)
    assert info.value.path == "schema_version"


def test_schema_is_published_and_accepts_documents() -> None:
    jsonschema = pytest.importorskip("jsonschema")
    schema = json.loads(SCHEMA.read_text())
    jsonschema.validate(rich_design().to_json(), schema)
    bad = rich_design().to_json()
    bad["root"]["children"][0]["weight"] = "heavy"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(bad, schema)


@pytest.mark.parametrize(
    ("mutate", "path", "fragment"),
    [
        (lambda d: d["root"]["children"][1].update(weight="x"), "root.children[1].weight", "expected a number"),
        (lambda d: d["root"]["children"][2]["children"][0].update(type="leaf"), "root.children[2].children[0].type", "expected 'term' or 'group'"),
        (lambda d: d["root"]["children"][0].update(name="bad name"), "root.children[0].name", "identifier"),
        (lambda d: d["events"][0].update(trigger="sometimes"), "events[0].trigger", "termination"),
        (lambda d: d["root"]["children"][0].update(weight={"schedule": "zigzag"}), "root.children[0].weight.schedule", "linear"),
        (lambda d: d["root"].update(children={}), "root.children", "expected a list"),
        (lambda d: d.update(root=[]), "root", "expected an object"),
    ],
)
def test_malformed_documents_name_the_path(mutate, path: str, fragment: str) -> None:  # type: ignore[no-untyped-def]
    doc = rich_design().to_json()
    mutate(doc)
    with pytest.raises(DesignError) as info:
        Design.from_json(doc)
    assert info.value.path == path
    assert fragment in info.value.message


def test_malformed_json_names_line_and_column() -> None:
    with pytest.raises(DesignError, match="line 2, column"):
        Design.loads('{"name": "x",\n "task": }')


def test_validation_names_every_problem() -> None:
    d = rich_design()
    d.root.children[0].shape = "wiggle"  # type: ignore[union-attr]
    d.root.children[1].params = {"exponent": -1.0, "colour": 3.0}  # type: ignore[union-attr]
    d.root.children[2].children[1].source = "dist + speed"  # type: ignore[union-attr]
    d.root.children[3].name = "forward"
    d.shaping = Shaping("dist", gamma=1.5)
    problems = {p.path: p.message for p in validate(d, FEATURES)}
    assert "expected one of" in problems["root.children[0].shape"]
    assert problems["root.children[1].params.exponent"] == "expected a number > 0, got -1.0"
    assert "has no parameter 'colour'" in problems["root.children[1].params.colour"]
    assert "unknown feature 'speed'" in problems["root.children[2].children[1].source"]
    assert "already used at root.children[0]" in problems["root.children[3].name"]
    assert "discount" in problems["shaping.gamma"]
    with pytest.raises(DesignError):
        check(d, FEATURES)


def test_find_and_terms() -> None:
    d = rich_design()
    assert [t.name for t in d.terms()] == ["forward", "ctrl", "height", "near", "a", "b"]
    assert isinstance(d.find("posture"), Group)
    assert isinstance(d.find("fall"), EventTerm)
    assert d.find("nothing") is None


def test_published_schema_is_current() -> None:
    from studio.core.schema import SCHEMA_PATH, design_schema

    assert json.loads(SCHEMA_PATH.read_text()) == design_schema(), "run: python -m studio.core.schema"
