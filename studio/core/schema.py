"""The published JSON Schema of the design document (``design.schema.json`` beside this file).

Run ``python -m studio.core.schema`` to rewrite the file after changing the document; a test
checks that the published file matches :func:`design_schema`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from studio.core.design import DIRECTIONS, FORMAT, SCHEMA_VERSION, TRIGGERS
from studio.core.schedule import SCHEDULE_KINDS

SCHEMA_PATH = Path(__file__).with_name("design.schema.json")
_IDENT = {"type": "string", "pattern": "^[A-Za-z_][A-Za-z0-9_]*$"}


def design_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of a design document."""
    number = {"type": "number"}
    schedule = {
        "type": "object",
        "required": ["schedule"],
        "properties": {
            "schedule": {"enum": list(SCHEDULE_KINDS)},
            "start": number,
            "end": number,
            "steps": {"type": "integer", "minimum": 1},
            "begin": {"type": "integer"},
            "points": {"type": "array", "items": {"type": "array", "prefixItems": [number, number], "minItems": 2, "maxItems": 2}},
        },
    }
    param = {"oneOf": [number, {"type": "string"}, {"$ref": "#/$defs/schedule"}]}
    weight = {"oneOf": [number, {"$ref": "#/$defs/schedule"}]}
    common = {
        "name": _IDENT,
        "weight": {"$ref": "#/$defs/weight"},
        "enabled": {"type": "boolean"},
        "description": {"type": "string"},
        "params": {"type": "object", "additionalProperties": {"$ref": "#/$defs/param"}},
    }
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://reward-studio.dev/schemas/design-v1.json",
        "title": "Reward Studio design",
        "type": "object",
        "required": ["name", "task", "root"],
        "properties": {
            "format": {"const": FORMAT},
            "schema_version": {"type": "integer", "minimum": 1, "maximum": SCHEMA_VERSION},
            "name": {"type": "string"},
            "task": {"type": "string"},
            "description": {"type": "string"},
            "root": {"$ref": "#/$defs/group"},
            "events": {"type": "array", "items": {"$ref": "#/$defs/event"}},
            "shaping": {"oneOf": [{"type": "null"}, {"$ref": "#/$defs/shaping"}]},
            "meta": {"type": "object"},
        },
        "$defs": {
            "schedule": schedule,
            "param": param,
            "weight": weight,
            "term": {
                "type": "object",
                "required": ["type", "name", "source"],
                "properties": {
                    "type": {"const": "term"},
                    "source": {"type": "string"},
                    "shape": {"type": "string"},
                    "factor": {
                        "description": "Direction and margin multiplier of a HERON factor.",
                        "type": "object",
                        "properties": {"direction": {"enum": list(DIRECTIONS)}, "sigma": {"type": "number", "minimum": 0}},
                    },
                    **common,
                },
            },
            "group": {
                "type": "object",
                "required": ["type", "name"],
                "properties": {
                    "type": {"const": "group"},
                    "combiner": {"type": "string"},
                    "children": {"type": "array", "items": {"oneOf": [{"$ref": "#/$defs/term"}, {"$ref": "#/$defs/group"}]}},
                    **common,
                },
            },
            "event": {
                "type": "object",
                "required": ["name"],
                "properties": {
                    "name": _IDENT,
                    "trigger": {"enum": list(TRIGGERS)},
                    "condition": {"type": "string"},
                    "weight": {"$ref": "#/$defs/weight"},
                    "enabled": {"type": "boolean"},
                    "description": {"type": "string"},
                },
            },
            "shaping": {
                "type": "object",
                "required": ["potential"],
                "properties": {
                    "name": _IDENT,
                    "potential": {"type": "string"},
                    "gamma": {"type": "number", "exclusiveMinimum": 0, "maximum": 1},
                    "weight": {"$ref": "#/$defs/weight"},
                    "negative_slope": number,
                    "enabled": {"type": "boolean"},
                },
            },
        },
    }


def write_schema(path: Path = SCHEMA_PATH) -> None:
    """Rewrite the published schema file."""
    path.write_text(json.dumps(design_schema(), indent=2) + "\n")


if __name__ == "__main__":
    write_schema()
