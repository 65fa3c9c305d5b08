"""Benchmark of the results store at fleet size on PostgreSQL (issue 18).

Creates the tables with ``drift.store.upgrade`` in a schema of its own
(``drift_fleet_bench``), then fills them IN the database with
``generate_series`` (``INSERT ... SELECT``, one day per statement): 200
monitors x 20 features, hourly windows for 90 days ending this hour, 3
metrics (kl, js, psi): 432,000 runs, 25.9M scores, 8.6M histograms of 10
bins, one baseline per monitor, a few alerts and notifications. Then times,
best of ``--repeat``, through the product's own code (drift.dashboard.data
over a ResultsStore):

- the overview (``data.overview``; goal <= 300 ms),
- a monitor page over 30 and over 90 days (detail, heatmap, one feature's
  series and the first page of runs; goal <= 200 ms),
- one run's write (20 features x 3 metrics + 20 histograms; goal <= 50 ms),
- a daily ``prune --older-than 60d`` (``now`` set so that exactly the oldest
  day is due: 4,800 runs), while another thread keeps writing runs; the
  longest of those writes is reported (goal < 1 s).

Run::

    .venv/bin/python bench/bench_fleet_store.py             # full size, a few minutes
    .venv/bin/python bench/bench_fleet_store.py --scale 0.05 --keep
    .venv/bin/python bench/bench_fleet_store.py --reuse      # kept schema: migrate, time

``--keep`` keeps the schema; ``--reuse`` skips the fill when the kept schema
holds data (the migrations still run, so an index added later is built on
the full set and its build time is printed). ``DRIFT_BENCH_POSTGRES_URL``
overrides the server URL.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import random
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from unittest.mock import patch

import sqlalchemy as sa
from psycopg.types.numeric import Int4

from drift.dashboard import data
from drift.store import HistogramRecord, ResultsStore, RunRecord, ScoreRecord, upgrade

POSTGRES = os.environ.get(
    "DRIFT_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
SCHEMA = "drift_fleet_bench"
MONITORS, FEATURES, DAYS = 200, 20, 90
METRICS = ("kl", "js", "psi")
GOALS = {"overview": 300.0, "overview, a connection per read (before)": 300.0,
         "monitor page, 30 days": 200.0, "monitor page, 90 days": 200.0,
         "one run's write": 50.0}  # fmt: skip

_RUNS = """
INSERT INTO drift_run (id, monitor, window_start, window_end, status, error, started_at,
                       finished_at, duration_seconds, airflow_run_id, written_at)
SELECT 1000000000000 + m * 100000 + h, 'monitor_' || lpad(m::text, 4, '0'),
       :t0 + (h - 1) * interval '1 hour', :t0 + h * interval '1 hour',
       CASE WHEN (m * 31 + h) % 499 = 0 THEN 'error' ELSE 'ok' END,
       CASE WHEN (m * 31 + h) % 499 = 0 THEN 'SourceError: connection refused' END,
       :t0 + h * interval '1 hour' + interval '2 minutes',
       :t0 + h * interval '1 hour' + interval '2 minutes 3 seconds', 3.0,
       'scheduled__' || h, :t0 + h * interval '1 hour' + interval '2 minutes 3 seconds'
FROM generate_series(:h0, :h1) AS h, generate_series(1, :monitors) AS m
"""
_SCORES = """
INSERT INTO drift_score (id, run_id, monitor, feature, metric, window_start, window_end, value,
                         value_corrected, p_value, p_adjusted, n_current, n_reference,
                         missing_rate, severity, warn_threshold, critical_threshold,
                         smoothing, alpha)
SELECT (r.id - 1000000000000) * 64 + f * 3 + k, r.id, r.monitor,
       'feature_' || lpad(f::text, 2, '0'), (ARRAY['kl', 'js', 'psi'])[k], r.window_start,
       r.window_end, v, v * 0.9, 1 - v, 1 - v,
       5000, 100000, 0.01,
       CASE WHEN v > 0.995 THEN 'critical' WHEN v > 0.98 THEN 'warn' ELSE 'ok' END,
       0.98, 0.995, 'lidstone', 0.5
FROM drift_run r, generate_series(1, :features) AS f, generate_series(1, 3) AS k,
     LATERAL (SELECT random() + 0 * f * k * r.id AS v) AS x
WHERE r.status = 'ok' AND r.window_end > :t0 + (:h0 - 1) * interval '1 hour'
  AND r.window_end <= :t0 + :h1 * interval '1 hour'
"""
_HISTOGRAMS = """
INSERT INTO drift_histogram (id, run_id, feature, labels, counts, reference_counts,
                             contributions, missing)
SELECT (r.id - 1000000000000) * 64 + f, r.id, 'feature_' || lpad(f::text, 2, '0'),
       '["0","1","2","3","4","5","6","7","8","9"]',
       '[500,510,490,505,495,500,502,498,501,499]',
       '[10000,10000,10000,10000,10000,10000,10000,10000,10000,10000]',
       '[0.001,0.002,0.0,0.001,0.0,0.0,0.001,0.0,0.0,0.0]', 50
FROM drift_run r, generate_series(1, :features) AS f
WHERE r.status = 'ok' AND r.window_end > :t0 + (:h0 - 1) * interval '1 hour'
  AND r.window_end <= :t0 + :h1 * interval '1 hour'
"""
_MONITORS = """
INSERT INTO drift_monitor (id, name, config, config_hash, created_at, updated_at)
SELECT m, 'monitor_' || lpad(m::text, 4, '0'),
       '{"description": "fleet monitor", "window": "1h", "schedule": "@hourly"}',
       md5(m::text), :t0, :t0
FROM generate_series(1, :monitors) AS m
"""
_BASELINES = """
INSERT INTO drift_baseline (id, monitor, feature, version, kind, binning_spec, labels, counts,
                            missing, reference_start, reference_end, created_at)
SELECT m * 100 + f, 'monitor_' || lpad(m::text, 4, '0'), 'feature_' || lpad(f::text, 2, '0'), 1,
       'numeric', '{"kind": "numeric"}', '["0","1","2","3","4","5","6","7","8","9"]',
       '[10000,10000,10000,10000,10000,10000,10000,10000,10000,10000]', 0, :t0, :t0, :t0
FROM generate_series(1, :monitors) AS m, generate_series(1, :features) AS f
"""
# Per monitor: 2 alerts still open (one opened on the oldest day, so prune must keep its run)
# and 8 resolved ones, each with one sent notification.
_ALERTS = """
INSERT INTO drift_alert (id, monitor, feature, severity, state, opened_run_id, last_run_id,
                         resolved_run_id, notification_key, notified_at, message, open_key,
                         created_at, updated_at)
SELECT m * 100 + j, 'monitor_' || lpad(m::text, 4, '0'), 'feature_' || lpad(j::text, 2, '0'),
       'warn', CASE WHEN j <= 2 THEN 'open' ELSE 'resolved' END,
       1000000000000 + m * 100000 + CASE WHEN j = 1 THEN 3 ELSE j * 200 END,
       1000000000000 + m * 100000 + CASE WHEN j = 1 THEN 3 ELSE j * 200 + 5 END,
       CASE WHEN j > 2 THEN 1000000000000 + m * 100000 + j * 200 + 6 END,
       'key-' || m || '-' || j, :t0, 'KL above warn',
       CASE WHEN j <= 2 THEN 'monitor_' || lpad(m::text, 4, '0') || '/feature_' || j END, :t0, :t0
FROM generate_series(1, :monitors) AS m, generate_series(1, 10) AS j
"""
_NOTIFICATIONS = """
INSERT INTO drift_notification (id, key, alert_id, monitor, feature, event, severity, channel,
                                title, body, created_at, claimed_until, sent_at, attempts,
                                last_error)
SELECT id, 'n-' || id, id, monitor, feature, 'opened', severity, 'log', 'drift', 'drift',
       created_at, NULL, created_at, 1, NULL
FROM drift_alert
"""

# The oldest window that prune may delete (runs held by open alerts stay).
_OLDEST_DUE = """
SELECT min(window_start) FROM drift_run WHERE id NOT IN (
    SELECT opened_run_id FROM drift_alert WHERE state = 'open'
    UNION SELECT last_run_id FROM drift_alert WHERE state = 'open')
"""


def _url() -> str:
    url = sa.make_url(POSTGRES).update_query_dict({"options": f"-csearch_path={SCHEMA}"})
    return url.render_as_string(hide_password=False)


def _fill(engine: sa.Engine, scale: float, t0: datetime) -> None:
    monitors = max(2, round(MONITORS * scale))
    # Int4: psycopg would send small ints as int2, which generate_series cannot choose for.
    params: dict[str, Any] = {"t0": t0, "monitors": Int4(monitors), "features": Int4(FEATURES)}
    began = time.perf_counter()
    with engine.begin() as conn:
        conn.execute(sa.text(_MONITORS), params)
        conn.execute(sa.text(_BASELINES), params)
    for day in range(DAYS):
        bounds = {**params, "h0": Int4(day * 24 + 1), "h1": Int4(day * 24 + 24)}
        with engine.begin() as conn:
            conn.execute(sa.text("SET LOCAL synchronous_commit = off"))
            for statement in (_RUNS, _SCORES, _HISTOGRAMS):
                conn.execute(sa.text(statement), bounds)
        if day % 10 == 9:
            print(f"  filled {day + 1} days in {time.perf_counter() - began:.0f} s", flush=True)
    with engine.begin() as conn:
        conn.execute(sa.text(_ALERTS), params)
        conn.execute(sa.text(_NOTIFICATIONS))
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(sa.text("VACUUM ANALYZE"))
    print(f"fill: {time.perf_counter() - began:.0f} s", flush=True)


def _best(action: Callable[[], object], repeat: int) -> float:
    """The fastest of ``repeat`` calls, in milliseconds."""
    times = []
    for _ in range(repeat):
        began = time.perf_counter()
        action()
        times.append((time.perf_counter() - began) * 1000)
    return min(times)


def _record(monitor: str, end: datetime) -> RunRecord:
    scores = [
        ScoreRecord(
            feature=f"feature_{f:02d}", metric=metric, value=0.01, value_corrected=0.009,
            p_value=0.5, p_adjusted=0.5, n_current=5000, n_reference=100000,
            missing_rate=0.01, severity="ok", warn_threshold=0.98, critical_threshold=0.995,
            smoothing="lidstone", alpha=0.5,
        )
        for f in range(1, FEATURES + 1)
        for metric in METRICS
    ]  # fmt: skip
    histograms = [
        HistogramRecord(
            feature=f"feature_{f:02d}", labels=tuple(str(i) for i in range(10)),
            counts=(500,) * 10, missing=50, reference_counts=(10000,) * 10,
            contributions=(0.001,) * 10,
        )
        for f in range(1, FEATURES + 1)
    ]  # fmt: skip
    return RunRecord(
        monitor=monitor, window_start=end - timedelta(hours=1), window_end=end, status="ok",
        error=None, started_at=end, finished_at=end, duration_seconds=3.0,
        airflow_run_id="bench", scores=tuple(scores), histograms=tuple(histograms),
    )  # fmt: skip


def _monitor_page(store: ResultsStore, name: str, days: int) -> None:
    detail = data.monitor_detail(store, name)
    end = detail.last_window_end or datetime.now(UTC)
    span = data.resolve_range(detail, end - timedelta(days=days), end)
    data.heatmap(store, name, "kl", span)
    data.feature_series(store, detail, "feature_07", span)
    data.runs(store, name, span, 50)


def _prune_under_writes(store: ResultsStore, t0: datetime) -> tuple[float, int, float, int]:
    """Prune the oldest day while a thread writes runs; (prune s, runs, worst write ms, writes)."""
    stop = threading.Event()
    latencies: list[float] = []

    def writer() -> None:
        end = t0 + timedelta(days=DAYS + 400, hours=random.randrange(100_000))
        while not stop.is_set():
            end += timedelta(hours=1)
            began = time.perf_counter()
            store.write_run(_record("monitor_0001", end))
            latencies.append((time.perf_counter() - began) * 1000)

    with store.engine.connect() as conn:
        oldest = conn.execute(sa.text(_OLDEST_DUE)).scalar_one()
    thread = threading.Thread(target=writer)
    thread.start()
    time.sleep(0.5)
    began = time.perf_counter()
    deleted = store.prune(timedelta(days=60), now=oldest.replace(tzinfo=UTC) + timedelta(days=61))
    took = time.perf_counter() - began
    time.sleep(0.5)
    stop.set()
    thread.join()
    return took, deleted, max(latencies), len(latencies)


def _sizes(engine: sa.Engine) -> list[tuple[str, int, str]]:
    query = sa.text(
        "SELECT c.relname, c.reltuples::bigint, pg_size_pretty(pg_total_relation_size(c.oid)) "
        "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = :schema AND c.relkind = 'r' ORDER BY pg_total_relation_size(c.oid) DESC"
    )
    with engine.connect() as conn:
        total = conn.execute(
            sa.text(
                "SELECT pg_size_pretty(sum(pg_total_relation_size(c.oid))) FROM pg_class c "
                "JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE n.nspname = :schema AND c.relkind = 'r'"
            ),
            {"schema": SCHEMA},
        ).scalar_one()
        rows = [(str(a), int(b), str(c)) for a, b, c in conn.execute(query, {"schema": SCHEMA})]
    return [*rows, ("total", sum(r[1] for r in rows), str(total))]


def main() -> None:
    """Fill (or reuse) the fleet schema, time the reads, the write and prune, print Markdown."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0, help="share of the 200 monitors")
    parser.add_argument("--repeat", type=int, default=7, help="timings per figure (best kept)")
    parser.add_argument("--keep", action="store_true", help="keep the schema afterwards")
    parser.add_argument("--reuse", action="store_true", help="reuse a kept, filled schema")
    parser.add_argument("--no-prune", action="store_true", help="skip the prune (keeps data)")
    args = parser.parse_args()

    admin = sa.create_engine(POSTGRES, isolation_level="AUTOCOMMIT")
    url = _url()
    engine = sa.create_engine(url)
    with admin.connect() as conn:
        if not args.reuse:
            conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{SCHEMA}" CASCADE'))
        conn.execute(sa.text(f'CREATE SCHEMA IF NOT EXISTS "{SCHEMA}"'))
    t0 = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(days=DAYS)
    began = time.perf_counter()
    upgrade(url)
    print(f"migrate: {time.perf_counter() - began:.1f} s", flush=True)
    with engine.connect() as conn:
        made = conn.execute(sa.text("SELECT min(created_at) FROM drift_monitor")).scalar_one()
    if made is None:
        _fill(engine, args.scale, t0.replace(tzinfo=None))
    else:
        t0 = made.replace(tzinfo=UTC)
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(sa.text("ANALYZE"))
    store = ResultsStore(url)
    try:
        # The comparison in the same run: the overview with a pooled connection per read
        # (as before ResultsStore.reading), by making reading() a no-op for that figure.
        with patch.object(store, "reading", contextlib.nullcontext):
            per_read = _best(lambda: data.overview(store), args.repeat)
        figures = {
            "overview": _best(lambda: data.overview(store), args.repeat),
            "overview, a connection per read (before)": per_read,
            "monitor page, 30 days": _best(
                lambda: _monitor_page(store, "monitor_0002", 30), args.repeat
            ),
            "monitor page, 90 days": _best(
                lambda: _monitor_page(store, "monitor_0002", 90), args.repeat
            ),
        }
        end = [t0 + timedelta(days=DAYS + 1, hours=random.randrange(100_000))]

        def write() -> None:
            end[0] += timedelta(hours=1)
            store.write_run(_record("monitor_0002", end[0]))

        figures["one run's write"] = _best(write, args.repeat)
        print(f"\n| figure | best of {args.repeat} (ms) | goal (ms) |")
        print("|---|---:|---:|")
        for name, ms in figures.items():
            print(f"| {name} | {ms:.1f} | {GOALS[name]:.0f} |")
        if not args.no_prune:
            took, deleted, worst, writes = _prune_under_writes(store, t0)
            print(
                f"| prune --older-than 60d (oldest day: {deleted} runs) | {took * 1000:.0f} | - |\n"
                f"| longest of {writes} run writes during prune | {worst:.1f} | 1000 |"
            )
        print("\n| table | rows (estimate) | size with indexes |\n|---|---:|---:|")
        for table, rows, size in _sizes(engine):
            print(f"| {table} | {rows:,} | {size} |")
    finally:
        store.close()
        engine.dispose()
        if not args.keep:
            with admin.connect() as conn:
                conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{SCHEMA}" CASCADE'))
        admin.dispose()


if __name__ == "__main__":
    main()
