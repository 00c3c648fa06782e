"""Migration 0003 on a workspace at schema 0002: rankings keep their order as distinct tiers."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

from studio.store import Workspace, repo
from studio.store.migrate import backup_path, head_revision
from tests.store.conftest import FIXTURES

V2 = FIXTURES / "v2.db"


def _revision(db: Path) -> str:
    conn = sqlite3.connect(db)
    try:
        (rev,) = conn.execute("SELECT version_num FROM alembic_version").fetchone()
    finally:
        conn.close()
    return str(rev)


def test_fixture_is_at_schema_0002() -> None:
    assert _revision(V2) == "0002"


def test_v2_workspace_upgrades_rankings_to_tiers_and_rollouts_to_tasks(tmp_path: Path) -> None:
    folder = tmp_path / "v2"
    folder.mkdir()
    shutil.copyfile(V2, folder / "studio.db")
    with Workspace.open(folder) as ws:
        assert _revision(ws.db_path) == head_revision()
        assert _revision(backup_path(ws.db_path, "0002")) == "0002"
        with ws.session() as s:
            first, second = repo.list_rankings(s)
            # The fixture's strict orders, best first: 2 > 1 and 3 > 1 > 2.
            assert first.tiers == [[2], [1]] and first.rollout_ids == [2, 1]
            assert second.tiers == [[3], [1], [2]]
            assert (second.ranked_by, second.context, second.comment) == ("bob", "first look", None)
            assert first.skipped is False and second.skipped is False
            assert first.round_id == 1 and second.round_id is None
            # A rollout of a run takes the run's task; one without a run has none.
            assert repo.rollout_env_ids(s, [1, 2, 3]) == {
                1: "HalfCheetah-v5", 2: "HalfCheetah-v5", 3: None}
            old = repo.get_rollout(s, 1)
            assert old is not None and (old.video_path, old.returns) == (
                "media/videos/a.mp4", {"forward": 1.0})
            assert (old.policy, old.trace_path, old.design_return, old.round_id) == (
                None, None, None, None)
            # What 0003 added works on the old rows: a tie, a comment, a skipped set.
            tied = repo.save_tiered_ranking(s, [[1, 3], [2]], "cy", comment="close call")
            skipped = repo.save_tiered_ranking(s, [[2, 3]], "cy", skipped=True)
            assert repo.get_setting(s, "ui.last_design_id") == 1
        with ws.session() as s:
            again = repo.get_ranking(s, tied.id)
            assert again is not None and again.tiers == [[1, 3], [2]]
            assert again.comment == "close call"
            gone = repo.get_ranking(s, skipped.id)
            assert gone is not None and gone.skipped and gone.tiers == []
            assert gone.rollout_ids == [2, 3]
