"""Check an LLM reply: find the design document in it and validate it for the task.

The reply may be bare JSON or hold a fenced block (```json ... ``` or ``` ... ```); the
last block that parses as a JSON object is taken. The document must validate against the
published JSON Schema (when ``jsonschema`` is installed) and the design reader, and every
feature it names must be one of the task's. A failure raises :class:`ReplyError` whose
message is written for the model: it is sent back as the next message to repair the reply.
Nothing in a reply is executed: a design is data, its expressions are parsed, never run.

>>> doc = ('{"name": "d", "task": "T", "root": {"type": "group", "name": "reward", '
...        '"children": [{"type": "term", "name": "speed", "source": "v"}]}}')
>>> check_reply("Here:\\n```json\\n" + doc + "\\n```", "T", ["v"]).name
'd'
>>> check_reply("no design here", "T", [])
Traceback (most recent call last):
...
studio.refine.reply.ReplyError: the reply holds no JSON object: reply with the design document as JSON in a ```json fenced block
"""

from __future__ import annotations

import json
import re
from collections.abc import Collection, Mapping
from typing import Any

from studio.core.design import Design, DesignError, validate

_FENCE = re.compile(r"```[ \t]*(?:json|JSON)?[ \t]*\n(.*?)```", re.DOTALL)


class ReplyError(ValueError):
    """A reply that is not a usable design; the message tells the model what to fix."""


def extract_document(text: str) -> dict[str, Any]:
    """The JSON object in ``text``: the last fenced block that parses, else the bare text,
    else the outermost ``{...}`` span."""
    candidates = [m.group(1) for m in _FENCE.finditer(text)][::-1]
    candidates.append(text)
    first, last = text.find("{"), text.rfind("}")
    if 0 <= first < last:
        candidates.append(text[first:last + 1])
    errors = []
    for c in candidates:
        try:
            doc = json.loads(c)
        except json.JSONDecodeError as exc:
            errors.append(f"line {exc.lineno}, column {exc.colno}: {exc.msg}")
            continue
        if isinstance(doc, dict):
            return doc
        errors.append(f"expected a JSON object, got {type(doc).__name__}")
    if "{" not in text:
        raise ReplyError("the reply holds no JSON object: reply with the design document as "
                         "JSON in a ```json fenced block")
    raise ReplyError(f"the design document is not valid JSON ({errors[0]}): reply with the "
                     "corrected document in a ```json fenced block")


def _schema_errors(doc: Mapping[str, Any], schema: Mapping[str, Any] | None) -> list[str]:
    if schema is None:
        return []
    try:
        import jsonschema
    except ImportError:  # the design reader below still checks the structure
        return []
    validator = jsonschema.Draft202012Validator(schema)
    out = []
    for err in sorted(validator.iter_errors(doc), key=lambda e: list(e.absolute_path))[:5]:
        where = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in err.absolute_path)
        out.append(f"document{where}: {err.message}")
    return out


def check_reply(text: str, task: str, features: Collection[str] | None,
                schema: Mapping[str, Any] | None = None) -> Design:
    """The design in an LLM reply, validated for ``task`` (its ``task`` field is set to it).

    Raises:
        ReplyError: no JSON object, invalid JSON, schema or design errors, unknown features.
    """
    doc = extract_document(text)
    doc = {**doc, "task": task}
    problems = _schema_errors(doc, schema)
    if problems:
        raise ReplyError("the design does not match the JSON Schema: " + "; ".join(problems))
    try:
        design = Design.from_json(doc)
    except DesignError as exc:
        raise ReplyError(f"the design is invalid at {exc.path}: {exc.message}") from None
    errors = validate(design, None if features is None else set(features))
    if errors:
        raise ReplyError("the design is invalid: " + "; ".join(str(e) for e in errors[:5]))
    if not design.terms() and not design.events and design.shaping is None:
        raise ReplyError("the design has no terms: give it at least one term")
    return design
