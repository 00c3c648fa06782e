"""Writing an archived experiment into a workspace (the import half of :mod:`studio.app.archive`).

Everything is created anew: design versions (under their names, as new versions), runs
with their metric curves, rollouts with their trace and video files, the experiment, its
rounds and candidates, rankings and LLM exchanges, every cross-reference mapped from the
archive's ids to the new ones. It all happens in one transaction: a failure leaves the
workspace as it was (media files written before the failure are removed).
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any

from studio.store import refinement as rstore
from studio.store import repo
from studio.store.errors import InvalidRunTransitionError


def _run_status_path(status: str) -> tuple[str, ...]:
    """Statuses a new (queued) run passes through to end as ``status``; any other (a run
    that was live, or interrupted, when archived) ends ``stopped``."""
    return {"completed": ("running", "completed"), "failed": ("failed",)}.get(status, ("stopped",))


def write_experiment(workspace: Any, body: dict[str, Any], files: dict[str, bytes]) -> int:
    """Create the experiment of an archive ``body`` (with its ``files``); returns its id."""
    exp = body["experiment"]
    env_id = exp["env_id"]
    written: list[Path] = []
    try:
        with workspace.session() as s:
            versions: dict[str, int] = {}
            for old, meta in sorted(body["designs"].items(), key=lambda kv: int(kv[0])):
                doc = _json(files[meta["file"]])
                v = repo.save_design_version(s, env_id, meta["name"], doc,
                                             meta.get("message") or "imported from an archive")
                versions[old] = v.id
            runs: dict[str, int] = {}
            for old, name in body["runs"].items():
                data = _json(files[name])
                run = repo.create_run(s, versions[str(data["design_version_id"])], data["config"],
                                      seed=data.get("seed"), device=data.get("device"))
                for status in _run_status_path(str(data["status"])):
                    with contextlib.suppress(InvalidRunTransitionError):
                        repo.set_run_status(s, run, status)
                rows: dict[int, dict[str, float]] = {}
                for key, points in data["curves"].items():
                    for step, value in points:
                        rows.setdefault(int(step), {})[key] = float("nan") if value is None else value
                repo.append_metric_rows(s, run.id, sorted(rows.items()))
                runs[old] = run.id
            new_exp = rstore.create_experiment(
                s, env_id, exp["name"], exp["proposer"], exp["rank_mode"],
                start_version_id=versions.get(str(exp["start_version_id"])), config=exp["config"])
            rstore.set_experiment_status(s, new_exp.id, exp["status"], exp.get("error"))
            round_ids: dict[int, int] = {}
            for rnd in body["rounds"]:
                r = rstore.add_experiment_round(s, new_exp.id, rnd["index"], rnd["proposer"])
                repo.update_round(s, r.id, status=rnd["status"])
                round_ids[int(rnd["id"])] = r.id
            rollouts: dict[str, int] = {}
            for old, ro in body["rollouts"].items():
                paths: dict[str, str | None] = {"trace": None, "video": None}
                for key in paths:
                    if ro.get(key):
                        target, rel = workspace.media_path("rollouts", f"imported-{Path(ro[key]).name}")
                        target = _free(target)
                        rel = rel.rsplit("/", 1)[0] + "/" + target.name
                        target.write_bytes(files[ro[key]])
                        written.append(target)
                        paths[key] = rel
                row = repo.add_rollout(
                    s, run_id=runs.get(str(ro["run_id"])), env_id=env_id,
                    design_version_id=versions.get(str(ro["design_version_id"])),
                    video_path=paths["video"], trace_path=paths["trace"], returns=ro["returns"],
                    task_score=ro["task_score"], length=ro["length"], seed=ro["seed"],
                    policy=ro["policy"], design_return=ro["design_return"],
                    round_id=round_ids.get(int(ro["round_id"])) if ro.get("round_id") else None)
                rollouts[old] = row.id
            for rnd in body["rounds"]:
                new_round = round_ids[int(rnd["id"])]
                for c in rnd["candidates"]:
                    cand = rstore.add_candidate(s, new_round, c["index"],
                                                versions.get(str(c["design_version_id"])))
                    rstore.update_candidate(
                        s, cand.id, status=c["status"], run_id=runs.get(str(c["run_id"])),
                        rollout_id=rollouts.get(str(c["rollout_id"])), device=c["device"],
                        place=c["place"], error=c["error"])
            for rk in body["rankings"]:
                tiers = rk["tiers"] if not rk["skipped"] else [rk["order"]]
                mapped = [[rollouts[str(i)] for i in tier] for tier in tiers]
                repo.save_tiered_ranking(s, mapped, rk["ranked_by"], comment=rk["comment"],
                                         skipped=rk["skipped"], round_id=round_ids[int(rk["round_id"])])
            for ex in body["llm_exchanges"]:
                repo.add_llm_exchange(s, provider=ex["provider"], model=ex["model"],
                                      prompt=ex["prompt"], response=ex["response"],
                                      parsed_ok=ex["parsed_ok"], error=ex["error"],
                                      latency_s=ex["latency_s"],
                                      round_id=round_ids[int(ex["round_id"])])
            return int(new_exp.id)
    except BaseException:
        for p in written:
            p.unlink(missing_ok=True)
        raise


def _free(path: Path) -> Path:
    """``path``, or ``name-2.ext``, ``name-3.ext``… when it exists (importing twice)."""
    n = 2
    out = path
    while out.exists():
        out = path.with_name(f"{path.stem}-{n}{path.suffix}")
        n += 1
    return out


def _json(data: bytes) -> Any:
    import json

    return json.loads(data)
