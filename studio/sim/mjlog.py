"""MuJoCo's warnings, sent to Python logging instead of stdout.

MuJoCo prints warnings (an unstable simulation, a deprecated model attribute, a full
contact buffer) straight to stdout, where a desktop app loses them. After
:func:`install_warning_handler` they go to the ``studio.mujoco`` logger at WARNING
level, so the app's log view and log files show them with a timestamp.
"""

from __future__ import annotations

import contextlib
import logging
import threading

import mujoco

LOGGER_NAME = "studio.mujoco"
logger = logging.getLogger(LOGGER_NAME)

_lock = threading.Lock()
_installed = False


def _on_warning(message: str) -> None:
    """MuJoCo's warning callback. It runs inside MuJoCo calls: it must never raise."""
    with contextlib.suppress(Exception):  # an exception here would cross into C code
        logger.warning("%s", message.strip())


def install_warning_handler() -> None:
    """Route MuJoCo warnings to the ``studio.mujoco`` logger. Calling it again does nothing.

    The handler is process-wide (MuJoCo keeps one warning callback) and is used from
    every thread, including render and simulation workers.
    """
    global _installed
    with _lock:
        if _installed:
            return
        mujoco.set_mju_user_warning(_on_warning)
        _installed = True


def uninstall_warning_handler() -> None:
    """Give MuJoCo back its default handler, which prints to stdout (for tests and tools)."""
    global _installed
    with _lock:
        mujoco.set_mju_user_warning(None)
        _installed = False


def is_installed() -> bool:
    """Whether :func:`install_warning_handler` is in effect."""
    return _installed
