"""A design with a HERON group exports with its weights beside the code, exact in a fresh interpreter."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from studio.core.compile import compile_design
from studio.core.design import Design, Factor, Group, Term
from studio.core.heron import HeronModel, RewardModel, load_models, save_models
from studio.export.cli import export_design, main
from studio.export.codegen import ExportError
from tests.export.harness import random_features, run_isolated

TOL = 1e-6
INPUTS = ["joint_bthigh_pos", "joint_bthigh_vel", "joint_fthigh_pos"]


def cheetah_heron() -> Design:
    """The authors' HalfCheetah order (progress, power; sigma 0.5, 0.1) beside a plain term."""
    tree = Group("tree", [Term("progress", "x_velocity", factor=Factor("more", 0.5)),
                          Term("power", "ctrl_sq", factor=Factor("less", 0.1))],
                 combiner="heron", weight=1.5, params={"hidden": "64-64", "inputs": "observation+factors"})
    return Design("heron_cheetah", "HalfCheetah-v5", Group("reward", [tree, Term("upright", "cos(joint_rooty_pos)", weight=0.3)]))


def weights(path: Path) -> Path:
    """A model with non-trivial weights and statistics (exactness does not need training)."""
    torch.manual_seed(3)
    net = RewardModel(len(INPUTS) + 2, (64, 64))
    net.in_mean.copy_(torch.tensor([0.1, -0.2, 0.3, 0.5, 1.0]))
    net.in_std.copy_(torch.tensor([1.5, 2.0, 0.7, 1.1, 3.0]))
    net.out_mean.fill_(-0.4)
    net.out_std.fill_(0.8)
    save_models({"tree": HeronModel(net, INPUTS, use_factors=True)}, path)
    return path


def reference(design: Design, path: Path, feats: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """The studio's own evaluation (float64) with the models read from the same file."""
    compiled = compile_design(design, dtype=torch.float64, heron=load_models(path))
    totals, trees = [], []
    for t in range(next(iter(feats.values())).shape[0]):
        out = compiled({k: v[t] for k, v in feats.items()})
        totals.append(out.total.numpy())
        trees.append(out.components["tree"].numpy())
    return np.array(totals), np.array(trees)


@pytest.mark.parametrize("fmt", ["python", "torch"])
def test_export_with_weights_is_exact_in_a_fresh_interpreter(tmp_path: Path, fmt: str) -> None:
    design = cheetah_heron()
    (tmp_path / "design.json").write_text(design.dumps())
    w = weights(tmp_path / "run_heron.safetensors")
    out_dir = tmp_path / "out"
    assert main([str(tmp_path / "design.json"), "-f", fmt, "-o", str(out_dir / "exported_reward.py"),
                 "--heron-weights", str(w)]) == 0
    assert (out_dir / "exported_reward.heron.safetensors").is_file()
    names = sorted(set(compile_design(design, heron=load_models(w)).required_features))
    assert set(INPUTS) <= set(names)
    feats = random_features(names, 20, 16, seed=4)
    np.savez(out_dir / "inputs.npz", **{f"f_{k}": v for k, v in feats.items()})
    call = ("r.reward_from_features(f)" if fmt == "python" else
            "r.DesignReward(dtype=torch.float64)({n: torch.from_numpy(v) for n, v in f.items()})")
    run_isolated(out_dir, f"""
        import numpy as np
        {"import torch" if fmt == "torch" else ""}
        import exported_reward as r
        z = np.load("inputs.npz")
        names = [k[2:] for k in z.files if k.startswith("f_")]
        totals, trees = [], []
        for t in range(z["f_" + names[0]].shape[0]):
            f = {{n: z["f_" + n][t] for n in names}}
            total, c = {call}
            totals.append(np.asarray(total))
            trees.append(np.asarray(c["tree"]))
        np.savez("outputs.npz", total=np.array(totals), tree=np.array(trees))
    """)
    got = np.load(out_dir / "outputs.npz")
    ref_total, ref_tree = reference(design, w, feats)
    assert np.std(ref_tree) > 0.1  # the model really varies over the inputs: not a vacuous check
    assert np.max(np.abs(got["tree"] - ref_tree)) <= TOL
    assert np.max(np.abs(got["total"] - ref_total)) <= TOL


def test_a_heron_design_without_weights_is_refused_with_the_remedy() -> None:
    with pytest.raises(ExportError, match="--heron-weights"):
        export_design(cheetah_heron(), "torch")


def test_weights_missing_the_group_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "w.safetensors"
    save_models({"other": HeronModel(RewardModel(1, (4,)), ["x_velocity"], False)}, path)
    with pytest.raises(ExportError, match="no trained model for the HERON group"):
        export_design(cheetah_heron(), "torch", heron_weights=path)
    with pytest.raises(ExportError, match="no such HERON weights file"):
        export_design(cheetah_heron(), "torch", heron_weights=tmp_path / "missing.safetensors")
