"""An experiment exported to a zip and imported into another workspace round-trips."""

from __future__ import annotations

import hashlib
import json
import zipfile
from pathlib import Path
from typing import Any

import pytest

from studio.app.archive import ArchiveError, export_experiment, import_archive, read_archive
from studio.app.ranking import RankingService
from studio.app.refine import RefineConfig, RefineService
from studio.core.design import Design, Group, Term
from studio.store import Workspace, repo
from studio.store import refinement as rstore
from studio.train.runners.local import LocalRunner

ENV = "InvertedPendulum-v5"


def design(name: str, w: float) -> Design:
    return Design(name, ENV, Group("reward", [Term("alive", "healthy", weight=w),
                                              Term("effort", "ctrl_sq", weight=-0.1)]))


def build_experiment(ws: Workspace, video: bool = True) -> int:
    """An experiment with one ranked round, made of real rows and real recorded rollouts."""
    service = RefineService(ws, runner=LocalRunner(cpu_slots=1, gpu=False))
    exp = service.create(design("start", 1.0), ENV, "llm", "app", RefineConfig(rounds=2, k=2))
    ranking = RankingService(ws)
    with ws.session() as s:
        rnd = rstore.add_experiment_round(s, exp, 1, "start")
        round_id = rnd.id
    rollouts = []
    for i, w in enumerate((1.0, 2.0)):
        d = design(f"cand{i}", w)
        with ws.session() as s:
            v = repo.save_design_version(s, ENV, d.name, d.to_json(), "candidate")
            run = repo.create_run(s, v.id, {"total_timesteps": 64}, seed=i, device="cpu")
            repo.set_run_status(s, run, "running")
            repo.set_run_status(s, run, "completed")
            repo.append_metric_rows(s, run.id, [(32, {"charts/task_score": 1.0 + i,
                                                      "Episode_Reward/alive": 0.5}),
                                                (64, {"charts/task_score": 2.0 + i})])
            cand = rstore.add_candidate(s, round_id, i, v.id)
            cand_id, run_id = cand.id, run.id
        info = ranking.record(ENV, "random", design=d, steps=12, seed=i, video=video and i == 0,
                              round_id=round_id, run_id=None)
        with ws.session() as s:
            rstore.update_candidate(s, cand_id, status="recorded", run_id=run_id,
                                    rollout_id=info.id, device="cpu", place="local pid 1 (cpu)")
        rollouts.append(info.id)
    ranking.save_ranking([rollouts], annotator="ann", comment="both fall", round_id=round_id)
    with ws.session() as s:
        repo.add_llm_exchange(s, provider="openai-compatible", model="m", prompt="[user]\nhi",
                              response="```json\n{}\n```", parsed_ok=False, error="no terms",
                              latency_s=0.25, round_id=round_id)
    service.close()
    return exp


def canonical(body: dict[str, Any], files: dict[str, bytes]) -> dict[str, Any]:
    """The archive's content with every workspace id replaced by what it refers to."""
    def sha(name: str | None) -> str | None:
        return None if name is None else hashlib.sha256(files[name]).hexdigest()

    design_key = {k: json.loads(files[v["file"]]) | {"_name": v["name"]} for k, v in body["designs"].items()}
    run_key = {k: json.loads(files[v]) for k, v in body["runs"].items()}
    for r in run_key.values():
        r["design_version_id"] = design_key[str(r["design_version_id"])]
    ro_key = {k: sha(v.get("trace")) for k, v in body["rollouts"].items()}
    rollouts = sorted((ro_key[k], v["task_score"], v["returns"], v["length"], sha(v.get("video")),
                       v["policy"]) for k, v in body["rollouts"].items())
    rounds = [[(c["index"], design_key.get(str(c["design_version_id"])),
                run_key.get(str(c["run_id"])), ro_key.get(str(c["rollout_id"])), c["status"],
                c["place"]) for c in r["candidates"]] for r in body["rounds"]]
    rankings = [([[ro_key[str(i)] for i in t] for t in rk["tiers"]], rk["comment"], rk["ranked_by"])
                for rk in body["rankings"]]
    exp = {k: v for k, v in body["experiment"].items() if k not in ("id", "start_version_id")}
    exp["start"] = design_key[str(body["experiment"]["start_version_id"])]
    exchanges = [{k: v for k, v in e.items() if k != "round_id"} for e in body["llm_exchanges"]]
    return {"experiment": exp, "rounds": rounds, "rollouts": rollouts, "rankings": rankings,
            "exchanges": exchanges}


def test_export_import_export_gives_the_same_experiment(tmp_path: Path) -> None:
    with Workspace.open(tmp_path / "a") as ws:
        exp = build_experiment(ws)
        manifest = export_experiment(ws, exp, tmp_path / "one.zip")
    names = set(manifest["files"])
    assert {"experiment.json", "designs/v1.json", "designs/v1.py"} <= names
    assert any(n.endswith(".mp4") for n in names) and sum(n.endswith(".npz") for n in names) == 2
    assert any(n.startswith("runs/run-") for n in names)
    with Workspace.open(tmp_path / "b") as ws:
        with ws.session() as s:  # the target already holds something: ids will differ
            repo.save_design_version(s, ENV, "other", design("other", 3.0).to_json())
        new_id = import_archive(ws, tmp_path / "one.zip")
        export_experiment(ws, new_id, tmp_path / "two.zip")
        with ws.session() as s:
            run_id = rstore.list_candidates(s, rstore.experiment_rounds(s, new_id)[0].id)[0].run_id
            assert run_id is not None
            assert repo.metric_series(s, run_id, "charts/task_score") == ([32, 64], [1.0, 2.0])
        video = [i for i in RankingService(ws).rollouts() if i.video_path]
        assert video and Path(video[0].video_path).is_file()
    _, body1, files1 = read_archive(tmp_path / "one.zip")
    _, body2, files2 = read_archive(tmp_path / "two.zip")
    assert canonical(body1, files1) == canonical(body2, files2)
    assert body1["rankings"][0]["comment"] == "both fall"
    assert body1["llm_exchanges"][0]["model"] == "m"


def test_a_damaged_archive_is_refused_and_changes_nothing(tmp_path: Path) -> None:
    with Workspace.open(tmp_path / "a") as ws:
        exp = build_experiment(ws, video=False)
        export_experiment(ws, exp, tmp_path / "one.zip")
    bad = tmp_path / "bad.zip"
    with zipfile.ZipFile(tmp_path / "one.zip") as src, zipfile.ZipFile(bad, "w") as dst:
        for item in src.namelist():
            data = src.read(item)
            dst.writestr(item, data + b"x" if item == "experiment.json" else data)
    with Workspace.open(tmp_path / "b") as ws:
        with pytest.raises(ArchiveError, match="experiment.json is missing or damaged"):
            import_archive(ws, bad)
        with pytest.raises(ArchiveError, match="not a Reward Studio archive"):
            import_archive(ws, tmp_path / "nothing.zip")
        with ws.session() as s:
            assert list(rstore.list_experiments(s)) == []
