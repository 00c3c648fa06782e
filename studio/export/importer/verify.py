"""Stage 4: check an imported design against the original code, side by side.

The task is stepped with random actions for a few hundred transitions (the studio's own
vector stepping, :mod:`studio.sim.vector`). The original function runs on them in the
sandbox (:func:`studio.export.sandbox.run_sandboxed`), never in the app's process: a
batched function (Eureka, torch) is called once on the arrays; a method of the
environment (``_get_rew(self, ...)``) is called once per transition with a stand-in
``self`` that holds the environment's constant attributes, the transition's
``self.data`` arrays and body positions, and the environment class's own methods and
properties (trusted source from the installed package). The design is evaluated on the
same transitions; the report gives the largest difference of the total and of each term.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from studio.core import pyast
from studio.core.compile import compile_design
from studio.export import sandbox
from studio.export.importer.envctx import EnvContext, _strip_annotations, env_context
from studio.export.importer.parse import parse_source, strip_decorators
from studio.export.importer.result import ImportResult
from studio.export.sandbox import SandboxError, SandboxLimits

TOLERANCE = 1e-6
"""Largest difference accepted as equal (float32 actions in Gymnasium's own costs)."""

_DATA_FIELDS = ("qpos", "qvel", "ctrl", "cfrc_ext", "xpos", "site_xpos", "sensordata", "actuator_force")

_HARNESS = '''

class _Data:
    def __init__(self, arrays, bodies):
        self.__dict__.update(arrays)
        self._bodies = bodies

    def body(self, name):
        class _B:
            pass
        b = _B()
        b.xpos = self._bodies[name]
        return b


class _Env:
{methods}

    def get_body_com(self, name):
        return self.data._bodies[name]


def __studio_run(**inputs):
    n = len(next(iter(inputs.values())))
    totals, parts = [], {{}}
    lanes = {{}}
    for i in range(n):
        # one environment per lane, kept across its steps (state kept in self carries over)
        env = lanes.get(i % {lanes})
        if env is None or inputs["first"][i]:
            env = lanes[i % {lanes}] = _Env()
        env.__dict__.update({constants})
        arrays = {{k[5:]: inputs[k][i] for k in inputs if k.startswith("data_")}}
        bodies = {{k[5:]: inputs[k][i] for k in inputs if k.startswith("body_")}}
        env.data = _Data(arrays, bodies)
        args = {{k[4:]: inputs[k][i] for k in inputs if k.startswith("arg_")}}
        for k in {int_args!r}:
            args[k] = bool(args[k])
        out = {function}(env, **args)
        total, comps = out if isinstance(out, tuple) else (out, {{}})
        totals.append(float(total))
        for k, v in dict(comps).items():
            parts.setdefault(k, []).append(float(v))
    return np.asarray(totals), {{k: np.asarray(v) for k, v in parts.items()}}
'''


@dataclass
class Verification:
    """The side-by-side check of a design against its original code."""

    transitions: int
    total_diff: float
    term_diffs: dict[str, float] = field(default_factory=dict)
    """Term -> largest |design component - w * original component|."""
    error: str = ""
    """Why the original could not be run (then nothing was compared)."""
    left_out: int = 0
    """Episodes' first steps not compared (state kept between calls; see :func:`verify`)."""
    carried: list[int] = field(default_factory=list)
    """Lines of the original that keep state between calls: the check calls it afresh for
    every transition, so it cannot see what that state changes; never a match then."""

    @property
    def matches(self) -> bool:
        """True when the design's total equals the original's on every transition."""
        return not self.error and not self.carried and self.total_diff <= TOLERANCE

    def report(self) -> str:
        """Lines for the import report."""
        if self.error:
            return f"not verified: {self.error}"
        head = "verified" if self.matches else "MISMATCH"
        lines = [f"{head} on {self.transitions} transitions: largest difference of the total {self.total_diff:.3g}"]
        if self.left_out:
            lines.append(f"  {self.left_out} first steps of episodes left out: there the original's "
                         "state between calls comes from its reset, which the check does not run")
        if self.carried:
            where = ", ".join(str(n) for n in self.carried)
            lines.append(f"  the original keeps state between calls (line {where}), which the design cannot: "
                         "each transition was checked without it")
        lines += [f"  {k}: {v:.3g}" for k, v in self.term_diffs.items()]
        return "\n".join(lines)


LANES = 8
"""Environments stepped side by side; row i of the transitions is environment i % LANES."""


def transitions(task: Any, names: set[str], count: int = 320, seed: int = 0) -> dict[str, np.ndarray]:
    """Features ``names`` of ``count`` random-action transitions of ``task``, step by step.

    Also ``prev:<name>`` (the same features one step earlier, as designs read them) and
    ``__first__`` (1 on the first step of an episode).
    """
    from studio.sim.vector import VectorEnv

    num_envs = LANES
    rng = np.random.default_rng(seed)
    low = np.where(np.isfinite(task.action_low), task.action_low, -1.0)
    high = np.where(np.isfinite(task.action_high), task.action_high, 1.0)
    chunks: dict[str, list[np.ndarray]] = {n: [] for n in names}
    chunks |= {f"prev:{n}": [] for n in names}
    chunks["__first__"] = []
    first = np.ones(num_envs)
    with VectorEnv(task, num_envs, seed=seed) as env:
        env.set_feature_names(sorted(names))
        env.reset()
        for _ in range(max(1, count // num_envs)):
            # float32 actions, as Gymnasium's action spaces give them
            res = env.step(rng.uniform(low, high, size=(num_envs, task.act_dim)).astype(np.float32))
            for n in names:
                chunks[n].append(np.asarray(res.features[n]))
                chunks[f"prev:{n}"].append(np.asarray(res.prev_features[n]))
            chunks["__first__"].append(first)
            first = np.asarray(res.terminated | res.truncated, dtype=float)
    return {n: np.concatenate(v) for n, v in chunks.items()}


def verify(result: ImportResult, task: Any, ctx: EnvContext | None = None, count: int = 320,
           limits: SandboxLimits | None = None) -> Verification:
    """Run the original and the design on ``count`` transitions of ``task``; compare."""
    parsed = parse_source(result.source, result.function)
    compiled = compile_design(result.design, dtype=torch.float64)
    names = set(compiled.required_features) - set(result.design.meta.get("code_terms", {}))
    args = dict(result.args)
    arg_feats = {n for v in args.values() for n in _names(v)}
    body_feats = {n for n in task.catalog.names() if n.startswith("body_") and n.endswith("_pos")}
    extra = {f for f in _DATA_FIELDS if f in task.catalog} | body_feats if parsed.is_method else set()
    feats = transitions(task, names | arg_feats | extra, count)
    prevs = {k.removeprefix("prev:"): v for k, v in feats.items() if k.startswith("prev:")}
    if len(args) < len(parsed.args):
        return Verification(0, float("nan"), error="some arguments are not features: the original cannot be fed")
    arg_values = {a: _evaluate(v, feats) for a, v in args.items()}
    limits = limits or SandboxLimits(wall_seconds=60, cpu_seconds=30)
    try:
        if parsed.is_method:
            ctx = ctx or env_context(result.design.task)
            total, parts = _run_method(result, ctx, feats, arg_values, body_feats, limits)
        else:
            total, parts = sandbox.run_sandboxed(strip_decorators(result.source), result.function, arg_values, limits,
                                         name=f"the original {result.function}")
    except SandboxError as exc:
        return Verification(0, float("nan"), error=str(exc))
    if result.code_terms:
        from studio.export.importer import evaluate_code_terms

        feats |= evaluate_code_terms(result, feats, limits)
    out = compiled(feats, prev_features=prevs if compiled.needs_previous else None)
    total = np.broadcast_to(np.asarray(total, dtype=np.float64).reshape(-1), out.total.shape)
    # State kept between calls became prev(...): on an episode's first step the original's
    # value depends on its reset, which the check does not run; those rows are left out.
    keep = feats["__first__"] == 0 if result.remembered else np.ones(len(feats["__first__"]), dtype=bool)
    v = Verification(int(keep.sum()), float(np.max(np.abs(out.total.numpy() - total)[keep], initial=0.0)),
                     carried=list(result.carried))
    if result.remembered:
        v.left_out = int((~keep).sum())
    for term, (cname, w) in result.components.items():
        if term in out.components and cname in parts:
            original = np.broadcast_to(np.asarray(parts[cname], dtype=np.float64).reshape(-1), out.total.shape)
            v.term_diffs[term] = float(np.max(np.abs(out.components[term].numpy() - w * original)[keep], initial=0.0))
    return v


def _names(expr: str) -> set[str]:
    from studio.core.expr import parse

    return set(parse(expr).names)


def _evaluate(expr: str, feats: dict[str, np.ndarray]) -> np.ndarray:
    from studio.core.expr import parse

    batch = next(iter(feats.values())).shape[0]
    value = parse(expr).evaluate(np, feats)
    return np.broadcast_to(np.asarray(value, dtype=np.float64), (batch, *np.shape(value)[1:])).copy()


def _run_method(result: ImportResult, ctx: EnvContext, feats: dict[str, np.ndarray],
                args: dict[str, np.ndarray], body_feats: set[str], limits: SandboxLimits) -> tuple[Any, Any]:
    """Call the method once per transition in the sandbox, with a stand-in ``self``."""
    parsed = parse_source(result.source, result.function)
    needed = _env_methods(ctx, parsed.fdef)
    methods = []
    for name in sorted(needed):
        src = ctx.sources[name]
        if name in ctx.properties:
            src = "@property\n" + src
        methods.append(src)
    constants = {k: (v.tolist() if isinstance(v, np.ndarray) else v) for k, v in ctx.constants().items()}
    consts_src = "{" + ", ".join(f"{k!r}: {_literal_source(v)}" for k, v in constants.items()) + "}"
    fn_src = ast.unparse(_without_decorators(parsed.fdef))
    harness = _HARNESS.format(
        methods="\n".join("    " + line for m in methods for line in m.splitlines()) or "    pass",
        constants=consts_src, function=parsed.fdef.name,
        int_args=[a for a in args if a in ("terminated", "truncated")],
        lanes=LANES,
    )
    source = "import numpy as np\n\n" + fn_src + "\n" + harness
    inputs: dict[str, np.ndarray] = {f"arg_{k}": v for k, v in args.items()}
    inputs["first"] = feats["__first__"]
    for f in _DATA_FIELDS:
        if f in feats:
            inputs[f"data_{f}"] = feats[f]
    for b in body_feats:
        inputs[f"body_{b[5:-4]}"] = feats[b]
    return sandbox.run_sandboxed(source, "__studio_run", inputs, limits, name=f"the original {result.function}")


def _literal_source(v: Any) -> str:
    if isinstance(v, float) and not np.isfinite(v):
        return f"float({str(v)!r})"
    if isinstance(v, list | tuple):
        items = ", ".join(_literal_source(x) for x in v)
        return f"({items}{',' if len(v) == 1 else ''})" if isinstance(v, tuple) else f"np.array([{items}])"
    return repr(v)


def _without_decorators(fdef: ast.FunctionDef) -> ast.FunctionDef:
    fdef = pyast.parse(ast.unparse(fdef)).body[0]  # type: ignore[assignment]
    fdef.decorator_list = []
    _strip_annotations(fdef)
    return fdef


def _env_methods(ctx: EnvContext, fdef: ast.FunctionDef, depth: int = 0) -> set[str]:
    """Methods and properties of the environment that ``fdef`` reaches through ``self``."""
    out: set[str] = set()
    if depth > 8:
        return out
    for n in ast.walk(fdef):
        if isinstance(n, ast.Attribute) and isinstance(n.value, ast.Name) and n.value.id == "self":
            m = ctx.method(n.attr)
            if m is not None and n.attr not in ("get_body_com",) and n.attr != fdef.name:
                out.add(n.attr)
                out |= _env_methods(ctx, m, depth + 1)
    return out
