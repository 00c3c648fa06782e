"""Import reward code as people write it: a design the editor can open, checked against the original.

The stages, one module each:

1. :mod:`.parse`: read the file with :mod:`ast` (never run it), find the function or method;
2. :mod:`.envctx`: ``self`` as the task's Gymnasium environment (its attributes, and the
   source of its methods and properties);
3. :mod:`.lower` and :mod:`.build`: lower the code to the design language (arrays,
   reductions, control flow, inlined methods) and build the terms and their weights;
4. :mod:`.verify`: run the original in the sandbox (:mod:`studio.export.sandbox`) side by
   side with the design on transitions of the task, and report the largest difference per
   term.

What cannot be expressed is reported by line. With ``allow_code`` it becomes a *code
term* reading the pseudo-feature ``code_<name>``, which :func:`evaluate_code_terms`
computes by running the original in the sandbox, never in the app's process. The command
is ``reward-studio import`` (:mod:`studio.export.import_cli`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from studio.export.importer.build import fold_weight, import_reward
from studio.export.importer.parse import ImportError_, strip_decorators
from studio.export.importer.result import CodeTerm, ImportIssue, ImportResult
from studio.export.sandbox import SandboxLimits, run_sandboxed

__all__ = [
    "CodeTerm",
    "ImportError_",
    "ImportIssue",
    "ImportResult",
    "evaluate_code_terms",
    "fold_weight",
    "import_reward",
    "main",
    "run_sandboxed",
]


def evaluate_code_terms(
    result: ImportResult, features: Mapping[str, Any], limits: SandboxLimits | None = None
) -> dict[str, np.ndarray]:
    """The pseudo-features ``code_<name>`` of the code terms, computed in the sandbox.

    Merge them into the features before evaluating the design.
    """
    if not result.code_terms:
        return {}
    inputs = {a: np.asarray(features[a], dtype=np.float64) for a in result.code_terms[0].inputs}
    total, parts = run_sandboxed(strip_decorators(result.source), result.function, inputs, limits,
                                 name=f"code of {result.function}")
    parts = {**parts, "__total__": total}  # a function returning one value is one code term
    out = {}
    for c in result.code_terms:
        if c.name not in parts:
            raise ImportError_(f"the sandboxed code returned no component {c.name!r}")
        out[c.feature] = parts[c.name]
    return out


def main(argv: list[str] | None = None) -> int:
    """``python -m studio.export.importer``: the same as ``reward-studio import``."""
    from studio.export.import_cli import main as cli_main

    return int(cli_main(list(argv) if argv is not None else None))
