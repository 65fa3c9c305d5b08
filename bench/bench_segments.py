"""Benchmark: a window counted per segment against the same window without segments (issue 19).

Fills a PostgreSQL table IN the database (``INSERT ... SELECT`` over
``generate_series``) with ``--rows`` rows (default 10,000,000) over 30 days:
a timestamp, a ``country`` of 30 values (Zipf-like, so the 20 kept segments
and ``<other>`` are unequal), four float features (one with 2% NULL) and one
categorical feature of 8 values. The binning (10 quantile bins, the 8
categories) and the 20 largest countries are fitted once, untimed, on the
first 7 days. Then, interleaved, ``--repeats`` times each:

(a) one window over every row, what ``drift run`` sends: ``SqlSource.histograms``
    of the 5 features, without segments, against the same call with the 5
    features also in each of the 21 segments (one grouped statement);
(b) the 30 daily windows of a backfill: ``SqlSource.window_histograms``
    without and with the segments.

Both sides' whole-population counts are asserted equal, and the segments'
counts are asserted to sum to them. Prints medians and the ratio with
segments over without (goal: at most 2x). Run::

    .venv/bin/python bench/bench_segments.py [--rows N] [--repeats R] [--keep]

``DRIFT_BENCH_POSTGRES_URL`` overrides the server URL; the table lives in a
schema of its own (``drift_segments_bench``), dropped at the end unless
``--keep`` (``--keep`` again reuses a filled table of the same size).
"""

# The fill and count statements are SQL text by design; the only name in them is the
# benchmark's own schema constant, no input.
# ruff: noqa: S608

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from drift.config import FeatureConfig
from drift.sources import SqlSource
from drift.sources.segment_reads import SegmentMember
from drift.sources.segmented import SegmentSpec, segment_sizes
from drift.stats.binning import Binning

URL = os.environ.get(
    "DRIFT_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
SCHEMA = "drift_segments_bench"
T0 = datetime(2024, 1, 1, tzinfo=UTC)
DAYS = 30
FEATURES = [
    FeatureConfig(name="a", kind="numeric"),
    FeatureConfig(name="b", kind="numeric"),
    FeatureConfig(name="c", kind="numeric"),
    FeatureConfig(name="d", kind="numeric"),
    FeatureConfig(name="cat", kind="categorical"),
]
TOP_K = 20


def fill(engine: sa.Engine, rows: int) -> None:
    """The events table, made by the server (seconds, not minutes of inserts)."""
    with engine.begin() as conn:
        conn.execute(sa.text(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE"))
        conn.execute(sa.text(f"CREATE SCHEMA {SCHEMA}"))
        conn.execute(
            sa.text(
                f"""
                CREATE TABLE {SCHEMA}.events AS
                SELECT TIMESTAMP '2024-01-01' + (i * (:span / :rows)) * INTERVAL '1 second' AS ts,
                       'c' || lpad((floor(30 * power(random(), 2)))::int::text, 2, '0') AS country,
                       random() + random() AS a,
                       CASE WHEN random() < 0.02 THEN NULL ELSE ln(1 + 100 * random()) END AS b,
                       (random() - 0.5) * 1000 AS c,
                       floor(20 * random() * random()) AS d,
                       'k' || (floor(8 * power(random(), 1.5)))::int::text AS cat
                FROM generate_series(0, :rows - 1) AS i
                """
            ),
            {"rows": rows, "span": DAYS * 86400},
        )
        conn.execute(sa.text(f"ANALYZE {SCHEMA}.events"))


def filled(engine: sa.Engine, rows: int) -> bool:
    with engine.connect() as conn:
        try:
            n = conn.execute(sa.text(f"SELECT count(*) FROM {SCHEMA}.events")).scalar_one()
        except sa.exc.ProgrammingError:
            return False
    return int(n) == rows


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    out = fn()
    return time.perf_counter() - start, out


def members_of(
    src: SqlSource, binnings: dict[str, Binning]
) -> tuple[dict[str, Binning], dict[str, SegmentMember]]:
    """The 20 largest countries of the first week, and every feature's key in each segment."""
    with src.engine.connect() as conn:
        relation = src.relation(conn)
        target = src.target(relation, "country", "categorical")
        where = src.window_filter(relation, T0, T0 + timedelta(days=7))
        sizes = segment_sizes(conn, relation.selectable, where, [target], TOP_K)
    spec = SegmentSpec(("country",), tuple(v for v, _ in sizes))
    keyed = dict(binnings)
    members: dict[str, SegmentMember] = {}
    for index in range(spec.slots):
        for name, binning in binnings.items():
            key = f"{name}\x1f{index}"
            keyed[key] = binning
            members[key] = SegmentMember(spec, name, index)
    return keyed, members


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()
    engine = sa.create_engine(URL)
    if not (args.keep and filled(engine, args.rows)):
        seconds, _ = timed(lambda: fill(engine, args.rows))
        print(f"filled {args.rows:,} rows in {seconds:.1f} s")
    plain = SqlSource(engine, table="events", schema=SCHEMA, timestamp="ts")
    binnings = plain.fit(FEATURES, T0, T0 + timedelta(days=7))
    keyed, members = members_of(plain, binnings)
    segmented = SqlSource(engine, table="events", schema=SCHEMA, timestamp="ts", segments=members)
    end = T0 + timedelta(days=DAYS)
    bounds = [T0 + timedelta(days=d) for d in range(DAYS + 1)]

    # Untimed once: the same whole population, and segments that sum to it.
    whole = plain.histograms(binnings, T0, end)
    both = segmented.histograms(keyed, T0, end)
    assert all(both[n] == whole[n] for n in binnings)
    for name in binnings:
        parts = [both[k] for k, m in members.items() if m.feature == name]
        assert sum(p.total for p in parts) == whole[name].total

    cases: dict[str, Callable[[], Any]] = {
        "(a) one window, without segments": lambda: plain.histograms(binnings, T0, end),
        "(a) one window, with 21 segments": lambda: segmented.histograms(keyed, T0, end),
        "(b) 30 windows, without segments": lambda: list(plain.window_histograms(binnings, bounds)),
        "(b) 30 windows, with 21 segments": lambda: list(
            segmented.window_histograms(keyed, bounds)
        ),
    }
    times: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(args.repeats):
        for name, fn in cases.items():
            times[name].append(timed(fn)[0])
    print(f"\n{args.rows:,} rows, 5 features, {len(members) // len(binnings)} segments; "
          f"medians of {args.repeats}\n")  # fmt: skip
    print("| case | median s | with / without |\n|---|---:|---:|")
    for part in ("(a)", "(b)"):
        base = statistics.median(
            times[f"{part} {'one window' if part == '(a)' else '30 windows'}, without segments"]
        )
        for name in (n for n in cases if n.startswith(part)):
            median = statistics.median(times[name])
            print(f"| {name} | {median:.2f} | {median / base:.2f} |")
    if not args.keep:
        with engine.begin() as conn:
            conn.execute(sa.text(f"DROP SCHEMA {SCHEMA} CASCADE"))
    engine.dispose()


if __name__ == "__main__":
    main()
