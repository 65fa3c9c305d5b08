"""Helpers shared by the fault tests: data, monitors, store snapshots, killers."""

from __future__ import annotations

import json
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pytest
import sqlalchemy as sa
from pytest_httpserver import HTTPServer

from drift.config import MonitorConfig, parse_monitor
from drift.store import ResultsStore
from drift.store import tables as t

POSTGRES_URL = os.environ.get(
    "DRIFT_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
MARIADB_URL = os.environ.get("DRIFT_TEST_MARIADB_URL", "mysql+pymysql://root@127.0.0.1:3306/test")

DAY0 = datetime(2024, 3, 1, tzinfo=UTC)
DAY = timedelta(days=1)
#: The live window of the tests: day 8, where `amount` shifted and a country appeared.
LIVE = (DAY0 + 8 * DAY, DAY0 + 9 * DAY)
LIVE_MARK = "2024-03-09"
ROWS_PER_DAY = 300

#: A query source that sleeps once per statement for ``drift_test.sleep`` seconds
#: (0 unless a test sets it for one transaction), so one chosen read can be slow.
SLEEPY_QUERY = (
    "SELECT * FROM events WHERE EXISTS (SELECT 1 FROM pg_sleep(COALESCE(NULLIF("
    "current_setting('drift_test.sleep', true), ''), '0')::float8))"
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def postgres_schema() -> Iterator[str]:
    schema = f"f_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    except sa.exc.OperationalError as exc:
        admin.dispose()
        pytest.skip(f"PostgreSQL is not reachable: {exc}")
    url = sa.make_url(POSTGRES_URL).update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()


def events_rows(days: int = 9, seed: int = 11) -> list[dict[str, Any]]:
    """Hourly-spread events; from day 8 on `amount` moves up and `BR` appears."""
    rng = np.random.default_rng(seed)
    rows = []
    for day in range(days):
        shifted = day >= 8
        countries = ["US", "DE", "FR", "BR"] if shifted else ["US", "DE", "FR"]
        for i in range(ROWS_PER_DAY):
            ts = DAY0 + day * DAY + timedelta(seconds=int(i * 86_400 / ROWS_PER_DAY))
            rows.append(
                {
                    "created_at": ts.replace(tzinfo=None),
                    "amount": float(rng.normal(65 if shifted else 50, 10)),
                    "country": str(rng.choice(countries)),
                }
            )
    return rows


def make_events(url: str, table: str = "events", **kw: Any) -> None:
    engine = sa.create_engine(url)
    meta = sa.MetaData()
    events = sa.Table(
        table,
        meta,
        sa.Column("created_at", sa.DateTime, nullable=False),
        sa.Column("amount", sa.Float),
        sa.Column("country", sa.String(8)),
    )
    meta.create_all(engine)
    with engine.begin() as conn:
        conn.execute(events.insert(), events_rows(**kw))
    engine.dispose()


def monitor(
    source_url: str, *, hook: str | None = None, name: str = "orders", **extra: Any
) -> MonitorConfig:
    """A monitor of ``events`` with a fixed reference (days 0-7), alerting to ``hook``."""
    data: dict[str, Any] = {
        "name": name,
        "source": {"url": source_url},
        "table": "events",
        "timestamp": "created_at",
        "window": "1d",
        "reference": {"start": "2024-03-01", "end": "2024-03-08"},
        "features": [
            {"name": "amount", "kind": "numeric", "bins": 8},
            {"name": "country", "kind": "categorical"},
        ],
        "alerts": [{"apprise": hook}] if hook else [],
        **extra,
    }
    return parse_monitor(data)


def posts(server: HTTPServer) -> list[dict[str, Any]]:
    return [json.loads(request.get_data()) for request, _ in server.log]


def _round(value: Any) -> Any:
    return round(value, 9) if isinstance(value, float) else value


SCORE_COLUMNS = tuple(
    [
        "monitor",
        "feature",
        "metric",
        "window_start",
        "window_end",
        "value",
        "value_corrected",
        "p_value",
        "p_adjusted",
        "n_current",
        "n_reference",
        "missing_rate",
        "severity",
    ]
)
BASELINE_COLUMNS = tuple(
    ["monitor", "feature", "kind", "binning_spec", "labels", "counts", "missing", "version"]
)


def snapshot(store: ResultsStore) -> dict[str, list[tuple[Any, ...]]]:
    """Every result row that matters, without ids and clock times: equal for equal runs."""
    tables: dict[str, tuple[sa.Table, tuple[str, ...]]] = {
        "run": (t.run, ("monitor", "window_start", "window_end", "status", "error")),
        "score": (t.score, SCORE_COLUMNS),
        "histogram": (
            t.histogram,
            ("feature", "labels", "counts", "reference_counts", "contributions", "missing"),
        ),
        "baseline": (t.baseline, BASELINE_COLUMNS),
        "alert": (t.alert, ("monitor", "feature", "severity", "state", "message")),
        "notification": (
            t.notification,
            ("monitor", "feature", "event", "severity", "channel", "title", "body", "attempts"),
        ),
        "monitor": (t.monitor, ("name", "config", "config_hash")),
    }
    out: dict[str, list[tuple[Any, ...]]] = {}
    with store.engine.connect() as conn:
        for name, (table, columns) in tables.items():
            rows = conn.execute(sa.select(*(table.c[c] for c in columns))).all()
            out[name] = sorted(
                (tuple(_round(v) for v in row) for row in rows), key=lambda r: repr(r)
            )
    # Notification bodies and alert messages hold the run id (a link), which differs.
    for name in ("alert", "notification"):
        out[name] = [tuple(_strip_run_links(v) for v in row) for row in out[name]]
    return out


def _strip_run_links(value: Any) -> Any:
    if not isinstance(value, str):
        return value
    import re

    return re.sub(r"/runs/\d+", "/runs/<id>", value)


def count_rows(store: ResultsStore) -> dict[str, int]:
    with store.engine.connect() as conn:
        return {
            table.name: int(conn.scalar(sa.select(sa.func.count()).select_from(table)) or 0)
            for table in (t.run, t.score, t.histogram, t.baseline, t.alert, t.notification)
        }


class StatementHook:
    """Fires ``action(cursor)`` once, before the first statement that ``matches``.

    Attached to engines' ``before_cursor_execute``; the action runs on the
    thread executing the statement (it may start its own thread).
    """

    def __init__(self, matches: Callable[[str, Any], bool], action: Callable[[Any], None]) -> None:
        self.matches, self.action = matches, action
        self.fired = threading.Event()
        self._lock = threading.Lock()

    def attach(self, engine: sa.Engine) -> sa.Engine:
        sa.event.listen(engine, "before_cursor_execute", self._before)
        return engine

    def _before(self, conn: Any, cursor: Any, statement: str, params: Any, *_: Any) -> None:
        with self._lock:
            if self.fired.is_set() or not self.matches(statement, params):
                return
            self.fired.set()
        self.action(cursor)


def reads_live_window(statement: str, params: Any) -> bool:
    """Whether a source statement is bounded by the live window (day 8)."""
    values = params.values() if isinstance(params, dict) else (params or ())
    return statement.lstrip().upper().startswith("SELECT") and any(
        LIVE_MARK in str(v) for v in values
    )


def sleep_this_statement(cursor: Any, seconds: float) -> None:
    """Make the sleepy query source sleep ``seconds`` in the current transaction."""
    cursor.execute("SELECT set_config('drift_test.sleep', %s, true)", (str(seconds),))


def terminate_later(pid: int, delay: float) -> threading.Thread:
    """Terminate PostgreSQL backend ``pid`` from another connection after ``delay`` s."""

    def kill() -> None:
        time.sleep(delay)
        admin = sa.create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        admin.dispose()

    thread = threading.Thread(target=kill, daemon=True)
    thread.start()
    return thread


def terminate_now(pid: int) -> None:
    admin = sa.create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    admin.dispose()
