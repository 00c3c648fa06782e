"""Fuzzed untrusted input: every loader answers with its own error, never another exception.

The number of examples per test is set by the ``fuzz`` profile below (``STUDIO_FUZZ_EXAMPLES``
to raise it locally); a deadline per example catches inputs that make a loader hang.
"""

from __future__ import annotations

import contextlib
import json
import math
import os

import pytest
from hypothesis import HealthCheck, given, settings

from studio.core.design import Design, DesignError, DesignFileError, validate
from studio.core.expr import ExpressionError, parse
from tests.fuzz.strategies import FEATURES, design_docs, expressions, raw_text

EXAMPLES = int(os.environ.get("STUDIO_FUZZ_EXAMPLES", "300"))
fuzz = settings(max_examples=EXAMPLES, deadline=2000, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def _finite_numbers_only(doc: object) -> bool:
    if isinstance(doc, float):
        return math.isfinite(doc)
    if isinstance(doc, dict):
        return all(_finite_numbers_only(v) for v in doc.values())
    if isinstance(doc, list):
        return all(_finite_numbers_only(v) for v in doc)
    return True


@fuzz
@given(design_docs)
def test_design_documents_load_or_raise_a_design_error(doc: object) -> None:
    try:
        design = Design.from_json(doc)
    except DesignError as exc:
        assert exc.path, "a design error names the place of the problem"
        return
    # What loads must validate without raising, and write back to the same document.
    problems = validate(design, FEATURES)
    assert all(isinstance(p, DesignError) for p in problems)
    assert Design.from_json(design.to_json()) == design


@fuzz
@given(design_docs)
def test_a_design_with_a_non_finite_number_never_loads_clean(doc: object) -> None:
    text = json.dumps(doc, allow_nan=True)
    try:
        design = Design.loads(text)
    except DesignError:
        return
    if not _finite_numbers_only(json.loads(text)):
        # Non-finite numbers may only survive in places the design ignores; what it keeps
        # must be finite, or validation must name it.
        kept = json.loads(json.dumps(design.to_json(), allow_nan=True))
        assert _finite_numbers_only(kept) or validate(design, FEATURES)


@fuzz
@given(raw_text)
def test_design_text_that_is_not_a_document_is_a_design_error(text: str) -> None:
    try:
        Design.loads(text)
    except DesignError as exc:
        assert str(exc)


@fuzz
@given(text=raw_text)
def test_design_files_give_a_file_error_naming_the_file(tmp_path_factory: pytest.TempPathFactory,
                                                        text: str) -> None:
    path = tmp_path_factory.mktemp("d") / "bad.json"
    path.write_text(text)
    try:
        Design.load(path)
    except DesignFileError as exc:
        assert str(path) in str(exc)


@fuzz
@given(expressions)
def test_expressions_parse_or_raise_an_expression_error(text: str) -> None:
    try:
        expr = parse(text, set(FEATURES))
    except ExpressionError as exc:
        assert exc.args and str(exc)
        return
    assert expr.names <= set(FEATURES)


@fuzz
@given(raw_text)
def test_arbitrary_text_as_an_expression_is_an_expression_error(text: str) -> None:
    with contextlib.suppress(ExpressionError):
        parse(text, set(FEATURES))


@pytest.mark.parametrize("text", [
    "__import__('os').system('true')", "open('/etc/passwd')", "x_velocity.__class__",
    "(lambda: 1)()", "[c for c in 'ab']", "eval('1')", "getattr(x_velocity, 'real')",
])
def test_code_that_would_escape_is_refused_by_the_expression_checker(text: str) -> None:
    with pytest.raises(ExpressionError):
        parse(text, set(FEATURES))


def test_huge_powers_do_not_hang_the_checker() -> None:
    # Checking never folds constants, so 9**9**9**9 is parsed, not computed.
    with contextlib.suppress(ExpressionError):
        parse("9 ** 9 ** 9 ** 9", set(FEATURES))
