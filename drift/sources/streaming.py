"""The chunked fallback: stream a window's values and bin them in Python.

Text features take this path unless :mod:`drift.sources.text_pushdown`
counts their tokens in the database (PostgreSQL and DuckDB, ASCII windows);
numeric and categorical ones take it with ``pushdown=False``. Rows arrive through a
server-side cursor in chunks of ``chunk_size``, so memory stays bounded by a
chunk plus the counters. The missing flags and the categorical strings are
computed by the same SQL expressions as the pushed-down counts, so both
paths give identical histograms. Text is counted by a tally per feature
(:mod:`drift.sources.token_tally`): word tokenizers, a Hugging Face
tokenizer.json, or stored token ids.
"""

from __future__ import annotations

import importlib
import re
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np
import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement

from drift.errors import SourceError
from drift.sources.predicates import Target
from drift.sources.raw_fetch import raw_text_rows
from drift.sources.token_tally import HF_PREFIX, IDS, IdTally, SubwordTally, Tally, as_text
from drift.stats.binning import Binning, NumericBinning, TokenBinning
from drift.stats.fast_tokens import FAST_TOKENIZERS, TokenCounter
from drift.stats.histogram import Histogram

#: Rows fetched per chunk.
CHUNK_SIZE = 10_000
#: Count ``regex``/``whitespace`` unigrams with :class:`drift.stats.fast_tokens.TokenCounter`
#: (same counts, vectorised for ASCII). False counts with :func:`count_tokens` only,
#: which the benchmark uses to time the old path against the new one.
VECTORISED_TOKENS = True
#: Read text-only streams on PostgreSQL from psycopg's cursor
#: (:mod:`drift.sources.raw_fetch`); False reads them through SQLAlchemy's rows,
#: which the benchmark uses for comparison.
RAW_TEXT_FETCH = True

Tokenizer = Callable[..., list[str]]
_WORD = re.compile(r"\w+", re.UNICODE)


def _basic_tokenize(text: str, *, tokenizer: str, lowercase: bool, ngram: int) -> list[str]:
    if lowercase:
        text = text.lower()
    if tokenizer == "whitespace":
        words = text.split()
    elif tokenizer == "char":
        words = list(text)
    else:
        words = _WORD.findall(text)
    if ngram == 1:
        return words
    return [" ".join(words[i : i + ngram]) for i in range(len(words) - ngram + 1)]


def tokenizer() -> Tokenizer:
    """``drift.stats.tokenize`` when the stats package provides it, else a regex one."""
    found = getattr(importlib.import_module("drift.stats"), "tokenize", None)
    return found if callable(found) else _basic_tokenize


def stream_rows(
    conn: sa.Connection,
    columns: Sequence[ColumnElement[Any]],
    source: sa.FromClause,
    where: ColumnElement[bool],
    chunk_size: int = CHUNK_SIZE,
    *,
    text_only: bool = False,
) -> Iterator[Sequence[Sequence[Any]]]:
    """Yield the window's rows of ``columns`` in chunks of at most ``chunk_size``.

    With ``text_only`` (every column is text or an integer flag), PostgreSQL
    rows come straight from psycopg's cursor (:mod:`drift.sources.raw_fetch`),
    without SQLAlchemy's per-row objects.
    """
    query = sa.select(*columns).select_from(source).where(where)
    raw = raw_text_rows(conn, query, chunk_size) if text_only and RAW_TEXT_FETCH else None
    if raw is not None:
        yield from raw
        return
    try:
        result = conn.execution_options(stream_results=True, yield_per=chunk_size).execute(query)
        with result:
            yield from result.partitions(chunk_size)
    except sa.exc.OperationalError as exc:
        # sqlite3 cannot hand over TEXT that is not UTF-8 (SQLite stores any bytes).
        message = str(exc.orig)
        if "Could not decode to UTF-8" not in message:
            raise
        raise SourceError(
            f"{message}: that column holds text that is not valid UTF-8; fix the rows, or "
            "read the column through a query that converts it (e.g. CAST(col AS BLOB))"
        ) from None


def count_tokens(
    counts: Counter[str], texts: Sequence[str], binning: TokenBinning, tokenize: Tokenizer
) -> None:
    """Add the tokens of every document in ``texts`` to ``counts``.

    For ``regex`` and ``whitespace`` with ``ngram = 1`` the documents are
    joined by newlines and tokenized in one call: a newline is neither a word
    character nor part of a token, so no token spans two documents, and
    ``str.lower`` treats it like the end of a string (its only contextual
    rule, the final sigma, stops at a character that is neither cased nor
    case-ignorable). The tokens are therefore exactly those of the documents
    one by one, at a fraction of the per-call cost.
    """
    options: dict[str, Any] = {
        "tokenizer": binning.tokenizer,
        "lowercase": binning.lowercase,
        "ngram": binning.ngram,
    }
    if binning.ngram == 1 and binning.tokenizer in ("regex", "whitespace"):
        counts.update(tokenize("\n".join(texts), **options))
        return
    for text in texts:
        counts.update(tokenize(text, **options))


class WordTally:
    """Token counts from :func:`drift.stats.tokenize` (``regex``, ``whitespace``, ``char``).

    With ``vectorised`` (the default), ``regex`` and ``whitespace`` unigrams
    are counted by :class:`drift.stats.fast_tokens.TokenCounter`, which
    gives the same counts as :func:`count_tokens` with ``tokenize``'s
    semantics (those of :func:`drift.stats.tokenize`) several times faster.
    """

    def __init__(
        self, binning: TokenBinning, tokenize: Tokenizer, feature: str, *, vectorised: bool = True
    ) -> None:
        self.binning, self.tokenize, self.feature = binning, tokenize, feature
        self.tokens: Counter[str] = Counter()
        fast = vectorised and binning.ngram == 1 and binning.tokenizer in FAST_TOKENIZERS
        self.fast = TokenCounter(binning.tokenizer, lowercase=binning.lowercase) if fast else None

    def add(self, values: Sequence[Any]) -> None:
        texts = [v if type(v) is str else as_text(v, self.feature) for v in values]
        if self.fast is not None:
            self.fast.add(texts)
        else:
            count_tokens(self.tokens, texts, self.binning, self.tokenize)

    def counts(self) -> Counter[str]:
        return self.fast.counts() if self.fast is not None else self.tokens


def tally(binning: TokenBinning, feature: str) -> Tally:
    """The token counter for ``binning``'s tokenizer (see :mod:`drift.sources.token_tally`)."""
    if binning.tokenizer == IDS:
        return IdTally(feature)
    if binning.tokenizer.startswith(HF_PREFIX):
        return SubwordTally(binning.tokenizer.removeprefix(HF_PREFIX), feature)
    return WordTally(binning, tokenizer(), feature, vectorised=VECTORISED_TOKENS)


class _Counter:
    """Accumulates one feature's histogram chunk by chunk."""

    def __init__(self, binning: Binning, name: str) -> None:
        self.binning = binning
        self.counts = np.zeros(len(binning.labels), dtype=np.int64)
        self.missing = 0
        self.unseen: Counter[str] = Counter()
        self.tally = tally(binning, name) if isinstance(binning, TokenBinning) else None
        self.index = {label: i for i, label in enumerate(binning.labels[:-1])}
        self.documents = 0  # text: the present documents (the feature's rows)
        self.outside = np.zeros(2, dtype=np.int64)  # numeric: below, above the reference range

    def add(self, values: list[Any], missing: list[Any]) -> None:
        binning = self.binning
        if isinstance(binning, NumericBinning):
            present = [float(v) for v, m in zip(values, missing, strict=True) if not m]
            self.missing += len(values) - len(present)
            arr = np.asarray(present, dtype=np.float64)
            bins = np.searchsorted(np.asarray(binning.cuts, dtype=np.float64), arr, "right")
            self.counts += np.bincount(bins, minlength=self.counts.size)
            if (bounds := binning.value_range) is not None:
                self.outside += (np.sum(arr < bounds[0]), np.sum(arr > bounds[1]))
            return
        if self.tally is not None:
            # Token counts are kept per token and put in bins once, in histogram().
            present = [v for v, m in zip(values, missing, strict=True) if not m]
            self.missing += len(values) - len(present)
            self.documents += len(present)
            self.tally.add(present)
            return
        other = self.counts.size - 1
        for value, is_missing in zip(values, missing, strict=True):
            if is_missing:
                self.missing += 1
                continue
            item = str(value)
            i = self.index.get(item, other)
            self.counts[i] += 1
            if i == other:
                self.unseen[item] += 1

    def histogram(self) -> Histogram:
        other = self.counts.size - 1
        if self.tally is not None:
            for token, n in self.tally.counts().items():
                i = self.index.get(token, other)
                self.counts[i] += n
                if i == other:
                    self.unseen[token] += n
            self.tally = None
        bounds = self.binning.value_range if isinstance(self.binning, NumericBinning) else None
        below, above = (int(c) for c in self.outside)
        return Histogram(
            self.binning.labels,
            self.counts,
            self.missing,
            self.unseen,
            below=below,
            above=above,
            value_range=bounds,
            documents=self.documents if isinstance(self.binning, TokenBinning) else None,
        )


def stream_histograms(
    conn: sa.Connection,
    source: sa.FromClause,
    where: ColumnElement[bool],
    targets: Sequence[tuple[Target, Binning]],
    chunk_size: int = CHUNK_SIZE,
) -> dict[str, Histogram]:
    """Histograms of every target over the window, binned in Python chunk by chunk."""
    counters = [_Counter(binning, target.name) for target, binning in targets]
    columns: list[ColumnElement[Any]] = []
    for target, _ in targets:
        columns += [target.value, sa.case((target.is_missing, 1), else_=0)]
    text_only = all(isinstance(binning, TokenBinning) for _, binning in targets)
    for chunk in stream_rows(conn, columns, source, where, chunk_size, text_only=text_only):
        for j, counter in enumerate(counters):
            counter.add([row[2 * j] for row in chunk], [row[2 * j + 1] for row in chunk])
    return {target.name: c.histogram() for (target, _), c in zip(targets, counters, strict=True)}


def fit_vocabulary(
    conn: sa.Connection,
    source: sa.FromClause,
    where: ColumnElement[bool],
    target: Target,
    binning: TokenBinning,
    top_k: int,
    chunk_size: int = CHUNK_SIZE,
) -> TokenBinning:
    """``binning`` with the reference's ``top_k`` most frequent tokens as vocabulary.

    Ties are broken by the token (its label) in Python string order.
    """
    counter = tally(binning, target.name)
    columns = [target.value, sa.case((target.is_missing, 1), else_=0)]
    for chunk in stream_rows(conn, columns, source, where, chunk_size, text_only=True):
        counter.add([row[0] for row in chunk if not row[1]])
    top = sorted(counter.counts().items(), key=lambda kv: (-kv[1], kv[0]))[:top_k]
    return TokenBinning(
        tuple(token for token, _ in top),
        ngram=binning.ngram,
        tokenizer=binning.tokenizer,
        lowercase=binning.lowercase,
    )
