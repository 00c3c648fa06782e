"""Messages between a trainer and the app: small, picklable dataclasses.

Trainer -> app: :class:`Metrics`, :class:`Snapshot`, :class:`Marker`, :class:`Checkpointed`,
:class:`Progress`, :class:`Failed`, :class:`Finished`. The trainer only emits them; the app
layer persists them (``studio.train`` imports neither the store nor Qt).

App -> trainer: :class:`Pause`, :class:`Resume`, :class:`Stop`, :class:`UpdateDesign`.

>>> import pickle
>>> pickle.loads(pickle.dumps(Metrics("run", 2048, {"charts/SPS": 1.0e4}))).values
{'charts/SPS': 10000.0}
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# --- trainer -> app ----------------------------------------------------------------------------


@dataclass
class Metrics:
    """Scalars of one update, namespaced ``charts/``, ``losses/``, ``Episode_Reward/<term>``."""

    run_key: str
    """Which run these belong to."""
    step: int
    """Global environment step at the end of the update."""
    values: dict[str, float]
    """Metric name -> value; a metric with nothing to report this update is left out."""


@dataclass
class Snapshot:
    """The policy at ``step``, enough to roll it out elsewhere (CPU tensors only)."""

    run_key: str
    step: int
    policy_state_dict: dict[str, Any]
    """``Agent.state_dict()`` with every tensor on the CPU."""
    obs_rms: dict[str, Any]
    """Observation normaliser: ``mean``, ``var`` (numpy arrays), ``count``, ``clip``; and how to
    read the actor: ``activation`` (``tanh`` when absent) and, for a tanh-squashed policy (SAC),
    ``squash_low``/``squash_high``."""


@dataclass
class Marker:
    """A point of interest on the time axis, such as a live design switch."""

    step: int
    kind: str
    """``design`` (a new design is in force), ``design_rejected``, ``resumed``, ``paused``…"""
    payload: dict[str, Any] = field(default_factory=dict)
    """For ``design``: ``version_id`` and ``name``; for ``design_rejected``: ``error`` too."""


@dataclass
class Checkpointed:
    """A checkpoint was written (atomically) at ``path``."""

    step: int
    path: str


@dataclass
class Progress:
    """For progress bars: where the run is and how fast it goes."""

    step: int
    total: int
    sps: float
    """Environment steps per second over the whole run so far."""
    eta_s: float
    """Estimated seconds left."""
    mean_return: float
    """Mean design return of the recent episodes (NaN before the first one ends)."""


@dataclass
class Failed:
    """The trainer stopped on an error; sent before the process exits non-zero."""

    cause: str
    """One sentence for the user: what went wrong and, where known, what to do."""
    traceback_text: str = ""
    """The formatted traceback (empty when the process died without one)."""
    term: str | None = None
    """The reward term that produced NaN/inf, when that is the cause."""


@dataclass
class Finished:
    """The run ended normally (``reason`` ``completed``) or on request (``stopped``)."""

    step: int = 0
    reason: str = "completed"


# --- app -> trainer ----------------------------------------------------------------------------


@dataclass
class Pause:
    """Stop stepping at the next update boundary until :class:`Resume` or :class:`Stop`."""


@dataclass
class Resume:
    """Continue after :class:`Pause`."""


@dataclass
class Stop:
    """Checkpoint and end at the next update boundary."""


@dataclass
class UpdateDesign:
    """Switch to another design of the same task at the next update, without restarting."""

    document: dict[str, Any]
    """The design's JSON document (``Design.to_json()``)."""
    version_id: str
    """The app's id of this design version, echoed in the ``design`` marker."""


Message = Metrics | Snapshot | Marker | Checkpointed | Progress | Failed | Finished
Command = Pause | Resume | Stop | UpdateDesign
