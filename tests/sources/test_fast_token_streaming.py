"""Streamed text through SqlSource counts the same with the vectorised counter as without."""

from __future__ import annotations

import random
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

import drift.sources.streaming as streaming
from drift.config import FeatureConfig
from drift.sources import SqlSource
from drift.stats import tokenize
from drift.stats.histogram import Histogram

T0 = datetime(2024, 1, 1, tzinfo=UTC)
WINDOW = (T0, T0 + timedelta(days=1))


def make_docs(n: int) -> list[str | None]:
    rng = random.Random(11)
    words = ["the", "The", "CAT", "w_1", "x9", "a" * 40, "Ab" * 9, "ünï", "İ", "σ", "", "--"]
    seps = [" ", ", ", "\t", "\n", "!", "\x1c"]
    docs: list[str | None] = [None, "", "   "]
    for _ in range(n):
        k = rng.randint(0, 9)
        docs.append("".join(rng.choice(words) + rng.choice(seps) for _ in range(k)))
    return docs


@pytest.fixture
def source(tmp_path: Path) -> SqlSource:
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'docs.db'}")
    docs = make_docs(600)
    with engine.begin() as conn:
        conn.execute(sa.text("CREATE TABLE docs (ts TIMESTAMP, doc TEXT)"))
        conn.execute(
            sa.text("INSERT INTO docs VALUES (:ts, :doc)"),
            [
                {"ts": (T0 + timedelta(seconds=i)).replace(tzinfo=None), "doc": d}
                for i, d in enumerate(docs)
            ],
        )
    return SqlSource(engine, table="docs", timestamp="ts", pushdown=False, chunk_size=37)


def streamed(
    source: SqlSource, feature: FeatureConfig, *, vectorised: bool, monkeypatch: pytest.MonkeyPatch
) -> Histogram:
    monkeypatch.setattr(streaming, "VECTORISED_TOKENS", vectorised)
    binning = source.fit([feature], *WINDOW)[feature.name]
    return source.histograms({feature.name: binning}, *WINDOW)[feature.name]


@pytest.mark.parametrize("tokenizer", ["regex", "whitespace"])
@pytest.mark.parametrize("lowercase", [True, False])
def test_vectorised_streaming_counts_equal_the_exact_path_and_tokenize(
    source: SqlSource, tokenizer: str, lowercase: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    feature = FeatureConfig.model_validate(
        {"name": "doc", "kind": "text", "tokenizer": tokenizer, "lowercase": lowercase, "top_k": 8}
    )
    fast = streamed(source, feature, vectorised=True, monkeypatch=monkeypatch)
    exact = streamed(source, feature, vectorised=False, monkeypatch=monkeypatch)
    assert fast == exact
    docs = [d for d in make_docs(600) if d is not None]
    oracle = Counter(t for d in docs for t in tokenize(d, tokenizer=tokenizer, lowercase=lowercase))
    assert fast.n == sum(oracle.values())
    assert fast.missing == 1
    top = sorted(oracle.items(), key=lambda kv: (-kv[1], kv[0]))[:8]
    assert [int(fast.counts[fast.labels.index(t)]) for t, _ in top] == [n for _, n in top]
