"""Array features: whole state arrays of a transition, for rewards written over arrays.

Rewards written by hand or by an LLM read ``qpos``, ``qvel``, the action, contact forces
and body positions as arrays (``np.sum(np.square(action))``, ``self.data.qvel[1:3]``,
``self.get_body_com("fingertip")``). These features give each transition those arrays,
``[B, *shape]``, so that the design language can index, slice and reduce them
(:mod:`studio.core.expr`):

* ``qpos`` [nq], ``qvel`` [nv], ``ctrl`` [nu] (the applied control), ``action`` [nu] (the
  action as given), ``actuator_force`` [nu], ``sensordata`` [nsensordata];
* ``xpos`` [nbody, 3], ``site_xpos`` [nsite, 3], ``cfrc_ext`` [nbody, 6] (needs
  ``mj_rnePostConstraint``, as Gymnasium's contact costs do);
* per body ``body_<name>_pos`` [3] (its frame origin, what Gymnasium's ``get_body_com``
  returns), ``body_<name>_vel`` [3] and ``body_<name>_angvel`` [3] (world frame, at the
  frame origin, as :meth:`AutoFeatures.body_velocity`).

All are read from the state after the step (``action`` from the action).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import mujoco
import numpy as np

from studio.core.features import FeatureSpec
from studio.sim.auto_features import AutoFeatures, _entity_names
from studio.sim.state import StateBatch

# name -> (StateBatch field, description, unit); "action" reads the action itself.
_WHOLE = {
    "qpos": ("qpos", "Generalised positions (MjData.qpos).", "m or rad"),
    "qvel": ("qvel", "Generalised velocities (MjData.qvel).", "m/s or rad/s"),
    "ctrl": ("ctrl", "Controls applied, the action after clipping (MjData.ctrl).", "1"),
    "action": ("action", "The action as given to step().", "1"),
    "actuator_force": ("actuator_force", "Actuator forces (MjData.actuator_force).", "N or N*m"),
    "sensordata": ("sensordata", "Sensor readings (MjData.sensordata).", ""),
    "xpos": ("xpos", "Body frame positions, world frame (MjData.xpos).", "m"),
    "site_xpos": ("site_xpos", "Site positions, world frame (MjData.site_xpos).", "m"),
    "cfrc_ext": ("cfrc_ext", "External (contact) forces per body, com-based (MjData.cfrc_ext).", "N"),
}


@dataclass(frozen=True)
class ArrayEntry:
    """How one array feature is read: a whole ``StateBatch`` field, or one body's vector."""

    kind: str
    """A field of :data:`_WHOLE`, or ``body_pos``, ``body_vel``, ``body_angvel``."""
    body: int = -1


class ArrayFeatures:
    """The array features of one model: specs and batched computation."""

    def __init__(self, model: mujoco.MjModel) -> None:
        self.model = model
        self._auto = AutoFeatures(model)
        self.entries: dict[str, ArrayEntry] = {}
        self.specs: list[FeatureSpec] = []
        sizes = {
            "qpos": (model.nq,), "qvel": (model.nv,), "ctrl": (model.nu,), "action": (model.nu,),
            "actuator_force": (model.nu,), "sensordata": (model.nsensordata,),
            "xpos": (model.nbody, 3), "site_xpos": (model.nsite, 3), "cfrc_ext": (model.nbody, 6),
        }
        for name, (field, text, unit) in _WHOLE.items():
            self._add(name, ArrayEntry(field), sizes[name], text, unit)
        names = _entity_names(model, mujoco.mjtObj.mjOBJ_BODY, model.nbody, "body")
        for b in range(1, model.nbody):
            n = names[b]
            self._add(f"body_{n}_pos", ArrayEntry("body_pos", b), (3,),
                      f"Position (x, y, z) of body '{n}' (frame origin, world frame).", "m")
            self._add(f"body_{n}_vel", ArrayEntry("body_vel", b), (3,),
                      f"Linear velocity (x, y, z) of body '{n}' (frame origin, world frame).", "m/s")
            self._add(f"body_{n}_angvel", ArrayEntry("body_angvel", b), (3,),
                      f"Angular velocity (x, y, z) of body '{n}', world frame.", "rad/s")

    def _add(self, name: str, entry: ArrayEntry, shape: tuple[int, ...], text: str, unit: str) -> None:
        self.entries[name] = entry
        dims = " x ".join(str(int(d)) for d in shape)
        self.specs.append(FeatureSpec(name, f"{text} Array [{dims}].", unit, -1.0, 1.0,
                                      group="array", shape=tuple(int(d) for d in shape)))

    def __contains__(self, name: object) -> bool:
        return name in self.entries

    def needs_contact(self, names: Iterable[str]) -> bool:
        """True when computing ``names`` reads ``cfrc_ext``."""
        return any(n in self.entries and self.entries[n].kind == "cfrc_ext" for n in names)

    def compute(self, after: StateBatch, action: np.ndarray, name: str) -> np.ndarray:
        """The feature ``name`` of B transitions: a fresh float64 array [B, *shape]."""
        e = self.entries[name]
        if e.kind == "action":
            value = np.asarray(action, dtype=np.float64).reshape(after.size, -1)
        elif e.kind == "body_pos":
            value = after.xpos[:, e.body, :]
        elif e.kind in ("body_vel", "body_angvel"):
            vel = self._auto.body_velocity(after, [e.body])[:, 0, :]
            value = vel[:, 3:] if e.kind == "body_vel" else vel[:, :3]
        else:
            value = getattr(after, e.kind)
        return np.array(value, dtype=np.float64)
