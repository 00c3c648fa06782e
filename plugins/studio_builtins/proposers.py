"""Built-in proposers: perturbation and preference fit (no LLM needed), and the LLM proposer.

The LLM proposer imports ``openai`` only when it first sends a request, so registering it
costs nothing where the ``llm`` extra is not installed.
"""

from __future__ import annotations

from typing import Any


def register(registry: Any) -> None:
    """Add the built-in proposers to ``registry``."""
    from studio.refine.llm import LLMProposer
    from studio.refine.preference import PreferenceProposer
    from studio.refine.proposers import PerturbProposer

    registry.add("perturb", PerturbProposer)
    registry.add("preference", PreferenceProposer)
    registry.add("llm", LLMProposer)
