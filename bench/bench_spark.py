"""Benchmark: Spark SQL histograms, one window and a 115-window backfill (issue 17).

Starts its own Spark Thrift server (``tests/spark_server.py``'s ``start()``),
writes ``--rows`` rows (default 10,000,000) of Parquet with pyarrow in
chunks of at most 1,000,000 rows (a naive UTC timestamp spread over 120
days in time order, a float ``amount`` with 2% NULL and 1% NaN, a string
``category`` of 12 values with 3% NULL) into the server's work folder, and
loads it with ``CREATE TABLE events USING parquet LOCATION``. A 10-bin
quantile binning of ``amount`` and the categories of ``category`` are
fitted on the first 7 days (once, untimed), then:

(a) one window (the first 115 days, so the same rows as (b)):
    ``SqlSource.histograms`` (what ``drift run`` sends for a live window)
    against hand-written Spark SQL returning the same counts;
(b) 115 daily windows: ``SqlSource.window_histograms`` over 116 bounds
    (what ``drift.run.backfill`` uses) against hand-written SQL grouped by
    the window index.

Ours counts by ``GROUP BY`` over bin indexes on Spark
(:mod:`drift.sources.grouped_counts`); the generic conditional sums
(``SUM(CASE ...)``, what ours sent before) run beside it as a diagnostic,
by emptying ``grouped_counts.GROUPED_DIALECTS`` for the call.

(c), (d) a wide monitor: ``--wide-rows`` rows (default 1,000,000) of a
second table over the same 120 days, with 15 float columns (2% NULL, 1%
NaN) and 5 string columns of 12 values (3% NULL), binned into 10 quantile
bins and 12 categories fitted on the first 7 days: one window and the
115-window backfill, ours (block limit ``MAX_BLOCK_GROUPS``) against ours
with other block limits, ours in one ``UNION ALL`` part (``MAX_PART_LEAVES``
unbounded) and the conditional sums; the ratios are over the conditional
sums.

Every contestant runs once untimed (its counts are asserted equal to
ours), then ``--repeats`` times, the contestants interleaved; the table
shows medians and each median over the baseline's (the fastest
hand-written one for (a), (b)). Prints the tables and writes nothing else
(the Parquet files live in the server's work folder, removed when it
stops). ``--show-sql`` also prints the statements our two calls send.
Usage: ``.venv/bin/python bench/bench_spark.py [--rows N] [--wide-rows N]
[--repeats R] [--show-sql]`` (``--wide-rows 0`` skips (c) and (d)).
"""

# The hand-written contestants are SQL text by design; every name and literal
# in it is the benchmark's own (its table, columns, fitted cuts), no input.
# ruff: noqa: S608

from __future__ import annotations

import argparse
import itertools
import os
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from spark_server import load_parquet, start

T0 = datetime(2024, 1, 1, tzinfo=UTC)
SPAN_DAYS = 120
DAYS = 115
BOUNDS = [T0 + timedelta(days=d) for d in range(DAYS + 1)]
CHUNK = 1_000_000
CATEGORIES = [f"c{i:02d}" for i in range(12)]
DAY_MICROS = 86_400_000_000
ORIGIN_MICROS = int(T0.timestamp()) * 1_000_000

Counts = dict[str, list[int]]  # feature -> [bin counts..., missing]


# --- data ---------------------------------------------------------------------


def write_parquet(folder: Path, rows: int) -> None:
    """``rows`` rows in files of at most ``CHUNK`` rows, each a slice of the time span."""
    rng = np.random.default_rng(17)
    folder.mkdir(parents=True)
    weights = 1.0 / np.arange(1, len(CATEGORIES) + 1)
    weights /= weights.sum()
    span = SPAN_DAYS * DAY_MICROS
    start_us = ORIGIN_MICROS
    chunks = max(1, -(-rows // CHUNK))
    for i in range(chunks):
        n = rows // chunks + (1 if i < rows % chunks else 0)
        lo, hi = span * i // chunks, span * (i + 1) // chunks
        ts = np.sort(rng.integers(lo, hi, size=n)) + start_us
        day = (ts - start_us) / DAY_MICROS
        amount = rng.normal(50 + 0.05 * day, 20)  # a slow drift of the mean
        amount[rng.random(n) < 0.01] = np.nan
        amount_null = rng.random(n) < 0.02
        category = np.asarray(CATEGORIES, dtype=object)[rng.choice(len(CATEGORIES), n, p=weights)]
        category_null = rng.random(n) < 0.03
        table = pa.table(
            {
                "ts": pa.array(ts, pa.timestamp("us")),
                "amount": pa.array(amount, pa.float64(), mask=amount_null),
                "category": pa.array(category, pa.string(), mask=category_null),
            }
        )
        pq.write_table(table, folder / f"part-{i:04d}.parquet")
        del table, ts, amount, category


WIDE_NUMERIC = [f"x{j:02d}" for j in range(15)]
WIDE_CATEGORICAL = [f"k{j}" for j in range(5)]


def write_wide(folder: Path, rows: int) -> None:
    """The wide table: 15 float and 5 string features, in files of at most ``CHUNK`` rows."""
    rng = np.random.default_rng(20)
    folder.mkdir(parents=True)
    weights = 1.0 / np.arange(1, len(CATEGORIES) + 1)
    weights /= weights.sum()
    span = SPAN_DAYS * DAY_MICROS
    chunks = max(1, -(-rows // CHUNK))
    for i in range(chunks):
        n = rows // chunks + (1 if i < rows % chunks else 0)
        lo, hi = span * i // chunks, span * (i + 1) // chunks
        columns = {"ts": pa.array(np.sort(rng.integers(lo, hi, size=n)) + ORIGIN_MICROS,
                                  pa.timestamp("us"))}  # fmt: skip
        for j, name in enumerate(WIDE_NUMERIC):
            x = rng.normal(j, 1 + j, n)
            x[rng.random(n) < 0.01] = np.nan
            columns[name] = pa.array(x, pa.float64(), mask=rng.random(n) < 0.02)
        for name in WIDE_CATEGORICAL:
            picked = np.asarray(CATEGORIES, dtype=object)[rng.choice(len(CATEGORIES), n, p=weights)]
            columns[name] = pa.array(picked, pa.string(), mask=rng.random(n) < 0.03)
        pq.write_table(pa.table(columns), folder / f"part-{i:04d}.parquet")


# --- the SQL pieces -------------------------------------------------------------


def _ts(value: datetime) -> str:
    return f"TIMESTAMP_NTZ '{value.astimezone(UTC).replace(tzinfo=None).isoformat(sep=' ')}'"


WHERE = f"ts >= {_ts(BOUNDS[0])} AND ts < {_ts(BOUNDS[-1])}"
AMOUNT_MISSING = "(amount IS NULL OR isnan(amount))"


def _num(c: float) -> str:
    return f"CAST({c!r} AS DOUBLE)"


def _count(condition: str) -> str:
    return f"count_if({condition})"


def _sum_case(condition: str) -> str:
    return f"sum(CASE WHEN {condition} THEN 1 ELSE 0 END)"


def _case_tree(cuts: list[float], lo: int = 0, hi: int | None = None) -> str:
    """The bin index of ``amount`` by a balanced tree of comparisons (log2(k) a row)."""
    hi = len(cuts) if hi is None else hi  # bins lo..hi
    if lo == hi:
        return str(lo)
    mid = (lo + hi) // 2
    return (
        f"CASE WHEN amount < {_num(cuts[mid])} THEN {_case_tree(cuts, lo, mid)} "
        f"ELSE {_case_tree(cuts, mid + 1, hi)} END"
    )


def _bin_index(cuts: list[float]) -> str:
    return f"CASE WHEN {AMOUNT_MISSING} THEN -1 ELSE {_case_tree(cuts)} END"


def _day_index() -> str:
    return f"(unix_micros(CAST(ts AS TIMESTAMP)) - {ORIGIN_MICROS}) DIV {DAY_MICROS}"


def _running_columns(cuts: list[float], cats: list[str], agg: Callable[[str], str]) -> list[str]:
    """Missing count, ``#(x < c)`` per cut; category missing, one count per category."""
    columns = [agg(AMOUNT_MISSING), *(agg(f"amount < {_num(c)}") for c in cuts)]
    columns.append(agg("category IS NULL"))
    columns += [agg(f"category = '{v}'") for v in cats]
    return columns


def _range_columns(cuts: list[float], cats: list[str]) -> list[str]:
    """One count per bin, ``NOT missing AND lo <= x < hi``."""
    present = f"NOT {AMOUNT_MISSING}"
    conds = [f"{present} AND amount < {_num(cuts[0])}"]
    conds += [
        f"{present} AND amount >= {_num(a)} AND amount < {_num(b)}"
        for a, b in itertools.pairwise(cuts)
    ]
    conds += [f"{present} AND amount >= {_num(cuts[-1])}", AMOUNT_MISSING]
    conds += [f"category = '{v}'" for v in cats]
    conds.append("category IS NULL")
    return [_sum_case(c) for c in conds]


def _decode_running(row: Any, cuts: list[float], cats: list[str]) -> Counts:
    rows = int(row[0])
    values = [int(v or 0) for v in row[1:]]
    k = len(cuts)
    missing, below = values[0], values[1 : 1 + k]
    amount = [b - a for a, b in itertools.pairwise([0, *below, rows - missing])]
    cat_missing = values[1 + k]
    per = values[2 + k : 2 + k + len(cats)]
    other = rows - cat_missing - sum(per)
    return {"amount": [*amount, missing], "category": [*per, other, cat_missing]}


def _decode_ranges(row: Any, cuts: list[float], cats: list[str]) -> Counts:
    values = [int(v or 0) for v in row]
    k = len(cuts) + 1
    per, cat_missing = values[k + 1 : k + 1 + len(cats)], values[k + 1 + len(cats)]
    return {
        "amount": values[: k + 1],
        "category": [*per, 0, cat_missing],  # every value is a fitted category here
    }


def _decode_groups(pairs: list[tuple[int, Any, int]], cuts: list[float], cats: list[str]) -> Counts:
    """Counts from ``(bin index or -1, category, n)`` groups."""
    k = len(cuts) + 1
    amount, category = [0] * (k + 1), [0] * (len(cats) + 2)
    where = {v: i for i, v in enumerate(cats)}
    for b, cat, n in pairs:
        amount[k if int(b) < 0 else int(b)] += int(n)
        slot = len(cats) + 1 if cat is None else where.get(str(cat), len(cats))
        category[slot] += int(n)
    return {"amount": amount, "category": category}


# --- contestants ------------------------------------------------------------------


def _ours_counts(hists: Any) -> Counts:
    return {f: [*map(int, h.counts), int(h.missing)] for f, h in hists.items()}


def one_window_contestants(
    engine: sa.Engine, src: Any, binnings: Any, cuts: list[float], cats: list[str]
) -> dict[str, Callable[[], Counts]]:
    def select_one(columns: list[str]) -> Any:
        with engine.connect() as conn:
            return conn.execute(
                sa.text(f"SELECT {', '.join(columns)} FROM events WHERE {WHERE}")
            ).one()

    def running(agg: Callable[[str], str]) -> Callable[[], Counts]:
        return lambda: _decode_running(
            select_one(["count(*)", *_running_columns(cuts, cats, agg)]), cuts, cats
        )

    def group_by() -> Counts:
        query = (
            f"SELECT {_bin_index(cuts)} AS b, category, count(*) FROM events "
            f"WHERE {WHERE} GROUP BY 1, 2"
        )
        with engine.connect() as conn:
            pairs = [(b, c, n) for b, c, n in conn.execute(sa.text(query))]
        return _decode_groups(pairs, cuts, cats)

    def grouping_sets() -> Counts:
        # One hash aggregate over each row once per feature (Spark's Expand): the
        # grouped shape that scales to many features, unlike the joint GROUP BY.
        query = (
            f"SELECT b, category, grouping_id(b, category) AS g, count(*) FROM "
            f"(SELECT {_bin_index(cuts)} AS b, category FROM events WHERE {WHERE}) AS s "
            "GROUP BY GROUPING SETS ((b), (category))"
        )
        with engine.connect() as conn:
            rows = list(conn.execute(sa.text(query)))
        k = len(cuts) + 1
        numeric = [(b, cats[0], n) for b, _c, g, n in rows if g == 1]
        categorical = [(0, c, n) for _b, c, g, n in rows if g == 2]
        counts = _decode_groups(numeric, cuts, cats)
        counts["category"] = _decode_groups(categorical, cuts, cats)["category"]
        assert sum(counts["amount"]) == sum(counts["category"]), k
        return counts

    def ours() -> Counts:
        return _ours_counts(src.histograms(binnings, BOUNDS[0], BOUNDS[-1]))

    return {
        "ours: SqlSource.histograms (GROUP BY bin indexes)": ours,
        "ours before: conditional sums (diagnostic)": conditional_sums(ours),
        "SQL: running counts sum(CASE WHEN x < c THEN 1 ELSE 0 END)": running(_sum_case),
        "SQL: sum(CASE WHEN NOT missing AND lo <= x < hi ...) per bin": lambda: _decode_ranges(
            select_one(_range_columns(cuts, cats)), cuts, cats
        ),
        "SQL: GROUP BY (CASE-tree bin index, category)": group_by,
        "SQL: GROUPING SETS ((CASE-tree bin index), (category))": grouping_sets,
    }


def backfill_contestants(
    engine: sa.Engine, src: Any, binnings: Any, cuts: list[float], cats: list[str]
) -> dict[str, Callable[[], list[Counts]]]:
    def by_window(key: str, agg: Callable[[str], str]) -> Callable[[], list[Counts]]:
        def run() -> list[Counts]:
            columns = ["count(*)", *_running_columns(cuts, cats, agg)]
            query = f"SELECT {key} AS w, {', '.join(columns)} FROM events WHERE {WHERE} GROUP BY 1"
            out: list[Counts] = [_decode_running([0] * len(columns), cuts, cats)] * DAYS
            with engine.connect() as conn:
                for row in conn.execute(sa.text(query)):
                    out[int(row[0])] = _decode_running(row[1:], cuts, cats)
            return out

        return run

    def grouped(key: str) -> Callable[[], list[Counts]]:
        def run() -> list[Counts]:
            query = (
                f"SELECT {key} AS w, {_bin_index(cuts)} AS b, category, count(*) FROM events "
                f"WHERE {WHERE} GROUP BY 1, 2, 3"
            )
            pairs: list[list[tuple[int, Any, int]]] = [[] for _ in range(DAYS)]
            with engine.connect() as conn:
                for w, b, c, n in conn.execute(sa.text(query)):
                    pairs[int(w)].append((b, c, n))
            return [_decode_groups(p, cuts, cats) for p in pairs]

        return run

    def ours() -> list[Counts]:
        return [_ours_counts(h) for h in src.window_histograms(binnings, BOUNDS)]

    day = _day_index()
    return {
        f"ours: SqlSource.window_histograms, {DAYS + 1} bounds": ours,
        "ours before: conditional sums (diagnostic)": conditional_sums(ours),
        "SQL: GROUP BY DIV window index, sum(CASE WHEN x < c ...)": by_window(day, _sum_case),
        "SQL: GROUP BY DIV window index, count_if(x < c)": by_window(day, _count),
        "SQL: GROUP BY (DIV window index, CASE-tree bin, category)": grouped(day),
    }


@contextmanager
def _patched(module: Any, name: str, value: Any) -> Iterator[None]:
    saved = getattr(module, name)
    setattr(module, name, value)
    try:
        yield
    finally:
        setattr(module, name, saved)


def conditional_sums(call: Callable[[], Any]) -> Callable[[], Any]:
    """``call`` on the generic path: no dialect counted by grouping."""
    from drift.sources import grouped_counts

    def run() -> Any:
        with _patched(grouped_counts, "GROUPED_DIALECTS", frozenset()):
            return call()

    return run


def block_limit(call: Callable[[], Any], limit: int) -> Callable[[], Any]:
    """``call`` with ``grouped_counts.MAX_BLOCK_GROUPS`` set to ``limit``."""
    from drift.sources import grouped_counts

    def run() -> Any:
        with _patched(grouped_counts, "MAX_BLOCK_GROUPS", limit):
            return call()

    return run


def one_part(call: Callable[[], Any]) -> Callable[[], Any]:
    """``call`` with every feature in one part: one Java method too long to JIT-compile."""
    from drift.sources import grouped_counts

    def run() -> Any:
        with _patched(grouped_counts, "MAX_PART_LEAVES", 10**9):
            return call()

    return run


def wide_contestants(src: Any, binnings: Any) -> tuple[dict[str, Callable[[], Any]], ...]:
    """(c) one window and (d) the backfill of the wide monitor: ours at several block limits."""
    from drift.sources import grouped_counts

    def one() -> Counts:
        return _ours_counts(src.histograms(binnings, BOUNDS[0], BOUNDS[-1]))

    def many() -> list[Counts]:
        return [_ours_counts(h) for h in src.window_histograms(binnings, BOUNDS)]

    out = []
    for call in (one, many):
        contestants = {f"ours: block limit {grouped_counts.MAX_BLOCK_GROUPS}": call}
        for limit in (256, 1):
            contestants[f"ours: block limit {limit}"] = block_limit(call, limit)
        contestants["ours in one part (no UNION ALL, diagnostic)"] = one_part(call)
        contestants["ours before: conditional sums"] = conditional_sums(call)
        out.append(contestants)
    return tuple(out)


# --- timing -----------------------------------------------------------------------


def measure(
    contestants: dict[str, Callable[[], Any]], repeats: int
) -> tuple[dict[str, list[float]], dict[str, Any]]:
    """One untimed run each (its result kept), then ``repeats`` timed rounds, interleaved."""
    results = {name: run() for name, run in contestants.items()}
    times: dict[str, list[float]] = {name: [] for name in contestants}
    for _ in range(repeats):
        for name, run in contestants.items():
            began = time.perf_counter()
            run()
            times[name].append(time.perf_counter() - began)
    return times, results


def table(title: str, times: dict[str, list[float]], baseline: str = "SQL") -> None:
    """Medians, and each over the fastest contestant whose name starts with ``baseline``."""
    medians = {name: statistics.median(t) for name, t in times.items()}
    base = {n: m for n, m in medians.items() if n.startswith(baseline)}
    fastest = min(base, key=lambda n: base[n])
    ours = next(iter(medians))
    what = "fastest hand-written" if baseline == "SQL" else fastest
    print(f"\n{title}\n")
    print(f"| contestant | median s | min s | max s | vs {what} |")
    print("|---|---:|---:|---:|---:|")
    for name, t in times.items():
        print(
            f"| {name} | {medians[name]:.2f} | {min(t):.2f} | {max(t):.2f} | "
            f"{medians[name] / base[fastest]:.2f} |"
        )
    ratio = medians[ours] / base[fastest]
    if baseline == "SQL":
        verdict = "met" if ratio <= 1.3 else "NOT met"
        print(f"\nours / fastest hand-written ({fastest}): {ratio:.2f}x (goal <= 1.3: {verdict})")
    else:
        print(f"\nours / {fastest}: {ratio:.2f}x")


def capture_sql(engine: sa.Engine, call: Callable[[], Any]) -> list[str]:
    statements: list[str] = []

    def grab(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement)

    sa.event.listen(engine, "before_cursor_execute", grab)
    try:
        call()
    finally:
        sa.event.remove(engine, "before_cursor_execute", grab)
    return statements


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--wide-rows", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--show-sql", action="store_true", help="print the SQL ours sends")
    args = parser.parse_args()

    from drift.config import FeatureConfig
    from drift.sources import SqlSource
    from drift.stats.binning import CategoricalBinning, NumericBinning

    began = time.perf_counter()
    server = start()
    engine = server.engine()
    try:
        print(f"Spark Thrift server up in {time.perf_counter() - began:.1f} s ({os.cpu_count()} "
              f"cpus, load {os.getloadavg()[0]:.1f})")  # fmt: skip
        began = time.perf_counter()
        folder = server.work / "events"
        write_parquet(folder, args.rows)
        load_parquet(engine, "events", folder)
        with engine.connect() as conn:
            n = conn.execute(sa.text("SELECT count(*) FROM events")).scalar_one()
            kinds = {r[0]: r[1] for r in conn.execute(sa.text("DESCRIBE events"))}
        assert n == args.rows, (n, args.rows)
        print(f"wrote and loaded {n:,} rows in {time.perf_counter() - began:.1f} s; {kinds}")

        src = SqlSource(engine, table="events", timestamp="ts")
        began = time.perf_counter()
        binnings = src.fit(
            [
                FeatureConfig(name="amount", kind="numeric", bins=10),
                FeatureConfig(name="category", kind="categorical"),
            ],
            BOUNDS[0],
            BOUNDS[7],
        )
        print(f"fitted on 7 days in {time.perf_counter() - began:.1f} s (untimed below)")
        numeric, categorical = binnings["amount"], binnings["category"]
        assert isinstance(numeric, NumericBinning) and isinstance(categorical, CategoricalBinning)
        cuts, cats = list(numeric.cuts), list(categorical.categories)
        assert sorted(cats) == CATEGORIES, cats

        if args.show_sql:
            for what, call in (
                ("histograms", lambda: src.histograms(binnings, BOUNDS[0], BOUNDS[-1])),
                ("window_histograms", lambda: list(src.window_histograms(binnings, BOUNDS))),
            ):
                for statement in capture_sql(engine, call):
                    print(f"\n-- ours, {what}:\n{statement}")

        one = one_window_contestants(engine, src, binnings, cuts, cats)
        times, results = measure(one, args.repeats)
        reference = one_reference = next(iter(results.values()))
        for name, counts in results.items():
            assert counts == reference, (name, counts, reference)
        table(
            f"(a) one window, {DAYS} days = {reference_rows(reference):,} rows, "
            f"10-bin numeric + {len(cats)}-category features, median of {args.repeats}",
            times,
        )

        many = backfill_contestants(engine, src, binnings, cuts, cats)
        times, results = measure(many, args.repeats)
        reference = next(iter(results.values()))
        for name, counts in results.items():
            assert counts == reference, name
        assert sum(reference_rows(w) for w in reference) == reference_rows(one_reference)
        table(f"(b) backfill, {DAYS} daily windows, median of {args.repeats}", times)
        if args.wide_rows > 0:
            wide(server, engine, args.wide_rows, args.repeats)
    finally:
        engine.dispose()
        server.stop()


def reference_rows(counts: Counts) -> int:
    return sum(counts["amount"])


def wide(server: Any, engine: sa.Engine, rows: int, repeats: int) -> None:
    """Parts (c) and (d): the 20-feature monitor, ours at block limits vs conditional sums."""
    from drift.config import FeatureConfig
    from drift.sources import SqlSource, grouped_counts
    from drift.sources.bin_index import bin_index

    began = time.perf_counter()
    folder = server.work / "wide"
    write_wide(folder, rows)
    load_parquet(engine, "wide", folder)
    print(f"\nwrote and loaded {rows:,} wide rows in {time.perf_counter() - began:.1f} s")
    src = SqlSource(engine, table="wide", timestamp="ts")
    features = [FeatureConfig(name=n, kind="numeric", bins=10) for n in WIDE_NUMERIC]
    features += [FeatureConfig(name=n, kind="categorical") for n in WIDE_CATEGORICAL]
    binnings = src.fit(features, BOUNDS[0], BOUNDS[7])
    with engine.connect() as conn:
        relation = src.relation(conn)
        leaves = [
            len(bin_index(src.binned_target(relation, n, b), b).bins) for n, b in binnings.items()
        ]
    print(f"{len(grouped_counts.parts(leaves))} parts (UNION ALL branches) of at most "
          f"{grouped_counts.MAX_PART_LEAVES} leaves; {sum(leaves)} leaves in all")  # fmt: skip
    for part, contestants in zip("cd", wide_contestants(src, binnings), strict=True):
        times, results = measure(contestants, repeats)
        reference = next(iter(results.values()))
        for name, counts in results.items():
            assert counts == reference, name
        what = "one window" if part == "c" else f"backfill, {DAYS} daily windows"
        table(
            f"({part}) wide monitor (15 numeric + 5 categorical), {what}, {rows:,} rows "
            f"in the table, median of {repeats}",
            times,
            baseline="ours before",
        )


if __name__ == "__main__":
    main()
