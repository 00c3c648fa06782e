"""Write a new migration from the models: ``python -m studio.store.migrations revision "msg"``.

Autogenerate compares the models with a scratch database at the current head, writes
``versions/<next number>_<msg>.py``, and prints its path. Read and adjust it before
committing, and add a test that opens an older workspace (see tests/store).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from alembic import command

from studio.store.engine import make_engine
from studio.store.migrate import alembic_config, head_revision, upgrade


def main(argv: list[str] | None = None) -> int:
    """Parse ``argv`` and write the revision; return the exit status."""
    parser = argparse.ArgumentParser(prog="python -m studio.store.migrations")
    sub = parser.add_subparsers(dest="cmd", required=True)
    rev = sub.add_parser("revision", help="autogenerate a new revision from the models")
    rev.add_argument("message")
    rev.add_argument("--rev-id", help="revision id, e.g. 0003 (default: the next number)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "studio.db"
        upgrade(db)
        engine = make_engine(db, pooled=False)
        try:
            with engine.begin() as connection:
                cfg = alembic_config()
                cfg.attributes["connection"] = connection
                rev_id = args.rev_id or f"{int(head_revision()) + 1:04d}"
                command.revision(cfg, args.message, autogenerate=True, rev_id=rev_id)
        finally:
            engine.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
