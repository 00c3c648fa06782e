"""``reward-studio rank``: save a ranking of rollouts, best first, ``=`` joining a tie.

::

    reward-studio rank --workspace WS 7 3=5 2 --comment "falls at the end"

ranks rollout 7 first, 3 and 5 tied second, 2 last. The ids are checked (they must
exist and belong to one task) and the ranking is stored as the ranking view stores it:
the annotator is the OS user unless ``--annotator`` says otherwise. The last line is
``RESULT ranking_id=… rollouts=… tiers=…``.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

DEFAULT_WORKSPACE = "workspaces/default"


def parse_tiers(places: Sequence[str]) -> list[list[int]]:
    """``["7", "3=5", "2"]`` -> ``[[7], [3, 5], [2]]``.

    Raises:
        ValueError: a place that is not rollout ids joined by ``=``; the message names it.
    """
    tiers = []
    for place in places:
        try:
            tiers.append([int(p) for p in place.split("=")])
        except ValueError:
            raise ValueError(f"{place!r} is not a rollout id or ids joined by '=' "
                             "(e.g. 3=5 for a tie)") from None
    return tiers


def build_parser() -> argparse.ArgumentParser:
    """The parser of ``reward-studio rank``."""
    p = argparse.ArgumentParser(prog="reward-studio rank",
                                description="Save a ranking of rollouts, best first; ID=ID "
                                "joins a tie. List the rollouts with `reward-studio rollout list`.")
    p.add_argument("places", nargs="+", metavar="ID[=ID...]",
                   help="rollout ids from best to worst; tied ones joined by '='")
    p.add_argument("--workspace", default=DEFAULT_WORKSPACE,
                   help="workspace folder (default: %(default)s)")
    p.add_argument("--comment", help="free text stored with the ranking")
    p.add_argument("--annotator", help="who ranked (default: the OS user)")
    p.add_argument("--round", type=int, help="refinement round the ranking belongs to")
    p.add_argument("--skip", action="store_true",
                   help="store the set as skipped (shown, but not ranked)")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``reward-studio rank``; 2 on bad input, nothing saved then."""
    args = build_parser().parse_args(list(sys.argv[1:] if argv is None else argv))
    try:
        tiers = parse_tiers(args.places)
    except ValueError as exc:
        print(f"reward-studio rank: {exc}", file=sys.stderr)
        return 2
    from studio.app.ranking import RankingError, RankingService
    from studio.store import Workspace

    with Workspace.open(args.workspace, create=False) as ws:
        try:
            ranking_id = RankingService(ws).save_ranking(
                tiers, annotator=args.annotator, comment=args.comment, round_id=args.round,
                skipped=args.skip)
        except RankingError as exc:
            print(f"reward-studio rank: {exc}", file=sys.stderr)
            return 2
    shown = " > ".join("=".join(map(str, t)) for t in tiers)
    what = "skipped set" if args.skip else "ranking"
    print(f"saved {what} {ranking_id}: {shown}")
    print(f"RESULT ranking_id={ranking_id} rollouts={sum(len(t) for t in tiers)} "
          f"tiers={0 if args.skip else len(tiers)}")
    return 0
