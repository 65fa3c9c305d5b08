"""Benchmark of the dashboard: each page's data on a year of hourly runs of 50 features.

Fills a fresh results database as ``bench_store.py`` does (one monitor with
8,760 hourly runs of 50 features, storing ``kl``, ``jensen_shannon`` and
``psi`` as the pipeline does: 1,314,000 score rows; 9 smaller monitors;
open alerts), then times each page and API call of the dashboard through
the ASGI app in process (routing, validation, store reads, models, JSON or
HTML; no network), 21 times after a warm-up, and prints medians and 90th
percentiles in milliseconds. Beside each long-range call it times the same
range read row by row with the plain store reads (``heatmap()`` /
``bench/rows.py``), the comparison that the SQL bucketing replaces.

Run::

    .venv/bin/python bench/bench_dashboard.py --backend sqlite
    .venv/bin/python bench/bench_dashboard.py --backend postgresql  # 127.0.0.1:5432, db `test`
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from fastapi.testclient import TestClient

sys.path.insert(0, str(Path(__file__).parent))
from bench_store import HOUR, START, database, fill, timed
from rows import score_rows, seed_alert

from drift.dashboard import create_app
from drift.store import ResultsStore, upgrade

METRICS = ("kl", "jensen_shannon", "psi")
CONFIG = {
    "name": "big", "description": "a year of hourly windows", "window": "1h",
    "metrics": list(METRICS),
    "thresholds": {"warn": 0.05, "critical": 0.2, "metric": "kl_corrected"},
}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--runs", type=int, default=8760)
    parser.add_argument("--features", type=int, default=50)
    args = parser.parse_args()
    rng = random.Random(11)
    with database(args.backend) as url:
        upgrade(url)
        store = ResultsStore(url)
        began = time.perf_counter()
        names = [f"f{j:02d}" for j in range(args.features)]
        store.save_monitor("big", {**CONFIG, "features": [{"name": n} for n in names]})
        fill(store, "big", args.runs, args.features, rng, METRICS)
        for k in range(9):
            store.save_monitor(f"small{k}", {"name": f"small{k}", "window": "1h"})
            fill(store, f"small{k}", 24 * 7, 5, rng, METRICS)
        last = store.runs("big", START + (args.runs - 3) * HOUR)[-1]
        for j in range(3):
            seed_alert(store, "big", names[j], last.id)
        with store.engine.begin() as conn:
            conn.execute(sa.text("ANALYZE"))
        fill_seconds = time.perf_counter() - began

        client = TestClient(create_app(store))
        end = START + args.runs * HOUR
        year = (end - timedelta(days=365)).isoformat()
        month = (end - timedelta(days=30)).isoformat()
        run_id = last.id

        def get(path: str, **params: str) -> Callable[[], Any]:
            def call() -> Any:
                response = client.get(path, params=params)
                assert response.status_code == 200, (path, response.text[:300])
                return response.content

            return call

        calls: list[tuple[str, Callable[[], Any]]] = [
            ("page: overview (10 monitors, sparklines)", get("/")),
            ("page: monitor, default range (7 days: 168 windows x 50 features)",
             get("/monitors/big")),
            ("page: monitor, 30 days (bucketed to 4 h)", get("/monitors/big", start=month)),
            ("page: monitor, whole year (bucketed to 44 h)", get("/monitors/big", start=year)),
            ("page: run (50 histograms, scores, alerts)", get(f"/runs/{run_id}")),
            ("api: heatmap, whole year", get("/api/monitors/big/heatmap", start=year)),
            ("api: one feature's 3 metrics, whole year",
             get("/api/monitors/big/features/f07/series", start=year)),
            ("api: monitors", get("/api/monitors")),
            ("api: run", get(f"/api/runs/{run_id}")),
        ]  # fmt: skip
        lo = end - timedelta(days=365)
        baselines: list[tuple[str, Callable[[], Any]]] = [
            ("store: heatmap, whole year, row by row",
             lambda: score_rows(store, "big", "kl", lo, end)),
            ("store: one feature's 3 metrics, whole year, row by row",
             lambda: [score_rows(store, "big", m, lo, end, "f07") for m in METRICS]),
        ]  # fmt: skip
        with store.engine.connect() as conn:
            scores = conn.execute(sa.text("SELECT count(*) FROM drift_score")).scalar_one()
        print(
            f"{args.backend}: {args.runs} runs x {args.features} features x {len(METRICS)} "
            f"metrics filled in {fill_seconds:.1f} s ({scores} score rows in all)\n"
        )
        print("| call | median ms | p90 ms | bytes |\n|---|---:|---:|---:|")
        for name, action in calls + baselines:
            median, p90, size = timed(action)
            print(f"| {name} | {median:.1f} | {p90:.1f} | {size} |", flush=True)
        store.close()


if __name__ == "__main__":
    main()
