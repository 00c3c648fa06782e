"""Tasks, design lineages and immutable versions."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from studio.store import ImmutableVersionError, StoreError, Workspace, repo
from studio.store.models import DesignVersion

DOC = {"terms": [{"name": "forward", "weight": 1.0}], "combiner": "sum"}


def test_task_round_trip(ws: Workspace) -> None:
    with ws.session() as s:
        t = repo.ensure_task(s, "HalfCheetah-v5", "Half cheetah", mjcf_path="assets/hc.xml")
        assert repo.ensure_task(s, "HalfCheetah-v5", "ignored").id == t.id
    with ws.session() as s:
        (task,) = repo.list_tasks(s)
        assert (task.env_id, task.display_name, task.mjcf_path) == (
            "HalfCheetah-v5", "Half cheetah", "assets/hc.xml")
        assert task.created_at.tzinfo is not None


def test_versions_are_numbered_and_chained(ws: Workspace) -> None:
    with ws.session() as s:
        v1 = repo.save_design_version(s, "Hopper-v5", "hop", DOC, "first", author="ada")
    with ws.session() as s:
        v2 = repo.save_design_version(s, "Hopper-v5", "hop", {**DOC, "combiner": "mean"}, "2")
        v3 = repo.save_design_version(s, "Hopper-v5", "hop", DOC, "back to sum")
        branch = repo.save_design_version(s, "Hopper-v5", "hop", DOC, "branch",
                                          parent_version_id=v1.id)
        other = repo.save_design_version(s, "Hopper-v5", "other", DOC, "first")
    assert [v.number for v in (v1, v2, v3, branch)] == [1, 2, 3, 4]
    assert [v.parent_version_id for v in (v1, v2, v3, branch)] == [None, v1.id, v2.id, v1.id]
    assert (other.number, other.parent_version_id) == (1, None)
    assert v1.content_hash == v3.content_hash == repo.content_hash(DOC)
    assert v1.content_hash != v2.content_hash
    with ws.session() as s:
        design = repo.get_design(s, v1.design_id)
        assert design is not None and design.name == "hop"
        history = repo.design_history(s, v1.design_id)
        assert [v.message for v in history] == ["first", "2", "back to sum", "branch"]
        latest = repo.latest_version(s, v1.design_id)
        assert latest is not None and latest.id == branch.id
        got = repo.get_version(s, v1.id)
        assert got is not None and got.data == DOC and got.author == "ada"
        assert got.parent is None and repo.get_version(s, v2.id).parent.id == v1.id  # type: ignore[union-attr]
        assert [d.name for d in repo.list_designs(s, "Hopper-v5")] == ["hop", "other"]
        assert repo.list_designs(s, "Ant-v5") == []


def test_document_is_canonical_json(ws: Workspace) -> None:
    with ws.session() as s:
        v = repo.save_design_version(s, "Ant-v5", "a", {"b": 1, "a": "é"}, "m")
    assert v.document == '{"a":"é","b":1}'
    with pytest.raises(ValueError, match="cannot be saved as JSON"), ws.session() as s:
        repo.save_design_version(s, "Ant-v5", "a", {"w": float("nan")}, "m")


def test_missing_parent_is_refused(ws: Workspace) -> None:
    with pytest.raises(StoreError, match="parent version 999"), ws.session() as s:
        repo.save_design_version(s, "Ant-v5", "a", DOC, "m", parent_version_id=999)


def test_versions_are_immutable_in_the_orm(ws: Workspace) -> None:
    with ws.session() as s:
        v = repo.save_design_version(s, "Ant-v5", "a", DOC, "original")
    with pytest.raises(ImmutableVersionError, match="new version"), ws.session() as s:
        loaded = s.get(DesignVersion, v.id)
        assert loaded is not None
        loaded.message = "rewritten"
    with ws.session() as s:
        assert s.get(DesignVersion, v.id).message == "original"  # type: ignore[union-attr]


def test_versions_are_immutable_in_sql(ws: Workspace) -> None:
    with ws.session() as s:
        v = repo.save_design_version(s, "Ant-v5", "a", DOC, "original")
    with pytest.raises(IntegrityError, match="immutable"), ws.session() as s:
        s.execute(text("UPDATE design_versions SET message = 'x' WHERE id = :i"), {"i": v.id})
