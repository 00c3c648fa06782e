"""Designs that exercise every shape, sigmoid kind, combiner, expression function, event and schedule."""

from __future__ import annotations

from studio.core.design import Design, EventTerm, Group, Shaping, Term
from studio.core.schedule import Schedule
from studio.core.shapes import SIGMOID_KINDS

TASK = "HalfCheetah-v5"

# Every expression function at least once, plus every operator, comparison and boolean op.
EXPRESSIONS = [
    "abs(x_velocity) + exp(-abs(torso_angle)) - log(1 + ctrl_sq) + sqrt(abs(torso_height))",
    "tanh(x_velocity / 3) * sin(torso_angle) + cos(torso_angular_velocity) * sign(x_velocity)",
    "clip(x_velocity, -1, 2) + min(torso_height, 0.5, x_velocity) - max(ctrl_sq, 0.2)",
    "where(x_velocity > 0, x_velocity ** 2, -x_velocity % 1.5)",
    "(torso_height >= 0.1 and x_velocity <= 5) or not (ctrl_sq != 0) + (torso_angle == 0)",
    "(0 < x_velocity < 3) * pi - e * (torso_angle < -0.1) + exp(2) / 3",
    # array features: indexing, slicing, reductions
    "sum(square(action)) + norm(body_torso_pos - body_bthigh_pos) - mean(abs(qvel[1:4])) "
    "+ max(qpos) * min(cfrc_ext[1:, 3:]) + dot(qvel[0:2], qpos[1:3]) + sum(abs(diff(ctrl)))",
    "all(isfinite(concat(qpos, qvel))) * any(qvel[2:] > 1) + (qpos[1] < inf) + square(qvel[0])",
    # features of the previous transition (state a reward keeps between calls)
    "x_velocity - prev(x_velocity) + 0.1 * prev(sum(abs(qvel[1:])))",
]


def every_shape_design() -> Design:
    """Every shape (tolerance with every sigmoid kind), every combiner, schedules, events, shaping."""
    shapes = [
        Term("lin", "x_velocity", "linear", {"scale": 2.0, "offset": -0.5}, weight=1.0),
        Term("clipped", "x_velocity", "clip", {"low": -0.5, "high": 1.5}, weight=0.5),
        Term("pow_signed", "torso_angle", "power", {"exponent": 1.5, "signed": 1.0}, weight=0.3),
        Term("pow_sq", "torso_angular_velocity", "power", {"exponent": 2.0}, weight=-0.01),
        Term("logged", "ctrl_sq", "log", {"offset": 1.0}, weight=-0.2),
        Term("kernel", "abs(x_velocity - 3)", "exp_kernel", {"temperature": 2.0},
             weight=Schedule("linear", start=0.0, end=1.0, steps=1000, begin=100)),
        Term("dist", "torso_height - 0.6", "distance", {"scale": 0.5, "dispersion": 2.0, "density": 1.5}),
        Term("sdist", "x_velocity", "signed_distance", {"scale": 1.0, "dispersion": 0.8, "density": 2.0}),
        Term("sig", "x_velocity", "sigmoid", {"center": Schedule("cosine", start=0.0, end=2.0, steps=500), "width": 0.7}),
        Term("soft", "torso_angle", "tanh", {"scale": 0.4}, weight=-0.5),
    ]
    tolerances = [
        Term(f"tol_{kind}", "x_velocity", "tolerance",
             {"lower": 0.5, "upper": 1.5, "margin": 2.0, "sigmoid": kind, "value_at_margin": 0.2},
             weight=0.1)
        for kind in SIGMOID_KINDS
    ]
    tolerances.append(Term("tol_hard", "torso_height", "tolerance", {"lower": 0.0, "upper": 0.7, "margin": 0.0}))
    expressions = [Term(f"expr_{i}", text, weight=0.05) for i, text in enumerate(EXPRESSIONS)]
    combos = [
        Group("krc_group", [
            Term("k_speed", "x_velocity / 10", "clip", {"low": -1.0, "high": 1.0}),
            Term("k_level", "torso_angle", "tolerance", {"lower": -0.2, "upper": 0.2, "margin": 1.0}),
        ], combiner="krc", weight=0.7),
        Group("prod_group", [
            Term("p_a", "x_velocity", "sigmoid", {"center": 1.0}),
            Term("p_b", "ctrl_sq", "exp_kernel", {"temperature": 3.0}),
        ], combiner="product", weight=Schedule("piecewise", points=((0, 0.0), (200, 1.0), (800, 0.5)))),
        Group("softmin_group", [
            Term("s_a", "x_velocity", "tanh"),
            Term("s_b", "torso_height", "linear"),
            Group("s_nested", [Term("s_c", "torso_angle"), Term("s_d", "ctrl_sq", weight=-1.0)], weight=0.5),
        ], combiner="softmin", params={"temperature": 0.3}, weight=0.4),
        Group("nested_sum", [
            Term("n_a", "x_velocity", weight=0.25),
            Term("n_off", "x_velocity", enabled=False),
            Group("n_inner", [Term("n_b", "torso_height", "power", {"exponent": 3.0})], weight=-2.0),
        ], weight=1.5),
    ]
    return Design(
        name="every_shape",
        task=TASK,
        root=Group("reward", shapes + tolerances + expressions + combos, weight=0.9),
        events=[
            EventTerm("fell", "termination", weight=-10.0),
            EventTerm("timeout", "truncation", weight=2.0),
            EventTerm("fast_once", "condition", "x_velocity > 1.0", weight=Schedule("linear", start=5.0, end=1.0, steps=300)),
            EventTerm("flipped", "condition", "abs(torso_angle) > 0.5", weight=-3.0),
        ],
        shaping=Shaping("0.5 * torso_height - 0.1 * abs(torso_angle)", gamma=0.97, weight=2.0, negative_slope=0.5),
        meta={"version": 3},
    )


def root_product_design() -> Design:
    """A non-sum root: the whole reward is one KRC component."""
    return Design(
        name="root_krc",
        task=TASK,
        root=Group("reward", [
            Term("a", "x_velocity / 5", "clip"),
            Term("b", "torso_height", "tolerance", {"lower": 0.4, "upper": 0.8, "margin": 0.5, "sigmoid": "long_tail"}),
        ], combiner="krc", weight=2.0),
    )
