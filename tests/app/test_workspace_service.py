"""The workspace service: versions, overview, where the user left off. No Qt."""

from __future__ import annotations

import pytest

from studio.app.workspace_service import WorkspaceService
from studio.core.design import Design, DesignError, Group, Term
from studio.store import WorkspaceLockedError, repo


def design(weight: float = 1.0, name: str = "run") -> Design:
    return Design(name, "HalfCheetah-v5", Group("reward", [Term("fwd", "x_velocity", weight=weight)]))


@pytest.fixture
def svc(tmp_path):
    s = WorkspaceService.open(tmp_path / "ws")
    yield s
    s.close()


def test_save_and_load_round_trip(svc):
    v1 = svc.save(design(1.0), "first")
    v2 = svc.save(design(2.0), "second")
    assert (v1.number, v2.number) == (1, 2) and v2.parent_id == v1.id
    loaded, info = svc.load(v1.id)
    assert loaded == design(1.0) and info.message == "first" and info.label == "run v1"
    assert svc.last_version_id() == v2.id


def test_overview_lists_designs_versions_and_runs(svc):
    v = svc.save(design(), "first")
    svc.save(design(name="other"), "x")
    with svc.workspace.session() as s:
        repo.create_run(s, v.id, {"steps": 10})
    ov = svc.overview()
    assert [d.name for d in ov.designs] == ["other", "run"]
    run_entry = ov.designs[1]
    assert [x.number for x in run_entry.versions] == [1]
    assert [r.version_id for r in run_entry.runs[v.id]] == [v.id]


def test_last_version_falls_back_to_the_newest(svc):
    assert svc.last_version_id() is None
    v = svc.save(design(), "first")
    svc.remember_version(None)
    assert svc.last_version_id() == v.id
    svc.remember_version(9999)  # a stale setting is ignored
    assert svc.last_version_id() == v.id


def test_layout_and_settings(svc):
    assert svc.layout() == {}
    svc.set_layout({"version": 1, "state": "abc"})
    assert svc.layout() == {"version": 1, "state": "abc"}
    with pytest.raises(TypeError):
        svc.set_layout({"bad": object()})
    svc.set("ui.x", [1, 2])
    assert svc.get("ui.x") == [1, 2] and svc.get("ui.missing", 5) == 5


def test_unknown_and_broken_versions(svc):
    with pytest.raises(KeyError):
        svc.load(42)
    with svc.workspace.session() as s:
        bad = repo.save_design_version(s, "HalfCheetah-v5", "bad", {"root": {"type": "nope"}}, "")
    with pytest.raises(DesignError, match="root.type"):
        svc.load(bad.id)


def test_second_open_is_refused_with_a_clear_message(svc, tmp_path):
    with pytest.raises(WorkspaceLockedError, match="already open"):
        WorkspaceService.open(tmp_path / "ws")


def test_latest_checkpoint_for_task_finds_the_newest_existing_file(tmp_path):
    from studio.app.workspace_service import latest_checkpoint_for_task
    from studio.store import Workspace, repo

    with Workspace.open(tmp_path / "ws") as ws:
        assert latest_checkpoint_for_task(ws, "Hopper-v5") is None
        with ws.session() as s:
            v = repo.save_design_version(s, "Hopper-v5", "d", {"name": "d"}, "first")
            old, new = repo.create_run(s, v.id), repo.create_run(s, v.id)
            repo.add_checkpoint(s, old.id, 100, "media/runs/run-1/checkpoint.pt")
            repo.add_checkpoint(s, new.id, 50, "media/runs/run-2/checkpoint.pt")
        # Only the older run's file exists on disk: the newer run's record is skipped.
        path = ws.root / "media/runs/run-1/checkpoint.pt"
        path.parent.mkdir(parents=True)
        path.write_bytes(b"x")
        assert latest_checkpoint_for_task(ws, "Hopper-v5") == path
        assert latest_checkpoint_for_task(ws, "Ant-v5") is None
        newer = ws.root / "media/runs/run-2/checkpoint.pt"
        newer.parent.mkdir(parents=True)
        newer.write_bytes(b"y")
        assert latest_checkpoint_for_task(ws, "Hopper-v5") == newer
