"""Text on Spark SQL is streamed, and exact (issue 17).

Counting tokens in Spark (``explode(split(...))``, then ``GROUP BY``) was
measured not to pay (bench/RESULTS.md, "Spark text pushdown (issue 17)"), so
drift.sources.text_pushdown leaves Spark out: fit, histograms and document
moments stream, with or without ``pushdown``. The fitted vocabulary, the
histograms (vocabulary counts, out-of-vocabulary total, the 20 most frequent
unseen tokens with ties, the document count) and the per-document moments
must be exactly those of drift.stats on the same Parquet file: punctuation,
digits, underscores, mixed case, empty, NULL, whitespace-only, every ASCII
character, and a window with one non-ASCII document.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import sqlalchemy as sa
from spark_server import load_parquet

import drift.sources.sql as sql_module
import drift.sources.text_moments as moments_module
from drift.config import FeatureConfig
from drift.sources.sql import SqlSource
from drift.stats import fit_tokens, histogram, tokenize
from drift.stats.binning import TokenBinning
from drift.stats.document_counts import token_documents

pytestmark = [pytest.mark.spark, pytest.mark.slow]

T0 = datetime(2024, 1, 1, tzinfo=UTC)
DAY = timedelta(days=1)
REF = (T0, T0 + DAY)
LIVE = (T0 + DAY, T0 + 2 * DAY)
N = 600
FIXED = [
    "Hello, World! hello world.",
    "",
    "   ",
    "\t\n \x0b\x0c\r",
    "snake_case_name and CamelCase and __dunder__",
    "digits 123 4.56 7,890 v2 2024-01-01 0x1F",
    "tabs\tand\nnewlines\r\nand\x0bvertical\x0cfeed",
    "unit\x1fsep\x1erec\x1dgrp\x1cfile",
    "punct!!! ?? ... ;; -- 'quoted' \"double\" (paren) [brack] {brace} back\\slash",
    "REPEAT repeat Repeat rEpEaT repeat",
    "a-b_c d_e-f",
    "x",
    "_ __ ___",
    "\x00nul\x01soh\x7fdel\x1besc",
    "ends with a separator,",
]
VOCAB = ["the", "cat", "Sat", "ON", "a", "mat", "dog", "RAN", "far", "away", "x_1", "42"]
ALPHABET = [chr(i) for i in range(128)] + list("aAbB_1 ") * 6
OPTIONS = [
    pytest.param({"tokenizer": "regex", "lowercase": True}, id="regex-lower"),
    pytest.param({"tokenizer": "regex", "lowercase": False}, id="regex-case"),
    pytest.param({"tokenizer": "whitespace", "lowercase": True}, id="space-lower"),
    pytest.param({"tokenizer": "whitespace", "lowercase": False}, id="space-case"),
]


def _doc(rng: random.Random, i: int) -> str | None:
    roll = rng.random()
    if roll < 0.06:
        return None
    if roll < 0.3:
        return FIXED[i % len(FIXED)]
    if roll < 0.45:
        return "".join(rng.choices(ALPHABET, k=rng.randint(0, 30)))
    words = [rng.choice(VOCAB) for _ in range(rng.randint(0, 8))]
    seps = [rng.choice([" ", ", ", ". ", "  ", "!", "\t", " - ", "\x1d", "\r\n"]) for _ in words]
    text = "".join(w + s for w, s in zip(words, seps, strict=True))
    if rng.random() < 0.3:
        text += f" rare{rng.randint(0, 60)} Rare{rng.randint(0, 5)}"
    return text


def make_rows(n: int = N, seed: int = 17) -> list[dict[str, Any]]:
    """Documents every 4 minutes over two days; ``uni`` has one non-ASCII document in LIVE."""
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        text = _doc(rng, i)
        # Ties and more than 20 unseen tokens: "known" plus words w00..w44.
        words = " ".join(f"w{(i * 7 + j) % 45:02d}" for j in range(i % 4))
        rows.append(
            {"ts": T0 + timedelta(minutes=(i * 53) % (2 * 24 * 60)), "doc": text,
             "ties": f"known {words}", "uni": text}
        )  # fmt: skip
    live = [r for r in rows if LIVE[0] <= r["ts"] < LIVE[1] and r["doc"] is not None]
    live[len(live) // 2]["uni"] = "one Ünïcödé STRASSE straße document"
    return rows


@dataclass
class Docs:
    engine: sa.Engine
    table: str
    rows: list[dict[str, Any]]
    calls: list[str] = field(default_factory=list)

    def texts(self, column: str, start: datetime, end: datetime) -> list[str | None]:
        return [r[column] for r in self.rows if start <= r["ts"] < end]


def write_parquet(folder: Path, rows: list[dict[str, Any]]) -> None:
    folder.mkdir()
    columns: dict[str, Any] = {
        "ts": pa.array([r["ts"].replace(tzinfo=None) for r in rows], pa.timestamp("us"))
    }
    for name in ("doc", "ties", "uni"):
        columns[name] = pa.array([r[name] for r in rows], pa.string())
    pq.write_table(pa.table(columns), folder / "part-0.parquet")


@pytest.fixture(scope="module")
def loaded(spark_server: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Docs]:
    rows = make_rows()
    folder = tmp_path_factory.mktemp("spark_text") / "docs"
    write_parquet(folder, rows)
    engine = spark_server.engine()
    load_parquet(engine, "docs_text", folder)
    try:
        yield Docs(engine, "docs_text", rows)
    finally:
        engine.dispose()


@pytest.fixture
def docs(loaded: Docs, monkeypatch: pytest.MonkeyPatch) -> Docs:
    """The loaded documents, recording when SqlSource falls back to streaming text."""
    loaded.calls.clear()
    fit, stream = sql_module.fit_vocabulary, sql_module.stream_histograms
    moments = moments_module.stream_document_moments

    def fit_spy(*args: Any, **kwargs: Any) -> Any:
        loaded.calls.append("fit")
        return fit(*args, **kwargs)

    def stream_spy(*args: Any, **kwargs: Any) -> Any:
        loaded.calls.append("stream")
        return stream(*args, **kwargs)

    def moments_spy(conn: Any, source: Any, where: Any, targets: Any, *rest: Any) -> Any:
        if targets:
            loaded.calls.append("moments")
        return moments(conn, source, where, targets, *rest)

    monkeypatch.setattr(sql_module, "fit_vocabulary", fit_spy)
    monkeypatch.setattr(sql_module, "stream_histograms", stream_spy)
    monkeypatch.setattr(moments_module, "stream_document_moments", moments_spy)
    return loaded


def check_both_paths(
    src: SqlSource, docs: Docs, feature: FeatureConfig, *, expect_pushdown: bool
) -> TokenBinning:
    """Fit and count with and without pushdown: identical to each other and to drift.stats."""
    name = feature.name
    docs.calls.clear()
    pushed_fit = src.fit([feature], *REF)[name]
    assert ("fit" in docs.calls) is not expect_pushdown
    streamed_fit = src.fit([feature], *REF, pushdown=False)[name]
    assert isinstance(pushed_fit, TokenBinning)
    oracle = fit_tokens(
        [t for t in docs.texts(name, *REF) if t is not None],
        top_k=feature.resolved_top_k("text"),
        tokenizer=feature.tokenizer,
        lowercase=feature.lowercase,
        ngram=feature.ngram,
    )
    assert pushed_fit == streamed_fit == oracle
    for window in (LIVE, REF):
        docs.calls.clear()
        pushed = src.histograms({name: pushed_fit}, *window)[name]
        assert ("stream" in docs.calls) is not expect_pushdown, window
        streamed = src.histograms({name: pushed_fit}, *window, pushdown=False)[name]
        texts = docs.texts(name, *window)
        expected = histogram(pushed_fit, texts)
        assert pushed == streamed == expected, window
        assert pushed.missing == texts.count(None)
        assert pushed.documents == len(texts) - texts.count(None)
        assert len(pushed.unseen) == min(20, len(expected.unseen))
    return pushed_fit


def check_moments(src: SqlSource, docs: Docs, binning: TokenBinning, name: str) -> None:
    """Document moments with and without pushdown: equal to drift.stats, groups included."""
    for window in (LIVE, REF):
        docs.calls.clear()
        src.pushdown = True
        pushed = src.document_moments({name: binning}, *window)[name]
        pushed_streamed = "moments" in docs.calls
        src.pushdown = False
        streamed = src.document_moments({name: binning}, *window)[name]
        _, oracle = token_documents(binning, docs.texts(name, *window))
        for got in (pushed, streamed):
            assert got.documents == oracle.documents
            for part in ("counts", "squares", "cross"):
                np.testing.assert_array_equal(getattr(got, part), getattr(oracle, part), part)
            assert got.length_squares == oracle.length_squares
        # Both paths number the documents in the order Spark reads the file.
        np.testing.assert_array_equal(pushed.groups, streamed.groups)  # type: ignore[arg-type]
        np.testing.assert_array_equal(pushed.groups, oracle.groups)  # type: ignore[arg-type]
        assert pushed_streamed, window
    src.pushdown = True


@pytest.mark.parametrize("options", OPTIONS)
@pytest.mark.parametrize("top_k", [5, 10_000])
def test_spark_text_is_streamed_and_exact(docs: Docs, options: dict[str, Any], top_k: int) -> None:
    src = SqlSource(docs.engine, table=docs.table, timestamp="ts")
    feature = FeatureConfig(name="doc", kind="text", top_k=top_k, **options)
    assert all(None in docs.texts("doc", *window) for window in (REF, LIVE))
    binning = check_both_paths(src, docs, feature, expect_pushdown=False)
    if top_k == 5:
        check_moments(src, docs, binning, "doc")


def test_spark_query_source_text_is_exact(docs: Docs) -> None:
    query = f"SELECT ts, doc FROM {docs.table} WHERE ts IS NOT NULL"
    src = SqlSource(docs.engine, query=query, timestamp="ts")
    feature = FeatureConfig(name="doc", kind="text", top_k=7, tokenizer="whitespace")
    check_both_paths(src, docs, feature, expect_pushdown=False)


def test_spark_more_than_twenty_unseen_tokens_with_ties(docs: Docs) -> None:
    """Only the 20 most frequent OOV tokens are named; ties by token in byte order."""
    src = SqlSource(docs.engine, table=docs.table, timestamp="ts")
    feature = FeatureConfig(name="ties", kind="text", top_k=1)
    binning = check_both_paths(src, docs, feature, expect_pushdown=False)
    assert binning.vocabulary == ("known",)
    # The 20th and 21st most frequent unseen tokens tie: the tie-break decides who is named.
    oov = Counter(t for d in docs.texts("ties", *LIVE) if d for t in tokenize(d) if t != "known")
    ranked = sorted(oov.values(), reverse=True)
    assert len(ranked) > 20 and ranked[19] == ranked[20]


@pytest.mark.parametrize("tokenizer", ["regex", "whitespace"])
def test_spark_window_with_one_non_ascii_document_streams(docs: Docs, tokenizer: str) -> None:
    """The reference window of ``uni`` is ASCII, its live window is not."""
    src = SqlSource(docs.engine, table=docs.table, timestamp="ts")
    feature = FeatureConfig(name="uni", kind="text", top_k=8, tokenizer=tokenizer)
    binning = src.fit([feature], *REF)["uni"]
    assert isinstance(binning, TokenBinning) and "fit" in docs.calls
    texts = docs.texts("uni", *LIVE)
    assert sum(t is not None and not t.isascii() for t in texts) == 1
    pushed = src.histograms({"uni": binning}, *LIVE)["uni"]
    assert "stream" in docs.calls
    assert pushed == src.histograms({"uni": binning}, *LIVE, pushdown=False)["uni"]
    assert pushed == histogram(binning, texts)
    # A vocabulary fitted on the non-ASCII window (streamed) is counted exactly elsewhere too.
    unicode_fit = FeatureConfig(name="uni", kind="text", top_k=10_000, tokenizer=tokenizer)
    wide = src.fit([unicode_fit], *LIVE)["uni"]
    assert isinstance(wide, TokenBinning) and "straße" in " ".join(wide.vocabulary)
    ref = src.histograms({"uni": wide}, *REF)["uni"]
    assert ref == histogram(wide, docs.texts("uni", *REF))
    check_moments(src, docs, binning, "uni")
