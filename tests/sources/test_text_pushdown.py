"""Text tokens counted in SQL equal the streaming path, on every backend.

PostgreSQL and DuckDB count the tokens of ASCII windows with one GROUP BY
(see drift.sources.text_pushdown); SQLite and MariaDB, non-ASCII windows,
``char`` and n-grams stream. Either way the fitted vocabulary and the
histograms must be exactly those of drift.stats on the same documents.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from source_data import DAY, T0

import drift.sources.sql as sql_module
from drift.config import FeatureConfig
from drift.sources import SqlSource
from drift.sources.streaming import count_tokens, tokenizer
from drift.stats import fit_tokens, histogram, tokenize
from drift.stats.binning import TokenBinning

pytestmark = pytest.mark.db

PUSHDOWN_BACKENDS = ("postgresql", "duckdb")
FIXED = [
    "Hello, World! hello world.",
    "",
    "   ",
    "snake_case_name and CamelCase and __dunder__",
    "digits 123 4.56 7,890 v2 2024-01-01",
    "tabs\tand\nnewlines\r\nand\x0bvertical\x0cfeed",
    "unit\x1fsep\x1erec\x1dgrp\x1cfile",
    "punct!!! ?? ... ;; -- 'quoted' \"double\" (paren) [brack] {brace}",
    "REPEAT repeat Repeat rEpEaT repeat",
    "a-b_c d_e-f",
    "x",
    "_ __ ___",
]
VOCAB = ["the", "cat", "Sat", "ON", "a", "mat", "dog", "RAN", "far", "away", "x_1", "42"]


@dataclass
class Docs:
    engine: sa.Engine
    table: str
    rows: list[dict[str, Any]]
    backend: str
    calls: list[str] = field(default_factory=list)

    def texts(self, column: str, start: Any, end: Any) -> list[str | None]:
        return [r[column] for r in self.rows if start <= r["ts"] < end]


def make_docs(n: int = 400, seed: int = 11) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        roll = rng.random()
        text: str | None
        if roll < 0.06:
            text = None
        elif roll < 0.25:
            text = FIXED[i % len(FIXED)]
        else:
            words = [rng.choice(VOCAB) for _ in range(rng.randint(0, 8))]
            seps = [rng.choice([" ", ", ", ". ", "  ", "!", "\t", " - "]) for _ in words]
            text = "".join(w + s for w, s in zip(words, seps, strict=True))
            if rng.random() < 0.3:
                text += f" rare{rng.randint(0, 60)} Rare{rng.randint(0, 5)}"
        unicode_text = None if text is None else text + rng.choice([" Ünïcödé straße", " ok"])
        rows.append(
            {
                "id": i,
                "ts": T0 + timedelta(minutes=(i * 53) % (2 * 24 * 60)),
                "doc": text,
                "uni": unicode_text,
            }
        )
    return rows


def docs_table(name: str, doc: str = "doc") -> sa.Table:
    return sa.Table(
        name,
        sa.MetaData(),
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("ts", sa.DateTime()),
        sa.Column(doc, sa.Text),
        sa.Column("uni", sa.Text),
    )


def load_docs(engine: sa.Engine, table: sa.Table, rows: list[dict[str, Any]]) -> None:
    table.create(engine)
    naive = [{**r, "ts": r["ts"].replace(tzinfo=None)} for r in rows]
    with engine.begin() as conn:
        conn.execute(table.insert(), naive)


def spy(monkeypatch: pytest.MonkeyPatch, calls: list[str]) -> None:
    """Record when SqlSource falls back to streaming text."""
    fit, stream = sql_module.fit_vocabulary, sql_module.stream_histograms

    def fit_spy(*args: Any, **kwargs: Any) -> Any:
        calls.append("fit")
        return fit(*args, **kwargs)

    def stream_spy(*args: Any, **kwargs: Any) -> Any:
        calls.append("stream")
        return stream(*args, **kwargs)

    monkeypatch.setattr(sql_module, "fit_vocabulary", fit_spy)
    monkeypatch.setattr(sql_module, "stream_histograms", stream_spy)


@pytest.fixture
def docs(db_url: str, backend: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Docs]:
    engine = sa.create_engine(db_url)
    rows = make_docs()
    load_docs(engine, docs_table("docs"), rows)
    out = Docs(engine, "docs", rows, backend)
    spy(monkeypatch, out.calls)
    try:
        yield out
    finally:
        engine.dispose()


REF = (T0, T0 + DAY)
LIVE = (T0 + DAY, T0 + 2 * DAY)
OPTIONS = [
    pytest.param({"tokenizer": "regex", "lowercase": True}, id="regex-lower"),
    pytest.param({"tokenizer": "regex", "lowercase": False}, id="regex-case"),
    pytest.param({"tokenizer": "whitespace", "lowercase": True}, id="space-lower"),
    pytest.param({"tokenizer": "whitespace", "lowercase": False}, id="space-case"),
]


def check_both_paths(
    src: SqlSource, docs: Docs, feature: FeatureConfig, *, expect_pushdown: bool
) -> None:
    """Fit and count with and without pushdown: identical to each other and to drift.stats."""
    name = feature.name
    docs.calls.clear()
    pushed_fit = src.fit([feature], *REF)[name]
    fit_streamed = "fit" in docs.calls
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
        hist_streamed = "stream" in docs.calls
        streamed = src.histograms({name: pushed_fit}, *window, pushdown=False)[name]
        expected = histogram(pushed_fit, docs.texts(name, *window))
        assert pushed == streamed == expected, window
        assert pushed.missing == docs.texts(name, *window).count(None)
        assert len(pushed.unseen) == min(20, len(expected.unseen))
        assert hist_streamed is not expect_pushdown
    assert fit_streamed is not expect_pushdown


@pytest.mark.parametrize("options", OPTIONS)
@pytest.mark.parametrize("top_k", [5, 10_000])
def test_pushdown_equals_streaming(docs: Docs, options: dict[str, Any], top_k: int) -> None:
    src = SqlSource(docs.engine, table=docs.table, timestamp="ts")
    feature = FeatureConfig(name="doc", kind="text", top_k=top_k, **options)
    check_both_paths(src, docs, feature, expect_pushdown=docs.backend in PUSHDOWN_BACKENDS)


def test_query_source_is_pushed_down_too(docs: Docs) -> None:
    src = SqlSource(docs.engine, query="SELECT ts, doc FROM docs WHERE id >= 0", timestamp="ts")
    feature = FeatureConfig(name="doc", kind="text", top_k=7)
    check_both_paths(src, docs, feature, expect_pushdown=docs.backend in PUSHDOWN_BACKENDS)


@pytest.mark.parametrize(
    "options",
    [{"tokenizer": "char"}, {"ngram": 2}, {"ngram": 3, "tokenizer": "whitespace"}],
    ids=["char", "bigram", "trigram"],
)
def test_char_tokens_and_ngrams_are_streamed(docs: Docs, options: dict[str, Any]) -> None:
    src = SqlSource(docs.engine, table=docs.table, timestamp="ts")
    feature = FeatureConfig(name="doc", kind="text", top_k=15, **options)
    check_both_paths(src, docs, feature, expect_pushdown=False)


@pytest.mark.parametrize("tokenizer", ["regex", "whitespace"])
def test_non_ascii_windows_are_streamed_deliberately(docs: Docs, tokenizer: str) -> None:
    """Unicode ``\\w`` and ``lower()`` differ between Python and the databases: stream."""
    src = SqlSource(docs.engine, table=docs.table, timestamp="ts")
    feature = FeatureConfig(name="uni", kind="text", top_k=12, tokenizer=tokenizer)
    check_both_paths(src, docs, feature, expect_pushdown=False)
    binning = src.fit([feature], *REF)["uni"]
    assert isinstance(binning, TokenBinning)
    if tokenizer == "regex":
        assert {"ünïcödé", "straße"} <= set(binning.vocabulary)


def test_an_ascii_window_of_a_unicode_column_is_pushed_down(docs: Docs) -> None:
    """The rule is per window: only the documents being read must be ASCII."""
    with docs.engine.begin() as conn:
        table = docs_table("docs")
        conn.execute(table.update().where(table.c.id % 2 == 0).values(uni="plain ASCII words"))
        conn.execute(table.update().where(table.c.id % 2 == 1).values(uni="Ünïcödé straße"))
    src = SqlSource(
        docs.engine, query="SELECT ts, uni FROM docs WHERE MOD(id, 2) = 0", timestamp="ts"
    )
    for row in docs.rows:
        row["uni"] = "plain ASCII words" if row["id"] % 2 == 0 else "Ünïcödé straße"
    feature = FeatureConfig(name="uni", kind="text", top_k=2)
    docs.calls.clear()
    binning = src.fit([feature], *REF)["uni"]
    assert binning == TokenBinning(("ascii", "plain"))
    hist = src.histograms({"uni": binning}, *LIVE)["uni"]
    n = sum(1 for r in docs.rows if r["id"] % 2 == 0 and LIVE[0] <= r["ts"] < LIVE[1])
    assert hist.counts.tolist() == [n, n, n]
    assert dict(hist.unseen) == ({"words": n} if n else {})
    assert ("fit" in docs.calls) is (docs.backend not in PUSHDOWN_BACKENDS)


def test_more_than_twenty_unseen_tokens_with_ties(docs: Docs) -> None:
    """Only the 20 most frequent OOV tokens are named; ties by token, as in Python."""
    with docs.engine.begin() as conn:
        table = docs_table("docs")
        for row in docs.rows:
            words = " ".join(f"w{(row['id'] * 7 + j) % 45:02d}" for j in range(row["id"] % 4))
            row["doc"] = f"known {words}"
            conn.execute(table.update().where(table.c.id == row["id"]).values(doc=row["doc"]))
    src = SqlSource(docs.engine, table=docs.table, timestamp="ts")
    feature = FeatureConfig(name="doc", kind="text", top_k=1)
    check_both_paths(src, docs, feature, expect_pushdown=docs.backend in PUSHDOWN_BACKENDS)


def test_empty_window_and_empty_vocabulary(docs: Docs) -> None:
    src = SqlSource(docs.engine, table=docs.table, timestamp="ts")
    feature = FeatureConfig(name="doc", kind="text", top_k=3)
    empty = (T0 - 10 * DAY, T0 - 9 * DAY)
    binning = src.fit([feature], *empty)["doc"]
    assert binning == TokenBinning(())
    hist = src.histograms({"doc": binning}, *LIVE)["doc"]
    assert hist == histogram(binning, docs.texts("doc", *LIVE))
    zero = src.histograms({"doc": src.fit([feature], *REF)["doc"]}, *empty)["doc"]
    assert zero.counts.tolist() == [0, 0, 0, 0] and zero.missing == 0


HOSTILE_TABLE = 'd"; DROP TABLE victim; --'
HOSTILE_COLUMN = "doc`'\"); DROP TABLE victim; --"


def test_hostile_column_names_still_work(db_url: str, backend: str) -> None:
    engine = sa.create_engine(db_url)
    victim = sa.Table("victim", sa.MetaData(), sa.Column("id", sa.Integer))
    victim.create(engine)
    rows = [{**r, HOSTILE_COLUMN: r["doc"]} for r in make_docs(120)]
    load_docs(engine, docs_table(HOSTILE_TABLE, doc=HOSTILE_COLUMN), rows)
    src = SqlSource(engine, table=HOSTILE_TABLE, timestamp="ts")
    feature = FeatureConfig(name=HOSTILE_COLUMN, kind="text", top_k=6)
    texts = [r[HOSTILE_COLUMN] for r in rows if LIVE[0] <= r["ts"] < LIVE[1]]
    for pushdown in (True, False):
        binning = src.fit([feature], *REF, pushdown=pushdown)[HOSTILE_COLUMN]
        hist = src.histograms({HOSTILE_COLUMN: binning}, *LIVE, pushdown=pushdown)
        assert hist[HOSTILE_COLUMN] == histogram(binning, texts)
    assert sa.inspect(engine).has_table("victim")
    engine.dispose()


@pytest.mark.parametrize("options", OPTIONS)
def test_streaming_tokenizes_a_chunk_at_once_like_document_by_document(
    options: dict[str, Any],
) -> None:
    """Joining a chunk's documents by newlines gives exactly their tokens one by one."""
    pool = [*"aZ_9 \t\n\x1c.'-", "Σ", "ΑΣ", "σ", "İ", "\u0307", "ß", "ǅ", "½", "\u00ad", "ʼ"]
    rng = random.Random(5)
    texts = ["ΟΔΟΣ", "Σ", "ΑΣ'", "'Β", "İstanbul", "x\u0307y", "", "  ", "a_b", "\x1c"]
    texts += ["".join(rng.choices(pool, k=rng.randint(0, 12))) for _ in range(3000)]
    binning = TokenBinning((), ngram=1, **options)
    joined: Counter[str] = Counter()
    count_tokens(joined, texts, binning, tokenizer())
    one_by_one = Counter(tok for t in texts for tok in tokenize(t, **options))
    assert joined == one_by_one


@pytest.mark.parametrize("options", OPTIONS)
def test_every_ascii_character_is_split_like_python(docs: Docs, options: dict[str, Any]) -> None:
    """Random documents over all of ASCII (control characters, DEL, punctuation)."""
    rng = random.Random(9)
    alphabet = [chr(i) for i in range(1, 128)] + list("aAbB_1 ") * 6
    with docs.engine.begin() as conn:
        table = docs_table("docs")
        for row in docs.rows:
            if row["doc"] is not None:
                row["doc"] = "".join(rng.choices(alphabet, k=rng.randint(0, 30)))
                conn.execute(table.update().where(table.c.id == row["id"]).values(doc=row["doc"]))
    src = SqlSource(docs.engine, table=docs.table, timestamp="ts")
    feature = FeatureConfig(name="doc", kind="text", top_k=25, **options)
    check_both_paths(src, docs, feature, expect_pushdown=docs.backend in PUSHDOWN_BACKENDS)
