"""Per-document moments of text features: the design effect of a reference read once.

A text feature's tokens are clustered in documents (they share a topic), so
a reference read in one block (a separate table, a fixed range) needs the
per-document sufficient statistics
:class:`~drift.stats.documents.DocumentMoments` for
:func:`~drift.stats.documents.document_dispersion`. They are computed where
the histogram is: by one ``GROUP BY`` in PostgreSQL and DuckDB when
:mod:`drift.sources.text_pushdown` allows it
(:func:`~drift.sources.text_pushdown.document_moments_sql`), else by
streaming the documents and tokenizing each on its own, with the tokenizer
of its tally (:func:`drift.sources.token_tally.document_tokens`). Both
number the present documents in the order they are read, so the document
groups agree too where the database reads rows in the same order.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement

from drift.sources.dialects import Dialect
from drift.sources.predicates import Target
from drift.sources.relation import Relation
from drift.sources.streaming import CHUNK_SIZE, stream_rows
from drift.sources.text_pushdown import document_moments_sql, supported
from drift.sources.token_tally import document_tokens
from drift.stats.binning import TokenBinning
from drift.stats.document_counts import DocumentCounter
from drift.stats.documents import DocumentMoments

__all__ = ["document_moments", "stream_document_moments"]


def document_moments(
    conn: sa.Connection,
    relation: Relation,
    where: ColumnElement[bool],
    targets: Sequence[tuple[Target, TokenBinning]],
    dialect: Dialect,
    *,
    pushdown: bool = True,
    chunk_size: int = CHUNK_SIZE,
) -> dict[str, DocumentMoments]:
    """Per text target, its document moments over the window: in SQL if allowed, else streamed."""
    out: dict[str, DocumentMoments] = {}
    streamed = []
    for target, binning in targets:
        found = None
        name = target.name
        if pushdown and supported(dialect, relation.column(name), relation.sample(name), binning):
            found = document_moments_sql(conn, relation.selectable, where, target, binning, dialect)
        if found is None:
            streamed.append((target, binning))
        else:
            out[name] = found
    out.update(stream_document_moments(conn, relation.selectable, where, streamed, chunk_size))
    return {target.name: out[target.name] for target, _ in targets}


def stream_document_moments(
    conn: sa.Connection,
    source: sa.FromClause,
    where: ColumnElement[bool],
    targets: Sequence[tuple[Target, TokenBinning]],
    chunk_size: int = CHUNK_SIZE,
) -> dict[str, DocumentMoments]:
    """The document moments of every text target over the window, streamed in chunks."""
    if not targets:
        return {}
    counters = [DocumentCounter(binning.labels) for _, binning in targets]
    splitters = [document_tokens(binning, target.name) for target, binning in targets]
    columns: list[ColumnElement[Any]] = []
    for target, _ in targets:
        columns += [target.value, sa.case((target.is_missing, 1), else_=0)]
    for chunk in stream_rows(conn, columns, source, where, chunk_size, text_only=True):
        for j, (counter, split) in enumerate(zip(counters, splitters, strict=True)):
            present = [row[2 * j] for row in chunk if not row[2 * j + 1]]
            counter.add(split(present), missing=len(chunk) - len(present))
    return {t.name: c.moments for (t, _), c in zip(targets, counters, strict=True)}
