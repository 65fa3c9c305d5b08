"""Benchmark: text tokens per second, streamed vs counted in PostgreSQL.

Loads ``--docs`` short ASCII documents (default 1,000,000; 3 to 14 words
drawn from a Zipf-like vocabulary of 5,000 words, with punctuation and mixed
case) into a fresh schema of the PostgreSQL at ``DRIFT_BENCH_POSTGRES_URL``
(default: the test server), then times, best of ``--repeat``:

- in memory, documents already in Python: ``drift.stats.tokenize`` per
  document + ``Counter``; ``count_tokens`` per 10,000-document chunk (the
  exact path: one tokenize call per chunk); and
  ``drift.stats.fast_tokens.TokenCounter`` per chunk (the vectorised path);
- fetching only, no counting: the window's rows through ``stream_rows``
  (SQLAlchemy, as the streaming path reads them) and through a bare psycopg
  server-side cursor, the floor of any streamed count;
- ``SqlSource.histograms(..., pushdown=False)``: the streaming path, rows
  fetched in chunks through a server-side cursor and tokenized in Python,
  with the exact counter (``streaming.VECTORISED_TOKENS = False``, the old
  path) and with the vectorised one, in the same run;
- ``SqlSource.histograms(...)``: the pushdown (one ``GROUP BY`` query);
- the same for ``SqlSource.fit`` (top 5,000 tokens).

Tokens per second = tokens counted in the window / wall time. The schema is
dropped afterwards. Usage: ``.venv/bin/python bench/bench_text.py [--docs N]
[--repeat R] [--tokenizer regex|whitespace]``.
"""

from __future__ import annotations

import argparse
import io
import os
import random
import time
import uuid
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import sqlalchemy as sa
from psycopg import sql as psql

import drift.sources.streaming as streaming
from drift.config import FeatureConfig
from drift.sources import SqlSource
from drift.sources.streaming import CHUNK_SIZE, count_tokens, stream_rows
from drift.stats import tokenize
from drift.stats.binning import TokenBinning
from drift.stats.fast_tokens import TokenCounter

URL = os.environ.get(
    "DRIFT_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
T0 = datetime(2024, 1, 1, tzinfo=UTC)


def documents(n: int, seed: int = 3) -> list[str]:
    rng = random.Random(seed)
    words = [f"w{i}" if i % 7 else f"Word_{i}" for i in range(5000)]
    weights = [1 / (i + 1) for i in range(len(words))]
    seps = [" ", " ", " ", ", ", ". ", "! ", " - "]
    out = []
    pool = rng.choices(words, weights, k=n * 9)
    p = 0
    for _ in range(n):
        k = rng.randint(3, 14)
        chunk = pool[p : p + k] if p + k <= len(pool) else rng.choices(words, weights, k=k)
        p += k
        out.append("".join(w + rng.choice(seps) for w in chunk).strip())
    return out


def best(repeat: int, fn: Callable[[], Any]) -> tuple[float, Any]:
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return min(times), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--tokenizer", choices=["regex", "whitespace"], default="regex")
    args = parser.parse_args()
    options = {"tokenizer": args.tokenizer}
    docs = documents(args.docs)

    schema = f"bench_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    url = sa.make_url(URL).update_query_dict({"options": f"-csearch_path={schema}"})
    engine = sa.create_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(sa.text("CREATE TABLE docs (ts timestamp, doc text)"))
            raw = conn.connection.driver_connection
            buf = io.StringIO()
            for i, d in enumerate(docs):
                ts = (T0 + timedelta(seconds=i % 86_400)).replace(tzinfo=None).isoformat()
                buf.write(f"{ts}\t{d}\n")
            with raw.cursor() as cur, cur.copy("COPY docs (ts, doc) FROM STDIN") as copy:  # type: ignore[union-attr]
                copy.write(buf.getvalue())
            conn.execute(sa.text("ANALYZE docs"))

        counter_time, counts = best(
            args.repeat,
            lambda: Counter(t for d in docs for t in tokenize(d, **options)),
        )
        tokens = sum(counts.values())

        def chunked() -> Counter[str]:
            out: Counter[str] = Counter()
            shape = TokenBinning((), tokenizer=args.tokenizer)
            for i in range(0, len(docs), CHUNK_SIZE):
                count_tokens(out, docs[i : i + CHUNK_SIZE], shape, tokenize)
            return out

        def vectorised() -> Counter[str]:
            counter = TokenCounter(args.tokenizer)
            for i in range(0, len(docs), CHUNK_SIZE):
                counter.add(docs[i : i + CHUNK_SIZE])
            return counter.counts()

        chunked_time, chunked_counts = best(args.repeat, chunked)
        assert chunked_counts == counts
        fast_time, fast_counts = best(args.repeat, vectorised)
        assert fast_counts == counts

        table = sa.table("docs", sa.column("ts"), sa.column("doc", sa.Text))

        def fetch_sqlalchemy() -> int:
            columns = [table.c.doc, sa.case((table.c.doc.is_(None), 1), else_=0)]
            with engine.connect() as conn:
                return sum(len(c) for c in stream_rows(conn, columns, table, sa.true()))

        def fetch_raw() -> int:
            columns = [table.c.doc, sa.case((table.c.doc.is_(None), 1), else_=0)]
            with engine.connect() as conn:
                chunks = stream_rows(conn, columns, table, sa.true(), text_only=True)
                return sum(len(c) for c in chunks)

        def fetch_psycopg() -> int:
            dsn = sa.make_url(URL).set(drivername="postgresql").render_as_string(False)
            with psycopg.connect(dsn) as conn, conn.cursor(name="bench") as cur:
                cur.execute(psql.SQL("SELECT doc FROM {}.docs").format(psql.Identifier(schema)))
                n = 0
                while rows := cur.fetchmany(CHUNK_SIZE):
                    n += len(rows)
                return n

        fetch_sa, fetched = best(args.repeat, fetch_sqlalchemy)
        fetch_text, fetched_text = best(args.repeat, fetch_raw)
        fetch_pg, fetched_pg = best(args.repeat, fetch_psycopg)
        assert fetched == fetched_text == fetched_pg == len(docs)

        src = SqlSource(engine, table="docs", timestamp="ts")
        feature = FeatureConfig(name="doc", kind="text", top_k=5000, **options)
        window = (T0, T0 + timedelta(days=1))

        def streamed_runs(vectorised: bool, raw: bool = True) -> tuple[float, float, Any, Any]:
            streaming.VECTORISED_TOKENS = vectorised
            streaming.RAW_TEXT_FETCH = raw
            try:
                fit_time, fitted = best(
                    args.repeat, lambda: src.fit([feature], *window, pushdown=False)["doc"]
                )
                hist_time, hist = best(
                    args.repeat,
                    lambda: src.histograms({"doc": fitted}, *window, pushdown=False)["doc"],
                )
            finally:
                streaming.VECTORISED_TOKENS = streaming.RAW_TEXT_FETCH = True
            return fit_time, hist_time, fitted, hist

        fit_old, hist_old, binning, streamed_old = streamed_runs(False, raw=False)
        fit_vec, hist_vec, vec_binning, streamed_vec = streamed_runs(True, raw=False)
        fit_new, hist_new, fast_binning, streamed_new = streamed_runs(True)
        assert fast_binning == vec_binning == binning
        assert streamed_new == streamed_vec == streamed_old
        fit_push, pushed_binning = best(args.repeat, lambda: src.fit([feature], *window)["doc"])
        assert pushed_binning == binning
        hist_push, pushed = best(
            args.repeat, lambda: src.histograms({"doc": binning}, *window)["doc"]
        )
        assert pushed == streamed_new and pushed.n == tokens
        with engine.connect() as conn:
            version = conn.execute(sa.text("SHOW server_version")).scalar_one()
        print(
            f"{args.docs:,} documents, {tokens:,} tokens ({args.tokenizer}), "
            f"PostgreSQL {version}, load average {os.getloadavg()}"
        )
        for name, seconds in [
            ("in memory, tokenize() per document + Counter", counter_time),
            ("in memory, count_tokens() per 10,000-document chunk (exact)", chunked_time),
            ("in memory, TokenCounter per 10,000-document chunk (vectorised)", fast_time),
            ("fetch only, stream_rows through SQLAlchemy rows", fetch_sa),
            ("fetch only, stream_rows text_only (psycopg cursor)", fetch_text),
            ("fetch only, bare psycopg server-side cursor", fetch_pg),
            ("fit, streamed, SQLAlchemy rows + exact counter (old)", fit_old),
            ("fit, streamed, SQLAlchemy rows + vectorised counter", fit_vec),
            ("fit, streamed, psycopg cursor + vectorised counter (new)", fit_new),
            ("fit, pushdown", fit_push),
            ("histograms, streamed, SQLAlchemy rows + exact counter (old)", hist_old),
            ("histograms, streamed, SQLAlchemy rows + vectorised counter", hist_vec),
            ("histograms, streamed, psycopg cursor + vectorised counter (new)", hist_new),
            ("histograms, pushdown", hist_push),
        ]:
            print(f"| {name} | {seconds:.2f} s | {tokens / seconds / 1e6:.2f} M tokens/s |")
    finally:
        engine.dispose()
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()


if __name__ == "__main__":
    main()
