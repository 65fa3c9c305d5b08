"""``python -m drift.cli``: the ``drift`` command."""

from drift.cli.main import main

raise SystemExit(main())
