"""Repository functions for tasks, designs and their immutable versions.

All functions take an open :class:`~sqlalchemy.orm.Session` (from
``Workspace.session()``) and return ORM objects attached to it; they flush so that ids
are set, and never commit: the caller's ``with ws.session()`` block is the transaction.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from studio.store.coltypes import canonical_json
from studio.store.errors import StoreError
from studio.store.models import Design, DesignVersion, Task

__all__ = [
    "content_hash", "design_history", "ensure_task", "get_design", "get_version",
    "latest_version", "list_designs", "list_tasks", "save_design_version",
]


def content_hash(document: dict[str, Any]) -> str:
    """sha256 hex digest of the canonical JSON of ``document``.

    >>> content_hash({"b": 1, "a": 2}) == content_hash({"a": 2, "b": 1})
    True
    """
    return hashlib.sha256(canonical_json(document).encode("utf-8")).hexdigest()


def ensure_task(session: Session, env_id: str, display_name: str | None = None,
                mjcf_path: str | None = None) -> Task:
    """Return the task for ``env_id``, creating it (named ``display_name``) if new.

    An existing task is returned unchanged, whatever the other arguments say.
    """
    task = session.scalar(select(Task).where(Task.env_id == env_id))
    if task is None:
        task = Task(env_id=env_id, display_name=display_name or env_id, mjcf_path=mjcf_path)
        session.add(task)
        session.flush()
    return task


def list_tasks(session: Session) -> Sequence[Task]:
    """All tasks, by display name."""
    return session.scalars(select(Task).order_by(Task.display_name, Task.id)).all()


def save_design_version(session: Session, task_env_id: str, name: str,
                        document: dict[str, Any], message: str = "",
                        parent_version_id: int | None = None,
                        author: str | None = None) -> DesignVersion:
    """Save ``document`` as the next version of design ``name`` of task ``task_env_id``.

    The task and the design are created if they do not exist. Every call makes a new
    version, numbered 1, 2, 3... per design, even if the content is unchanged (compare
    ``content_hash`` to detect that).

    Args:
        parent_version_id: the version this one was edited from. ``None`` means the
            design's latest version, or no parent for the first version; so plain
            saves form a linear chain. Pass another id to record a branch.

    Raises:
        ValueError: ``document`` is not JSON (e.g. holds NaN or an object).
        StoreError: ``parent_version_id`` does not exist.
    """
    try:
        text = canonical_json(document)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"The design {name!r} cannot be saved as JSON: {exc}") from exc
    task = ensure_task(session, task_env_id)
    design = session.scalar(select(Design).where(Design.task_id == task.id, Design.name == name))
    if design is None:
        design = Design(task_id=task.id, name=name)
        session.add(design)
        session.flush()
    last = latest_version(session, design.id)
    if parent_version_id is None:
        parent_version_id = last.id if last is not None else None
    elif session.get(DesignVersion, parent_version_id) is None:
        raise StoreError(f"Cannot save {name!r}: its parent version {parent_version_id} "
                         "does not exist in this workspace.")
    version = DesignVersion(
        design_id=design.id, number=(last.number + 1) if last is not None else 1,
        parent_version_id=parent_version_id, message=message, document=text,
        content_hash=hashlib.sha256(text.encode("utf-8")).hexdigest(), author=author,
    )
    session.add(version)
    session.flush()
    return version


def list_designs(session: Session, task_env_id: str | None = None) -> Sequence[Design]:
    """All designs, or those of one task, by name."""
    query = select(Design).order_by(Design.name, Design.id)
    if task_env_id is not None:
        query = query.join(Task).where(Task.env_id == task_env_id)
    return session.scalars(query).all()


def get_design(session: Session, design_id: int) -> Design | None:
    """The design with this id, or ``None``."""
    return session.get(Design, design_id)


def design_history(session: Session, design_id: int) -> Sequence[DesignVersion]:
    """Every version of a design, oldest first."""
    return session.scalars(
        select(DesignVersion).where(DesignVersion.design_id == design_id)
        .order_by(DesignVersion.number)
    ).all()


def get_version(session: Session, version_id: int) -> DesignVersion | None:
    """The version with this id, or ``None``."""
    return session.get(DesignVersion, version_id)


def latest_version(session: Session, design_id: int) -> DesignVersion | None:
    """The highest-numbered version of a design, or ``None`` if it has none."""
    newest = (select(func.max(DesignVersion.number))
              .where(DesignVersion.design_id == design_id).scalar_subquery())
    return session.scalar(select(DesignVersion).where(
        DesignVersion.design_id == design_id, DesignVersion.number == newest))
