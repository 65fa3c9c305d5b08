"""Benchmark: pushed-down histograms and the one-pass backfill on PostgreSQL.

Generates ``--rows`` rows (default 10,000,000) of 5 numeric features spread
evenly over 115 days inside PostgreSQL (``generate_series`` + ``random()``,
seeded) in a fresh schema of the server at ``DRIFT_BENCH_POSTGRES_URL``
(default: the test server), indexes the timestamp, fits 10 quantile bins
per feature on the first 7 days, then:

(a) one window's histograms (the whole table as one window), each
    contestant in a fresh subprocess, best of ``--repeat``, with the rise of
    the process's peak resident memory (``ru_maxrss``) over its resident
    size just before the first call:

    - ``SqlSource.histograms`` (pushdown);
    - hand-written SQL for the same bins: running counts ``SUM(CASE WHEN x <
      c ...)``; ``COUNT(*) FILTER (WHERE lo <= x < hi)`` per bin;
      ``width_bucket`` over an array of cuts, one ``GROUP BY`` per feature;
      ``width_bucket`` for all features with ``GROUPING SETS``; a ``CASE``
      bin index per feature with ``GROUPING SETS``;
    - ``pandas.read_sql`` of the window + numpy ``searchsorted``/``bincount``.

(b) the 115 daily windows: ``SqlSource.window_histograms`` (one pass) vs a
    full scan (``SELECT count(*), sum(f1), ..., sum(f5)``), vs one window's
    pushdown over the whole range, vs the per-window loop (one query per
    window, on the timestamp index); and end to end, ``drift.run.backfill``
    (one pass, results in a SQLite file) vs ``run_window`` per window.

Every contestant's counts are checked against the pushdown's. The schema
is dropped afterwards. Usage:
``.venv/bin/python bench/bench_pushdown.py [--rows N] [--repeat R] [--skip-e2e]``.
"""

# The hand-written contestants are SQL text by design; every name in it is
# the benchmark's own (a generated schema, f1..f5), no input from outside.
# ruff: noqa: S608

from __future__ import annotations

import argparse
import itertools
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import sqlalchemy as sa

URL = os.environ.get(
    "DRIFT_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
T0 = datetime(2024, 1, 1, tzinfo=UTC)
DAYS = 115
FEATURES = ["f1", "f2", "f3", "f4", "f5"]
BOUNDS = [T0 + timedelta(days=d) for d in range(DAYS + 1)]
WHERE = "ts >= '2024-01-01 00:00:00+00' AND ts < '2024-04-25 00:00:00+00'"

Counts = dict[str, list[int]]  # feature -> [bin counts..., missing]


def generate(conn: sa.Connection, schema: str, rows: int) -> None:
    seconds = DAYS * 86_400 / rows
    conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    conn.execute(sa.text("SELECT setseed(0.42)"))
    conn.execute(
        sa.text(
            f'CREATE TABLE "{schema}".events AS SELECT '
            f"timestamptz '2024-01-01 00:00:00+00' + ((i - 1) * {seconds!r}) * interval '1 second'"
            " AS ts, "
            "50 + 10 * sqrt(-2 * ln(1 - random())) * cos(2 * pi() * random()) AS f1, "
            "exp(random() * 3) AS f2, "
            "random() * 100 AS f3, "
            "-ln(1 - random()) * 5 AS f4, "
            "CASE WHEN random() < 0.01 THEN NULL ELSE floor(random() * 1000) END AS f5 "
            f"FROM generate_series(1, {rows}) AS i"
        )
    )
    conn.execute(sa.text(f'CREATE INDEX events_ts ON "{schema}".events (ts)'))
    conn.execute(sa.text(f'VACUUM ANALYZE "{schema}".events'))


# --- contestants of part (a), each run in a child process -------------------


def _pushdown(src: Any, cuts: dict[str, list[float]]) -> Counts:
    from drift.stats.binning import NumericBinning

    binnings = {f: NumericBinning(tuple(c)) for f, c in cuts.items()}
    hists = src.histograms(binnings, BOUNDS[0], BOUNDS[-1])
    return {f: [*map(int, h.counts), h.missing] for f, h in hists.items()}


def _missing(f: str) -> str:
    return f"({f} IS NULL OR {f} = 'NaN')"


def _array(cuts: list[float]) -> str:
    return "ARRAY[" + ", ".join(repr(c) for c in cuts) + "]::float8[]"


def _running_counts(conn: sa.Connection, schema: str, cuts: dict[str, list[float]]) -> Counts:
    columns = ["count(*)"]
    for f, c in cuts.items():
        columns.append(f"sum(CASE WHEN {_missing(f)} THEN 1 ELSE 0 END)")
        columns += [f"sum(CASE WHEN {f} < {x!r} THEN 1 ELSE 0 END)" for x in c]
    row = conn.execute(
        sa.text(f'SELECT {", ".join(columns)} FROM "{schema}".events WHERE {WHERE}')
    ).one()
    out, pos, rows = {}, 1, row[0]
    for f, c in cuts.items():
        missing, below = row[pos], list(row[pos + 1 : pos + 1 + len(c)])
        pos += 1 + len(c)
        edges = [0, *below, rows - missing]
        out[f] = [int(b - a) for a, b in itertools.pairwise(edges)] + [int(missing)]
    return out


def _per_bin(
    conn: sa.Connection, schema: str, cuts: dict[str, list[float]], columns: list[str]
) -> Counts:
    """Run one SELECT of per-bin counts (k bins + missing per feature) and split its row."""
    row = conn.execute(
        sa.text(f'SELECT {", ".join(columns)} FROM "{schema}".events WHERE {WHERE}')
    ).one()
    out, pos = {}, 0
    for f, c in cuts.items():
        out[f] = [int(v) for v in row[pos : pos + len(c) + 2]]
        pos += len(c) + 2
    return out


def _filter_ranges(conn: sa.Connection, schema: str, cuts: dict[str, list[float]]) -> Counts:
    columns = []
    for f, c in cuts.items():
        present = f"NOT {_missing(f)}"
        conds = [f"{f} < {c[0]!r}"]
        conds += [f"{f} >= {a!r} AND {f} < {b!r}" for a, b in itertools.pairwise(c)]
        conds += [f"{f} >= {c[-1]!r} AND {present}", _missing(f)]
        columns += [f"count(*) FILTER (WHERE {x})" for x in conds]
    return _per_bin(conn, schema, cuts, columns)


def _sum_case_ranges(conn: sa.Connection, schema: str, cuts: dict[str, list[float]]) -> Counts:
    columns = []
    for f, c in cuts.items():
        present = f"NOT {_missing(f)}"
        conds = [f"{present} AND {f} < {c[0]!r}"]
        conds += [f"{present} AND {f} >= {a!r} AND {f} < {b!r}" for a, b in itertools.pairwise(c)]
        conds += [f"{present} AND {f} >= {c[-1]!r}", _missing(f)]
        columns += [f"sum(CASE WHEN {x} THEN 1 ELSE 0 END)" for x in conds]
    return _per_bin(conn, schema, cuts, columns)


def _bucket_counts(pairs: list[tuple[Any, int]], k: int) -> list[int]:
    counts = [0] * (k + 1)
    for bucket, n in pairs:
        counts[k if bucket is None else int(bucket)] += int(n)
    return counts


def _width_bucket_each(conn: sa.Connection, schema: str, cuts: dict[str, list[float]]) -> Counts:
    out = {}
    for f, c in cuts.items():
        bucket = f"CASE WHEN {_missing(f)} THEN NULL ELSE width_bucket({f}, {_array(c)}) END"
        rows = conn.execute(
            sa.text(
                f'SELECT {bucket} AS b, count(*) FROM "{schema}".events WHERE {WHERE} GROUP BY 1'
            )
        ).all()
        out[f] = _bucket_counts([(b, n) for b, n in rows], len(c) + 1)
    return out


def _grouping_sets(
    conn: sa.Connection, schema: str, buckets: dict[str, str], k: dict[str, int]
) -> Counts:
    select = ", ".join(f"{expr} AS b_{f}" for f, expr in buckets.items())
    sets = ", ".join(f"(b_{f})" for f in buckets)
    names = ", ".join(f"b_{f}" for f in buckets)
    query = (
        f"SELECT {names}, GROUPING({names}), count(*) FROM "
        f'(SELECT {select} FROM "{schema}".events WHERE {WHERE}) AS s '
        f"GROUP BY GROUPING SETS ({sets})"
    )
    pairs: dict[str, list[tuple[Any, int]]] = {f: [] for f in buckets}
    order = list(buckets)
    for row in conn.execute(sa.text(query)):
        grouping, n = row[len(order)], row[len(order) + 1]
        for i, f in enumerate(order):
            if not grouping >> (len(order) - 1 - i) & 1:
                pairs[f].append((row[i], n))
    return {f: _bucket_counts(pairs[f], k[f]) for f in buckets}


def _width_bucket_sets(conn: sa.Connection, schema: str, cuts: dict[str, list[float]]) -> Counts:
    buckets = {
        f: f"CASE WHEN {_missing(f)} THEN NULL ELSE width_bucket({f}, {_array(c)}) END"
        for f, c in cuts.items()
    }
    return _grouping_sets(conn, schema, buckets, {f: len(c) + 1 for f, c in cuts.items()})


def _case_index_sets(conn: sa.Connection, schema: str, cuts: dict[str, list[float]]) -> Counts:
    buckets = {}
    for f, c in cuts.items():
        whens = " ".join(f"WHEN {f} < {x!r} THEN {i}" for i, x in enumerate(c))
        buckets[f] = f"CASE WHEN {_missing(f)} THEN NULL {whens} ELSE {len(c)} END"
    return _grouping_sets(conn, schema, buckets, {f: len(c) + 1 for f, c in cuts.items()})


def _pandas(engine: sa.Engine, schema: str, cuts: dict[str, list[float]]) -> Counts:
    import pandas as pd

    frame = pd.read_sql(
        sa.text(f'SELECT {", ".join(FEATURES)} FROM "{schema}".events WHERE {WHERE}'), engine
    )
    out = {}
    for f, c in cuts.items():
        values = frame[f].to_numpy(dtype=np.float64)
        present = values[~np.isnan(values)]
        bins = np.searchsorted(np.asarray(c), present, side="right")
        counts = np.bincount(bins, minlength=len(c) + 1)
        out[f] = [*map(int, counts), int(values.size - present.size)]
    return out


SQL_CONTESTANTS: dict[str, Callable[[sa.Connection, str, dict[str, list[float]]], Counts]] = {
    "SQL: running counts SUM(CASE WHEN x < c) (same shape as pushdown)": _running_counts,
    "SQL: COUNT(*) FILTER (WHERE lo <= x < hi) per bin": _filter_ranges,
    "SQL: SUM(CASE WHEN present AND lo <= x < hi) per bin (pushdown's shape before)": (
        _sum_case_ranges
    ),
    "SQL: width_bucket(x, cuts[]) GROUP BY, one query per feature": _width_bucket_each,
    "SQL: width_bucket for all features, GROUPING SETS": _width_bucket_sets,
    "SQL: CASE bin index per feature, GROUPING SETS": _case_index_sets,
}
CONTESTANTS = [
    "drift pushdown: SqlSource.histograms",
    *SQL_CONTESTANTS,
    "pandas.read_sql + numpy searchsorted/bincount",
]


def _rss_kib() -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def child(name: str, url: str, schema: str, cuts_file: str, repeat: int) -> None:
    cuts = json.loads(Path(cuts_file).read_text())
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        conn.execute(sa.text("SELECT 1"))
    run: Callable[[], Counts]
    if name in SQL_CONTESTANTS:
        fn = SQL_CONTESTANTS[name]

        def run() -> Counts:
            with engine.connect() as conn:
                return fn(conn, schema, cuts)
    elif name.startswith("drift"):
        from drift.sources import SqlSource

        # Reflected once, as the connection of the SQL contestants is opened once.
        src = SqlSource(engine, table="events", schema=schema, timestamp="ts")
        src.row_count(BOUNDS[0], BOUNDS[1])

        def run() -> Counts:
            return _pushdown(src, cuts)
    else:
        import pandas  # noqa: F401

        def run() -> Counts:
            return _pandas(engine, schema, cuts)

    before = _rss_kib()
    best, counts = float("inf"), {}
    for _ in range(repeat):
        start = time.perf_counter()
        counts = run()
        best = min(best, time.perf_counter() - start)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"seconds": best, "peak_mib": (peak - before) / 1024, "counts": counts}))


def in_child(name: str, schema: str, cuts_file: str, repeat: int) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, __file__, "--child", name, "--schema", schema, "--cuts", cuts_file,
         "--repeat", str(repeat)],
        check=True, capture_output=True, text=True,
    )  # fmt: skip
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


# --- part (b) -----------------------------------------------------------------


def best_of(repeat: int, fn: Callable[[], Any]) -> tuple[float, Any]:
    best, result = float("inf"), None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - start)
    return best, result


def part_b(
    engine: sa.Engine, schema: str, cuts: dict[str, list[float]], repeat: int
) -> list[tuple[str, float]]:
    from drift.sources import SqlSource
    from drift.sources import sql as sql_module
    from drift.stats.binning import NumericBinning

    src = SqlSource(engine, table="events", schema=schema, timestamp="ts")
    binnings = {f: NumericBinning(tuple(c)) for f, c in cuts.items()}
    sums = ", ".join(f"sum({f})" for f in FEATURES)

    def scan() -> Any:
        with engine.connect() as conn:
            return conn.execute(
                sa.text(f'SELECT count(*), {sums} FROM "{schema}".events WHERE {WHERE}')
            ).one()

    rows: list[tuple[str, float]] = []
    t_scan, _ = best_of(repeat, scan)
    rows.append(("full scan: SELECT count(*), sum(f1), ..., sum(f5) over the range", t_scan))
    t_one, whole = best_of(repeat, lambda: src.histograms(binnings, BOUNDS[0], BOUNDS[-1]))
    rows.append(("one window's pushdown over the whole range (SqlSource.histograms)", t_one))
    t_pass, windows = best_of(repeat, lambda: list(src.window_histograms(binnings, BOUNDS)))
    rows.append((f"one pass: SqlSource.window_histograms, {DAYS} daily windows", t_pass))
    # The same pass keyed by date_part arithmetic, as before PostgreSQL 14.
    real = sql_module.date_bin_supported
    sql_module.date_bin_supported = lambda conn: False  # type: ignore[assignment]
    try:
        t_old, old = best_of(repeat, lambda: list(src.window_histograms(binnings, BOUNDS)))
    finally:
        sql_module.date_bin_supported = real  # type: ignore[assignment]
    rows.append(("one pass keyed by date_part (PostgreSQL < 14 path)", t_old))
    pairs = list(itertools.pairwise(BOUNDS))
    t_loop, loop = best_of(1, lambda: [src.histograms(binnings, lo, hi) for lo, hi in pairs])
    rows.append((f"per-window loop: SqlSource.histograms x {DAYS} (index on ts)", t_loop))
    for f in FEATURES:
        assert all(a[f] == b[f] for a, b in zip(windows, loop, strict=True)), f
        assert all(a[f] == b[f] for a, b in zip(old, loop, strict=True)), f
        assert sum(w[f].counts.sum() for w in windows) == whole[f].counts.sum(), f
    return rows


def end_to_end(url: str, schema: str, repeat: int) -> list[tuple[str, float]]:
    from drift.config import parse_monitor
    from drift.config.windows import windows_between
    from drift.run import backfill, run_window
    from drift.store import ResultsStore, upgrade

    search = sa.make_url(url).update_query_dict({"options": f"-csearch_path={schema}"})
    monitor = parse_monitor(
        {
            "name": "bench",
            "source": {"url": search.render_as_string(hide_password=False)},
            "table": "events",
            "timestamp": "ts",
            "window": "1d",
            "reference": {"start": BOUNDS[0].isoformat(), "end": BOUNDS[7].isoformat()},
            "features": [{"name": f, "kind": "numeric", "bins": 10} for f in FEATURES],
        }
    )
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        results = f"sqlite:///{tmp}/results.db"
        upgrade(results)
        store = ResultsStore(results)
        start, end = BOUNDS[0] - timedelta(days=1), BOUNDS[-1]
        assert len(list(windows_between(monitor, start, end))) == DAYS + 1
        backfill(monitor, start, start + timedelta(days=2), store=store)  # fit the baseline
        t_pass, done = best_of(repeat, lambda: backfill(monitor, start, end, store=store))
        assert sum(r.status == "ok" for r in done) == DAYS, [r.error for r in done][:3]
        rows.append((f"drift.run.backfill, {DAYS} daily windows (one pass, stored)", t_pass))

        def old_loop() -> None:
            for lo, hi in windows_between(monitor, start, end):
                try:
                    run_window(monitor, lo, hi, store=store, notify=False)
                except Exception:
                    continue

        t_loop, _ = best_of(1, old_loop)
        rows.append((f"old loop: run_window x {DAYS + 1} (one query per window, stored)", t_loop))
        store.close()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--skip-e2e", action="store_true", help="skip the end-to-end backfill")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--schema", help=argparse.SUPPRESS)
    parser.add_argument("--cuts", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, URL, args.schema, args.cuts, args.repeat)
        return

    from drift.config import FeatureConfig
    from drift.sources import SqlSource

    schema = f"bench_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(URL, isolation_level="AUTOCOMMIT")
    engine = sa.create_engine(URL)
    try:
        start = time.perf_counter()
        with admin.connect() as conn:
            generate(conn, schema, args.rows)
            settings = {
                s: conn.execute(sa.text(f"SHOW {s}")).scalar()
                for s in ("server_version", "jit", "max_parallel_workers_per_gather", "work_mem")
            }
        print(f"generated {args.rows:,} rows in {time.perf_counter() - start:.1f} s; {settings}")
        src = SqlSource(engine, table="events", schema=schema, timestamp="ts")
        fitted = src.fit([FeatureConfig(name=f, bins=10) for f in FEATURES], BOUNDS[0], BOUNDS[7])
        cuts = {f: list(b.cuts) for f, b in fitted.items()}  # type: ignore[attr-defined]
        with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as fh:
            json.dump(cuts, fh)
        print(f"\n(a) one window of {args.rows:,} rows x 5 features, 10 bins each\n")
        results = {name: in_child(name, schema, fh.name, args.repeat) for name in CONTESTANTS}
        os.unlink(fh.name)
        reference = results[CONTESTANTS[0]]
        for name, r in results.items():
            assert r["counts"] == reference["counts"], name
        fastest_sql = min((results[n]["seconds"], n) for n in SQL_CONTESTANTS)
        push = reference["seconds"]
        print("| contestant | seconds | peak extra memory | time vs pushdown |")
        print("|---|---:|---:|---:|")
        for name, r in results.items():
            print(f"| {name} | {r['seconds']:.2f} | {r['peak_mib']:.1f} MiB | "
                  f"{r['seconds'] / push:.2f} |")  # fmt: skip
        pandas_time = results[CONTESTANTS[-1]]["seconds"]
        print(f"\npushdown / fastest hand-written ({fastest_sql[1]}): "
              f"{push / fastest_sql[0]:.2f}x (target <= 1.3)")  # fmt: skip
        print(f"pandas.read_sql / pushdown: {pandas_time / push:.1f}x (target >= 4)")
        print(f"pushdown client peak: {reference['peak_mib']:.1f} MiB (target < 200)")

        print(f"\n(b) backfill of {DAYS} daily windows over {args.rows:,} rows\n")
        rows = part_b(engine, schema, cuts, args.repeat)
        if not args.skip_e2e:
            rows += end_to_end(URL, schema, max(1, args.repeat - 1))
        scan = rows[0][1]
        print("| what | seconds | vs full scan |")
        print("|---|---:|---:|")
        for name, seconds in rows:
            print(f"| {name} | {seconds:.2f} | {seconds / scan:.2f} |")
        one_pass, date_part, loop = rows[2][1], rows[3][1], rows[4][1]
        print(f"\none pass / full scan: {one_pass / scan:.2f}x (target <= 2); "
              f"one pass / one window's pushdown: {one_pass / rows[1][1]:.2f}x (target <= 2); "
              f"date_part key / date_bin key: {date_part / one_pass:.2f}x; "
              f"per-window loop / one pass: {loop / one_pass:.1f}x")  # fmt: skip
        if not args.skip_e2e:
            print(f"end to end: old loop / backfill: {rows[6][1] / rows[5][1]:.1f}x")
    finally:
        engine.dispose()
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()


if __name__ == "__main__":
    main()
