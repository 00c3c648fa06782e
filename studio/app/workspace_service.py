"""The workspace as the editor sees it: designs and their versions, runs, feedback, settings.

Qt-free. The UI opens a workspace through :meth:`WorkspaceService.open`, saves and loads
:class:`~studio.core.design.Design` objects as immutable versions, reads a summary of
everything stored (:meth:`WorkspaceService.overview`) as plain dataclasses (no ORM
objects escape), and keeps its own state (last version, window layout) in the
workspace's settings so that reopening a workspace returns to where the user left it.

>>> import tempfile
>>> from studio.core.design import Design, Group, Term
>>> svc = WorkspaceService.open(tempfile.mkdtemp())
>>> v = svc.save(Design("run", "HalfCheetah-v5", Group("reward", [Term("fwd", "x_velocity")])), "first")
>>> svc.load(v.id)[0].root.children[0].name, svc.last_version_id() == v.id
('fwd', True)
>>> svc.close()
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from studio.app.listing import RankingInfo, RolloutInfo, ranking_info, rollout_info
from studio.core.design import Design
from studio.store import Workspace, WorkspaceLockedError, repo

__all__ = [
    "DesignEntry", "Overview", "RunInfo", "VersionInfo",
    "WorkspaceService", "matching_version", "save_or_reuse",
]

LAST_VERSION_KEY = "ui.last_version_id"
LAYOUT_KEY = "ui.layout"


@dataclass(frozen=True)
class VersionInfo:
    """One saved version of a design."""

    id: int
    design_id: int
    design_name: str
    task: str
    number: int
    message: str
    created_at: datetime | None
    parent_id: int | None

    @property
    def label(self) -> str:
        """``name v3``."""
        return f"{self.design_name} v{self.number}"


@dataclass(frozen=True)
class RunInfo:
    """A training run of a version."""

    id: int
    version_id: int
    status: str
    created_at: datetime | None


@dataclass
class DesignEntry:
    """A design with its versions (oldest first) and each version's runs."""

    id: int
    name: str
    task: str
    versions: list[VersionInfo] = field(default_factory=list)
    runs: dict[int, list[RunInfo]] = field(default_factory=dict)


@dataclass
class Overview:
    """Everything the workspace browser lists."""

    designs: list[DesignEntry] = field(default_factory=list)
    rollouts: list[RolloutInfo] = field(default_factory=list)
    rankings: list[RankingInfo] = field(default_factory=list)


def _version_info(v: Any) -> VersionInfo:
    return VersionInfo(
        id=v.id, design_id=v.design_id, design_name=v.design.name, task=v.design.task.env_id,
        number=v.number, message=v.message or "", created_at=v.created_at,
        parent_id=v.parent_version_id,
    )


class WorkspaceService:
    """An open workspace, seen through designs and versions.

    Raises the store's errors (``WorkspaceLockedError``, ``WorkspaceCorruptError``,
    ``WorkspaceError``): their messages are written for the user, show them as they are.
    """

    def __init__(self, workspace: Workspace) -> None:
        self.workspace = workspace
        self.read_only_reason: str | None = None
        """Why the workspace is open read-only (another process holds it), or None."""

    @classmethod
    def open(cls, path: str | os.PathLike[str], *,
             read_only_if_held: bool = False) -> WorkspaceService:
        """Open (creating if needed) the workspace folder ``path``.

        ``read_only_if_held``: when another process has it open for writing, open it
        read-only instead (nothing can be saved; SQLite itself refuses writes) and say
        why in :attr:`read_only_reason`, instead of raising ``WorkspaceLockedError``.
        """
        try:
            return cls(Workspace.open(path))
        except WorkspaceLockedError as exc:
            if not read_only_if_held:
                raise
            service = cls(Workspace.open(path, read_only=True))
            who = f"process {exc.pid}" if exc.pid is not None else "another process"
            service.read_only_reason = (
                f"Read-only: {service.root} is open in {who}"
                f"{' on ' + exc.hostname if exc.hostname else ''}. Nothing can be saved here; "
                "close it there and open the workspace again to make changes.")
            return service

    def interrupted_notices(self) -> list[str]:
        """One line per run this open marked ``interrupted`` (its process had died)."""
        return [f"run {rid} was interrupted (its training process ended without stopping it); "
                "continue it from the Training panel (Continue selected run) or with "
                f"`reward-studio train --resume {rid} --workspace {self.root}`"
                for rid in getattr(self.workspace, "interrupted", [])]

    @property
    def root(self) -> Path:
        """The workspace folder."""
        return self.workspace.root

    def close(self) -> None:
        """Release the workspace (safe to call twice)."""
        self.workspace.close()

    # --- designs -----------------------------------------------------------------------------
    def save(self, design: Design, message: str = "",
             parent_version_id: int | None = None) -> VersionInfo:
        """Save ``design`` as a new version of the design of its name and task.

        The new version also becomes the one reopened next time.
        """
        with self.workspace.session() as s:
            v = repo.save_design_version(s, design.task, design.name, design.to_json(), message,
                                         parent_version_id=parent_version_id)
            repo.set_setting(s, LAST_VERSION_KEY, v.id)
            return _version_info(v)

    def load(self, version_id: int) -> tuple[Design, VersionInfo]:
        """The design stored as ``version_id`` and its description.

        Raises:
            KeyError: no such version.
            DesignError: the stored document cannot be read (named path inside it).
        """
        with self.workspace.reading() as s:
            v = repo.get_version(s, version_id)
            if v is None:
                raise KeyError(f"There is no design version {version_id} in {self.root}.")
            info = _version_info(v)
            text = v.document
        return Design.loads(text), info

    def version(self, version_id: int) -> VersionInfo | None:
        """The description of ``version_id``, or None."""
        with self.workspace.reading() as s:
            v = repo.get_version(s, version_id)
            return None if v is None else _version_info(v)

    def overview(self) -> Overview:
        """Designs with versions and runs, rollouts and rankings, for the browser."""
        out = Overview()
        with self.workspace.reading() as s:
            for d in repo.list_designs(s):
                entry = DesignEntry(d.id, d.name, d.task.env_id)
                for v in repo.design_history(s, d.id):
                    entry.versions.append(VersionInfo(
                        v.id, d.id, d.name, entry.task, v.number, v.message or "", v.created_at,
                        v.parent_version_id))
                    runs = repo.list_runs(s, v.id)
                    if runs:
                        entry.runs[v.id] = [RunInfo(r.id, v.id, str(r.status), r.created_at)
                                            for r in runs]
                out.designs.append(entry)
            # The same records the ranking service lists, read in this one transaction.
            rollouts = repo.list_rollouts(s)
            envs = repo.rollout_env_ids(s, [r.id for r in rollouts])
            out.rollouts = [rollout_info(self.workspace, r, envs.get(r.id)) for r in rollouts]
            out.rankings = [ranking_info(r) for r in repo.list_rankings(s)]
        return out

    # --- where the user left off ------------------------------------------------------------
    def last_version_id(self) -> int | None:
        """The version to reopen: the last one loaded or saved, else the newest saved."""
        with self.workspace.reading() as s:
            vid = repo.get_setting(s, LAST_VERSION_KEY)
            if isinstance(vid, int) and repo.get_version(s, vid) is not None:
                return vid
            newest = None
            for d in repo.list_designs(s):
                v = repo.latest_version(s, d.id)
                if v is not None and (newest is None or v.created_at > newest.created_at):
                    newest = v
            return None if newest is None else newest.id

    def version_for_task(self, env_id: str) -> int | None:
        """The version to open for ``env_id``: the last one used if it is of that task, else
        the newest version of any design of the task, else None."""
        last = self.last_version_id()
        with self.workspace.reading() as s:
            if last is not None:
                v = repo.get_version(s, last)
                if v is not None and v.design.task.env_id == env_id:
                    return last
            newest = [repo.latest_version(s, d.id) for d in repo.list_designs(s, env_id)]
            found = [v for v in newest if v is not None]
            return max(found, key=lambda v: v.created_at).id if found else None

    def remember_version(self, version_id: int | None) -> None:
        """Make ``version_id`` the one reopened next time."""
        with self.workspace.session() as s:
            repo.set_setting(s, LAST_VERSION_KEY, version_id)

    def layout(self) -> dict[str, Any]:
        """The stored window layout (``{"geometry": str, "state": str, ...}``) or ``{}``."""
        with self.workspace.reading() as s:
            value = repo.get_setting(s, LAYOUT_KEY, {})
        return value if isinstance(value, dict) else {}

    def set_layout(self, layout: dict[str, Any]) -> None:
        """Store the window layout (JSON-serialisable values)."""
        json.dumps(layout)  # fail here, not inside the transaction
        with self.workspace.session() as s:
            repo.set_setting(s, LAYOUT_KEY, layout)

    def get(self, key: str, default: Any = None) -> Any:
        """Any other setting."""
        with self.workspace.reading() as s:
            return repo.get_setting(s, key, default)

    def set(self, key: str, value: Any) -> None:
        """Store any other setting (JSON-serialisable)."""
        with self.workspace.session() as s:
            repo.set_setting(s, key, value)


def matching_version(session: Any, env_id: str, name: str, document: dict[str, Any]) -> int | None:
    """The id of the newest version of design ``name`` of ``env_id`` holding exactly ``document``.

    Starting or applying an unchanged design reuses it instead of saving a copy.
    """
    digest = repo.content_hash(document)
    for d in repo.list_designs(session, env_id):
        if d.name == name:
            same = [v for v in repo.design_history(session, d.id) if v.content_hash == digest]
            return max(same, key=lambda v: v.number).id if same else None
    return None


def save_or_reuse(session: Any, env_id: str, name: str, document: dict[str, Any],
                  message: str) -> int:
    """:func:`matching_version`, else a new version saved with ``message``."""
    found = matching_version(session, env_id, name, document)
    if found is not None:
        return found
    return int(repo.save_design_version(session, env_id, name, document, message).id)


def latest_checkpoint_for_task(workspace: Workspace, env_id: str) -> Path | None:
    """The newest checkpoint file of any run of ``env_id`` in ``workspace`` that still exists."""
    with workspace.reading() as s:
        task_ids = {t.id for t in repo.list_tasks(s) if t.env_id == env_id}
        runs = sorted((r for r in repo.list_runs(s) if r.task_id in task_ids), key=lambda r: r.id, reverse=True)
        for run in runs:
            ck = repo.latest_checkpoint(s, run.id)
            if ck is None:
                continue
            try:
                path = workspace.resolve(ck.path)
            except Exception:  # a path that leaves the workspace is ignored
                continue
            if path.exists():
                return Path(path)
    return None
