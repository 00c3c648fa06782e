"""A batch of simulator states, the input of every feature computation.

The vector stepping layer fills one :class:`StateBatch` per step from its ``MjData``s (one
row per environment); feature extractors read only these arrays, so they work the same
on one env, on many, and on recorded trajectories.
"""

from __future__ import annotations

from dataclasses import dataclass

import mujoco
import numpy as np


@dataclass
class StateBatch:
    """Arrays of B simulator states; every field has the batch as its first dimension."""

    qpos: np.ndarray
    """[B, nq] generalised positions."""
    qvel: np.ndarray
    """[B, nv] generalised velocities."""
    xpos: np.ndarray
    """[B, nbody, 3] body frame positions in world coordinates."""
    xquat: np.ndarray
    """[B, nbody, 4] body orientations (w, x, y, z)."""
    xipos: np.ndarray
    """[B, nbody, 3] body centres of mass in world coordinates."""
    cvel: np.ndarray
    """[B, nbody, 6] com-based velocities (rotational first, then translational)."""
    cfrc_ext: np.ndarray
    """[B, nbody, 6] external (contact) forces per body, com-based; needs mj_rnePostConstraint."""
    ctrl: np.ndarray
    """[B, nu] controls applied (the action after clipping to ctrlrange)."""
    actuator_force: np.ndarray
    """[B, nu] actuator forces."""
    sensordata: np.ndarray
    """[B, nsensordata] sensor readings."""
    subtree_com: np.ndarray
    """[B, nbody, 3] centre of mass of each subtree (row 0 is the whole model)."""
    site_xpos: np.ndarray
    """[B, nsite, 3] site positions."""
    time: np.ndarray
    """[B] simulation time."""

    @property
    def size(self) -> int:
        """Number of states in the batch."""
        return int(self.qpos.shape[0])

    @classmethod
    def from_datas(cls, datas: list[mujoco.MjData]) -> StateBatch:
        """Stack the current states of several ``MjData`` of one model."""
        return cls(
            qpos=np.stack([d.qpos for d in datas]),
            qvel=np.stack([d.qvel for d in datas]),
            xpos=np.stack([d.xpos for d in datas]),
            xquat=np.stack([d.xquat for d in datas]),
            xipos=np.stack([d.xipos for d in datas]),
            cvel=np.stack([d.cvel for d in datas]),
            cfrc_ext=np.stack([d.cfrc_ext for d in datas]),
            ctrl=np.stack([d.ctrl for d in datas]),
            actuator_force=np.stack([d.actuator_force for d in datas]),
            sensordata=np.stack([d.sensordata for d in datas]),
            subtree_com=np.stack([d.subtree_com for d in datas]),
            site_xpos=np.stack([d.site_xpos for d in datas]),
            time=np.array([d.time for d in datas], dtype=np.float64),
        )

    def select(self, index: np.ndarray) -> StateBatch:
        """The rows picked by a boolean mask or an index array."""
        return StateBatch(**{k: v[index] for k, v in self.__dict__.items()})
