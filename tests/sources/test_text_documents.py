"""Text features know their documents, on every backend and on both paths.

A text histogram counts tokens; its rows are the (present) documents, which
every path reports (``Histogram.documents``), and the per-document moments
of a window (``SqlSource.document_moments``: one GROUP BY over a relation
without a key on PostgreSQL and DuckDB, else streamed) equal those of
``drift.stats`` on the same documents.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import numpy as np
import pytest
import sqlalchemy as sa
from source_data import DAY, T0

from drift.config import FeatureConfig
from drift.sources import SqlSource
from drift.stats import histogram
from drift.stats.binning import TokenBinning
from drift.stats.document_counts import token_documents
from drift.stats.documents import DocumentMoments, document_dispersion

pytestmark = pytest.mark.db

WORDS = ["the", "Cat", "sat", "on", "a", "mat", "dog", "ran", "far", "away", "x_1", "42"]
WINDOW = (T0, T0 + DAY)


def make_rows(n: int = 300, seed: int = 5) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        roll = rng.random()
        text: str | None
        if roll < 0.1:
            text = None
        elif roll < 0.15:
            text = rng.choice(["", "  ", "!!"])  # documents without a token
        else:
            topic = WORDS[:6] if rng.random() < 0.5 else WORDS[6:]
            text = " ".join(rng.choice(topic) for _ in range(rng.randint(1, 12)))
            if rng.random() < 0.2:
                text += f", rare{rng.randint(0, 30)}"
        rows.append({"ts": T0 + timedelta(minutes=4 * i), "body": text})
    return rows


@pytest.fixture
def source(db_url: str) -> Iterator[tuple[SqlSource, list[dict[str, Any]]]]:
    engine = sa.create_engine(db_url)
    # No primary key, no id: documents are numbered by the database.
    table = sa.Table(
        "notes", sa.MetaData(), sa.Column("ts", sa.DateTime()), sa.Column("body", sa.Text)
    )
    table.create(engine)
    rows = make_rows()
    with engine.begin() as conn:
        conn.execute(table.insert(), [{**r, "ts": r["ts"].replace(tzinfo=None)} for r in rows])
    try:
        yield SqlSource(engine, table="notes", timestamp="ts"), rows
    finally:
        engine.dispose()


def _same(a: DocumentMoments, b: DocumentMoments) -> None:
    assert a.documents == b.documents
    for name in ("counts", "squares", "cross"):
        np.testing.assert_allclose(getattr(a, name), getattr(b, name), err_msg=name)
    assert a.length_squares == pytest.approx(b.length_squares)
    assert a.groups is not None and b.groups is not None
    np.testing.assert_allclose(a.groups.sum(axis=0), b.groups.sum(axis=0))


@pytest.mark.parametrize("tokenizer", ["regex", "whitespace"])
def test_documents_and_moments_agree_on_every_path(
    source: tuple[SqlSource, list[dict[str, Any]]], tokenizer: str
) -> None:
    src, rows = source
    texts = [r["body"] for r in rows if WINDOW[0] <= r["ts"] < WINDOW[1]]
    feature = FeatureConfig(name="body", kind="text", top_k=8, tokenizer=tokenizer)
    binning = src.fit([feature], *WINDOW)["body"]
    assert isinstance(binning, TokenBinning)
    pushed = src.histograms({"body": binning}, *WINDOW)["body"]
    streamed = src.histograms({"body": binning}, *WINDOW, pushdown=False)["body"]
    expected, oracle = token_documents(binning, texts)
    assert pushed == streamed == expected == histogram(binning, texts)
    present = sum(t is not None for t in texts)
    assert pushed.documents == streamed.documents == present
    assert pushed.missing == texts.count(None) and pushed.rows == present
    assert pushed.missing_rate == pytest.approx(texts.count(None) / len(texts))

    moments = src.document_moments({"body": binning}, *WINDOW)["body"]
    src.pushdown = False
    streamed_moments = src.document_moments({"body": binning}, *WINDOW)["body"]
    _same(moments, oracle)
    _same(streamed_moments, oracle)
    # Both paths number documents in the order the rows are read.
    np.testing.assert_allclose(moments.groups, streamed_moments.groups)  # type: ignore[arg-type]
    disp = document_dispersion(moments)
    assert disp.source == "documents" and disp.units == present and disp.phi > 1
    assert disp == document_dispersion(oracle)
