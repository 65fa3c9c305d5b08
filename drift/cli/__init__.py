"""The ``drift`` command: results database, monitor files, runs, backfills, dashboard.

Each subcommand imports only what it needs, so ``drift --help`` and ``drift
validate`` start fast.
"""

from drift.cli.main import build_parser, main, results_url

__all__ = ["build_parser", "main", "results_url"]
