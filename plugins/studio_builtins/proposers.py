"""Built-in proposers: the offline perturbation proposer (no LLM needed)."""

from __future__ import annotations

from typing import Any


def register(registry: Any) -> None:
    """Add the built-in proposers to ``registry``."""
    from studio.refine.proposers import PerturbProposer

    registry.add("perturb", PerturbProposer)
