"""``python -m desk`` runs the same entry point as the ``desk`` command."""

from desk.app import main

raise SystemExit(main())
