"""Screenshot mode: run_app opens the workspace, settles, writes a picture and exits 0."""

from __future__ import annotations

from PySide6.QtGui import QImage

from studio.ui.app import run_app


def distinct_colours(image: QImage, step: int = 7) -> int:
    """How many distinct colours a sparse grid of pixels shows."""
    return len({image.pixel(x, y) for x in range(0, image.width(), step)
                for y in range(0, image.height(), step)})


def test_screenshot_of_an_empty_workspace_is_a_real_picture(tmp_path, qapp, no_leaked_widgets):
    shot = tmp_path / "shot.png"
    status = run_app(tmp_path / "ws", screenshot=str(shot), size=(1280, 800))
    assert status == 0 and shot.is_file()
    image = QImage(str(shot))
    assert (image.width(), image.height()) == (1280, 800)
    assert distinct_colours(image) > 40  # text, curves, tree: not a blank grey window
    # the empty workspace got a first design, the task's own reward, saved as version 1
    from studio.app.workspace_service import WorkspaceService

    svc = WorkspaceService.open(tmp_path / "ws")
    try:
        design, info = svc.load(svc.last_version_id())
        assert design.task == "HalfCheetah-v5" and info.number == 1
    finally:
        svc.close()


def test_screenshot_of_a_workspace_another_process_holds_opens_it_read_only(
        tmp_path, qapp, no_leaked_widgets):
    import sqlite3

    from studio.store import Workspace

    holder = Workspace.open(tmp_path / "ws")
    db = holder.db_path
    before = sqlite3.connect(db).execute("SELECT count(*) FROM design_versions").fetchone()
    try:
        status = run_app(tmp_path / "ws", screenshot=str(tmp_path / "x.png"), size=(800, 600))
    finally:
        holder.close()
    # The held workspace opens read-only (with a banner) instead of failing, and writes nothing.
    assert status == 0 and (tmp_path / "x.png").stat().st_size > 0
    after = sqlite3.connect(db).execute("SELECT count(*) FROM design_versions").fetchone()
    assert after == before
