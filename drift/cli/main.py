"""The drift command: results database, monitor checks, runs, backfills and the dashboard."""

# Nothing heavy at the top: ``drift --help`` must not import SQLAlchemy, Alembic,
# pydantic, numpy or pandas (tests/test_cli_startup.py); each handler imports
# what it needs.

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from drift.sql.instants import as_utc

if TYPE_CHECKING:
    from drift.dashboard.access import StandaloneToken
    from drift.run import WindowResult
    from drift.store import ResultsStore

__all__ = ["build_parser", "main", "results_url"]

DEFAULT_RESULTS_URL = "sqlite:///drift.db"
#: The environment variable holding the token of ``drift dashboard --allow-actions``.
TOKEN_ENV = "DRIFT_DASHBOARD_TOKEN"

Command = Callable[[argparse.Namespace], int]


def results_url(given: str | None) -> str:
    """``--url`` if given, else ``DRIFT_RESULTS_URL``, else ``sqlite:///drift.db``."""
    return given or os.environ.get("DRIFT_RESULTS_URL") or DEFAULT_RESULTS_URL


def _instant(text: str) -> datetime:
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not an ISO-8601 date or datetime (e.g. 2024-05-01 or "
            "2024-05-01T06:00:00+00:00)"
        ) from None
    return as_utc(value)


def _url_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--url",
        "--results-url",
        dest="url",
        help="results database SQLAlchemy URL (default: $DRIFT_RESULTS_URL, else sqlite:///drift.db)",
    )


def _db_upgrade(args: argparse.Namespace) -> int:
    from drift.store import current, upgrade
    from drift.store.engine import safe_url

    url = results_url(args.url)
    upgrade(url, args.revision)
    print(f"results database at {safe_url(url)} is at revision {current(url)}")
    return 0


def _db_downgrade(args: argparse.Namespace) -> int:
    from drift.store import current, downgrade
    from drift.store.engine import safe_url

    url = results_url(args.url)
    downgrade(url, args.revision)
    print(f"results database at {safe_url(url)} is at revision {current(url) or 'base'}")
    return 0


def _db_current(args: argparse.Namespace) -> int:
    from drift.store import current, head

    url = results_url(args.url)
    revision = current(url)
    state = "up to date" if revision == head() else f"latest is {head()}"
    print(f"{revision or 'base (no drift tables)'} ({state})")
    return 0


def _db_prune(args: argparse.Namespace) -> int:
    from drift.config.durations import parse_duration
    from drift.store import ResultsStore

    store = ResultsStore(results_url(args.url))
    try:
        deleted = store.prune(parse_duration(args.older_than))
    finally:
        store.close()
    print(f"deleted {deleted} run(s) whose window ended more than {args.older_than} ago")
    return 0


def _validate(args: argparse.Namespace) -> int:
    from drift.cli.validate import validate_command

    return validate_command(args.paths)


def _severity(result: WindowResult) -> tuple[str, tuple[str, ...]]:
    """Worst severity and drifted features over the features that were measured.

    ``WindowResult.max_severity`` and ``drifted`` are those of a run that
    succeeded; a partial failure (status ``error`` with some features scored)
    still has scores, alerts were opened from them, and the header must say so.
    """
    from drift.run.result import SEVERITY_ORDER

    if result.status == "ok" or (result.status == "error" and result.scores):
        severity = max(
            (s.severity for s in result.scores), key=SEVERITY_ORDER.__getitem__, default="ok"
        )
        return severity, tuple(s.feature for s in result.scores if s.drifted)
    return "-", ()


def _status(result: WindowResult) -> str:
    if result.status == "error" and result.scores:
        return "error (partial)"
    return result.status


def _window_line(result: WindowResult, *, notes: bool = True) -> str:
    severity, drifted = _severity(result)
    line = (
        f"{result.window_start:%Y-%m-%d %H:%M} .. {result.window_end:%Y-%m-%d %H:%M}  "
        f"{_status(result):<17} severity {severity:<8} drifted: {', '.join(drifted) or '-'}"
    )
    if notes and result.error and result.status != "ok":
        line += f"  ({result.error})"
    return line


def _number(value: float | None, digits: int = 4) -> str:
    return "-" if value is None else f"{value:.{digits}g}"


def _print_table(result: WindowResult) -> None:
    from rich.console import Console
    from rich.table import Table

    caption = None
    if result.error:
        caption = ("" if result.status == "ok" else f"{result.status}: ") + result.error
    table = Table(
        title=f"{result.monitor}: " + _window_line(result, notes=False),
        caption=caption,
        caption_justify="left",
    )
    for column in ("feature", "kind", "severity", "drifted", "kl", "kl_corrected",
                   "jensen_shannon", "psi", "p_adjusted", "n_current", "n_reference",
                   "missing"):  # fmt: skip
        table.add_column(column, justify="left" if column in ("feature", "kind") else "right")
    for f in result.summary().features:
        m = f.metrics
        table.add_row(
            f.feature, f.kind, f.severity, "yes" if f.drifted else "no",
            _number(m.get("kl")), _number(m.get("kl_corrected")),
            _number(m.get("jensen_shannon")), _number(m.get("psi")), _number(f.p_adjusted, 2),
            str(f.n_current), str(f.n_reference), f"{f.missing_rate:.1%}",
        )  # fmt: skip
    Console(width=160).print(table)


def _store_for(args: argparse.Namespace) -> ResultsStore:
    from drift.store import ResultsStore

    return ResultsStore(results_url(args.url))


def _run(args: argparse.Namespace) -> int:
    from drift.config import load_monitor
    from drift.config.windows import live_window
    from drift.run import run_window

    monitor = load_monitor(args.monitor)
    if args.window_start is not None:
        start, end = args.window_start, args.window_end
    else:
        start, end = live_window(monitor, args.window_end)
    store = _store_for(args)
    try:
        result = run_window(monitor, start, end, store=store)
    finally:
        store.close()
    if args.format == "json":
        print(json.dumps(result.summary().to_dict(), indent=2))
    else:
        _print_table(result)
    if args.fail_on_drift and _severity(result)[1]:
        return 2  # also when another feature could not be measured
    return 1 if result.status == "error" else 0


def _backfill(args: argparse.Namespace) -> int:
    from rich.progress import Progress

    from drift.config import load_monitor
    from drift.config.windows import windows_between
    from drift.run import backfill

    monitor = load_monitor(args.monitor)
    total = sum(1 for _ in windows_between(monitor, args.start, args.end))
    store = _store_for(args)
    try:
        with Progress(transient=True, disable=not sys.stderr.isatty()) as progress:
            task = progress.add_task(f"backfill {monitor.name}", total=total)

            def show(result: WindowResult) -> None:
                progress.console.print(_window_line(result), highlight=False, soft_wrap=True)
                progress.advance(task)

            results = backfill(monitor, args.start, args.end, store=store, on_window=show)
    finally:
        store.close()
    failed = sum(r.status == "error" for r in results)
    print(f"{len(results)} window(s), {failed} failed")
    return 1 if failed else 0


def _dashboard(args: argparse.Namespace) -> int:
    import uvicorn

    from drift.dashboard import create_app
    from drift.store import ResultsStore
    from drift.store.engine import safe_url

    access = _dashboard_access() if args.allow_actions else None  # before any server
    url = results_url(args.url)
    store = ResultsStore(url)
    store.check_schema()  # a store that is missing or behind fails now, with the fix
    if args.host not in ("127.0.0.1", "localhost", "::1"):
        print(
            f"drift: warning: serving on {args.host}: anyone who can reach it can read "
            "the results (the dashboard has no login of its own; inside Airflow it "
            "uses Airflow's)",
            file=sys.stderr,
        )
    mode = "actions allowed with the token" if access is not None else "read-only"
    print(
        f"drift dashboard for {safe_url(url)} ({mode}): http://{args.host}:{args.port}/",
        flush=True,
    )
    app = create_app(store, access=access)
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning")
    return 0


def _dashboard_access() -> StandaloneToken:
    """The token access of ``drift dashboard --allow-actions``, from $DRIFT_DASHBOARD_TOKEN.

    Never from the command line: an argument shows in ``ps`` to every user.
    """
    from drift.dashboard.access import StandaloneToken
    from drift.errors import DriftError

    token = os.environ.get(TOKEN_ENV, "")
    if not token:
        raise DriftError(
            f"--allow-actions needs the token in the environment variable {TOKEN_ENV} "
            "(at least 16 characters; it is never taken on the command line)"
        )
    try:
        return StandaloneToken(token)
    except ValueError as exc:
        raise DriftError(f"{TOKEN_ENV}: {exc}") from None


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``drift`` command."""
    parser = argparse.ArgumentParser(prog="drift", description=__doc__)
    parser.add_argument("-v", "--verbose", action="store_true", help="log what happens")
    parser.add_argument("--debug", action="store_true", help="show the full traceback of an error")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    db = commands.add_parser("db", help="create, migrate and prune the results database")
    db_commands = db.add_subparsers(dest="db_command", required=True, metavar="DB_COMMAND")
    up = db_commands.add_parser("upgrade", help="migrate the results tables to the latest")
    up.add_argument("revision", nargs="?", default="head", help="target revision (default head)")
    _url_option(up)
    up.set_defaults(handler=_db_upgrade)
    down = db_commands.add_parser("downgrade", help="migrate down to REV ('base' drops all)")
    down.add_argument("revision", help="target revision, e.g. base")
    _url_option(down)
    down.set_defaults(handler=_db_downgrade)
    cur = db_commands.add_parser("current", help="show the schema revision")
    _url_option(cur)
    cur.set_defaults(handler=_db_current)
    prune = db_commands.add_parser("prune", help="delete old runs, scores and histograms")
    prune.add_argument("--older-than", required=True, help="age, e.g. 90d")
    _url_option(prune)
    prune.set_defaults(handler=_db_prune)

    validate = commands.add_parser("validate", help="check monitor YAML files")
    validate.add_argument("paths", nargs="+", help="monitor files or directories")
    validate.set_defaults(handler=_validate)

    run = commands.add_parser("run", help="measure one window and print its results")
    run.add_argument("monitor", help="monitor YAML file")
    run.add_argument(
        "--window-end", "--end", type=_instant, required=True,
        help="window end, ISO-8601 (UTC); the window is the monitor's length before it",
    )  # fmt: skip
    run.add_argument("--window-start", type=_instant, help="window start (default: from the end)")
    run.add_argument(
        "--format", choices=("table", "json"), default="table",
        help="output: a table (default) or the JSON summary",
    )  # fmt: skip
    run.add_argument(
        "--fail-on-drift", action="store_true", help="exit with status 2 when anything drifted"
    )
    _url_option(run)
    run.set_defaults(handler=_run)

    fill = commands.add_parser("backfill", help="measure every window closing in a range")
    fill.add_argument("monitor", help="monitor YAML file")
    fill.add_argument("--start", type=_instant, required=True, help="range start, ISO-8601")
    fill.add_argument("--end", type=_instant, required=True, help="range end, ISO-8601")
    _url_option(fill)
    fill.set_defaults(handler=_backfill)

    dash = commands.add_parser(
        "dashboard", help="serve the drift dashboard (read-only unless --allow-actions)"
    )
    dash.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    dash.add_argument("--port", type=int, default=8050, help="port (default 8050)")
    dash.add_argument(
        "--allow-actions", action="store_true",
        help=f"let the holder of the token in ${TOKEN_ENV} (16+ characters, never an "
        "argument) acknowledge, snooze and accept baselines",
    )  # fmt: skip
    _url_option(dash)
    dash.set_defaults(handler=_dashboard)

    from drift.cli.oncall import register

    register(commands, url_option=_url_option, instant=_instant, store_for=_store_for)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``drift`` command; returns the exit code."""
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    handler: Command = args.handler
    from drift.errors import DriftError

    try:
        return handler(args)
    except (DriftError, ValueError) as exc:
        return _failed(args, str(exc))
    except Exception as exc:
        if not type(exc).__module__.startswith("sqlalchemy"):
            raise
        # A database error of the results store (source errors are SourceErrors): one
        # line naming the database, never its password; --debug shows the traceback.
        from drift.store.engine import safe_url

        where = safe_url(results_url(getattr(args, "url", None)))
        text = str(getattr(exc, "orig", None) or exc).strip().splitlines()
        return _failed(args, f"the results database {where}: {text[0] if text else exc}")


def _failed(args: argparse.Namespace, message: str) -> int:
    if args.debug:
        import traceback

        traceback.print_exc()
    print(f"drift: error: {message}", file=sys.stderr)
    return 1
