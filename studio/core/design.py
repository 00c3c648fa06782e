"""The reward design: a tree of terms and groups, plus events and potential shaping.

A design round-trips to a versioned JSON document (``Design.to_json`` / ``Design.from_json``)
whose JSON Schema is published as ``studio/core/design.schema.json``. Validation errors name
the path of the bad node and what was expected.

>>> d = Design(name="run", task="HalfCheetah-v5", root=Group("reward", children=[
...     Term("forward", "x_velocity"), Term("ctrl", "ctrl_sq", weight=-0.1)]))
>>> Design.from_json(d.to_json()) == d
True
"""

from __future__ import annotations

import copy
import json
import math
import re
from collections.abc import Collection, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from studio.core.schedule import SCHEDULE_KINDS, Param, Schedule

FORMAT = "reward-studio/design"
SCHEMA_VERSION = 1
TRIGGERS = ("termination", "truncation", "condition")
DIRECTIONS = ("more", "less")
"""A HERON factor's direction: more is better, or less (a cost)."""
_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class DesignError(ValueError):
    """A design that cannot be used: ``path`` locates the node, like ``root.children[2].shape``."""

    def __init__(self, path: str, message: str) -> None:
        self.path = path
        self.message = message
        super().__init__(f"{path}: {message}")


class DesignFileError(ValueError):
    """A design file that cannot be read: the message names the file and the place."""

    user_facing = True

    def __init__(self, file: str, reason: str) -> None:
        self.file = file
        self.reason = reason
        super().__init__(f"{file}: {reason}")


@dataclass
class Factor:
    """How a term ranks pairs as a factor of a HERON group (spec §2)."""

    direction: str = "more"
    """``more`` (more is better) or ``less`` (a cost)."""
    sigma: float = 0.2
    """Margin multiplier: a level decides a pair only when the values differ by more than
    sigma x the factor's std over the batch; a wider margin passes more pairs down."""

    @property
    def sign(self) -> float:
        """+1 for ``more``, -1 for ``less``."""
        return -1.0 if self.direction == "less" else 1.0


@dataclass
class Term:
    """A feature or expression, through a shape with parameters, times a weight."""

    name: str
    """Unique identifier of the term within the design (``<quantity>_<kernel>`` reads well)."""
    source: str
    """A feature name or an expression over feature names."""
    shape: str = "linear"
    """Name of the shape function (see ``studio.core.shapes.SHAPES``)."""
    params: dict[str, Param | str] = field(default_factory=dict)
    """Shape parameters; missing ones take the shape's defaults. Numbers may be schedules."""
    weight: Param = 1.0
    """Multiplier of the shaped value; may follow a schedule."""
    enabled: bool = True
    """A disabled term contributes nothing and reports nothing."""
    description: str = ""
    """Free text for the designer."""
    factor: Factor | None = None
    """Direction and sigma when the term is a factor of a HERON group (None: the defaults)."""


@dataclass
class Group:
    """Children combined by a combiner, then weighted."""

    name: str
    children: list[Term | Group] = field(default_factory=list)
    combiner: str = "sum"
    """``sum``, ``krc``, ``product``, ``softmin``, ``heron`` (children are factors, most
    important first) or a plugin's."""
    weight: Param = 1.0
    params: dict[str, Param | str] = field(default_factory=dict)
    """Combiner parameters (``softmin``'s temperature)."""
    enabled: bool = True
    description: str = ""


@dataclass
class EventTerm:
    """A one-off payment: on termination, on truncation, or when a condition first holds."""

    name: str
    trigger: str = "termination"
    """``termination``, ``truncation`` or ``condition``."""
    condition: str = ""
    """For ``condition``: an expression; the event pays the first step it is non-zero."""
    weight: Param = 1.0
    """The amount paid (negative for a penalty)."""
    enabled: bool = True
    description: str = ""


@dataclass
class Shaping:
    """Potential-based shaping F = gamma * Phi(s') - Phi(s), with Phi an expression."""

    potential: str
    """Expression over state features giving Phi."""
    gamma: float = 0.99
    weight: Param = 1.0
    negative_slope: float = 1.0
    """Multiplier of negative F (1 keeps the optimal policy unchanged)."""
    name: str = "shaping"
    enabled: bool = True


@dataclass
class Design:
    """A complete reward design for one task."""

    name: str
    task: str
    """The task's id, e.g. ``HalfCheetah-v5``."""
    root: Group = field(default_factory=lambda: Group("reward"))
    events: list[EventTerm] = field(default_factory=list)
    shaping: Shaping | None = None
    description: str = ""
    meta: dict[str, Any] = field(default_factory=dict)
    """Free-form metadata (origin, template, …); kept through the round trip."""

    # --- traversal -------------------------------------------------------------------------
    def walk(self) -> Iterator[tuple[str, Term | Group]]:
        """Every (path, node) of the tree, parents before children."""

        def go(node: Term | Group, path: str) -> Iterator[tuple[str, Term | Group]]:
            yield path, node
            if isinstance(node, Group):
                for i, child in enumerate(node.children):
                    yield from go(child, f"{path}.children[{i}]")

        yield from go(self.root, "root")

    def terms(self) -> list[Term]:
        """All terms, depth first."""
        return [n for _, n in self.walk() if isinstance(n, Term)]

    def find(self, name: str) -> Term | Group | EventTerm | None:
        """The term, group or event called ``name``."""
        for _, node in self.walk():
            if node.name == name:
                return node
        return next((e for e in self.events if e.name == name), None)

    def heron_groups(self) -> list[Group]:
        """The enabled groups combined by ``heron``, depth first."""
        return [n for _, n in self.walk() if isinstance(n, Group) and n.combiner == "heron" and n.enabled]

    def copy(self) -> Design:
        """A deep copy."""
        return copy.deepcopy(self)

    # --- JSON ------------------------------------------------------------------------------
    def to_json(self) -> dict[str, Any]:
        """The versioned JSON document."""
        return {
            "format": FORMAT,
            "schema_version": SCHEMA_VERSION,
            "name": self.name,
            "task": self.task,
            "description": self.description,
            "root": _node_json(self.root),
            "events": [_event_json(e) for e in self.events],
            "shaping": None if self.shaping is None else _shaping_json(self.shaping),
            "meta": self.meta,
        }

    def dumps(self) -> str:
        """Canonical JSON text (sorted keys), stable for hashing and diffs."""
        return json.dumps(self.to_json(), indent=2, sort_keys=True)

    @classmethod
    def from_json(cls, doc: Any) -> Design:
        """Read a document, raising :class:`DesignError` with the path of the first problem."""
        _check_finite(doc, "")
        return _read_design(doc)

    @classmethod
    def load(cls, path: str | Path) -> Design:
        """Read a design file; a missing, unreadable or malformed one raises :class:`DesignFileError`."""
        try:
            text = Path(path).read_text()
        except FileNotFoundError:
            raise DesignFileError(str(path), "no such design file") from None
        except (IsADirectoryError, UnicodeDecodeError) as exc:
            raise DesignFileError(str(path), f"not a design file ({type(exc).__name__})") from None
        try:
            return cls.loads(text)
        except DesignError as exc:
            raise DesignFileError(str(path), str(exc)) from None

    @classmethod
    def loads(cls, text: str) -> Design:
        """Read JSON text; malformed JSON is reported with its line and column."""
        try:
            doc = json.loads(text)
        except json.JSONDecodeError as exc:
            raise DesignError(
                "(document)", f"not valid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}"
            ) from None
        return cls.from_json(doc)


# --- writing ----------------------------------------------------------------------------------


def param_json(p: Param | str) -> Any:
    """A parameter as JSON: a number, a string choice, or a schedule object."""
    return p.to_json() if isinstance(p, Schedule) else p


def heron_factors(group: Group) -> list[tuple[Term, Factor]]:
    """The enabled factors of a HERON group in order of importance, with their settings."""
    return [(c, c.factor or Factor()) for c in group.children if isinstance(c, Term) and c.enabled]


def _node_json(node: Term | Group) -> dict[str, Any]:
    if isinstance(node, Term):
        doc = {
            "type": "term",
            "name": node.name,
            "source": node.source,
            "shape": node.shape,
            "params": {k: param_json(v) for k, v in node.params.items()},
            "weight": param_json(node.weight),
            "enabled": node.enabled,
            "description": node.description,
        }
        # Written only when set, so the documents (and hashes) of other designs are unchanged.
        if node.factor is not None:
            doc["factor"] = {"direction": node.factor.direction, "sigma": node.factor.sigma}
        return doc
    return {
        "type": "group",
        "name": node.name,
        "combiner": node.combiner,
        "params": {k: param_json(v) for k, v in node.params.items()},
        "weight": param_json(node.weight),
        "enabled": node.enabled,
        "description": node.description,
        "children": [_node_json(c) for c in node.children],
    }


def _event_json(e: EventTerm) -> dict[str, Any]:
    return {
        "name": e.name,
        "trigger": e.trigger,
        "condition": e.condition,
        "weight": param_json(e.weight),
        "enabled": e.enabled,
        "description": e.description,
    }


def _shaping_json(s: Shaping) -> dict[str, Any]:
    return {
        "name": s.name,
        "potential": s.potential,
        "gamma": s.gamma,
        "weight": param_json(s.weight),
        "negative_slope": s.negative_slope,
        "enabled": s.enabled,
    }


# --- reading ----------------------------------------------------------------------------------


def _obj(v: Any, path: str) -> dict[str, Any]:
    if not isinstance(v, dict):
        raise DesignError(path, f"expected an object, got {type(v).__name__}")
    return v


def _str(d: dict[str, Any], key: str, path: str, default: str | None = None) -> str:
    v = d.get(key, default)
    if not isinstance(v, str):
        raise DesignError(f"{path}.{key}", f"expected a string, got {_kind(v)}")
    return v


def _bool(d: dict[str, Any], key: str, path: str, default: bool) -> bool:
    v = d.get(key, default)
    if not isinstance(v, bool):
        raise DesignError(f"{path}.{key}", f"expected true or false, got {_kind(v)}")
    return v


def _num(v: Any, path: str) -> float:
    if isinstance(v, bool) or not isinstance(v, int | float):
        raise DesignError(path, f"expected a number, got {_kind(v)}")
    return float(v)


def _kind(v: Any) -> str:
    return "nothing" if v is None else f"{type(v).__name__} {v!r}"[:60]


def _ident(d: dict[str, Any], path: str) -> str:
    name = _str(d, "name", path)
    if not _NAME_RE.match(name):
        raise DesignError(f"{path}.name", f"expected an identifier (letters, digits, _), got {name!r}")
    return name


def read_param(v: Any, path: str) -> Param | str:
    """A parameter from JSON: a number, a string choice or a schedule object."""
    if isinstance(v, str):
        return v
    if isinstance(v, dict):
        kind = v.get("schedule")
        if kind not in SCHEDULE_KINDS:
            raise DesignError(f"{path}.schedule", f"expected one of {', '.join(SCHEDULE_KINDS)}, got {_kind(kind)}")
        start = _num(v.get("start", 0.0), f"{path}.start")
        if kind == "piecewise":
            pts = v.get("points")
            if not isinstance(pts, list) or not pts:
                raise DesignError(f"{path}.points", "expected a non-empty list of [step, value]")
            knots: list[tuple[int, float]] = []
            for i, pt in enumerate(pts):
                if not isinstance(pt, list | tuple) or len(pt) != 2:
                    raise DesignError(f"{path}.points[{i}]", "expected [step, value]")
                knots.append((int(_num(pt[0], f"{path}.points[{i}][0]")), _num(pt[1], f"{path}.points[{i}][1]")))
            if any(b[0] <= a[0] for a, b in zip(knots, knots[1:], strict=False)):
                raise DesignError(f"{path}.points", "expected steps in increasing order")
            return Schedule("piecewise", start=start, points=tuple(knots))
        end = _num(v.get("end", start), f"{path}.end")
        steps = int(_num(v.get("steps", 1), f"{path}.steps"))
        if steps < 1:
            raise DesignError(f"{path}.steps", "expected a number of steps >= 1")
        begin = int(_num(v.get("begin", 0), f"{path}.begin"))
        return Schedule(str(kind), start=start, end=end, steps=steps, begin=begin)
    return _num(v, path)


def _weight(d: dict[str, Any], path: str) -> Param:
    w = read_param(d.get("weight", 1.0), f"{path}.weight")
    if isinstance(w, str):
        raise DesignError(f"{path}.weight", "expected a number or a schedule")
    return w


def _params(d: dict[str, Any], path: str) -> dict[str, Param | str]:
    raw = _obj(d.get("params", {}), f"{path}.params")
    return {str(k): read_param(v, f"{path}.params.{k}") for k, v in raw.items()}


def _read_node(v: Any, path: str) -> Term | Group:
    d = _obj(v, path)
    kind = d.get("type")
    if kind == "term":
        return Term(
            name=_ident(d, path),
            source=_str(d, "source", path),
            shape=_str(d, "shape", path, "linear"),
            params=_params(d, path),
            weight=_weight(d, path),
            enabled=_bool(d, "enabled", path, True),
            description=_str(d, "description", path, ""),
            factor=_factor(d.get("factor"), f"{path}.factor"),
        )
    if kind == "group":
        children = d.get("children", [])
        if not isinstance(children, list):
            raise DesignError(f"{path}.children", f"expected a list, got {_kind(children)}")
        return Group(
            name=_ident(d, path),
            children=[_read_node(c, f"{path}.children[{i}]") for i, c in enumerate(children)],
            combiner=_str(d, "combiner", path, "sum"),
            weight=_weight(d, path),
            params=_params(d, path),
            enabled=_bool(d, "enabled", path, True),
            description=_str(d, "description", path, ""),
        )
    raise DesignError(f"{path}.type", f"expected 'term' or 'group', got {_kind(kind)}")


def _factor(v: Any, path: str) -> Factor | None:
    if v is None:
        return None
    d = _obj(v, path)
    direction = _str(d, "direction", path, "more")
    if direction not in DIRECTIONS:
        raise DesignError(f"{path}.direction", f"expected 'more' or 'less', got {direction!r}")
    return Factor(direction, _num(d.get("sigma", Factor.sigma), f"{path}.sigma"))


def _read_design(doc: Any) -> Design:
    d = _obj(doc, "(document)")
    fmt = d.get("format", FORMAT)
    if fmt != FORMAT:
        raise DesignError("format", f"expected {FORMAT!r}, got {_kind(fmt)}")
    version = d.get("schema_version", SCHEMA_VERSION)
    if not isinstance(version, int) or version > SCHEMA_VERSION or version < 1:
        raise DesignError(
            "schema_version",
            f"expected 1..{SCHEMA_VERSION}, got {_kind(version)}: was it written by a newer studio?",
        )
    root = _read_node(d.get("root"), "root")
    if not isinstance(root, Group):
        raise DesignError("root.type", "expected the root to be a group")
    events_raw = d.get("events", [])
    if not isinstance(events_raw, list):
        raise DesignError("events", f"expected a list, got {_kind(events_raw)}")
    events = []
    for i, ev in enumerate(events_raw):
        p = f"events[{i}]"
        e = _obj(ev, p)
        trigger = _str(e, "trigger", p, "termination")
        if trigger not in TRIGGERS:
            raise DesignError(f"{p}.trigger", f"expected one of {', '.join(TRIGGERS)}, got {trigger!r}")
        events.append(
            EventTerm(
                name=_ident(e, p),
                trigger=trigger,
                condition=_str(e, "condition", p, ""),
                weight=_weight(e, p),
                enabled=_bool(e, "enabled", p, True),
                description=_str(e, "description", p, ""),
            )
        )
    shaping = None
    if d.get("shaping") is not None:
        s = _obj(d["shaping"], "shaping")
        shaping = Shaping(
            potential=_str(s, "potential", "shaping"),
            gamma=_num(s.get("gamma", 0.99), "shaping.gamma"),
            weight=_weight(s, "shaping"),
            negative_slope=_num(s.get("negative_slope", 1.0), "shaping.negative_slope"),
            name=_ident({"name": s.get("name", "shaping")}, "shaping"),
            enabled=_bool(s, "enabled", "shaping", True),
        )
    meta = d.get("meta", {})
    return Design(
        name=_str(d, "name", "(document)"),
        task=_str(d, "task", "(document)"),
        root=root,
        events=events,
        shaping=shaping,
        description=_str(d, "description", "(document)", ""),
        meta=_obj(meta, "meta"),
    )


def _check_finite(value: Any, path: str) -> None:
    """Raise :class:`DesignError` at the first NaN or infinity in a document.

    JSON has no such numbers, but Python's ``json`` reads ``NaN`` and ``Infinity``; a weight
    of NaN would make every reward NaN, and an infinite step count cannot become an int.
    """
    if isinstance(value, float) and not math.isfinite(value):
        raise DesignError(path or "(document)", f"{value} is not a finite number: use a finite "
                          "value (JSON has no NaN or Infinity)")
    if isinstance(value, dict):
        for key, item in value.items():
            _check_finite(item, f"{path}.{key}" if path else str(key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            _check_finite(item, f"{path}[{i}]")


def validate(design: Design, features: Collection[str] | None = None) -> list[DesignError]:
    """Every problem of ``design``: unique names, known shapes, combiners, params, expressions.

    ``features`` is the set of feature names of the task (None skips the name check).
    """
    from studio.core.combine import COMBINERS
    from studio.core.expr import ExpressionError, parse
    from studio.core.shapes import SHAPES

    problems: list[DesignError] = []
    seen: dict[str, str] = {}

    def unique(name: str, path: str) -> None:
        if name in seen:
            problems.append(DesignError(f"{path}.name", f"the name {name!r} is already used at {seen[name]}"))
        else:
            seen[name] = path

    def check_expr(text: str, path: str) -> None:
        try:
            parse(text, features)
        except ExpressionError as exc:
            problems.append(DesignError(path, f"column {exc.col}: {exc.message}"))

    def check_params(params: dict[str, Any], specs: Any, owner: str, path: str) -> None:
        by_name = {p.name: p for p in specs}
        for key, value in params.items():
            spec = by_name.get(key)
            if spec is None:
                allowed = ", ".join(by_name) or "none"
                problems.append(DesignError(f"{path}.params.{key}", f"{owner} has no parameter {key!r} (it takes: {allowed})"))
                continue
            values = [value] if not isinstance(value, Schedule) else (
                [value.start, value.end] if value.kind != "piecewise" else [v for _, v in value.points]
            )
            for v in values:
                want = spec.check(v)
                if want:
                    problems.append(DesignError(f"{path}.params.{key}", f"expected {want}, got {v!r}"))
                    break

    for path, node in design.walk():
        unique(node.name, path)
        if isinstance(node, Term):
            check_expr(node.source, f"{path}.source")
            shape = SHAPES.get(node.shape)
            if shape is None:
                problems.append(DesignError(f"{path}.shape", f"expected one of {', '.join(SHAPES)}, got {node.shape!r}"))
            else:
                check_params(node.params, shape.params, f"shape {node.shape!r}", path)
        else:
            comb = COMBINERS.get(node.combiner)
            if comb is None:
                problems.append(DesignError(f"{path}.combiner", f"expected one of {', '.join(COMBINERS)}, got {node.combiner!r}"))
            else:
                check_params(node.params, comb.params, f"combiner {node.combiner!r}", path)
            if not node.children and path != "root":
                problems.append(DesignError(f"{path}.children", "a group needs at least one child"))
            if node.combiner == "heron":
                problems += _heron_problems(node, path)
    for i, ev in enumerate(design.events):
        unique(ev.name, f"events[{i}]")
        if ev.trigger == "condition":
            check_expr(ev.condition, f"events[{i}].condition")
    if design.shaping is not None:
        s = design.shaping
        unique(s.name, "shaping")
        check_expr(s.potential, "shaping.potential")
        if not 0.0 < s.gamma <= 1.0:
            problems.append(DesignError("shaping.gamma", f"expected a discount in (0, 1], got {s.gamma}"))
    return problems


def _heron_problems(group: Group, path: str) -> list[DesignError]:
    """A HERON group's factors: terms with a known direction and a sigma >= 0."""
    out: list[DesignError] = []
    for i, child in enumerate(group.children):
        where = f"{path}.children[{i}]"
        if isinstance(child, Group):
            out.append(DesignError(where, "a HERON group's children are factors: terms, not groups"))
            continue
        f = child.factor or Factor()
        if f.direction not in DIRECTIONS:
            out.append(DesignError(f"{where}.factor.direction", f"expected 'more' or 'less', got {f.direction!r}"))
        if not f.sigma >= 0.0:
            out.append(DesignError(f"{where}.factor.sigma", f"expected a margin multiplier >= 0, got {f.sigma!r}"))
    if not heron_factors(group) and path != "root":
        out.append(DesignError(f"{path}.children", "a HERON group needs at least one enabled factor"))
    return out


def check(design: Design, features: Collection[str] | None = None) -> Design:
    """Raise the first validation problem, else return the design."""
    problems = validate(design, features)
    if problems:
        raise problems[0]
    return design
