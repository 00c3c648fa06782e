"""Stage 2: the task's environment as context for ``self`` (parsed, never run from the file).

``self.<attr>`` reads the value of ``gym.make(task).unwrapped`` (a built-in, trusted
environment; the imported file is not involved). Methods and properties of the
environment's class (``self.control_cost(action)``, ``self.healthy_reward``) are given
by their source (``inspect.getsource`` along the class's MRO), which the lowering stage
inlines. ``step`` tells how the arguments of ``_get_rew`` are computed.
"""

from __future__ import annotations

import ast
import contextlib
import inspect
import numbers
import textwrap
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from studio.core import pyast
from studio.export.importer.parse import ImportError_


@dataclass
class EnvContext:
    """What ``self`` means while importing a method of ``task``'s environment."""

    task: str
    env: Any = None
    """The unwrapped environment (None where ``gym.make`` failed; ``self`` is then unknown)."""
    methods: dict[str, ast.FunctionDef] = field(default_factory=dict)
    """Method or property name -> its parsed source (first definition along the MRO)."""
    properties: set[str] = field(default_factory=set)
    sources: dict[str, str] = field(default_factory=dict)
    """Method name -> its dedented source (the sandbox stub reuses it)."""
    error: str = ""

    def method(self, name: str) -> ast.FunctionDef | None:
        """The parsed method ``name`` of the environment's class, or None."""
        if name in self.methods:
            return self.methods[name]
        if self.env is None:
            return None
        for cls in type(self.env).__mro__:
            member = vars(cls).get(name)
            if member is None:
                continue
            func = member.fget if isinstance(member, property) else member
            if not inspect.isfunction(func):
                return None
            try:
                src = textwrap.dedent(inspect.getsource(func))
            except (OSError, TypeError):
                return None
            fdef = pyast.parse(src).body[0]
            if not isinstance(fdef, ast.FunctionDef):
                return None
            fdef.decorator_list = []
            _strip_annotations(fdef)
            self.methods[name] = fdef
            self.sources[name] = ast.unparse(fdef)
            if isinstance(member, property):
                self.properties.add(name)
            return fdef
        return None

    def value(self, chain: list[str]) -> Any:
        """``self.a.b.c`` read from the live environment (constants: numbers, model fields)."""
        value: Any = self.env
        for attr in chain:
            value = getattr(value, attr)
        return value

    def constants(self) -> dict[str, Any]:
        """The environment's plain numeric attributes (for the sandbox stub)."""
        out: dict[str, Any] = {}
        if self.env is None:
            return out
        for k, v in vars(self.env).items():
            if literal(v) is not None:
                out[k] = v
        with contextlib.suppress(Exception):  # a non-MuJoCo env has no dt
            out["dt"] = float(self.env.dt)
        return out


def _strip_annotations(fdef: ast.FunctionDef) -> None:
    """Drop type hints: they name types (``NDArray``) the sandbox does not import."""
    fdef.returns = None
    for arg in fdef.args.posonlyargs + fdef.args.args + fdef.args.kwonlyargs:
        arg.annotation = None


def literal(value: Any) -> Any:
    """``value`` when it is a constant the lowering can use (numbers, bools, tuples, small arrays)."""
    if isinstance(value, bool | numbers.Real):
        return value
    if isinstance(value, np.ndarray) and value.dtype.kind in "fiub" and value.size <= 4096:
        return value
    if isinstance(value, tuple | list) and all(literal(v) is not None for v in value):
        return tuple(value)
    return None


def env_context(task: str) -> EnvContext:
    """The context of ``task``: ``gym.make(task).unwrapped`` and its class's methods.

    Raises:
        ImportError_: ``task`` is no Gymnasium environment (one line, with the remedy).
    """
    try:
        import gymnasium as gym

        env = gym.make(task).unwrapped
    except Exception as exc:  # noqa: BLE001 - gym raises many kinds for a bad id
        msg = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ImportError_(
            f"--task {task!r}: not a Gymnasium environment ({msg}); use an id such as HalfCheetah-v5"
        ) from None
    return EnvContext(task, env)
