"""Code terms: parts of an imported reward kept as the original code, run in the sandbox.

An import with ``--allow-code`` (:mod:`studio.export.importer`) writes a design whose code
terms read pseudo-features ``code_<name>``; its ``meta`` holds the original source
(``code_source``), the function (``code_function``), the feature names the function takes
(``code_inputs``) and which component each pseudo-feature is (``code_terms``). This module
turns those into feature values: one batched call of a long-lived
:class:`~studio.sim.sandbox.SandboxWorker` per batch (a training rollout, an evaluation
step), never in the calling process.

>>> from studio.core.design import Design, Group, Term
>>> d = Design("d", "T", Group("reward", [Term("v", "x")]))
>>> CodeTerms.of(d) is None
True
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

import numpy as np

from studio.sim.sandbox import SandboxLimits, SandboxWorker


class CodeTerms:
    """The code terms of one design and the sandbox worker that computes them."""

    def __init__(self, source: str, function: str, inputs: list[str], features: dict[str, str],
                 limits: SandboxLimits | None = None) -> None:
        self.source = source
        self.function = function
        self.inputs = list(inputs)
        """Feature names the original function takes (computed by the task)."""
        self.features = dict(features)
        """Pseudo-feature (``code_<name>``) -> the original's component name."""
        self._worker = SandboxWorker(source, function, limits or SandboxLimits(wall_seconds=60, cpu_seconds=30),
                                     name=f"code term of {function}")

    @classmethod
    def of(cls, design: Any) -> CodeTerms | None:
        """The code terms of ``design`` (a :class:`~studio.core.design.Design`), or None."""
        meta = getattr(design, "meta", None) or {}
        features = meta.get("code_terms") or {}
        if not features:
            return None
        return cls(str(meta.get("code_source", "")), str(meta.get("code_function", "compute_reward")),
                   list(meta.get("code_inputs", [])), dict(features))

    def feature_names(self, requested: Collection[str]) -> list[str]:
        """What the task must compute for ``requested``: code features replaced by the inputs."""
        plain = [n for n in requested if n not in self.features]
        return sorted(set(plain) | set(self.inputs))

    def compute(self, features: Mapping[str, Any]) -> dict[str, np.ndarray]:
        """The code features of a batch, from its input features (numpy or torch, [B])."""
        inputs = {n: np.asarray(_numpy(features[n]), dtype=np.float64) for n in self.inputs}
        total, parts = self._worker(inputs)
        parts = {**parts, "__total__": total}  # a function returning one value is one code term
        batch = next(iter(inputs.values())).shape[0] if inputs else 1
        out = {}
        for feature, component in self.features.items():
            if component not in parts:
                from studio.sim.sandbox import SandboxError

                raise SandboxError(f"the code of {self.function} returned no component {component!r}")
            out[feature] = np.broadcast_to(np.asarray(parts[component], dtype=np.float64).reshape(-1), (batch,)).copy()
        return out

    def close(self) -> None:
        """End the sandbox worker."""
        self._worker.close()


def _numpy(v: Any) -> Any:
    return v.detach().cpu().numpy() if hasattr(v, "detach") else v
