"""Source generation shared by the exporters: a design as readable array code.

:func:`generate_reward_code` prints a design as plain Python over an array namespace
(``np`` or ``torch``): named parameter constants, the shape and combiner functions copied
verbatim from :mod:`studio.core.shapes` and :mod:`studio.core.combine` (their source is
written once against ``xp``, so copying it gives the same numbers), one small documented
function per term, and ``reward_from_features`` that mirrors
:class:`studio.core.compile.CompiledDesign` step for step: sum groups flatten into
components scaled by their enclosing weights, other groups are one component, condition
events pay once per episode, potential shaping zeroes Phi on termination.
"""

from __future__ import annotations

import hashlib
import json
import keyword
import re
import textwrap
from dataclasses import dataclass, field

import studio
from studio.core.combine import COMBINERS, potential_shaping
from studio.core.design import Design, EventTerm, Group, Term, check
from studio.core.expr import EXPORT_HELPERS, parse
from studio.core.schedule import Param, Schedule
from studio.core.shapes import SHAPES, _tolerance_sigmoid
from studio.export.heron_export import HERON_SRC, current_models
from studio.export.snippets import (
    BACKEND_HELPERS,
    SCHEDULE_SRC,
    ExportError,
    comment,
    docstring,
    fold_constants,
    plain_source,
)


def content_hash(design: Design) -> str:
    """sha256 of the design's canonical JSON: the workspace store's ``content_hash``."""
    text = json.dumps(
        design.to_json(), sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    )
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def header_lines(design: Design, kind: str) -> list[str]:
    """The lines every exported module's docstring starts with."""
    version = design.meta.get("version")
    return [
        *textwrap.wrap(f"Reward design {design.name!r}: {kind} exported by Reward Studio.", 96),
        "",
        f"Design:        {design.name}" + (f" (version {version})" if version is not None else ""),
        f"Task:          {design.task}",
        f"Content hash:  sha256:{design.meta.get('content_hash') or content_hash(design)}",
        f"Studio:        reward-studio {studio.__version__}",
    ]


# --- the generator -----------------------------------------------------------------------------


@dataclass
class RewardCode:
    """Generated source pieces; exporters assemble them into a module."""

    constants: str
    """``NAME = value`` lines, one per parameter."""
    schedule: str
    """The ``Schedule`` class and ``_param`` (empty when nothing is scheduled); goes first."""
    helpers: str
    """Shapes, combiners, expression helpers, schedules, backend helpers."""
    terms: str
    """One function per enabled term."""
    body: str
    """The body of ``reward_from_features`` (uses ``f``, ``prev``, ``ones``, ``step``, ``state``)."""
    features: list[str]
    """Feature names read (sorted)."""
    prev_features: list[str]
    """Feature names of s that potential shaping reads (sorted; empty without shaping)."""
    events: list[str]
    """Names of condition events (their once-per-episode state)."""
    component_names: list[str]
    scheduled: bool
    uses_shaping: bool
    imports: set[str] = field(default_factory=set)
    term_prev_features: list[str] = field(default_factory=list)
    """Features terms read one step earlier (``prev(x)``): ``f['prev:x']`` from prev_features."""


class _Gen:
    def __init__(self, design: Design, xp: str) -> None:
        self.d = design
        self.xp = xp
        self.const_lines: list[str] = []
        self.const_names: set[str] = set()
        self.term_srcs: list[str] = []
        self.body: list[str] = []
        self.shapes: set[str] = set()
        self.combiners: set[str] = set()
        self.features: set[str] = set()
        self.scheduled = False
        self.components: list[str] = []
        self.helpers_needed: set[str] = set()
        self.term_prev: set[str] = set()
        self.uses_heron = False

    # constants ---------------------------------------------------------------------------
    def const(self, owner: str, what: str, value: Param | str, comment: str = "") -> str:
        """Declare a named constant and return the source that reads it at ``step``."""
        base = re.sub(r"[^A-Z0-9_]", "_", f"{owner}_{what}".upper())
        name, k = base, 2
        while name in self.const_names:
            name, k = f"{base}_{k}", k + 1
        self.const_names.add(name)
        if isinstance(value, Schedule) and value.kind != "constant":
            self.scheduled = True
            if value.kind == "piecewise":
                lit = f"Schedule('piecewise', start={value.start!r}, points={[list(p) for p in value.points]!r})"
            else:
                lit = (
                    f"Schedule({value.kind!r}, start={value.start!r}, end={value.end!r}, "
                    f"steps={value.steps!r}, begin={value.begin!r})"
                )
            ref = f"_param({name}, step)"
        elif isinstance(value, Schedule):
            lit, ref = repr(float(value.start)), name
        elif isinstance(value, str):
            lit, ref = repr(value), name
        else:
            lit, ref = repr(float(value)), name
        self.const_lines.append(f"{name} = {lit}" + (f"  # {comment}" if comment else ""))
        return ref

    def expr(self, text: str) -> str:
        e = parse(fold_constants(text))
        self.features |= e.names
        self.term_prev |= e.previous
        src = e.to_source(lambda n: f"f[{n!r}]", xp=self.xp)
        self.helpers_needed |= {h for h in EXPORT_HELPERS if f"{h}(" in src}
        return src

    # tree ----------------------------------------------------------------------------------
    def node(self, node: Term | Group, outer: str | None, is_root: bool = False) -> str | None:
        """Emit ``node``; return the variable holding its weighted value when a parent needs it.

        ``outer`` is the source of the product of the enclosing sum groups' weights, or None
        inside a non-sum group (whose combined value is the component).
        """
        if not node.enabled:
            return None
        if is_root and not isinstance(node.weight, Schedule) and node.weight == 1.0:
            w = "1.0"
        else:
            w = self.const(node.name, "weight", node.weight)
        if isinstance(node, Term):
            return self.weighted(f"v_{node.name}", node.name, w, f"{self.term(node)}(f, ones, step)", outer)
        if node.combiner == "sum":
            self.body.append(f"# group {node.name!r}: the weighted sum of its children")
            if outer is not None:
                for c in node.children:
                    self.node(c, _mul(outer, w))
                return None
            parts = [v for c in node.children if (v := self.node(c, None)) is not None]
            var = f"g_{node.name}"
            total = " + ".join(parts) if parts else "0.0 * ones"
            self.body.append(f"{var} = {_mul(w, f'({total})')}")
            return var
        if node.combiner == "heron":
            return self.heron(node, w, outer)
        self.combiners.add(node.combiner)
        comb = COMBINERS[node.combiner]
        params = {**comb.defaults(), **node.params}
        kw = "".join(f", {k}={self.const(node.name, k, v)}" for k, v in params.items())
        self.body.append(f"# group {node.name!r}: {node.combiner} of its children, one component")
        parts = [v for c in node.children if (v := self.node(c, None)) is not None]
        if not parts:
            return None
        call = f"_as_batch(combine_{node.combiner}({self.xp}, [{', '.join(parts)}]{kw}), ones)"
        return self.weighted(f"g_{node.name}", node.name, w, call, outer)

    def weighted(self, var: str, name: str, w: str, call: str, outer: str | None) -> str | None:
        """``w * call``: a component under sum groups (``outer`` their weights), else a variable."""
        if outer is not None:
            self.emit_component(name, _scaled(outer, w, call))
            return None
        self.body.append(f"{var} = {_mul(w, call)}")
        return var

    def heron(self, node: Group, w: str, outer: str | None) -> str | None:
        """A HERON group: its trained model (weights beside the module) of inputs and factors."""
        models = current_models()
        if models is None or node.name not in models:
            raise ExportError(
                f"HERON group {node.name!r} needs its trained model: export with the run's weights "
                "(reward-studio export ... --heron-weights RUN_DIR/heron.safetensors)"
            )
        self.uses_heron = True
        self.features |= set(models[node.name].inputs)
        self.body.append(f"# group {node.name!r}: HERON, the learned reward of its ranked factors, one component")
        parts = [v for c in node.children if (v := self.node(c, None)) is not None]
        call = f"_as_batch(heron_reward({self.xp}, {node.name!r}, f, [{', '.join(parts)}], ones), ones)"
        return self.weighted(f"g_{node.name}", node.name, w, call, outer)

    def emit_component(self, name: str, src: str) -> None:
        self.components.append(name)
        self.body.append(f"components[{name!r}] = {src}")

    def term(self, t: Term) -> str:
        self.shapes.add(t.shape)
        shape = SHAPES[t.shape]
        params = {**shape.defaults(), **t.params}
        kw = ", ".join(f"{k}={self.const(t.name, k, v)}" for k, v in params.items())
        fn = f"term_{t.name}"
        raw = self.expr(t.source)
        doc = docstring(f"Term {t.name!r}: {t.shape}({t.source}), unweighted.", t.description)
        call = f"shape_{t.shape}({self.xp}, x" + (f", {kw}" if kw else "") + ")"
        self.term_srcs.append(
            f"def {fn}(f, ones, step=0):\n{doc}\n"
            f"    x = _as_batch({raw}, ones)\n    return _as_batch({call}, ones)\n"
        )
        return fn

    def event(self, ev: EventTerm) -> None:
        w = self.const(ev.name, "weight", ev.weight, f"paid on {ev.trigger}")
        self.body += comment(f"event {ev.name!r}: {ev.trigger}" + (f" when {ev.condition}" if ev.condition else ""))
        if ev.trigger == "termination":
            fire = "term_flags"
        elif ev.trigger == "truncation":
            fire = "(trunc_flags & ~term_flags)"
        else:
            cond = self.expr(ev.condition)
            self.body.append(f"holds = _as_batch({cond}, ones) != 0")
            self.body.append(f"before = fired.get({ev.name!r}, no_flags)")
            fire = "(holds & ~before)"
            self.body.append(f"new_fired[{ev.name!r}] = (before | holds) & ~(term_flags | trunc_flags)")
        cast = f"{fire}.astype(np.float64)" if self.xp == "np" else f"{fire}.to(ones.dtype)"
        self.emit_component(ev.name, f"{w} * {cast}")


def _mul(a: str | None, b: str) -> str:
    """``a * b``, or ``b`` alone when ``a`` is the constant 1 (multiplying by 1.0 is exact)."""
    return b if a is None or a == "1.0" else f"{a} * {b}"


def _scaled(outer: str, w: str, value: str) -> str:
    """``outer * (w * value)``: the studio's order of multiplication, without needless 1.0s."""
    inner = _mul(w, value)
    if inner != value and outer not in (None, "1.0"):
        inner = f"({inner})"
    return _mul(outer, inner)


def generate_reward_code(design: Design, xp: str = "np") -> RewardCode:
    """Generate the array code of ``design`` for namespace ``np`` or ``torch``.

    Raises:
        ExportError: the design is invalid or uses a shape/combiner without exportable source.
    """
    if xp not in BACKEND_HELPERS:
        raise ValueError(f"xp must be 'np' or 'torch', not {xp!r}")
    try:
        check(design)
    except Exception as exc:
        raise ExportError(f"design {design.name!r} cannot be exported: {exc}") from exc
    for name in [n.name for _, n in design.walk()] + [e.name for e in design.events]:
        if keyword.iskeyword(name):
            raise ExportError(f"the name {name!r} is a Python keyword: rename it before exporting")
    g = _Gen(design, xp)
    g.node(design.root, "1.0", is_root=True)
    events = [e for e in design.events if e.enabled]
    cond_events = [e.name for e in events if e.trigger == "condition"]
    for ev in events:
        g.event(ev)
    prev_features: set[str] = set()
    shaping = design.shaping if design.shaping is not None and design.shaping.enabled else None
    if shaping is not None:
        gamma = g.const(shaping.name, "gamma", shaping.gamma, "discount of the shaping")
        slope = g.const(shaping.name, "negative_slope", shaping.negative_slope, "1 keeps the optimal policy")
        w = g.const(shaping.name, "weight", shaping.weight)
        before = set(g.features)
        phi_next = g.expr(shaping.potential)
        pe = parse(fold_constants(shaping.potential))
        prev_features = set(pe.names)
        g.features = before | pe.names
        phi_s = pe.to_source(lambda n: f"prev[{n!r}]", xp=xp)
        g.body += [
            *comment(f"potential shaping {shaping.name!r}: F = gamma * Phi(s') - Phi(s), Phi = {shaping.potential}"),
            f"phi_s = _as_batch({phi_s}, ones)",
            f"phi_next = _as_batch({phi_next}, ones)",
            "# A terminal state has potential 0, so shaping cannot pay for ending an episode.",
            f"phi_next = {xp}.where(term_flags, 0.0 * phi_next, phi_next)",
        ]
        g.emit_component(shaping.name, f"{w} * potential_shaping({xp}, phi_s, phi_next, {gamma}, {slope})")

    helpers: list[str] = []
    helpers.append(BACKEND_HELPERS[xp].strip())
    for h in sorted(g.helpers_needed):
        helpers.append(plain_source(EXPORT_HELPERS[h]))
    if "tolerance" in g.shapes:
        helpers.append(plain_source(_tolerance_sigmoid))
    for s in sorted(g.shapes):
        helpers.append(plain_source(SHAPES[s].fn, f"shape_{s}", f"shape {s!r}"))
    for c in sorted(g.combiners):
        helpers.append(plain_source(COMBINERS[c].fn, f"combine_{c}", f"combiner {c!r}"))
    if shaping is not None:
        helpers.append(plain_source(potential_shaping))
    if g.uses_heron:
        helpers.append(HERON_SRC.strip())
    return RewardCode(
        constants="\n".join(g.const_lines),
        schedule=SCHEDULE_SRC.strip() if g.scheduled else "",
        helpers="\n\n\n".join(h.strip() for h in helpers),
        terms="\n\n".join(g.term_srcs),
        body="\n".join(g.body),
        features=sorted(g.features),
        prev_features=sorted(prev_features),
        events=cond_events,
        component_names=g.components,
        scheduled=g.scheduled,
        uses_shaping=shaping is not None,
        term_prev_features=sorted(g.term_prev),
    )




__all__ = [
    "ExportError",
    "RewardCode",
    "content_hash",
    "docstring",
    "generate_reward_code",
    "header_lines",
]
