"""The ``python`` and ``numpy-features`` exports: one standalone module, numpy and mujoco only.

The module's entry point is ``compute_reward(model, data, action, next_data)``; see the
docstring written into the module (:data:`_USAGE`) for events, schedules and batches.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from typing import Any

from studio.core import pyast
from studio.core.design import Design
from studio.export.codegen import RewardCode, generate_reward_code, header_lines
from studio.export.feature_code import feature_code

_USAGE = '''
Usage::

    total, components = compute_reward(model, data, action, next_data)

``data`` is the ``mujoco.MjData`` before the step, ``next_data`` the one after it, and
``action`` the action applied. ``total`` is a float; ``components`` maps each term, group,
event and shaping name to its signed, weighted float contribution, and they sum to
``total``.

Episodes: condition events pay once per episode and potential shaping remembers the
previous step, so pass ``terminated=True`` or ``truncated=True`` on the last step of each
episode. That memory lives in a ``RewardState``; by default one module-level state is used,
so with several environments give each its own: ``state = RewardState()`` then
``compute_reward(..., state=state)``.

Schedules: weights and parameters that follow the training step read ``step=`` (default 0).

Batches: ``reward_from_features(features, prev_features, ...)`` takes feature arrays [B].
'''

_STATE_CLASS = '''
class RewardState:
    """What the reward remembers within an episode.

    Attributes:
        fired: condition event name -> bool [B], whether it already paid this episode.
        prev_features: the features of the previous step (potential shaping reads Phi(s)
            from them), or None at the start of an episode.
    """

    def __init__(self):
        self.fired = {}
        self.prev_features = None

    def reset(self):
        """Forget the episode: call it after a reset of the environment."""
        self.fired = {}
        self.prev_features = None
'''


def _indent(src: str, n: int = 4) -> str:
    pad = " " * n
    return "\n".join(pad + line if line.strip() else "" for line in src.splitlines())


_SETUP = {
    "np": (
        "    f = {name: np.asarray(features[name], dtype=np.float64) for name in FEATURES}\n"
        "    ones = np.ones(_batch_size(features, terminated))\n"
        "    no_flags = np.zeros(ones.shape, dtype=bool)"
    ),
    "torch": (
        "    first = next(iter(features.values()), None)\n"
        "    device = first.device if isinstance(first, torch.Tensor) else None\n"
        "    f = {name: torch.as_tensor(features[name], dtype=dtype, device=device) for name in FEATURES}\n"
        "    ones = torch.ones(_batch_size(features, terminated), dtype=dtype, device=device)\n"
        "    no_flags = torch.zeros(ones.shape, dtype=torch.bool, device=device)"
    ),
}


def _uses(body: str, name: str) -> bool:
    return re.search(rf"\b{name}\b", body) is not None


def _setup(code: RewardCode, xp: str) -> str:
    """The set-up lines of ``reward_from_features`` that its body needs (no unused names)."""
    lines = _SETUP[xp].split("\n")
    if code.term_prev_features:  # prev(x) in a term reads f['prev:x']
        value = ("np.asarray(prev_features[name], dtype=np.float64)" if xp == "np" else
                 "torch.as_tensor(prev_features[name], dtype=dtype, device=device)")
        lines.insert(next(i for i, ln in enumerate(lines) if ln.lstrip().startswith("f = ")) + 1,
                     f'    f.update({{"prev:" + name: {value} for name in PREV_FEATURES}})')
    if not _uses(code.body, "no_flags"):
        lines = [ln for ln in lines if not ln.lstrip().startswith("no_flags")]
    if not code.features:
        lines = [ln for ln in lines if not ln.lstrip().startswith("f = ")]
    optional = [
        ("prev", "    prev = prev_features"),
        ("term_flags", "    term_flags = _flags(terminated, ones)"),
        ("trunc_flags", "    trunc_flags = _flags(truncated, ones)"),
        ("fired", "    fired = state.fired if state is not None else {}"),
        ("new_fired", "    new_fired = {}"),
    ]
    lines += [line for name, line in optional if _uses(code.body, name)]
    return "\n".join(lines)


def _teardown(code: RewardCode) -> str:
    if not _uses(code.body, "new_fired"):
        return ""
    return "    if state is not None:\n        state.fired = new_fired\n"


def reward_core(code: RewardCode, xp: str = "np") -> str:
    """``reward_from_features``: the design over a batch of features (``np`` or ``torch``)."""
    dtype_arg = ", dtype=torch.float32" if xp == "torch" else ""
    dtype_doc = "\n        dtype: the floating point type of the computation." if xp == "torch" else ""
    return f'''
def reward_from_features(
    features, prev_features=None, *, step=0, state=None, terminated=False, truncated=False{dtype_arg}
):
    """The reward of B transitions from their features.

    Args:
        features: feature name -> float array [B] of the transitions (s, a, s').
        prev_features: the same for the previous transitions (only potential shaping
            reads them, for Phi(s)).
        step: the training step that schedules follow.
        state: a ``RewardState`` to read and update (condition events), or None.
        terminated, truncated: bool or bool [B], whether each transition ends its episode.{dtype_doc}

    Returns:
        (total [B], components: name -> [B]); the components sum to the total.
    """
{_setup(code, xp)}
    components = {{}}
{_indent(code.body)}
{_teardown(code)}    total = 0.0 * ones
    for value in components.values():
        total = total + value
    return total, components


def _batch_size(features, flags):
    for value in features.values():
        return int(value.shape[0]) if hasattr(value, "shape") else len(value)
    return {"int(torch.as_tensor(flags).numel())" if xp == "torch" else "int(np.size(flags))"}
'''


def _parameters_block(code: RewardCode) -> str:
    lines = ["# --- parameters " + "-" * 72, code.constants or "# (none)"]
    lines.append("")
    lines.append(f"FEATURES = {tuple(code.features)!r}")
    lines.append('"""The feature names the design reads."""')
    if code.term_prev_features:
        lines.append(f"PREV_FEATURES = {tuple(code.term_prev_features)!r}")
        lines.append('"""Features read one step earlier (prev(...)), from prev_features."""')
    lines.append(f"COMPONENTS = {tuple(code.component_names)!r}")
    lines.append('"""The components, in the order they are summed."""')
    return "\n".join(lines)


def export_python(design: Design, task: Any) -> str:
    """The standalone numpy + mujoco module of ``design`` for ``task`` (a ``studio.sim`` Task).

    Raises:
        ExportError: a feature the design reads cannot be exported (the message names it).
    """
    return format_source("\n\n\n".join(python_parts(design, task)) + "\n")


def python_parts(
    design: Design,
    task: Any,
    kind: str = "standalone numpy + mujoco module",
    usage: str = _USAGE,
    requires: str = "numpy and mujoco only",
    imports: str = "",
) -> list[str]:
    """The blocks of the python export, in order (the gymnasium export appends its wrapper)."""
    code = generate_reward_code(design, "np")
    imported = _imported_code(design)
    # code terms (imported with --allow-code): the original function, fed its input features
    computed = sorted({n for n in code.features if n not in imported.features} | set(imported.inputs))
    feats = feature_code(task, computed)
    doc = "\n".join(header_lines(design, kind)) + "\n" + usage
    doc += f"\nRequires {requires}.\n"
    contact = (
        "    # Contact forces (cfrc_ext) are only filled by mj_rnePostConstraint.\n"
        "    mujoco.mj_rnePostConstraint(model, next_data)\n"
        if feats.needs_contact
        else ""
    )
    feature_fns = "\n\n".join([feats.functions[n] for n in computed] +
                               [imported.feature_source(n) for n in sorted(imported.features)])
    every = computed + sorted(imported.features)
    table = ",\n".join(f"    {n!r}: feature_{n}" for n in every)
    parts = [
        f'"""{doc}"""',
        "from __future__ import annotations\n\nimport math\n\n" + imports + "import mujoco\nimport numpy as np"
        + ("\nimport torch" if "torch" in imported.source else ""),
        code.schedule,
        _parameters_block(code),
        "# --- features of a transition (s, a, s'), read from mujoco " + "-" * 30,
        "\n\n\n".join(feats.helpers) if feats.helpers else "",
        imported.module_source(),
        feature_fns,
        f"FEATURE_FUNCTIONS = {{\n{table}\n}}" if every else "FEATURE_FUNCTIONS = {}",
        f'''def compute_features(model, data, action, next_data):
    """Every feature the design reads: name -> float64 array of one value."""
{contact}    return {{name: fn(model, data, action, next_data) for name, fn in FEATURE_FUNCTIONS.items()}}''',
        "# --- shapes, combiners and helpers (copied from Reward Studio) " + "-" * 26,
        code.helpers,
        "# --- terms " + "-" * 77,
        code.terms or "# (no terms)",
        "# --- the reward " + "-" * 72,
        _STATE_CLASS.strip(),
        "_DEFAULT_STATE = RewardState()",
        reward_core(code).strip(),
        f'''def compute_reward(
    model, data, action, next_data, *, step=0, state=None, terminated=False, truncated=False
):
    """The reward of one step: ``(total, components)`` as floats.

    ``data`` / ``next_data`` are the ``mujoco.MjData`` before and after the step. Pass
    ``terminated`` / ``truncated`` on an episode's last step, and a ``RewardState`` per
    environment when running several (default: one module-level state).
    """
    state = _DEFAULT_STATE if state is None else state
    features = compute_features(model, data, action, next_data)
{_prev_block(code)}    total, components = reward_from_features(
        features, prev, step=step, state=state, terminated=terminated, truncated=truncated
    )
    done = bool(terminated) or bool(truncated)
    state.prev_features = None if done else features
    if done:
        state.fired = {{}}
    return float(total[0]), {{name: float(value[0]) for name, value in components.items()}}''',
    ]
    return [p.strip() for p in parts if p.strip()]


class _ImportedCode:
    """The code terms of an imported design, as source for the exported module.

    The original function is copied as it was written (without decorators): in the user's
    own project it is their code, run directly, not in the studio's sandbox.
    """

    def __init__(self, meta: dict[str, Any]) -> None:
        self.features: dict[str, str] = dict(meta.get("code_terms") or {})
        self.inputs: list[str] = list(meta.get("code_inputs") or []) if self.features else []
        self.source: str = str(meta.get("code_source") or "") if self.features else ""
        self.function: str = str(meta.get("code_function") or "compute_reward")

    def module_source(self) -> str:
        if not self.features:
            return ""
        import ast

        to_input = "torch.from_numpy(v)" if "torch" in self.source else "v"
        tree = pyast.parse(self.source)
        renamed = f"imported_{self.function}"  # the module has its own compute_reward
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef) and node.name == self.function:
                node.name = renamed
        return (
            "# --- the imported reward code, as written (its code terms) " + "-" * 29 + "\n\n"
            + ast.unparse(tree).strip() + "\n\n\n"
            + f"CODE_INPUTS = {tuple(self.inputs)!r}\n\n\n"
            + "def _imported_components(model, data, action, next_data):\n"
            + f'    """Every component of {self.function}, on this transition (arrays of one value)."""\n'
            + "    inputs = {n: FEATURE_FUNCTIONS[n](model, data, action, next_data) for n in CODE_INPUTS}\n"
            + f"    out = {renamed}(**{{k: {to_input} for k, v in inputs.items()}})\n"
            + "    total, parts = out if isinstance(out, tuple) else (out, {})\n"
            + "    parts = {**dict(parts), '__total__': total}\n"
            + "    return {\n"
            + "        k: np.asarray(v.detach().cpu().numpy() if hasattr(v, 'detach') else v, dtype=np.float64).reshape(1)\n"
            + "        for k, v in parts.items()\n"
            + "    }\n"
        )

    def feature_source(self, name: str) -> str:
        component = self.features[name]
        return (
            f"def feature_{name}(model, data, action, next_data):\n"
            f'    """Code term: component {component!r} of the imported {self.function}."""\n'
            f"    return _imported_components(model, data, action, next_data)[{component!r}]\n"
        )


def _imported_code(design: Design) -> _ImportedCode:
    return _ImportedCode(design.meta or {})


def _prev_block(code: RewardCode) -> str:
    if not code.uses_shaping and not code.term_prev_features:
        return "    prev = None  # no potential shaping: Phi(s) is never read\n"
    return (
        "    prev = state.prev_features\n"
        "    if prev is None:\n"
        "        # The first step of an episode: Phi(s) is read from the features of the\n"
        "        # transition (s, 0, s), as the studio does after a reset: velocities and\n"
        "        # control costs are zero there.\n"
        "        prev = compute_features(model, data, np.zeros_like(action), data)\n"
    )


def _ruff(args: list[str], src: str) -> str | None:
    ruff = shutil.which("ruff")
    cmd = [ruff] if ruff else [sys.executable, "-m", "ruff"]
    try:
        res = subprocess.run(
            [*cmd, *args, "--isolated", "--stdin-filename", "exported_reward.py", "-"],
            input=src, capture_output=True, text=True, timeout=60, check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return res.stdout if res.returncode in (0, 1) and res.stdout.strip() else None


def format_source(src: str) -> str:
    """``src`` tidied by ruff when it is installed: unused imports dropped, imports sorted,
    redundant parentheses removed, then ``ruff format`` (line length 100); else unchanged."""
    fixed = _ruff(["check", "--fix", "--exit-zero", "--select", "F401,I001,UP034,SIM300"], src) or src
    return _ruff(["format", "--line-length", "100"], fixed) or fixed
