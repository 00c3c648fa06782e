"""A HERON group in the design document: factors, JSON, schema, validation, compile, weights file."""

from __future__ import annotations

import json

import jsonschema
import pytest
import torch

from studio.core.compile import compile_design
from studio.core.design import Design, DesignError, Factor, Group, Term, heron_factors, validate
from studio.core.heron import HeronModel, RewardModel, load_models, save_models
from studio.core.schema import design_schema


def hopper_heron(weight: float = 2.0) -> Design:
    """The authors' Hopper setting: progress, alive, power with sigma 0.1, 0.2, 0.5."""
    return Design("heron", "Hopper-v5", Group("reward", [
        Group("heron", [
            Term("progress", "x_velocity", factor=Factor("more", 0.1)),
            Term("alive", "healthy", factor=Factor("more", 0.2)),
            Term("power", "ctrl_sq", factor=Factor("less", 0.5)),
        ], combiner="heron", weight=weight),
    ]))


def test_order_directions_and_sigmas_round_trip_through_json() -> None:
    d = hopper_heron()
    doc = d.to_json()
    factors = [c["factor"] for c in doc["root"]["children"][0]["children"]]
    assert factors == [{"direction": "more", "sigma": 0.1}, {"direction": "more", "sigma": 0.2},
                       {"direction": "less", "sigma": 0.5}]
    back = Design.from_json(json.loads(d.dumps()))
    assert back == d
    assert [(t.name, f.sign, f.sigma) for t, f in heron_factors(back.heron_groups()[0])] == [
        ("progress", 1.0, 0.1), ("alive", 1.0, 0.2), ("power", -1.0, 0.5)]


def test_a_term_without_factor_writes_no_factor_key() -> None:
    # Documents of designs that use no HERON stay byte-identical (their hashes too).
    assert "factor" not in Design("d", "T", Group("reward", [Term("a", "x")])).to_json()["root"]["children"][0]


def test_reordering_or_changing_sigma_changes_the_document() -> None:
    a, b = hopper_heron(), hopper_heron()
    group = b.heron_groups()[0]
    group.children.reverse()
    assert a.dumps() != b.dumps()
    c = hopper_heron()
    first = c.heron_groups()[0].children[0]
    assert isinstance(first, Term) and first.factor is not None
    first.factor.sigma = 0.3
    assert a.dumps() != c.dumps()


def test_the_published_schema_accepts_a_heron_design_and_rejects_a_bad_direction() -> None:
    doc = hopper_heron().to_json()
    jsonschema.validate(doc, design_schema())
    doc["root"]["children"][0]["children"][0]["factor"]["direction"] = "up"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(doc, design_schema())


def test_reading_a_bad_direction_names_the_place() -> None:
    doc = hopper_heron().to_json()
    doc["root"]["children"][0]["children"][2]["factor"]["direction"] = "fewer"
    with pytest.raises(DesignError, match=r"root\.children\[0\]\.children\[2\]\.factor\.direction"):
        Design.from_json(doc)


def test_validation_rejects_a_group_as_factor_and_a_negative_sigma() -> None:
    d = hopper_heron()
    group = d.heron_groups()[0]
    group.children.append(Group("nested", [Term("x", "x_velocity")]))
    first = group.children[0]
    assert isinstance(first, Term) and first.factor is not None
    first.factor.sigma = -1.0
    paths = [p.path for p in validate(d)]
    assert "root.children[0].children[3]" in paths
    assert "root.children[0].children[0].factor.sigma" in paths


def test_an_untrained_heron_group_gives_zero() -> None:
    feats = {"x_velocity": torch.tensor([1.0, 2.0]), "healthy": torch.ones(2), "ctrl_sq": torch.zeros(2)}
    out = compile_design(hopper_heron())(feats)
    assert out.total.tolist() == [0.0, 0.0] and out.components["heron"].tolist() == [0.0, 0.0]


def test_a_trained_model_gives_the_group_value_times_its_weight() -> None:
    torch.manual_seed(0)
    net = RewardModel(4, (8,)).double()
    net.out_mean.fill_(0.5)
    net.out_std.fill_(2.0)
    model = HeronModel(net, ["joint_thigh_joint_pos"], use_factors=True)
    compiled = compile_design(hopper_heron(weight=3.0), dtype=torch.float64, heron={"heron": model})
    assert "joint_thigh_joint_pos" in compiled.required_features
    feats = {"x_velocity": torch.tensor([1.0, 2.0]), "healthy": torch.tensor([1.0, 0.0]),
             "ctrl_sq": torch.tensor([0.3, 0.1]), "joint_thigh_joint_pos": torch.tensor([0.2, -0.4])}
    out = compile_design(hopper_heron(weight=3.0), dtype=torch.float64, heron={"heron": model})(feats)
    # The model reads the input feature, then the factor values (children's weighted values).
    x = torch.tensor([[0.2, 1.0, 1.0, 0.3], [-0.4, 2.0, 0.0, 0.1]], dtype=torch.float64)
    with torch.no_grad():
        want = (net(x) - 0.5) / 2.0
    assert torch.allclose(out.values["heron"], want)
    assert torch.allclose(out.total, 3.0 * want)


def test_weights_file_round_trips_every_group(tmp_path) -> None:  # type: ignore[no-untyped-def]
    torch.manual_seed(1)
    a = HeronModel(RewardModel(4, (16, 8)), ["a", "b", "c", "d"], use_factors=False)
    a.model.in_mean.fill_(0.1)
    a.model.out_std.fill_(3.0)
    save_models({"g": a}, tmp_path / "w.safetensors")
    back = load_models(tmp_path / "w.safetensors")["g"]
    assert back.inputs == ["a", "b", "c", "d"] and back.use_factors is False and back.model.hidden == (16, 8)
    x = torch.randn(6, 4, dtype=torch.float64)
    with torch.no_grad():
        assert torch.allclose(back.model.reward(x), a.model.double().reward(x))


def test_a_file_that_is_not_a_weights_file_is_refused(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from safetensors.torch import save_file

    save_file({"x": torch.zeros(1)}, str(tmp_path / "other.safetensors"))
    with pytest.raises(ValueError, match="not a HERON weights file"):
        load_models(tmp_path / "other.safetensors")


def test_a_file_that_is_not_safetensors_is_refused(tmp_path) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "junk.safetensors").write_text("junk")
    with pytest.raises(ValueError, match="not a safetensors file"):
        load_models(tmp_path / "junk.safetensors")
