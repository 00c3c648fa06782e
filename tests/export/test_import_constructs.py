"""Each construct real reward code uses, imported and checked against the original.

Expected values are written by hand (translations) or computed here with numpy from the
same random features (values); the side-by-side check runs the original in the sandbox.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from studio.core.compile import compile_design
from studio.export.importer import ImportError_, import_reward
from studio.export.importer.verify import verify
from studio.sim.registry import get_task

CHEETAH = "HalfCheetah-v5"


@pytest.fixture(scope="module")
def cheetah():
    return get_task(CHEETAH)


@pytest.fixture(scope="module")
def names(cheetah) -> list[str]:
    return cheetah.catalog.names()


def feats(cheetah, n: int = 16, seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    out = {s.name: rng.normal(size=(n, *s.shape)) for s in cheetah.catalog}
    out["healthy"] = (rng.random(n) < 0.5).astype(float)
    return out


def total_of(result, f: dict[str, np.ndarray]) -> np.ndarray:
    return compile_design(result.design, dtype=torch.float64)(f).total.numpy()


def sources(result) -> dict[str, tuple[str, float]]:
    return {t.name: (t.source, t.weight) for t in result.design.terms()}


def test_arrays_reductions_indexing_and_slicing(cheetah, names) -> None:
    src = '''
import numpy as np
def compute_reward(action, qvel, x_velocity):
    effort = np.sum(np.square(action))
    smooth = np.abs(np.diff(action)).sum()
    spin = np.linalg.norm(qvel[1:3])
    lean = qvel[2] ** 2
    return x_velocity - 0.1 * effort - smooth - spin - lean, {
        "speed": x_velocity, "effort": effort, "smooth": smooth, "spin": spin, "lean": lean}
'''
    r = import_reward(src, CHEETAH, names)
    assert sources(r) == {
        "speed": ("x_velocity", 1.0),
        "effort": ("sum(square(action))", -0.1),
        "smooth": ("sum(abs(diff(action)))", -1.0),
        "spin": ("norm(qvel[1:3])", -1.0),
        "lean": ("qvel[2] ** 2.0", -1.0),
    }
    assert r.weights_from_total and not r.issues
    f = feats(cheetah)
    a, q = f["action"], f["qvel"]
    want = (f["x_velocity"] - 0.1 * (a * a).sum(1) - np.abs(a[:, 1:] - a[:, :-1]).sum(1)
            - np.sqrt(q[:, 1] ** 2 + q[:, 2] ** 2) - q[:, 2] ** 2)
    np.testing.assert_allclose(total_of(r, f), want, atol=1e-12)


def test_batched_torch_code_keeps_the_batch_axis_implicit(cheetah, names) -> None:
    src = '''
import torch
def compute_reward(qvel: torch.Tensor, action: torch.Tensor):
    speed = qvel[:, 0]
    effort = torch.sum(action ** 2, dim=-1)
    return speed - 0.5 * effort, {"speed": speed, "effort": effort}
'''
    r = import_reward(src, CHEETAH, names)
    assert sources(r) == {"speed": ("qvel[0]", 1.0), "effort": ("sum(action ** 2.0)", -0.5)}
    f = feats(cheetah)
    np.testing.assert_allclose(total_of(r, f), f["qvel"][:, 0] - 0.5 * (f["action"] ** 2).sum(1), atol=1e-12)


def test_statements_unpacking_if_else_augmented_assignment_and_casts(cheetah, names) -> None:
    src = '''
import numpy as np
def compute_reward(qvel, x_velocity, torso_height):
    v1, v2 = qvel[1:3]
    reward = 0.5 * x_velocity
    if x_velocity > 1.0:
        bonus = 2.0
    else:
        bonus = v1
    reward += bonus
    reward -= 0.1 * v2 ** 2
    alive = int(not (torso_height < 0))
    slow = 1.0 if x_velocity < 0.2 else 0.0
    return reward + alive + float(slow)
'''
    r = import_reward(src, CHEETAH, names)
    f = feats(cheetah)
    x, q, h = f["x_velocity"], f["qvel"], f["torso_height"]
    want = (0.5 * x + np.where(x > 1.0, 2.0, q[:, 1]) - 0.1 * q[:, 2] ** 2 + (h >= 0) + (x < 0.2))
    np.testing.assert_allclose(total_of(r, f), want, atol=1e-12)
    assert [t.name for t in r.design.terms()] == ["reward_2", "alive", "part_3"]  # the returned sum's parts


def test_single_value_dm_control_tolerance_becomes_the_tolerance_shape(names) -> None:
    src = '''
from dm_control.utils import rewards
def get_reward(torso_height):
    return rewards.tolerance(torso_height, bounds=(0.6, 1.0), margin=0.3, sigmoid="linear",
                             value_at_margin=0.0)
'''
    r = import_reward(src, CHEETAH, names, function="get_reward")
    (t,) = r.design.terms()
    assert (t.source, t.shape, t.weight) == ("torso_height", "tolerance", 1.0)
    assert t.params == {"lower": 0.6, "upper": 1.0, "margin": 0.3, "sigmoid": "linear", "value_at_margin": 0.0}


def test_a_components_dict_holding_the_total_drops_it(cheetah, names) -> None:
    src = '''
def compute_reward(x_velocity, ctrl_sq):
    speed = 2.0 * x_velocity
    cost = 0.1 * ctrl_sq
    total_reward = speed - cost
    return total_reward, {"speed": speed, "cost": cost, "total_reward": total_reward}
'''
    r = import_reward(src, CHEETAH, names)
    assert sources(r) == {"speed": ("x_velocity", 2.0), "cost": ("ctrl_sq", -0.1)}
    assert any("'total_reward' is the total itself" in n for n in r.notes)
    f = feats(cheetah)
    np.testing.assert_allclose(total_of(r, f), 2.0 * f["x_velocity"] - 0.1 * f["ctrl_sq"], atol=1e-12)


def test_constants_fold_into_weights_and_no_false_weighted_sum_warning(names) -> None:
    src = '''
def compute_reward(x_velocity, ctrl_sq):
    r_ctrl = -0.1 * ctrl_sq
    r_fwd = x_velocity / 2
    return r_fwd + r_ctrl, {"fwd": r_fwd, "ctrl": r_ctrl}
'''
    r = import_reward(src, CHEETAH, names)
    assert sources(r) == {"fwd": ("x_velocity", 0.5), "ctrl": ("ctrl_sq", -0.1)}
    assert r.weights_from_total and "weighted sum" not in r.report()


def test_self_attributes_methods_properties_data_and_body_positions(names) -> None:
    hopper = get_task("Hopper-v5")
    src = '''
def _get_rew(self, x_velocity, action):
    z = self.data.qpos[1]
    torso = self.get_body_com("torso")
    forward = self._forward_reward_weight * x_velocity
    cost = self.control_cost(action)
    return forward - cost + self.healthy_reward + 0.0 * torso[2] * z, {}
'''
    r = import_reward(src, "Hopper-v5", hopper.catalog.names(), function="_get_rew")
    terms = sources(r)
    assert terms["forward"] == ("x_velocity", 1.0)
    assert terms["cost"] == ("sum(square(action))", -1e-3)  # _ctrl_cost_weight, from the env
    assert "0.7 < qpos[1]" in terms["part_3"][0]  # is_healthy inlined through healthy_reward
    assert "body_torso_pos[2]" in terms["part_4"][0]
    v = verify(r, hopper, count=64)
    assert v.matches, v.report()


def test_mismatch_is_found_side_by_side(cheetah, names) -> None:
    src = '''
import numpy as np
def compute_reward(x_velocity, qvel):
    hidden = np.mean(qvel) * 0.0 + x_velocity
    while hidden.max() > 1e9:
        hidden = hidden * 0.5
    return x_velocity + hidden, {"speed": x_velocity, "hidden": hidden}
'''
    r = import_reward(src, CHEETAH, names)
    assert r.skipped == ["hidden"]
    v = verify(r, cheetah, count=64)
    assert not v.matches and v.total_diff > 1e-3 and v.term_diffs["speed"] < 1e-12
    assert "MISMATCH" in v.report()


def test_state_kept_between_calls_is_reported_by_line(names) -> None:
    src = '''
def _get_rew(self, x_velocity):
    accel = x_velocity
    self.prev_velocity = x_velocity
    return accel, {"accel": accel}
'''
    r = import_reward(src, "HalfCheetah-v5", names, function="_get_rew")
    assert r.remembered == [4] and not r.issues
    assert any("self.prev_velocity (kept between calls) is read as prev(x_velocity)" in n for n in r.notes)


def test_every_unsupported_line_is_reported_even_when_refused(names) -> None:
    src = '''
def compute_reward(x_velocity):
    while x_velocity > 0:
        x_velocity = x_velocity - 1
    seen = {1, 2}
    return x_velocity, {"v": x_velocity, "s": seen}
'''
    with pytest.raises(ImportError_) as info:
        import_reward(src, CHEETAH, names)
    msg = str(info.value)
    assert "line 3: statement 'While'" in msg and "line 5:" in msg and "Set" in msg


def test_methods_calling_each_other_stop_at_the_depth_limit(names) -> None:
    src = '''
def _get_rew(self, x_velocity):
    return self._loop(x_velocity), {}
'''
    from studio.export.importer.envctx import EnvContext

    class Env:
        def _loop(self, x):
            return self._loop(x)

    r_err = None
    try:
        import_reward(src, CHEETAH, names, function="_get_rew", ctx=EnvContext(CHEETAH, Env()))
    except ImportError_ as exc:
        r_err = str(exc)
    assert r_err is not None and "more than 8 deep" in r_err


def test_unknown_task_and_missing_function_are_one_line_errors(tmp_path: Path, capsys) -> None:
    from studio.export.import_cli import main

    f = tmp_path / "r.py"
    f.write_text("def _get_rew(self, action):\n    return 0.0, {}\n")
    assert main([str(f), "--task", "NoSuchTask-v0", "--function", "_get_rew", "-o", str(tmp_path / "d.json")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "NoSuchTask-v0" in err and "Traceback" not in err
    assert main([str(f), "--task", CHEETAH, "--function", "nope", "-o", str(tmp_path / "d.json")]) == 2
    err = capsys.readouterr().err
    assert "no function or method called 'nope'" in err and "_get_rew" in err


def test_parts_of_the_total_outside_the_dict_become_terms_of_their_own(cheetah, names) -> None:
    src = '''
import torch
def compute_reward(x_velocity, qvel):
    forward = torch.exp(x_velocity * 0.5) - 1.0
    total = forward - 0.01 * torch.norm(qvel[:, 3:], p=2, dim=-1)
    return total, {"forward": forward, "total": total}
'''
    r = import_reward(src, CHEETAH, names)
    assert sources(r) == {"forward": ("exp(x_velocity * 0.5) - 1.0", 1.0), "other_1": ("norm(qvel[3:])", -0.01)}
    f = feats(cheetah)
    want = np.exp(f["x_velocity"] * 0.5) - 1.0 - 0.01 * np.sqrt((f["qvel"][:, 3:] ** 2).sum(1))
    np.testing.assert_allclose(total_of(r, f), want, atol=1e-12)


def test_state_kept_between_calls_becomes_a_previous_step_feature(cheetah, tmp_path: Path, capsys) -> None:
    from studio.export.import_cli import main

    f = tmp_path / "r.py"
    f.write_text("def compute_reward(self, action):\n"
                 "    v = self.data.qvel[0]\n"
                 "    accel = v - self.prev_v if hasattr(self, 'prev_v') else 0.0\n"
                 "    self.prev_v = v\n"
                 "    return v - 0.1 * abs(accel)\n")
    out = tmp_path / "d.json"
    assert main([str(f), "--task", CHEETAH, "-o", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "self.prev_v (kept between calls) is read as prev(qvel[0])" in printed
    assert "verified on" in printed and "first steps of episodes left out" in printed
    from studio.core.design import Design

    d = Design.loads(out.read_text())
    assert {t.name: (t.source, t.weight) for t in d.terms()} == {
        "v": ("qvel[0]", 1.0), "part_2": ("abs(qvel[0] - prev(qvel[0]))", -0.1)}


def test_state_no_previous_step_feature_holds_is_never_a_match(tmp_path: Path, capsys) -> None:
    from studio.export.import_cli import main

    f = tmp_path / "r.py"
    f.write_text("def compute_reward(self, action):\n"
                 "    self.steps = self.steps + 1 if hasattr(self, 'steps') else 1\n"
                 "    return self.data.qvel[0] - 0.001 * self.steps\n")
    assert main([str(f), "--task", CHEETAH, "-o", str(tmp_path / "d.json")]) == 1
    captured = capsys.readouterr()
    assert "keeps state between calls (line 2" in captured.err and not (tmp_path / "d.json").exists()


def test_loops_over_constants_unroll_and_matmul_of_vectors_is_dot(cheetah, names) -> None:
    src = '''
import numpy as np
def compute_reward(qvel, action):
    spin = 0.0
    for i in range(1, 3):
        spin += qvel[i] ** 2
    for w in (0.5, 2.0):
        spin = spin * w
    effort = action @ action
    k = 0
    while k < 2:
        k += 1
    return spin - effort, {"spin": spin, "effort": effort, "k": k}
'''
    r = import_reward(src, CHEETAH, names)
    assert "k" not in sources(r) and any(i.line == 11 and "While" in i.message for i in r.issues)
    assert sources(r)["effort"] == ("dot(action, action)", -1.0)
    f = feats(cheetah)
    want = (f["qvel"][:, 1] ** 2 + f["qvel"][:, 2] ** 2) * 1.0 - (f["action"] ** 2).sum(1)
    np.testing.assert_allclose(total_of(r, f), want, atol=1e-12)


def test_comprehensions_over_constants_and_sums_of_lists() -> None:
    walker = get_task("Walker2d-v5")
    src = '''
import numpy as np
def compute_reward(self, action):
    feet = ["foot", "foot_left"]
    heights = [self.get_body_com(b)[2] for b in feet]
    return sum(heights) + np.sum(np.array([self.data.qpos[i] for i in range(3)]))
'''
    r = import_reward(src, "Walker2d-v5", walker.catalog.names())
    assert sources(r) == {  # the returned sum's two parts
        "part_1": ("body_foot_pos[2] + body_foot_left_pos[2]", 1.0),
        "part_2": ("sum(concat(qpos[0], qpos[1], qpos[2]))", 1.0),
    }
    v = verify(r, walker, count=32)
    assert v.matches, v.report()
