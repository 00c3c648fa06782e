"""Report how many processes the crash tests killed (for the issue's note)."""

from __future__ import annotations

from typing import Any

from tests.crash.procs import KILLS


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """One line with the number of kills, then where each one landed."""
    if not KILLS:
        return
    terminalreporter.write_sep("-", f"crash tests: {len(KILLS)} SIGKILLs sent")
    for when in KILLS:
        terminalreporter.write_line(f"  {when}")
