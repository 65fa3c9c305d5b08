"""Benchmark: text tokens per second, streamed vs counted in PostgreSQL.

Loads ``--docs`` short ASCII documents (default 1,000,000; 3 to 14 words
drawn from a Zipf-like vocabulary of 5,000 words, with punctuation and mixed
case) into a fresh schema of the PostgreSQL at ``DRIFT_BENCH_POSTGRES_URL``
(default: the test server), then times, best of ``--repeat``:

- in memory, documents already in Python: ``drift.stats.tokenize`` per
  document + ``Counter``, and ``count_tokens`` per 10,000-document chunk
  (what the streaming path does: one tokenize call per chunk);
- ``SqlSource.histograms(..., pushdown=False)``: the streaming path, rows
  fetched in chunks through a server-side cursor and tokenized in Python;
- ``SqlSource.histograms(...)``: the pushdown (one ``GROUP BY`` query);
- the same two for ``SqlSource.fit`` (top 5,000 tokens).

Tokens per second = tokens counted in the window / wall time. The schema is
dropped afterwards. Usage: ``.venv/bin/python bench/bench_text.py [--docs N]``.
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

import sqlalchemy as sa

from drift.config import FeatureConfig
from drift.sources import SqlSource
from drift.sources.streaming import CHUNK_SIZE, count_tokens
from drift.stats import tokenize
from drift.stats.binning import TokenBinning

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
    args = parser.parse_args()
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
            lambda: Counter(t for d in docs for t in tokenize(d)),
        )
        tokens = sum(counts.values())

        def chunked() -> Counter[str]:
            out: Counter[str] = Counter()
            shape = TokenBinning(())
            for i in range(0, len(docs), CHUNK_SIZE):
                count_tokens(out, docs[i : i + CHUNK_SIZE], shape, tokenize)
            return out

        chunked_time, chunked_counts = best(args.repeat, chunked)
        assert chunked_counts == counts
        src = SqlSource(engine, table="docs", timestamp="ts")
        feature = FeatureConfig(name="doc", kind="text", top_k=5000)
        window = (T0, T0 + timedelta(days=1))
        fit_stream, binning = best(
            args.repeat, lambda: src.fit([feature], *window, pushdown=False)["doc"]
        )
        fit_push, pushed_binning = best(args.repeat, lambda: src.fit([feature], *window)["doc"])
        assert pushed_binning == binning
        hist_stream, streamed = best(
            args.repeat, lambda: src.histograms({"doc": binning}, *window, pushdown=False)["doc"]
        )
        hist_push, pushed = best(
            args.repeat, lambda: src.histograms({"doc": binning}, *window)["doc"]
        )
        assert pushed == streamed and pushed.n == tokens
        with engine.connect() as conn:
            version = conn.execute(sa.text("SHOW server_version")).scalar_one()
        print(f"{args.docs:,} documents, {tokens:,} tokens, PostgreSQL {version}")
        for name, seconds in [
            ("in memory, tokenize() per document + Counter", counter_time),
            ("in memory, count_tokens() per 10,000-document chunk", chunked_time),
            ("fit, streamed", fit_stream),
            ("fit, pushdown", fit_push),
            ("histograms, streamed", hist_stream),
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
