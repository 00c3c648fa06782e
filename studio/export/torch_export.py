"""The ``torch`` export: a batched ``torch.nn.Module`` over feature tensors, for GPU trainers.

The module computes the same numbers as the studio (the same shape and combiner source,
run on torch); features come from the trainer as tensors [B], one per name in
``FEATURES``. The module keeps the condition events' per-row episode state.
"""

from __future__ import annotations

from typing import Any

from studio.core.design import Design
from studio.export.codegen import generate_reward_code, header_lines
from studio.export.python_export import _parameters_block, format_source, reward_core

_USAGE = '''
Usage::

    reward = DesignReward(dtype=torch.float32)
    total, components = reward(features, prev_features, step=global_step,
                               terminated=terminated, truncated=truncated)

It computes on the device of the feature tensors (CPU or GPU) and holds no parameters.

``features`` maps each name of ``FEATURES`` to a tensor [B] of the transitions (s, a, s')
(the studio's feature names; the ``python`` export shows how each is read from MuJoCo);
``prev_features`` the same for the previous transitions (read only by potential shaping,
for Phi(s); after a reset, the studio uses the features of (s, 0, s)). ``terminated`` and
``truncated`` are bool tensors [B]: condition events pay once per episode, and the module
remembers, per row, which already paid until that row's episode ends (``reset()`` forgets
everything). ``step`` is the training step that scheduled weights follow.
``total`` is [B]; ``components`` maps each term, group, event and shaping name to its
signed, weighted [B] contribution, and they sum to ``total``.

Requires torch only.
'''

_MODULE = '''
class RewardState:
    """Per-row episode memory: condition event name -> bool [B], already paid."""

    def __init__(self):
        self.fired = {}


class DesignReward(torch.nn.Module):
    """The design as a module: ``forward(features, prev_features=None, *, step, ...)``."""

    def __init__(self, dtype=torch.float32):
        super().__init__()
        self.dtype = dtype
        self.state = RewardState()

    def reset(self):
        """Forget every row's episode (call after resetting all environments)."""
        self.state = RewardState()

    def forward(self, features, prev_features=None, *, step=0, terminated=False, truncated=False):
        """``(total [B], components)`` of B transitions; see the module docstring."""
        return reward_from_features(
            features,
            prev_features,
            step=step,
            state=self.state,
            terminated=terminated,
            truncated=truncated,
            dtype=self.dtype,
        )
'''


def export_torch(design: Design, task: Any = None) -> str:
    """The torch module source of ``design`` (``task`` is not needed: features come as tensors)."""
    del task
    code = generate_reward_code(design, "torch")
    doc = "\n".join(header_lines(design, "torch module")) + "\n" + _USAGE
    parts = [
        f'"""{doc}"""',
        "from __future__ import annotations\n\nimport math\n\nimport torch",
        code.schedule,
        _parameters_block(code),
        "# --- shapes, combiners and helpers (copied from Reward Studio) " + "-" * 26,
        code.helpers,
        "# --- terms " + "-" * 77,
        code.terms or "# (no terms)",
        "# --- the reward " + "-" * 72,
        reward_core(code, "torch").strip(),
        _MODULE.strip(),
    ]
    return format_source("\n\n\n".join(p.strip() for p in parts if p.strip()) + "\n")
