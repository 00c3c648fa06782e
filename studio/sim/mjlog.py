"""MuJoCo's warnings, sent to Python logging instead of stdout.

MuJoCo prints warnings (an unstable simulation, a deprecated model attribute, a full
contact buffer) straight to stdout, where a desktop app loses them. After
:func:`install_warning_handler` they go to the ``studio.mujoco`` logger at WARNING
level, so the app's log view and log files show them with a timestamp. A message seen
before (the same model compiled for each of 32 environments) is logged again at DEBUG
only, so that one cause makes one warning.
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
_seen: set[str] = set()
_MAX_SEEN = 1000

QUIET = ("compiler attribute 'settotalmass' is deprecated",)
"""Warnings about the XML of Gymnasium's own models, which the user can do nothing about:
always logged at DEBUG (the app's log view can show them; a CLI call prints nothing)."""


def _on_warning(message: str) -> None:
    """MuJoCo's warning callback. It runs inside MuJoCo calls: it must never raise."""
    with contextlib.suppress(Exception):  # an exception here would cross into C code
        text = message.strip()
        with _lock:
            repeat = text in _seen
            if not repeat and len(_seen) < _MAX_SEEN:
                _seen.add(text)
        quiet = repeat or any(q in text for q in QUIET)
        logger.log(logging.DEBUG if quiet else logging.WARNING, "%s", text)


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


def forget_seen() -> None:
    """Log every message at WARNING again the next time it comes (a fresh session, tests)."""
    with _lock:
        _seen.clear()


def uninstall_warning_handler() -> None:
    """Give MuJoCo back its default handler, which prints to stdout (for tests and tools)."""
    global _installed
    with _lock:
        mujoco.set_mju_user_warning(None)
        _installed = False


def is_installed() -> bool:
    """Whether :func:`install_warning_handler` is in effect."""
    return _installed
