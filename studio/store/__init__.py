"""The workspace store: a folder with a SQLite database (``studio.db``) and ``media/``.

Open a workspace, then do each user action in one transaction::

    from studio.store import Workspace, repo

    with Workspace.open("~/reward-studio/cheetah") as ws:
        with ws.session() as s:
            v = repo.save_design_version(s, "HalfCheetah-v5", "fast", {"terms": []}, "first")

No Qt here, and nothing from ``studio.ui``, ``studio.app`` or ``studio.train``.
"""

from studio.store.errors import (
    ImmutableVersionError,
    InvalidRunTransitionError,
    StoreError,
    WorkspaceCorruptError,
    WorkspaceError,
    WorkspaceLockedError,
    WorkspaceSchemaError,
)
from studio.store.files import atomic_write_bytes, atomic_writer
from studio.store.models import RunStatus
from studio.store.workspace import Workspace

__all__ = [
    "ImmutableVersionError", "InvalidRunTransitionError", "RunStatus", "StoreError",
    "Workspace", "WorkspaceCorruptError", "WorkspaceError", "WorkspaceLockedError",
    "WorkspaceSchemaError", "atomic_write_bytes", "atomic_writer",
]
