"""Schema migrations: old workspaces upgrade with their data; models match migrations."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from studio.store import Workspace, WorkspaceSchemaError, repo
from studio.store.engine import make_engine
from studio.store.migrate import backup_path, head_revision, upgrade
from studio.store.models import Base
from tests.store.conftest import FIXTURES

V1 = FIXTURES / "v1.db"


def _v1_workspace(tmp_path: Path) -> Path:
    folder = tmp_path / "old"
    folder.mkdir()
    shutil.copyfile(V1, folder / "studio.db")
    return folder


def _revision(db: Path) -> str:
    with sqlite3.connect(db) as conn:
        (rev,) = conn.execute("SELECT version_num FROM alembic_version").fetchone()
    conn.close()
    return str(rev)


def test_fixture_is_at_the_first_schema() -> None:
    assert _revision(V1) == "0001"
    assert head_revision() != "0001", "add a migration test for the new head"


def test_v1_workspace_upgrades_with_its_data(tmp_path: Path) -> None:
    folder = _v1_workspace(tmp_path)
    with Workspace.open(folder) as ws:
        assert _revision(ws.db_path) == head_revision()
        backup = backup_path(ws.db_path, "0001")
        assert _revision(backup) == "0001"  # the copy taken before migrating
        with ws.session() as s:
            (design,) = repo.list_designs(s, "HalfCheetah-v5")
            history = repo.design_history(s, design.id)
            assert [(v.number, v.parent_version_id) for v in history] == [(1, None), (2, 1)]
            assert history[0].content_hash == repo.content_hash(history[0].data)
            assert history[1].created_at.tzinfo is not None
            run = repo.get_run(s, 1)
            assert run is not None and run.status == "completed" and run.config == {"lr": 3e-4}
            assert repo.metric_series(s, 1, "charts/SPS") == ([0, 100], [1000.0, 1100.0])
            assert [m.payload for m in repo.run_markers(s, 1)] == [{"from": 1, "to": 2}]
            ckpt = repo.latest_checkpoint(s, 1)
            assert ckpt is not None and ckpt.path == "media/checkpoints/r1-100.pt"
            ranking = repo.get_ranking(s, 1)
            assert ranking is not None and ranking.rollout_ids == [2, 1]
            assert repo.list_llm_exchanges(s, 1)[0].parsed_ok is True
            # What 0002 added works on the old data.
            repo.set_setting(s, "ui.last_design_id", design.id)
            v3 = repo.save_design_version(s, "HalfCheetah-v5", "fast", {"terms": [2]}, "3")
            assert (v3.number, v3.parent_version_id) == (3, 2)
        with pytest.raises(IntegrityError, match="immutable"), ws.session() as s:
            s.execute(text("UPDATE design_versions SET message = 'x'"))
    with Workspace.open(folder, read_only=True) as reader, reader.session() as s:
        assert repo.get_setting(s, "ui.last_design_id") == 1


def test_old_schema_cannot_be_opened_read_only(tmp_path: Path) -> None:
    folder = _v1_workspace(tmp_path)
    with pytest.raises(WorkspaceSchemaError, match="older schema.*Open the workspace once"):
        Workspace.open(folder, read_only=True)
    assert _revision(folder / "studio.db") == "0001"


def test_models_match_the_migrations(tmp_path: Path) -> None:
    db = tmp_path / "studio.db"
    before, after = upgrade(db)
    assert (before, after) == (None, head_revision())
    engine = make_engine(db, pooled=False)
    with engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    engine.dispose()
    assert diff == []
