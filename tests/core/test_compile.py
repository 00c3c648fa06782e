"""Compiled designs: components that sum to the total, events, shaping, schedules, NaN reports."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from studio.core.compile import RewardNaNError, compile_design
from studio.core.design import Design, EventTerm, Group, Shaping, Term
from studio.core.schedule import Schedule

FEATS = {
    "v": np.array([1.0, 2.0, -1.0]),
    "u": np.array([0.5, 0.0, 2.0]),
    "h": np.array([1.3, 0.9, 1.6]),
}


def run(design: Design, feats=FEATS, **kw):  # type: ignore[no-untyped-def]
    return compile_design(design, set(FEATS), dtype=torch.float64)(feats, **kw)


def test_nested_sum_groups_flatten_and_total_is_exact_sum() -> None:
    d = Design("d", "T", Group("reward", [
        Term("speed", "v", weight=2.0),
        Group("costs", [Term("effort", "u * u"), Term("tilt", "abs(h - 1.25)", "exp_kernel", {"temperature": 0.1})], weight=-0.5),
    ]))
    out = run(d)
    assert list(out.components) == ["speed", "effort", "tilt"]
    np.testing.assert_allclose(out.components["speed"], 2 * FEATS["v"])
    np.testing.assert_allclose(out.components["effort"], -0.5 * FEATS["u"] ** 2)
    np.testing.assert_allclose(out.components["tilt"], -0.5 * np.exp(-np.abs(FEATS["h"] - 1.25) / 0.1))
    summed = sum(out.components.values(), torch.zeros(3, dtype=torch.float64))
    assert torch.equal(out.total, summed)
    # values are shaped and unweighted
    np.testing.assert_allclose(out.values["speed"], FEATS["v"])


def test_krc_group_is_one_component_weighted_outside() -> None:
    d = Design("d", "T", Group("reward", [
        Group("both", [Term("a", "v / 2", "clip"), Term("b", "h - 1", "clip")], combiner="krc", weight=3.0),
    ]))
    out = run(d)
    a = np.clip(FEATS["v"] / 2, -1, 1)
    b = np.clip(FEATS["h"] - 1, -1, 1)
    sign = np.where((a < 0) | (b < 0), -1.0, 1.0)
    np.testing.assert_allclose(out.components["both"], 3.0 * sign * np.sqrt(np.abs(a * b)))
    assert set(out.values) == {"a", "b", "both"}
    assert list(out.components) == ["both"]


def test_disabled_nodes_contribute_and_report_nothing() -> None:
    d = Design("d", "T", Group("reward", [Term("speed", "v"), Term("off", "u", enabled=False),
                                          Group("g", [Term("x", "h")], enabled=False)]))
    out = run(d)
    assert list(out.components) == ["speed"] and "off" not in out.values and "x" not in out.values
    assert compile_design(d).required_features == {"v"}


def test_events_pay_once_and_reset_at_episode_end() -> None:
    d = Design("d", "T", Group("reward", []), events=[
        EventTerm("fall", "termination", weight=-10.0),
        EventTerm("timeout", "truncation", weight=1.0),
        EventTerm("tall", "condition", condition="h > 1.5", weight=5.0),
    ])
    c = compile_design(d, set(FEATS), dtype=torch.float64)
    term = np.array([True, False, False])
    trunc = np.array([False, True, False])
    out = c(FEATS, terminated=term, truncated=trunc)
    np.testing.assert_allclose(out.components["fall"], [-10.0, 0.0, 0.0])
    np.testing.assert_allclose(out.components["timeout"], [0.0, 1.0, 0.0])
    np.testing.assert_allclose(out.components["tall"], [0.0, 0.0, 5.0])
    # Still tall in the next step: no second payment in the same episode.
    again = c(FEATS, state=out.state)
    np.testing.assert_allclose(again.components["tall"], [0.0, 0.0, 0.0])
    # After the episode of env 2 ends, it can pay again.
    ended = c(FEATS, state=again.state, terminated=np.array([False, False, True]))
    np.testing.assert_allclose(ended.components["tall"], [0.0, 0.0, 0.0])
    fresh = c(FEATS, state=ended.state)
    np.testing.assert_allclose(fresh.components["tall"], [0.0, 0.0, 5.0])


def test_potential_shaping_uses_previous_features_and_zero_terminal_potential() -> None:
    d = Design("d", "T", Group("reward", [Term("speed", "v")]), shaping=Shaping("-abs(h - 1)", gamma=0.9))
    c = compile_design(d, set(FEATS), dtype=torch.float64)
    assert c.needs_previous
    prev = {"h": np.array([1.0, 1.0, 1.0]), "v": np.zeros(3), "u": np.zeros(3)}
    out = c(FEATS, prev_features=prev, terminated=np.array([False, False, True]))
    phi_next = -np.abs(FEATS["h"] - 1)
    phi_next[2] = 0.0
    np.testing.assert_allclose(out.components["shaping"], 0.9 * phi_next - 0.0)
    with pytest.raises(ValueError, match="prev_features"):
        c(FEATS)


def test_schedules_follow_the_training_step() -> None:
    d = Design("d", "T", Group("reward", [
        Term("speed", "v", weight=Schedule("linear", 0.0, 1.0, steps=100)),
        Term("tight", "h", "exp_kernel", {"temperature": Schedule("piecewise", points=((0, 1.0), (10, 2.0)))}),
    ]))
    c = compile_design(d, set(FEATS), dtype=torch.float64)
    assert c.scheduled
    np.testing.assert_allclose(c(FEATS, step=0).components["speed"], 0.0 * FEATS["v"])
    np.testing.assert_allclose(c(FEATS, step=50).components["speed"], 0.5 * FEATS["v"])
    np.testing.assert_allclose(c(FEATS, step=5).components["tight"], np.exp(-FEATS["h"] / 1.5))


@pytest.mark.parametrize(
    ("source", "kind"),
    [("1 / (v * 0)", "inf"), ("log(v - 10)", "NaN"), ("sqrt(-u - 1)", "NaN"), ("exp(v * 1000)", "inf")],
)
def test_nan_and_inf_are_reported_with_the_term_name(source: str, kind: str) -> None:
    d = Design("d", "T", Group("reward", [Term("fine", "v"), Term("broken", source)]))
    with pytest.raises(RewardNaNError) as info:
        run(d)
    assert info.value.term == "broken"
    assert info.value.kind == kind
    assert f"produced {kind}" in str(info.value)


def test_log_shape_of_negative_values_is_not_nan() -> None:
    d = Design("d", "T", Group("reward", [Term("l", "v", "log", {"offset": 0.0})]))
    assert torch.isfinite(run(d).total).all()


def test_constant_terms_broadcast_and_float32() -> None:
    d = Design("d", "T", Group("reward", [Term("alive", "1.0", weight=0.5), Term("speed", "v")]))
    c = compile_design(d, set(FEATS))
    out = c({k: torch.tensor(v, dtype=torch.float32) for k, v in FEATS.items()})
    assert out.total.dtype == torch.float32 and out.components["alive"].shape == (3,)
    np.testing.assert_allclose(out.total.numpy(), 0.5 + FEATS["v"], rtol=1e-6)


def test_missing_feature_in_batch_is_named() -> None:
    d = Design("d", "T", Group("reward", [Term("speed", "v")]))
    with pytest.raises(KeyError, match="v"):
        compile_design(d)({"u": np.zeros(2)})


def test_unknown_feature_rejected_at_compile_time() -> None:
    from studio.core.design import DesignError

    d = Design("d", "T", Group("reward", [Term("speed", "velocity")]))
    with pytest.raises(DesignError, match="unknown feature 'velocity'"):
        compile_design(d, set(FEATS))


@pytest.mark.parametrize("device", ["cpu", pytest.param("cuda", marks=pytest.mark.gpu)])
def test_compiles_on_device(device: str) -> None:
    if device == "cuda" and not torch.cuda.is_available():
        pytest.skip("no CUDA device on this machine")
    d = Design("d", "T", Group("reward", [Term("speed", "v"), Group("k", [Term("a", "h - 1", "clip"), Term("b", "u", "tanh")], combiner="krc")]))
    out = compile_design(d, set(FEATS), device=device, dtype=torch.float64)(FEATS)
    assert out.total.device.type == device
    ref = compile_design(d, set(FEATS), dtype=torch.float64)(FEATS)
    np.testing.assert_allclose(out.total.cpu().numpy(), ref.total.numpy(), atol=1e-12)
