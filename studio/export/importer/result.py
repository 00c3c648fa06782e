"""What an import gives: the design, the report by line, the code terms, the check."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from studio.core.design import Design


@dataclass
class ImportIssue:
    """A line of the source that did not become part of a term, and why."""

    line: int
    message: str
    code: str = ""

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}" + (f"\n    {self.code}" if self.code else "")


@dataclass
class CodeTerm:
    """A component computed by the original code, in the sandbox."""

    name: str
    feature: str
    """The pseudo-feature the term reads (``code_<name>``)."""
    inputs: list[str]
    """The function's arguments (feature names)."""


@dataclass
class ImportResult:
    """The imported design and the report."""

    design: Design
    issues: list[ImportIssue] = field(default_factory=list)
    terms: list[str] = field(default_factory=list)
    """Components that became editable terms."""
    code_terms: list[CodeTerm] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    """Components left out (not expressible, and code not allowed)."""
    source: str = ""
    function: str = "compute_reward"
    notes: list[str] = field(default_factory=list)
    """What the importer decided on its own (a total dropped from the dict...)."""
    components: dict[str, tuple[str, float]] = field(default_factory=dict)
    """Term -> (the original's component name, w): the term's component is w times it."""
    args: dict[str, str] = field(default_factory=dict)
    """Argument -> the design-language expression it was read as."""
    is_method: bool = False
    weights_from_total: bool = True
    """False when the total was no weighted sum of the components (weights 1 assumed)."""
    remembered: list[int] = field(default_factory=list)
    """Lines that keep state between calls which became previous-step features (``prev``)."""
    carried: list[int] = field(default_factory=list)
    """Lines that keep state between calls (``self.prev = ...``): no term holds them."""
    verification: Any = None
    """A :class:`~studio.export.importer.verify.Verification` once checked."""

    def report(self) -> str:
        """The human-readable import report."""
        lines = [f"imported {len(self.terms)} term(s): {', '.join(self.terms) or 'none'}"]
        if self.code_terms:
            lines.append(f"sandboxed code terms: {', '.join(c.feature.removeprefix('code_') for c in self.code_terms)}")
        if self.skipped:
            lines.append(f"not imported (pass --allow-code to run them sandboxed): {', '.join(self.skipped)}")
        lines += [f"note: {n}" for n in self.notes]
        lines += [str(i) for i in self.issues]
        if self.verification is not None:
            lines.append(self.verification.report())
        return "\n".join(lines)
