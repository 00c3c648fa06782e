"""Turning exceptions the user can meet into one-line messages with a place and a remedy."""

from __future__ import annotations


def user_message(exc: BaseException) -> str | None:
    """A message for an error the user can act on, or None for a programming error."""
    from studio.core.compile import RewardNaNError
    from studio.core.design import DesignError
    from studio.core.expr import ExpressionError

    if type(exc).__name__ == "CLIError":
        return str(exc)
    if isinstance(exc, DesignError | ExpressionError | RewardNaNError):
        return str(exc)
    if isinstance(exc, FileNotFoundError):
        return f"no such file: {exc.filename}"
    if isinstance(exc, PermissionError):
        return f"permission denied: {exc.filename}: check the folder's permissions"
    if isinstance(exc, IsADirectoryError):
        return f"expected a file, got a folder: {exc.filename}"
    # Errors of other layers mark themselves as user-facing.
    if getattr(exc, "user_facing", False) or type(exc).__name__.endswith(("WorkspaceError", "LockedError", "CorruptError", "TaskError", "VideoError", "ExportError", "ImportError_")):
        return str(exc)
    return None
