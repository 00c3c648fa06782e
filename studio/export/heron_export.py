"""Exporting HERON groups: the trained models' weights travel beside the code as safetensors.

The generated module reads ``<module>.heron.safetensors`` (the module's own path with that
suffix; set ``HERON_WEIGHTS`` to read another file) on first use and evaluates each HERON
group's reward model with the array namespace of the rest of the code: the same MLP, the
same input and output standardisation as :class:`studio.core.heron.RewardModel`.

The exporters receive the models through :func:`using_models` (a context, so that every
exporter's signature stays ``fn(design, task)``); a design with a HERON group exported
without them is refused with the remedy.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path

from studio.core.atomic import atomic_path
from studio.core.heron import HeronModel, load_models

SUFFIX = ".heron.safetensors"
_MODELS: ContextVar[Mapping[str, HeronModel] | None] = ContextVar("heron_models", default=None)


@contextmanager
def using_models(models: Mapping[str, HeronModel] | None) -> Iterator[None]:
    """Export with these trained HERON models (group name -> model) inside the block."""
    token = _MODELS.set(models)
    try:
        yield
    finally:
        _MODELS.reset(token)


def current_models() -> Mapping[str, HeronModel] | None:
    """The models of the enclosing :func:`using_models`, if any."""
    return _MODELS.get()


def read_weights(path: str | Path) -> dict[str, HeronModel]:
    """The models in a run's weights file, with a clear error naming a missing or bad file."""
    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"{p}: no such HERON weights file (a run writes RUN_DIR/heron.safetensors)")
    return load_models(p)


def weights_path(module: str | Path) -> Path:
    """Where the exported module at ``module`` looks for its weights."""
    p = Path(module)
    return p.with_name(p.stem + SUFFIX)


def copy_weights(source: str | Path, module: str | Path) -> Path:
    """Copy the weights file beside the exported module, where its code reads it."""
    target = weights_path(module)
    with atomic_path(target) as tmp:  # one atomic-write helper (issue 13)
        shutil.copyfile(source, tmp)
    return target


HERON_SRC = '''
HERON_WEIGHTS = None
"""Path of the HERON weights; None: this module's path with the suffix .heron.safetensors."""
_HERON_CACHE = {}


def _heron_groups():
    """Every HERON group's tensors and settings, read once from the safetensors file."""
    if "groups" not in _HERON_CACHE:
        import json
        import os

        from safetensors import safe_open

        path = HERON_WEIGHTS or os.path.splitext(os.path.abspath(__file__))[0] + ".heron.safetensors"
        groups = {}
        with safe_open(path, framework="numpy") as fh:
            meta = fh.metadata()
            names = list(fh.keys())
            for g in json.loads(meta["groups"]):
                groups[g] = {
                    "inputs": json.loads(meta[g + "/inputs"]),
                    "use_factors": bool(json.loads(meta[g + "/use_factors"])),
                    "layers": len(json.loads(meta[g + "/hidden"])) + 1,
                    "tensors": {k.split("/", 1)[1]: fh.get_tensor(k) for k in names if k.startswith(g + "/")},
                }
        _HERON_CACHE["groups"] = groups
    return _HERON_CACHE["groups"]


def _heron_array(xp, value, ones):
    if getattr(xp, "__name__", "") == "numpy":
        return value.astype(ones.dtype)
    return xp.as_tensor(value).to(dtype=ones.dtype, device=ones.device)


def heron_reward(xp, group, f, parts, ones):
    """A HERON group's learned reward: MLP (ReLU) of the standardised inputs, standardised."""
    m = _heron_groups()[group]
    t = {k: _heron_array(xp, v, ones) for k, v in m["tensors"].items()}
    cols = [_as_batch(f[n], ones) for n in m["inputs"]] + (list(parts) if m["use_factors"] else [])
    h = (xp.stack(cols, 1) - t["in_mean"]) / t["in_std"]
    for i in range(m["layers"]):
        h = h @ t["net.%d.weight" % (2 * i)].T + t["net.%d.bias" % (2 * i)]
        if i < m["layers"] - 1:
            h = xp.where(h > 0, h, 0.0 * h)
    return (h[:, 0] - t["out_mean"]) / t["out_std"]
'''


__all__ = [
    "HERON_SRC",
    "SUFFIX",
    "copy_weights",
    "current_models",
    "read_weights",
    "using_models",
    "weights_path",
]
