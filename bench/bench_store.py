"""Benchmark of the results store: dashboard reads and run writes on a year of history.

Fills a fresh results database with one year of hourly runs of one monitor
with 50 features (8,760 runs, 438,000 score rows, 438,000 histograms of 10
bins) by bulk inserts, plus 9 smaller monitors, a baseline and a few open
alerts; then times each dashboard read and the write of one 50-feature run
about 20 times and prints the medians as a Markdown table.

Run::

    .venv/bin/python bench/bench_store.py --backend sqlite
    .venv/bin/python bench/bench_store.py --backend postgresql  # 127.0.0.1:5432, db `test`

PostgreSQL is used through a schema of its own, dropped afterwards
(``DRIFT_BENCH_POSTGRES_URL`` overrides the server URL).
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from drift.store import (
    BaselineRecord,
    HistogramRecord,
    ResultsStore,
    RunRecord,
    ScoreRecord,
    upgrade,
)
from drift.store import tables as t
from drift.store.convert import dumps, new_ids, to_db_time

sys.path.insert(0, str(Path(__file__).parent))
from rows import score_rows, seed_alert

POSTGRES = os.environ.get(
    "DRIFT_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
START = datetime(2024, 1, 1, tzinfo=UTC)
HOUR = timedelta(hours=1)
BINS = 10
LABELS = [f"[{i}, {i + 1})" for i in range(BINS)]
REPEATS = 21


@contextmanager
def database(backend: str) -> Iterator[str]:
    """A fresh, empty results database on ``backend``, removed afterwards."""
    if backend == "sqlite":
        with tempfile.TemporaryDirectory() as tmp:
            yield f"sqlite:///{Path(tmp) / 'bench.db'}"
        return
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(POSTGRES, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    try:
        url = sa.make_url(POSTGRES).update_query_dict({"options": f"-csearch_path={schema}"})
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()


def fill(
    store: ResultsStore,
    monitor: str,
    runs: int,
    features: int,
    rng: random.Random,
    metrics: tuple[str, ...] = ("kl",),
) -> None:
    """Bulk-insert ``runs`` hourly runs of ``features`` features (``metrics`` each)."""
    names = [f"f{j:02d}" for j in range(features)]
    run_ids = new_ids(runs)
    run_rows, score_rows, hist_rows = [], [], []
    for i in range(runs):
        start = to_db_time(START + i * HOUR)
        end = to_db_time(START + (i + 1) * HOUR)
        run_rows.append(
            {
                "id": run_ids[i], "monitor": monitor, "window_start": start, "window_end": end,
                "status": "ok", "error": None, "started_at": end, "finished_at": end,
                "duration_seconds": 0.5, "airflow_run_id": f"scheduled__{end}", "written_at": end,
            }
        )  # fmt: skip
        for name in names:
            value = rng.expovariate(50)
            for metric in metrics:
                kl = metric == "kl"
                score_rows.append(
                    {
                        "run_id": run_ids[i], "monitor": monitor, "feature": name,
                        "metric": metric, "window_start": start, "window_end": end,
                        "value": value, "value_corrected": value / 2 if kl else None,
                        "p_value": rng.random(), "p_adjusted": 1.0,
                        "n_current": 1000, "n_reference": 10000, "missing_rate": 0.01,
                        "severity": "ok", "warn_threshold": 0.05 if kl else None,
                        "critical_threshold": 0.2 if kl else None,
                        "smoothing": "lidstone", "alpha": 0.5,
                    }
                )  # fmt: skip
            counts = [rng.randrange(50, 150) for _ in range(BINS)]
            hist_rows.append(
                {
                    "run_id": run_ids[i], "feature": name, "labels": dumps(LABELS),
                    "counts": dumps(counts), "reference_counts": dumps([1000] * BINS),
                    "contributions": dumps([round(rng.gauss(0, 0.01), 6) for _ in range(BINS)]),
                    "missing": 3,
                }
            )  # fmt: skip
    for table, rows in ((t.run, run_rows), (t.score, score_rows), (t.histogram, hist_rows)):
        ids = new_ids(len(rows))
        for i, row in enumerate(rows):
            row.setdefault("id", ids[i])
        with store.engine.begin() as conn:
            for at in range(0, len(rows), 20_000):
                conn.execute(table.insert(), rows[at : at + 20_000])


def one_run(monitor: str, start: datetime, features: int) -> RunRecord:
    """A 50-feature run as the pipeline writes it."""
    names = [f"f{j:02d}" for j in range(features)]
    return RunRecord(
        monitor=monitor, window_start=start, window_end=start + HOUR, status="ok", error=None,
        started_at=start + HOUR, finished_at=start + HOUR, duration_seconds=0.5,
        airflow_run_id="manual__bench",
        scores=[
            ScoreRecord(
                feature=n, metric="kl", value=0.01, value_corrected=0.005, p_value=0.5,
                p_adjusted=0.9, n_current=1000, n_reference=10000, missing_rate=0.01,
                severity="ok", warn_threshold=0.05, critical_threshold=0.2,
                smoothing="lidstone", alpha=0.5,
            )
            for n in names
        ],
        histograms=[
            HistogramRecord(
                feature=n, labels=tuple(LABELS), counts=(100,) * BINS, missing=3,
                reference_counts=(1000,) * BINS, contributions=(0.001,) * BINS,
            )
            for n in names
        ],
    )  # fmt: skip


def timed(action: Callable[[], Any], repeats: int = REPEATS) -> tuple[float, float, int]:
    """Median and 90th percentile of ``action`` in milliseconds, and its result size."""
    action()  # warm caches and the connection pool
    times, size = [], 0
    for _ in range(repeats):
        began = time.perf_counter()
        out = action()
        times.append((time.perf_counter() - began) * 1000)
        size = len(out) if hasattr(out, "__len__") else 1
    times.sort()
    return statistics.median(times), times[int(0.9 * (len(times) - 1))], size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--runs", type=int, default=8760)
    parser.add_argument("--features", type=int, default=50)
    args = parser.parse_args()
    rng = random.Random(7)
    with database(args.backend) as url:
        upgrade(url)
        store = ResultsStore(url)
        began = time.perf_counter()
        fill(store, "big", args.runs, args.features, rng)
        for k in range(9):
            store.save_monitor(f"small{k}", {"name": f"small{k}"})
            fill(store, f"small{k}", 24 * 7, 5, rng)
        store.save_monitor("big", {"name": "big"})
        store.save_baseline(
            "big",
            [
                BaselineRecord(
                    monitor="big", feature=f"f{j:02d}", kind="numeric",
                    binning_spec={"cuts": list(range(1, BINS))}, labels=tuple(LABELS),
                    counts=(1000,) * BINS, missing=0, reference_start=START,
                    reference_end=START + timedelta(days=7),
                )
                for j in range(args.features)
            ],
        )  # fmt: skip
        last = store.runs("big", START + (args.runs - 3) * HOUR)[-1]
        for j in range(3):
            seed_alert(store, "big", f"f{j:02d}", last.id)
        with store.engine.begin() as conn:
            conn.execute(sa.text("ANALYZE"))
        fill_seconds = time.perf_counter() - began

        end = START + args.runs * HOUR
        probe = store.runs("big", end - 200 * HOUR, end - 199 * HOUR)[0].id
        reads: list[tuple[str, Callable[[], Any]]] = [
            ("monitors with latest run and status", store.monitors_overview),
            ("one feature's metrics, last 30 days",
             lambda: store.feature_series("big", "f07", end - timedelta(days=30), end)),
            ("one feature's metrics, whole year",
             lambda: store.feature_series("big", "f07", end - timedelta(days=366), end)),
            ("heatmap, 50 features x 7 days",
             lambda: store.heatmap_grid("big", "kl", end - timedelta(days=7), end)),
            ("heatmap, 50 features x 30 days",
             lambda: store.heatmap_grid("big", "kl", end - timedelta(days=30), end)),
            ("one feature's metric, whole year, row by row (no bucketing)",
             lambda: score_rows(store, "big", "kl", end - timedelta(days=366), end, "f07")),
            ("one run's 50 histograms", lambda: store.run_histograms(probe)),
            ("open alerts", store.open_alerts),
            ("baseline in force (50 features)", lambda: store.baseline_in_force("big")),
        ]  # fmt: skip
        counter = iter(range(10**6))
        writes: list[tuple[str, Callable[[], Any]]] = [
            ("write one new 50-feature run (scores + histograms)",
             lambda: store.write_run(one_run("big", end + next(counter) * HOUR, args.features))),
            ("rewrite that window (replace its rows)",
             lambda: store.write_run(one_run("big", end, args.features))),
        ]  # fmt: skip
        with store.engine.connect() as conn:
            scores = conn.execute(sa.select(sa.func.count()).select_from(t.score)).scalar_one()
        print(
            f"{args.backend}: {args.runs} runs x {args.features} features filled in "
            f"{fill_seconds:.1f} s ({scores} score rows in all)\n"
        )
        print("| operation | rows | median ms | p90 ms |\n|---|---:|---:|---:|")
        for name, action in reads + writes:
            median, p90, size = timed(action)
            print(f"| {name} | {size} | {median:.1f} | {p90:.1f} |")
        store.close()


if __name__ == "__main__":
    main()
