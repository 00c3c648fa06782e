"""``python -m studio.export.importer FILE --task ID -o DESIGN.json``."""

from studio.export.importer import main

raise SystemExit(main())
