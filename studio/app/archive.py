"""One archive per refinement experiment: ``reward-studio archive export|import``.

    reward-studio archive export --workspace WS --experiment 3 -o cheetah.zip
    reward-studio archive import cheetah.zip --workspace OTHER

The zip holds ``manifest.json`` (format, version, the experiment, every file with its
sha256), ``experiment.json`` (rounds, candidates, runs, rollouts, rankings and LLM
exchanges, cross-referenced by their ids in the source workspace), each design version as
``designs/v<ID>.json`` with its Python export ``designs/v<ID>.py``, each run's metric curves
``runs/run-<ID>.json``, and each rollout's trace and video under ``rollouts/``. Importing
creates everything anew in the target workspace (new ids, the same content), so an archive
can be imported into any workspace, once or more. Files are checked against the manifest
before anything is written; a bad archive changes nothing.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from studio.core.atomic import atomic_path

FORMAT = "reward-studio/archive"
VERSION = 1

__all__ = ["ArchiveError", "export_experiment", "import_archive", "main"]


class ArchiveError(RuntimeError):
    """An archive that cannot be written or read; the message names the file and the fix."""

    user_facing = True


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _python_export(doc: dict[str, Any]) -> str | None:
    """The design's standalone Python module, or None where it cannot be generated."""
    try:
        from studio.core.design import Design
        from studio.export.registry import default_registry
        from studio.sim.registry import get_task

        design = Design.from_json(doc)
        return default_registry().get("python").export(design, get_task(design.task))
    except Exception:  # an archive without one export is still an archive
        return None


def export_experiment(workspace: Any, experiment_id: int, out: Path) -> dict[str, Any]:
    """Write experiment ``experiment_id`` of ``workspace`` to the zip ``out``; returns the manifest."""
    from studio.store import refinement as rstore
    from studio.store import repo
    from studio.store.models import Rollout

    files: dict[str, bytes] = {}
    with workspace.session() as s:
        exp = rstore.get_experiment(s, experiment_id)
        body: dict[str, Any] = {
            "experiment": {"id": exp.id, "name": exp.name, "env_id": exp.task.env_id,
                           "proposer": exp.proposer, "rank_mode": exp.rank_mode,
                           "config": exp.config, "status": exp.status, "error": exp.error,
                           "start_version_id": exp.start_version_id},
            "rounds": [], "runs": {}, "rollouts": {}, "rankings": [], "llm_exchanges": [],
            "designs": {},
        }
        versions = {exp.start_version_id} if exp.start_version_id else set()
        rounds = rstore.experiment_rounds(s, experiment_id)
        for rnd in rounds:
            cands = rstore.list_candidates(s, rnd.id)
            body["rounds"].append({
                "id": rnd.id, "index": rnd.index, "proposer": rnd.proposer, "status": rnd.status,
                "candidates": [{"index": c.index, "design_version_id": c.design_version_id,
                                "run_id": c.run_id, "rollout_id": c.rollout_id, "status": c.status,
                                "device": c.device, "place": c.place, "error": c.error}
                               for c in cands]})
            versions |= {c.design_version_id for c in cands if c.design_version_id}
            for c in cands:
                if c.run_id is not None:
                    run = repo.get_run(s, c.run_id)
                    if run is not None:
                        curves = {k: list(map(list, zip(*repo.metric_series(s, run.id, k), strict=True)))
                                  for k in repo.metric_keys(s, run.id)}
                        files[f"runs/run-{run.id}.json"] = json.dumps(
                            {"config": run.config, "status": run.status, "seed": run.seed,
                             "device": run.device, "design_version_id": run.design_version_id,
                             "curves": curves}, sort_keys=True).encode()
                        body["runs"][str(run.id)] = f"runs/run-{run.id}.json"
                if c.rollout_id is not None:
                    ro = s.get(Rollout, c.rollout_id)
                    if ro is not None:
                        entry = {"run_id": ro.run_id, "design_version_id": ro.design_version_id,
                                 "returns": ro.returns, "task_score": ro.task_score,
                                 "length": ro.length, "seed": ro.seed, "policy": ro.policy,
                                 "design_return": ro.design_return, "round_id": ro.round_id}
                        for key, stored in (("trace", ro.trace_path), ("video", ro.video_path)):
                            if stored and workspace.resolve(stored).is_file():
                                name = f"rollouts/{ro.id}-{Path(stored).name}"
                                files[name] = workspace.resolve(stored).read_bytes()
                                entry[key] = name
                        body["rollouts"][str(ro.id)] = entry
            for rk in repo.list_rankings(s, rnd.id):
                body["rankings"].append({"round_id": rnd.id, "tiers": rk.tiers,
                                         "order": rk.rollout_ids, "ranked_by": rk.ranked_by,
                                         "comment": rk.comment, "skipped": rk.skipped})
            for ex in repo.list_llm_exchanges(s, rnd.id):
                body["llm_exchanges"].append({
                    "round_id": rnd.id, "provider": ex.provider, "model": ex.model,
                    "prompt": ex.prompt, "response": ex.response, "parsed_ok": ex.parsed_ok,
                    "error": ex.error, "latency_s": ex.latency_s})
        for vid in sorted(versions):
            v = repo.get_version(s, vid)
            if v is None:
                continue
            files[f"designs/v{vid}.json"] = v.document.encode()
            body["designs"][str(vid)] = {"name": v.design.name, "message": v.message,
                                         "file": f"designs/v{vid}.json"}
            code = _python_export(v.data)
            if code is not None:
                files[f"designs/v{vid}.py"] = code.encode()
    files["experiment.json"] = json.dumps(body, sort_keys=True, indent=1).encode()
    manifest = {"format": FORMAT, "version": VERSION, "experiment": body["experiment"]["name"],
                "env_id": body["experiment"]["env_id"], "rounds": len(body["rounds"]),
                "files": {name: {"sha256": _sha(data), "bytes": len(data)}
                          for name, data in sorted(files.items())}}
    out.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(out) as tmp, zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("manifest.json", json.dumps(manifest, sort_keys=True, indent=1))
        for name, data in sorted(files.items()):
            z.writestr(name, data)
    return manifest


def read_archive(path: Path) -> tuple[dict[str, Any], dict[str, Any], dict[str, bytes]]:
    """(manifest, experiment body, files) of an archive, every file checked against its hash."""
    try:
        with zipfile.ZipFile(path) as z:
            manifest = json.loads(z.read("manifest.json"))
            files = {n: z.read(n) for n in z.namelist() if n != "manifest.json"}
    except (OSError, zipfile.BadZipFile, KeyError, json.JSONDecodeError) as exc:
        raise ArchiveError(f"{path}: not a Reward Studio archive ({exc}); "
                           "make one with `reward-studio archive export`") from None
    if manifest.get("format") != FORMAT or int(manifest.get("version", 0)) > VERSION:
        raise ArchiveError(f"{path}: format {manifest.get('format')!r} version "
                           f"{manifest.get('version')} is not one this studio reads")
    for name, meta in manifest["files"].items():
        if name not in files or _sha(files[name]) != meta["sha256"]:
            raise ArchiveError(f"{path}: {name} is missing or damaged (sha256 differs from "
                               "the manifest); export the experiment again")
    return manifest, json.loads(files["experiment.json"]), files


def import_archive(workspace: Any, path: Path) -> int:
    """Create the archived experiment in ``workspace``; returns its new id."""
    from studio.app.archive_import import write_experiment

    _, body, files = read_archive(path)
    return write_experiment(workspace, body, files)


def main(argv: Sequence[str] | None = None) -> int:
    """``reward-studio archive export|import``."""
    p = argparse.ArgumentParser(prog="reward-studio archive", description=__doc__.split("\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    e = sub.add_parser("export", help="write one experiment to a zip")
    e.add_argument("--workspace", default="workspaces/default")
    e.add_argument("--experiment", type=int, required=True)
    e.add_argument("-o", "--output", required=True, help="the .zip to write")
    i = sub.add_parser("import", help="add an archived experiment to a workspace")
    i.add_argument("archive")
    i.add_argument("--workspace", default="workspaces/default")
    args = p.parse_args(argv)
    from studio.store import Workspace

    with Workspace.open(Path(args.workspace)) as ws:
        if args.cmd == "export":
            m = export_experiment(ws, args.experiment, Path(args.output))
            print(f"wrote {args.output}: experiment {m['experiment']!r}, {m['rounds']} rounds, "
                  f"{len(m['files'])} files")
        else:
            new_id = import_archive(ws, Path(args.archive))
            print(f"imported {args.archive} into {ws.root} as experiment {new_id}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
