"""Automatic features: the physical quantities any MuJoCo model offers, read from its MJCF.

:class:`AutoFeatures` walks a compiled model and names, per body, joint, actuator and
sensor, the quantities a reward designer reaches for (positions, velocities,
uprightness, contact forces, joint angles, controls, sensor readings). It then computes
any subset of them for a whole :class:`~studio.sim.state.StateBatch` at once, with one
numpy slice per kind of quantity and no loop over environments.

Body velocities are given at the body's *frame origin* (``xpos``), in the world frame,
exactly as ``mujoco.mj_objectVelocity(m, d, mjOBJ_XBODY, id, res, 0)`` returns them
(note: ``mjOBJ_BODY`` there means the body's centre of mass ``xipos``, not its frame).
``cvel`` is a spatial velocity expressed at the centre of mass of the body's kinematic
tree (``subtree_com[body_rootid]``), so the linear part is shifted to the point p with
``v_p = v_c + w x (p - c)``. The frame origin is chosen, rather than the body's centre
of mass, so that velocities are the time derivatives of the positions
``body_<n>_x|y|z`` (also frame origins, as Gymnasium's ``get_body_com`` returns) and of
the root slide joints of planar models. :meth:`AutoFeatures.body_velocity` gives the
centre-of-mass velocity too (``at="com"``, equal to ``mjOBJ_BODY``).

>>> import mujoco
>>> m = mujoco.MjModel.from_xml_string(
...     "<mujoco><worldbody><body name='ball'><freejoint/><geom size='.1'/>"
...     "</body></worldbody></mujoco>")
>>> auto = AutoFeatures(m)
>>> [s.name for s in auto.specs if s.group == "body"][:3]
['body_ball_x', 'body_ball_y', 'body_ball_z']
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType

import mujoco
import numpy as np

from studio.core.features import FeatureCatalog, FeatureSpec
from studio.sim.state import StateBatch

_AXES = "xyz"

# Plain state arrays that a feature reads one column of: kind -> StateBatch field.
_COLUMN_FIELDS = {
    "qpos": "qpos",
    "qvel": "qvel",
    "ctrl": "ctrl",
    "actuator_force": "actuator_force",
    "sensor": "sensordata",
}

_SENSOR_UNITS = {
    mujoco.mjtSensor.mjSENS_TOUCH: "N",
    mujoco.mjtSensor.mjSENS_ACCELEROMETER: "m/s^2",
    mujoco.mjtSensor.mjSENS_VELOCIMETER: "m/s",
    mujoco.mjtSensor.mjSENS_GYRO: "rad/s",
    mujoco.mjtSensor.mjSENS_FORCE: "N",
    mujoco.mjtSensor.mjSENS_TORQUE: "N*m",
    mujoco.mjtSensor.mjSENS_RANGEFINDER: "m",
    mujoco.mjtSensor.mjSENS_JOINTPOS: "rad or m",
    mujoco.mjtSensor.mjSENS_JOINTVEL: "rad/s or m/s",
    mujoco.mjtSensor.mjSENS_FRAMEPOS: "m",
    mujoco.mjtSensor.mjSENS_FRAMELINVEL: "m/s",
    mujoco.mjtSensor.mjSENS_FRAMEANGVEL: "rad/s",
    mujoco.mjtSensor.mjSENS_FRAMELINACC: "m/s^2",
    mujoco.mjtSensor.mjSENS_FRAMEANGACC: "rad/s^2",
    mujoco.mjtSensor.mjSENS_SUBTREECOM: "m",
    mujoco.mjtSensor.mjSENS_SUBTREELINVEL: "m/s",
    mujoco.mjtSensor.mjSENS_FRAMEXAXIS: "1",
    mujoco.mjtSensor.mjSENS_FRAMEYAXIS: "1",
    mujoco.mjtSensor.mjSENS_FRAMEZAXIS: "1",
    mujoco.mjtSensor.mjSENS_FRAMEQUAT: "1",
}


def sanitize(name: str) -> str:
    """``name`` as an identifier fragment: every character but ASCII letters and digits -> ``_``."""
    return re.sub(r"[^0-9A-Za-z_]", "_", name)


@dataclass(frozen=True)
class AutoEntry:
    """How one automatic feature is computed: a stable contract (the exporter prints code
    from it).

    ``kind`` is one of ``qpos``, ``qvel``, ``ctrl``, ``actuator_force``, ``sensor`` (a
    column ``index`` of that array), ``xpos`` (body ``index``, axis ``component``), ``vel``
    (body ``index``, component of [angular xyz, linear xyz] at the frame origin),
    ``upright`` and ``contact_force`` (body ``index``).
    """

    kind: str
    index: int
    component: int = 0


def _entity_names(
    model: mujoco.MjModel,
    obj: mujoco.mjtObj,
    count: int,
    prefix: str,
    fallback: Callable[[int], str] | None = None,
) -> list[str]:
    """Identifier-safe, unique names of ``count`` objects.

    An unnamed object is called ``fallback(id)`` when that gives a name, else
    ``<prefix><id>``; a clash after sanitising gets ``_2``, ``_3``...
    """
    out: list[str] = []
    seen: set[str] = set()
    for i in range(count):
        raw = mujoco.mj_id2name(model, obj, i) or (fallback(i) if fallback else "")
        name = sanitize(raw) or f"{prefix}{i}"
        base, k = name, 2
        while name in seen:
            name, k = f"{base}_{k}", k + 1
        seen.add(name)
        out.append(name)
    return out


def _actuated_joint_name(model: mujoco.MjModel, actuator: int) -> str:
    """The name of the joint an actuator drives, or "" (Gymnasium's Ant names no actuator)."""
    if int(model.actuator_trntype[actuator]) != mujoco.mjtTrn.mjTRN_JOINT:
        return ""
    joint = int(model.actuator_trnid[actuator, 0])
    return mujoco.mj_id2name(model, mujoco.mjtObj.mjOBJ_JOINT, joint) or ""


class AutoFeatures:
    """The automatic feature catalogue of one model and its batched computation.

    Args:
        model: any compiled MuJoCo model; only its structure is read.

    Attributes:
        specs: the features, in catalogue order (bodies, joints, actuators, sensors).
        skipped: quantities deliberately left out, name -> reason (e.g. joint quaternions).
    """

    def __init__(self, model: mujoco.MjModel) -> None:
        self.model = model
        self.specs: list[FeatureSpec] = []
        self.skipped: dict[str, str] = {}
        self._entries: dict[str, AutoEntry] = {}
        self._body_root = np.asarray(model.body_rootid, dtype=np.intp)
        self._add_bodies()
        self._add_joints()
        self._add_actuators()
        self._add_sensors()

    # -- catalogue -------------------------------------------------------------------

    def _add(self, name: str, group: str, unit: str, entry: AutoEntry, text: str) -> None:
        base, k = name, 2
        while name in self._entries:  # names of different kinds may still collide
            name, k = f"{base}_{k}", k + 1
        self._entries[name] = entry
        self.specs.append(FeatureSpec(name=name, description=text, unit=unit, group=group))

    # One feature per statement reads better here than ruff's exploded calls.
    # fmt: off
    def _add_bodies(self) -> None:
        m = self.model
        names = _entity_names(m, mujoco.mjtObj.mjOBJ_BODY, m.nbody, "body")
        for b in range(1, m.nbody):  # body 0 is the world: it never moves
            n, p = names[b], f"body_{names[b]}"
            for a, ax in enumerate(_AXES):
                self._add(f"{p}_{ax}", "body", "m", AutoEntry("xpos", b, a),
                          f"Position {ax} of body '{n}' (frame origin, world frame), in m.")
            for a, ax in enumerate(_AXES):
                self._add(f"{p}_v{ax}", "body", "m/s", AutoEntry("vel", b, 3 + a),
                          f"Linear velocity {ax} of body '{n}' (frame origin, world frame), "
                          "in m/s.")
            for a, ax in enumerate(_AXES):
                self._add(f"{p}_w{ax}", "body", "rad/s", AutoEntry("vel", b, a),
                          f"Angular velocity about world {ax} of body '{n}', in rad/s.")
            self._add(f"{p}_upright", "body", "1", AutoEntry("upright", b),
                      f"Uprightness of body '{n}': world z of its z axis, 1 upright, -1 upside "
                      "down (unitless).")
            self._add(f"{p}_contact_force", "contact", "N", AutoEntry("contact_force", b),
                      f"Magnitude of the external (contact) force on body '{n}', in N.")

    def _add_joints(self) -> None:
        m = self.model
        names = _entity_names(m, mujoco.mjtObj.mjOBJ_JOINT, m.njnt, "joint")
        for j in range(m.njnt):
            n, p = names[j], f"joint_{names[j]}"
            qadr, dadr, jtype = int(m.jnt_qposadr[j]), int(m.jnt_dofadr[j]), int(m.jnt_type[j])
            if jtype in (mujoco.mjtJoint.mjJNT_HINGE, mujoco.mjtJoint.mjJNT_SLIDE):
                hinge = jtype == mujoco.mjtJoint.mjJNT_HINGE
                u, what = ("rad", "Angle") if hinge else ("m", "Displacement")
                self._add(f"{p}_pos", "joint", u, AutoEntry("qpos", qadr),
                          f"{what} of joint '{n}', in {u}.")
                self._add(f"{p}_vel", "joint", f"{u}/s", AutoEntry("qvel", dadr),
                          f"Velocity of joint '{n}', in {u}/s.")
                continue
            rot_dof = dadr  # ball: three angular velocities
            if jtype == mujoco.mjtJoint.mjJNT_FREE:
                for a, ax in enumerate(_AXES):
                    self._add(f"{p}_{ax}", "joint", "m", AutoEntry("qpos", qadr + a),
                              f"Position {ax} of free joint '{n}', world frame, in m.")
                for a, ax in enumerate(_AXES):
                    self._add(f"{p}_v{ax}", "joint", "m/s", AutoEntry("qvel", dadr + a),
                              f"Linear velocity {ax} of free joint '{n}', world frame, in m/s.")
                rot_dof = dadr + 3
            for a, ax in enumerate(_AXES):
                self._add(f"{p}_w{ax}", "joint", "rad/s", AutoEntry("qvel", rot_dof + a),
                          f"Angular velocity about local {ax} of joint '{n}', in rad/s.")
            self.skipped[f"{p}_quat"] = (
                "a quaternion is no scalar feature; use the body's uprightness and angular "
                "velocity instead"
            )

    def _add_actuators(self) -> None:
        m = self.model
        names = _entity_names(m, mujoco.mjtObj.mjOBJ_ACTUATOR, m.nu, "actuator",
                              fallback=lambda i: _actuated_joint_name(m, i))
        for i in range(m.nu):
            n, p = names[i], f"act_{names[i]}"
            u = "N or N*m"
            if int(m.actuator_trntype[i]) == mujoco.mjtTrn.mjTRN_JOINT:
                hinge = int(m.jnt_type[m.actuator_trnid[i, 0]]) == mujoco.mjtJoint.mjJNT_HINGE
                u = "N*m" if hinge else "N"
            self._add(f"{p}_ctrl", "actuator", "1", AutoEntry("ctrl", i),
                      f"Control of actuator '{n}' (the action after clipping to its range).")
            self._add(f"{p}_force", "actuator", u, AutoEntry("actuator_force", i),
                      f"Force of actuator '{n}', in {u}.")

    def _add_sensors(self) -> None:
        m = self.model
        names = _entity_names(m, mujoco.mjtObj.mjOBJ_SENSOR, m.nsensor, "sensor")
        for s in range(m.nsensor):
            n, adr, dim = names[s], int(m.sensor_adr[s]), int(m.sensor_dim[s])
            u = _SENSOR_UNITS.get(mujoco.mjtSensor(int(m.sensor_type[s])), "")
            in_u = f", in {u}" if u else ""
            if dim == 1:
                self._add(f"sensor_{n}", "sensor", u, AutoEntry("sensor", adr),
                          f"Reading of sensor '{n}'{in_u}.")
                continue
            for k in range(dim):
                self._add(f"sensor_{n}_{k}", "sensor", u, AutoEntry("sensor", adr + k),
                          f"Component {k} of sensor '{n}'{in_u}.")

    # fmt: on

    @property
    def entries(self) -> Mapping[str, AutoEntry]:
        """Feature name -> how it is computed (read-only)."""
        return MappingProxyType(self._entries)

    def names(self) -> list[str]:
        """All feature names, in catalogue order."""
        return [s.name for s in self.specs]

    def catalog(self, ranges: dict[str, tuple[float, float]] | None = None) -> FeatureCatalog:
        """The features as a :class:`FeatureCatalog`, with typical ranges where given."""
        cat = FeatureCatalog.of(self.specs)
        return cat.with_ranges(ranges) if ranges else cat

    # -- computation -----------------------------------------------------------------

    def compute(
        self,
        batch: StateBatch,
        action: np.ndarray | None = None,
        names: Iterable[str] | None = None,
    ) -> dict[str, np.ndarray]:
        """Feature values for every state of ``batch``: name -> float64 array [B].

        Only ``names`` are computed (all features when None), with one vectorised
        slice per kind of quantity. ``action`` is accepted so that every feature
        extractor shares one signature; automatic features read the applied control
        ``batch.ctrl`` instead, which is the action after clipping.

        Raises:
            KeyError: a requested name is not an automatic feature of this model.
        """
        del action
        wanted = list(self._entries) if names is None else list(names)
        unknown = [n for n in wanted if n not in self._entries]
        if unknown:
            raise KeyError(f"not automatic features of this model: {', '.join(unknown)}")
        by_kind: dict[str, list[str]] = defaultdict(list)
        for n in wanted:
            by_kind[self._entries[n].kind].append(n)
        out: dict[str, np.ndarray] = {}
        for kind, group in by_kind.items():
            idx = np.array([self._entries[n].index for n in group], dtype=np.intp)
            comp = np.array([self._entries[n].component for n in group], dtype=np.intp)
            values = self._compute_kind(batch, kind, idx, comp)  # [B, len(group)]
            values = np.asarray(values, dtype=np.float64)
            for j, n in enumerate(group):
                out[n] = np.ascontiguousarray(values[:, j])
        return {n: out[n] for n in wanted}

    def _compute_kind(
        self, batch: StateBatch, kind: str, idx: np.ndarray, comp: np.ndarray
    ) -> np.ndarray:
        if kind in _COLUMN_FIELDS:
            column: np.ndarray = getattr(batch, _COLUMN_FIELDS[kind])
            return column[:, idx]
        if kind == "xpos":
            return batch.xpos[:, idx, comp]
        if kind == "vel":
            bodies, where = np.unique(idx, return_inverse=True)  # each body's 6D once
            return self.body_velocity(batch, bodies)[:, where, comp]
        if kind == "upright":
            q = batch.xquat[:, idx, :]
            return np.asarray(1.0 - 2.0 * (q[..., 1] ** 2 + q[..., 2] ** 2))
        if kind == "contact_force":
            return np.asarray(np.linalg.norm(batch.cfrc_ext[:, idx, 3:6], axis=-1))
        raise AssertionError(f"unknown feature kind {kind}")

    def body_velocity(
        self,
        batch: StateBatch,
        bodies: Sequence[int] | np.ndarray,
        at: str = "origin",
    ) -> np.ndarray:
        """Spatial velocities [B, len(bodies), 6] (angular, then linear), world frame.

        ``at="origin"``: at the body frame origins, equal to
        ``mj_objectVelocity(m, d, mjOBJ_XBODY, b, res, 0)``; ``at="com"``: at the
        bodies' centres of mass, equal to ``mj_objectVelocity(m, d, mjOBJ_BODY, b, res, 0)``.
        """
        if at not in ("origin", "com"):
            raise ValueError(f"at must be 'origin' or 'com', not {at!r}")
        b = np.asarray(bodies, dtype=np.intp)
        cvel = batch.cvel[:, b, :]
        w, v_tree = cvel[..., :3], cvel[..., 3:]
        point = batch.xpos[:, b, :] if at == "origin" else batch.xipos[:, b, :]
        offset = point - batch.subtree_com[:, self._body_root[b], :]
        return np.concatenate([w, v_tree + np.cross(w, offset)], axis=-1)


def typical_ranges(
    model: mujoco.MjModel,
    steps: int = 200,
    episodes: int = 4,
    frame_skip: int = 5,
    seed: int = 0,
    percentiles: tuple[float, float] = (2.0, 98.0),
    features: AutoFeatures | None = None,
) -> dict[str, tuple[float, float]]:
    """Typical ranges of every automatic feature, from uniformly random-action rollouts.

    Runs ``episodes`` copies of the model side by side for ``steps`` control steps of
    ``frame_skip`` physics steps each (raw MuJoCo, no Gymnasium), starting from the
    model's reference pose with small noise, and returns the ``percentiles`` of every
    feature over all visited states. A copy that diverges (non-finite state) is reset.
    A feature that never varies gets a small band around its value so that its range
    is never empty. Takes well under a second for the Gymnasium locomotion models.
    """
    auto = features or AutoFeatures(model)
    rng = np.random.default_rng(seed)
    datas = [mujoco.MjData(model) for _ in range(episodes)]

    def reset(d: mujoco.MjData) -> None:
        mujoco.mj_resetData(model, d)
        d.qpos[:] = model.qpos0 + rng.uniform(-0.1, 0.1, model.nq)
        d.qvel[:] = rng.normal(0.0, 0.1, model.nv)
        mujoco.mj_forward(model, d)
        mujoco.mj_rnePostConstraint(model, d)

    for d in datas:
        reset(d)
    low, high = model.actuator_ctrlrange[:, 0], model.actuator_ctrlrange[:, 1]
    limited = model.actuator_ctrllimited.astype(bool)
    low = np.where(limited, low, -1.0)
    high = np.where(limited, high, 1.0)
    batches: list[StateBatch] = []
    for _ in range(steps):
        for d in datas:
            d.ctrl[:] = rng.uniform(low, high)
            mujoco.mj_step(model, d, nstep=frame_skip)
            if not (np.all(np.isfinite(d.qpos)) and np.all(np.isfinite(d.qvel))):
                reset(d)
            else:
                mujoco.mj_rnePostConstraint(model, d)
        batches.append(StateBatch.from_datas(datas))
    stacked = StateBatch(
        **{k: np.concatenate([getattr(b, k) for b in batches]) for k in batches[0].__dict__}
    )
    values = auto.compute(stacked)
    out: dict[str, tuple[float, float]] = {}
    for name, v in values.items():
        v = v[np.isfinite(v)]
        if v.size == 0:
            out[name] = (-1.0, 1.0)
            continue
        lo, hi = (float(x) for x in np.percentile(v, percentiles))
        if hi - lo < 1e-9:
            pad = max(1e-6, 0.05 * abs(lo))
            lo, hi = lo - pad, hi + pad
        out[name] = (lo, hi)
    return out
