"""Text features whose column already holds token ids (``tokenizer: ids``).

JSON text (``[1, 5, 7]``) on every backend; native integer arrays on
PostgreSQL (``int[]``, and ``jsonb``) and DuckDB (``INTEGER[]``). Counts must
equal counting the same rows in memory, whatever the chunk size.
"""

from __future__ import annotations

import json
import random
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from drift.config import FeatureConfig
from drift.errors import SourceError
from drift.sources import SqlSource
from drift.stats.binning import TokenBinning

pytestmark = pytest.mark.db

T0 = datetime(2024, 1, 1, tzinfo=UTC)
DAY = timedelta(days=1)
REF = (T0, T0 + DAY)
LIVE = (T0 + DAY, T0 + 2 * DAY)
IDS = FeatureConfig(name="ids", kind="text", tokenizer="ids", top_k=12)


def make_ids(n: int = 400, seed: int = 11) -> list[list[int] | None]:
    rng = random.Random(seed)
    out: list[list[int] | None] = []
    for i in range(n):
        if rng.random() < 0.05:
            out.append(None)
            continue
        high = 30 if i < n // 2 else 45  # the live half uses ids the reference never saw
        out.append([rng.randint(0, high) for _ in range(rng.randint(0, 12))])
    return out


def rows_of(ids: list[list[int] | None], encode: Any) -> list[dict[str, Any]]:
    return [
        {
            "id": i,
            "ts": (T0 + timedelta(minutes=i * 2880 // len(ids))).replace(tzinfo=None),
            "ids": None if v is None else encode(v),
        }
        for i, v in enumerate(ids)
    ]


def load(db_url: str, column_type: Any, rows: list[dict[str, Any]]) -> sa.Engine:
    engine = sa.create_engine(db_url)
    table = sa.Table(
        "docs",
        sa.MetaData(),
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("ts", sa.DateTime()),
        sa.Column("ids", column_type),
    )
    table.create(engine)
    with engine.begin() as conn:
        conn.execute(table.insert(), rows)
    return engine


def expected(ids: list[list[int] | None], rows: list[dict[str, Any]], window: Any) -> Counter[str]:
    lo, hi = (w.replace(tzinfo=None) for w in window)
    counts: Counter[str] = Counter()
    for value, row in zip(ids, rows, strict=True):
        if lo <= row["ts"] < hi and value is not None:
            counts.update(str(i) for i in value)
    return counts


def check(engine: sa.Engine, ids: list[list[int] | None], rows: list[dict[str, Any]]) -> None:
    for chunk_size in (5, 10_000):
        src = SqlSource(engine, table="docs", timestamp="ts", chunk_size=chunk_size)
        binning = src.fit([IDS], *REF)["ids"]
        assert isinstance(binning, TokenBinning) and binning.tokenizer == "ids"
        reference = expected(ids, rows, REF)
        top = sorted(reference.items(), key=lambda kv: (-kv[1], kv[0]))[:12]
        assert binning.vocabulary == tuple(t for t, _ in top)
        hist = src.histograms({"ids": binning}, *LIVE)["ids"]
        live = expected(ids, rows, LIVE)
        assert hist.counts.tolist() == [
            *(live[t] for t in binning.vocabulary),
            sum(n for t, n in live.items() if t not in binning.vocabulary),
        ]
        assert hist.counts[-1] > 0
        moments = src.document_moments({"ids": binning}, *LIVE)["ids"]
        assert moments.counts.tolist() == hist.counts.tolist()
        assert moments.documents == hist.documents == hist.rows
        lo, hi = (w.replace(tzinfo=None) for w in LIVE)
        assert hist.missing == sum(
            1 for v, r in zip(ids, rows, strict=True) if v is None and lo <= r["ts"] < hi
        )


def test_json_text_ids_are_counted_on_every_backend(db_url: str) -> None:
    ids = make_ids()
    rows = rows_of(ids, json.dumps)
    engine = load(db_url, sa.Text, rows)
    try:
        check(engine, ids, rows)
    finally:
        engine.dispose()


def test_native_integer_arrays(db_url: str, backend: str) -> None:
    if backend not in ("postgresql", "duckdb"):
        pytest.skip(f"{backend} has no array type; JSON text is tested on it")
    ids = make_ids(seed=12)
    rows = rows_of(ids, list)
    column_type = postgresql.ARRAY(sa.Integer) if backend == "postgresql" else sa.ARRAY(sa.Integer)
    engine = load(db_url, column_type, rows)
    try:
        check(engine, ids, rows)
    finally:
        engine.dispose()


def test_postgresql_jsonb_arrays(db_url: str, backend: str) -> None:
    if backend != "postgresql":
        pytest.skip("jsonb is PostgreSQL's")
    ids = make_ids(seed=13)
    rows = rows_of(ids, list)
    engine = load(db_url, postgresql.JSONB(none_as_null=True), rows)
    try:
        check(engine, ids, rows)
    finally:
        engine.dispose()


@pytest.mark.parametrize(
    ("bad", "why"),
    [
        ("[1, 2", "invalid JSON"),
        ('[1, "a"]', "element 'a'"),
        ("[1, 2.5]", "element 2.5"),
        ("[true]", "element True"),
        ('{"ids": [1]}', "got dict"),
        ("7", "got int"),
    ],
)
def test_a_row_that_is_not_a_list_of_ids_names_the_feature_and_value(
    db_url: str, bad: str, why: str
) -> None:
    rows = rows_of([[1, 2], [3], [4, 5]], json.dumps)
    rows[1]["ids"] = bad
    engine = load(db_url, sa.Text, rows)
    try:
        src = SqlSource(engine, table="docs", timestamp="ts")
        with pytest.raises(SourceError) as info:
            src.fit([IDS], None, None)
        message = str(info.value)
        assert message.startswith("feature 'ids' (tokenizer: ids): a row is not a list")
        assert why in message and repr(bad) in message
    finally:
        engine.dispose()
