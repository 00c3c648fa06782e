"""Starting the studio: the Qt application, the main window, and the screenshot mode.

``run_app`` shows the window before anything heavy is imported; the workspace opens on
the first turn of the event loop and the task (MuJoCo, torch) loads in a worker thread.
With ``screenshot`` it waits until the window has settled (the task loaded, the viewer's
first frame drawn if it has one), saves ``window.grab()`` and exits.
"""

from __future__ import annotations

import sys
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from types import TracebackType

from PySide6.QtCore import QEventLoop, QTimer
from PySide6.QtGui import QColor, QFont, QPalette
from PySide6.QtWidgets import QApplication

SETTLE_TIMEOUT_S = 30.0
DEFAULT_SIZE = (1600, 1000)
SCREENSHOT_SIZE = (1920, 1200)
DEFAULT_WORKSPACE = Path("workspaces/default")


def make_application(argv: list[str] | None = None) -> QApplication:
    """The QApplication (created once), with the studio's style and plot defaults."""
    app = QApplication.instance()
    if isinstance(app, QApplication):
        if app.property("studio_styled") is not True:
            apply_style(app)
        return app
    app = QApplication(argv if argv is not None else sys.argv[:1])
    app.setApplicationName("Reward Studio")
    app.setOrganizationName("Reward Studio")
    apply_style(app)
    return app


def apply_style(app: QApplication) -> None:
    """Fusion with a calm light palette, a readable font, white plot backgrounds."""
    app.setProperty("studio_styled", True)
    app.setStyle("Fusion")
    pal = app.palette()
    pal.setColor(QPalette.ColorRole.Window, QColor("#f3f4f6"))
    pal.setColor(QPalette.ColorRole.Base, QColor("#ffffff"))
    pal.setColor(QPalette.ColorRole.AlternateBase, QColor("#f6f8fa"))
    pal.setColor(QPalette.ColorRole.Highlight, QColor("#2f6fbf"))
    pal.setColor(QPalette.ColorRole.Button, QColor("#eceef1"))
    app.setPalette(pal)
    font = QFont(app.font())
    if font.pointSizeF() < 9.5:
        font.setPointSizeF(9.5)
    app.setFont(font)
    app.setStyleSheet(
        "QDockWidget::title { background: #e3e7ec; padding: 4px 6px; font-weight: 600; }"
        "QDockWidget { titlebar-close-icon: none; }"
        "QToolBar { border: none; spacing: 2px; }"
    )
    import pyqtgraph as pg

    pg.setConfigOptions(background="w", foreground="#404040", antialias=True)


def wait_until(condition: object, timeout_s: float) -> bool:
    """Process events until ``condition()`` is true or ``timeout_s`` passes."""
    end = time.monotonic() + timeout_s
    while time.monotonic() < end:
        if condition():  # type: ignore[operator]
            return True
        loop = QEventLoop()
        QTimer.singleShot(20, loop.quit)
        loop.exec()
    return bool(condition())  # type: ignore[operator]


SETTLE_SIGNALS = (
    ("Viewer", "first_frame_ready", "has_first_frame"),
    ("Plots", "updated", None),
)
"""(dock, signal announcing the panel has something to show, property saying it already has)."""


def settle(window: object, timeout_s: float = SETTLE_TIMEOUT_S) -> None:
    """Wait for the task to load, then for each panel's first content (when it announces it).

    Panels that do not have the signal are not waited for; none is waited for longer than
    ``timeout_s`` in all.
    """
    from studio.ui.main_window import MainWindow

    assert isinstance(window, MainWindow)
    end = time.monotonic() + timeout_s
    pending = {"task"} if window.context.task is None or window.session.loading_task else set()
    window.session.taskReady.connect(lambda _t: pending.discard("task"))
    for dock, signal_name, ready_name in SETTLE_SIGNALS:
        panel = window.panels.get(dock)
        signal = getattr(panel, signal_name, None)
        if signal is None or (ready_name and getattr(panel, ready_name, False)):
            continue
        pending.add(dock)
        signal.connect(lambda *_, d=dock: pending.discard(d))
    wait_until(lambda: not pending, max(0.0, end - time.monotonic()))
    # let derived numbers, plots (≤10 redraws/s) and layouts catch up
    pause = time.monotonic() + 0.6
    wait_until(lambda: time.monotonic() > pause, 1.0)


def _first_size(app: QApplication) -> tuple[int, int]:
    """Most of the screen, within reason (a saved layout replaces it once opened)."""
    screen = app.primaryScreen()
    if screen is None:
        return DEFAULT_SIZE
    avail = screen.availableGeometry()
    return (max(1024, min(int(avail.width() * 0.94), 2400)),
            max(700, min(int(avail.height() * 0.92), 1500)))


def run_app(workspace: Path | None, screenshot: str | None = None,
            size: tuple[int, int] | None = None, task: str | None = None,
            show: str = "window") -> int:
    """Open the studio on ``workspace``; with ``screenshot``, save a picture and exit.

    ``workspace=None`` reopens the workspace used last (``workspaces/default`` the first
    time), so that closing and starting the studio again returns to the same place.
    ``task`` (``--task``) works on that task: its last design, else its own reward.
    ``show`` says what the screenshot pictures: ``window``, ``task-picker``,
    ``dashboard`` (the Training dock comparing every stored run), ``shortcuts`` or
    ``guide`` (the Help dialogs over the window).

    Returns the process exit status (0 on success; 2 when the screenshot could not be
    taken because the workspace could not be opened).
    """
    app = make_application()
    from studio.ui.main_window import MainWindow, recent_workspaces

    if workspace is None:
        recent = recent_workspaces()
        workspace = Path(recent[0]) if recent else DEFAULT_WORKSPACE
    window = MainWindow()
    w, h = size or (SCREENSHOT_SIZE if screenshot else _first_size(app))
    window.resize(w, h)
    window.show()
    app.processEvents()
    window.fit_docks()
    if screenshot:
        window.interactive = False
        window.pick_task_on_empty = False
        if not window.open_workspace(Path(workspace), task):
            print(f"reward-studio: could not open the workspace {workspace}", file=sys.stderr)
            window.close()
            return 2
        if window.size().width() != w or window.size().height() != h:
            # A restored layout carries the size of another session: the picture has the
            # size asked for (or the default), whatever was saved.
            window.resize(w, h)
            app.processEvents()
            window.fit_docks()
        settle(window)
        from studio.ui.screenshots import picture

        ok = picture(window, show).save(str(screenshot))
        window.close()
        if not ok:
            print(f"reward-studio: could not write {screenshot}", file=sys.stderr)
            return 2
        return 0
    QTimer.singleShot(0, lambda: window.open_workspace(Path(workspace), task))
    previous_hook = sys.excepthook
    sys.excepthook = _report_to(window)
    try:
        return int(app.exec())
    finally:
        sys.excepthook = previous_hook


def _report_to(window: object) -> Callable[..., None]:
    """An excepthook that shows an error raised in a slot as a message, not a traceback.

    The dialog and the Log dock get one line; the traceback goes to stderr for whoever debugs.
    """

    def hook(kind: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
        traceback.print_exception(kind, exc, tb, file=sys.stderr)
        show = getattr(window, "show_error", None)
        if callable(show):
            show("Something went wrong", exc)

    return hook


__all__ = ["make_application", "run_app", "settle"]
