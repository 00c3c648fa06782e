"""App state as key/value pairs in the workspace (last design opened, layouts...).

Values are anything JSON can hold. Keys are free text; by convention dotted,
e.g. ``ui.last_design_id``.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete
from sqlalchemy.orm import Session

from studio.store.models import Setting

__all__ = ["delete_setting", "get_setting", "set_setting"]


def get_setting(session: Session, key: str, default: Any = None) -> Any:
    """The value stored under ``key``, or ``default`` if there is none."""
    setting = session.get(Setting, key)
    return default if setting is None else setting.value


def set_setting(session: Session, key: str, value: Any) -> None:
    """Store ``value`` (JSON-serialisable) under ``key``, replacing any previous value.

    Raises:
        TypeError: ``value`` cannot be written as JSON.
    """
    setting = session.get(Setting, key)
    if setting is None:
        session.add(Setting(key=key, value=value))
    else:
        setting.value = value
    session.flush()


def delete_setting(session: Session, key: str) -> None:
    """Remove ``key``; nothing happens if it is not set."""
    session.execute(delete(Setting).where(Setting.key == key))
