"""Text tokens counted by the database (PostgreSQL, DuckDB), equal to the streaming path.

The rule (what is pushed down, and why the numbers are exactly those of
:func:`drift.stats.tokenize` on the streamed documents):

- Dialects: PostgreSQL (server encoding UTF8) and DuckDB. SQLite, MariaDB and
  every other dialect stream.
- Tokenizers: ``regex`` and ``whitespace`` with ``ngram = 1``. ``char`` and
  n-grams stream.
- Columns: string-typed (or, in a query source, untyped with string values;
  those are cast to text first).
- Documents: pushed down only when **every non-missing document of the
  window is ASCII**; one cheap aggregate checks this (and counts the missing
  documents) before any tokenizing. If a single document holds a non-ASCII
  character the whole window is streamed instead.

Why ASCII: on ASCII text Python's ``\\w`` is exactly ``[A-Za-z0-9_]``,
``str.lower`` maps exactly ``A-Z`` to ``a-z``, and ``str.split()`` splits on
exactly ``\\t \\n \\x0b \\x0c \\r \\x1c-\\x1f`` and the space. The SQL computes
exactly those: DuckDB extracts runs of the explicit ASCII classes (RE2);
PostgreSQL splits on ``\\W+`` under ``COLLATE "C"``, whose classes are
ASCII-only (exactly ``[^A-Za-z0-9_]`` there), and for ``whitespace`` turns
the other ASCII spaces into blanks with ``replace`` and splits on blanks
(its ``\\s`` lacks ``\\x1c-\\x1f``); ``lower()`` runs under ``COLLATE "C"``.
So on ASCII documents both sides compute the same tokens. Beyond
ASCII they do not (``"Straße".lower()`` and Unicode ``\\w`` differ between
Python, ICU, glibc and RE2), so such windows are streamed, deliberately.

Counting is one ``GROUP BY token`` query: the tokens of every document are
produced by a set-returning function (``regexp_split_to_table`` in
PostgreSQL, ``unnest(regexp_extract_all(...))`` in DuckDB) and grouped; only
the vocabulary's counts, the out-of-vocabulary total and the 20 most frequent
out-of-vocabulary tokens come back. Ties are broken by the token in byte
order (``COLLATE "C"``; DuckDB compares bytes by default), which on ASCII is
Python's string order, as in :func:`drift.stats.fit_tokens`.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.sql.elements import ColumnElement

from drift.sources.dialects import Dialect
from drift.sources.predicates import Target
from drift.stats.binning import TokenBinning
from drift.stats.documents import DOCUMENT_GROUPS, DocumentMoments
from drift.stats.histogram import UNSEEN_KEEP, Histogram

#: Dialects whose SQL can split text into tokens.
DIALECTS = ("postgresql", "duckdb")
#: Tokenizers pushed down (with ``ngram = 1``).
TOKENIZERS = ("regex", "whitespace")

_WORD = "A-Za-z0-9_"
#: What ``str.split()`` treats as whitespace among ASCII characters.
_SPACE = "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f "


def _pattern(tokenizer: str) -> str:
    """The RE2 pattern of one token: a run of word characters, or of non-spaces."""
    return f"[{_WORD}]+" if tokenizer == "regex" else f"[^{_SPACE}]+"


def supported(
    dialect: Dialect, column: ColumnElement[Any], sample: Any, binning: TokenBinning
) -> bool:
    """Whether this feature's tokens may be counted in SQL (see the module rule)."""
    if dialect.name not in DIALECTS:
        return False
    if binning.tokenizer not in TOKENIZERS or binning.ngram != 1:
        return False
    if isinstance(column.type, sa.String):
        return True
    return isinstance(column.type, sa.types.NullType) and isinstance(sample, str)


def _document(dialect: Dialect, column: ColumnElement[Any]) -> ColumnElement[str]:
    doc: ColumnElement[str] = (
        column if isinstance(column.type, sa.String) else sa.cast(column, sa.Text())
    )
    if dialect.name == "postgresql":
        doc = doc.collate("C")
    return doc


def _non_ascii(dialect: Dialect, doc: ColumnElement[str]) -> ColumnElement[bool]:
    # Both strings are UTF-8: a document is ASCII iff it has one byte per character.
    nbytes = sa.func.strlen(doc) if dialect.name == "duckdb" else sa.func.octet_length(doc)
    return nbytes != sa.func.length(doc)


def _ascii_window(
    conn: sa.Connection,
    source: sa.FromClause,
    where: ColumnElement[bool],
    target: Target,
    dialect: Dialect,
) -> tuple[int, int, bool]:
    """Missing and present documents of the window, and whether every present one is ASCII."""
    if dialect.name == "postgresql":
        encoding = conn.execute(sa.text("SELECT current_setting('server_encoding')")).scalar_one()
        if str(encoding).upper() not in ("UTF8", "UTF-8"):
            return 0, 0, False
    doc = _document(dialect, target.value)
    present = sa.not_(target.is_missing)
    query = (
        sa.select(
            sa.func.sum(sa.case((target.is_missing, 1), else_=0)),
            sa.func.sum(sa.case((sa.and_(present, _non_ascii(dialect, doc)), 1), else_=0)),
            sa.func.count(),
        )
        .select_from(source)
        .where(where)
    )
    missing_count, non_ascii, rows = conn.execute(query).one()
    missing_count = int(missing_count or 0)
    return missing_count, int(rows or 0) - missing_count, not non_ascii


def _token(
    dialect: Dialect, binning: TokenBinning, document: ColumnElement[Any]
) -> ColumnElement[str]:
    """The set-returning expression of ``document``'s tokens (one row per token)."""
    doc = _document(dialect, document)
    if binning.lowercase:
        doc = sa.func.lower(doc)
    tokenizer = binning.tokenizer
    if dialect.name == "duckdb":
        pattern = sa.literal(_pattern(tokenizer), literal_execute=True)
        token: ColumnElement[str] = sa.func.unnest(sa.func.regexp_extract_all(doc, pattern))
    elif tokenizer == "regex":
        # Under COLLATE "C" PostgreSQL's \W is exactly [^A-Za-z0-9_] (its C-locale
        # classes are ASCII-only), and 2-3x faster than spelling the class out.
        token = sa.func.regexp_split_to_table(doc, sa.literal("\\W+", sa.Text()))
    else:
        # The other ASCII spaces of str.split() become blanks, then split on blanks
        # (nested replace() is 2x faster than translate() and 3x faster than a regex).
        blanks = doc
        for space in _SPACE[:-1]:
            blanks = sa.func.replace(blanks, space, " ")
        token = sa.func.unnest(sa.func.string_to_array(blanks, " "))
    return token


def _token_counts(
    source: sa.FromClause,
    where: ColumnElement[bool],
    target: Target,
    binning: TokenBinning,
    dialect: Dialect,
) -> sa.Subquery:
    """``(tok, n)``: every token of the window's documents with its count."""
    tokens = (
        sa.select(_token(dialect, binning, target.value).label("tok"))
        .select_from(source)
        .where(sa.and_(where, sa.not_(target.is_missing)))
        .subquery("tokens")
    )
    tok: ColumnElement[str] = tokens.c.tok
    n = sa.func.count()
    return sa.select(tok, n.label("n")).where(tok != "").group_by(tok).subquery("token_counts")


def _byte_order(dialect: Dialect, column: ColumnElement[str]) -> ColumnElement[str]:
    return column.collate("C") if dialect.name == "postgresql" else column


def fit_vocabulary_sql(
    conn: sa.Connection,
    source: sa.FromClause,
    where: ColumnElement[bool],
    target: Target,
    binning: TokenBinning,
    top_k: int,
    dialect: Dialect,
) -> TokenBinning | None:
    """The ``top_k`` most frequent tokens (count desc, then token), or None to stream."""
    _, _, ascii_only = _ascii_window(conn, source, where, target, dialect)
    if not ascii_only:
        return None
    counts = _token_counts(source, where, target, binning, dialect)
    query = (
        sa.select(counts.c.tok)
        .order_by(counts.c.n.desc(), _byte_order(dialect, counts.c.tok))
        .limit(top_k)
    )
    vocabulary = tuple(str(t) for t in conn.execute(query).scalars())
    return TokenBinning(vocabulary, binning.ngram, binning.tokenizer, binning.lowercase)


def _in_vocabulary(
    dialect: Dialect, tok: ColumnElement[str], vocabulary: list[str]
) -> ColumnElement[bool]:
    if not vocabulary:
        return sa.false()
    if dialect.name == "duckdb":
        return sa.func.list_contains(sa.bindparam("vocabulary", vocabulary), tok)
    array = sa.bindparam("vocabulary", vocabulary, type_=postgresql.ARRAY(sa.Text()))
    return tok == sa.any_(array)


def count_tokens_sql(
    conn: sa.Connection,
    source: sa.FromClause,
    where: ColumnElement[bool],
    target: Target,
    binning: TokenBinning,
    dialect: Dialect,
) -> Histogram | None:
    """The window's histogram over ``binning`` counted in SQL, or None to stream.

    One ``GROUP BY`` query returns the vocabulary's counts, the
    out-of-vocabulary total and the ``UNSEEN_KEEP`` most frequent
    out-of-vocabulary tokens; no document leaves the database. The
    histogram's ``documents`` are the window's present documents.
    """
    missing_count, documents, ascii_only = _ascii_window(conn, source, where, target, dialect)
    if not ascii_only:
        return None
    counts = _token_counts(source, where, target, binning, dialect)
    known = _in_vocabulary(dialect, counts.c.tok, list(binning.vocabulary)).label("known")
    ranked = sa.select(counts.c.tok, counts.c.n, known).subquery("ranked")
    oov_total = sa.func.sum(sa.case((ranked.c.known, 0), else_=ranked.c.n)).over()
    rank = sa.func.row_number().over(
        partition_by=ranked.c.known,
        order_by=(ranked.c.n.desc(), _byte_order(dialect, ranked.c.tok)),
    )
    numbered = sa.select(
        ranked.c.tok, ranked.c.n, ranked.c.known, oov_total.label("oov"), rank.label("rk")
    ).subquery("numbered")
    query = sa.select(numbered.c.tok, numbered.c.n, numbered.c.known, numbered.c.oov).where(
        sa.or_(numbered.c.known, numbered.c.rk <= UNSEEN_KEEP)
    )
    index = {token: i for i, token in enumerate(binning.vocabulary)}
    bins = np.zeros(len(binning.labels), dtype=np.int64)
    unseen: dict[str, int] = {}
    for tok, n, is_known, oov in conn.execute(query):
        bins[-1] = int(oov or 0)
        if is_known:
            bins[index[str(tok)]] = int(n)
        else:
            unseen[str(tok)] = int(n)
    return Histogram(binning.labels, bins, missing_count, unseen, documents=documents)


def document_moments_sql(
    conn: sa.Connection,
    source: sa.FromClause,
    where: ColumnElement[bool],
    target: Target,
    binning: TokenBinning,
    dialect: Dialect,
    groups: int = DOCUMENT_GROUPS,
) -> DocumentMoments | None:
    """The window's :class:`~drift.stats.documents.DocumentMoments` in SQL, or None to stream.

    The relation needs no key: its present documents are numbered by
    ``row_number() OVER ()`` (the document groups are that number modulo
    ``groups``), tokenized as by :func:`count_tokens_sql`, and counted per
    ``(document, token)``, every out-of-vocabulary token of a document in
    one bin (``groups`` must be at least 1); each pair is joined with its
    document's length ``t``. One ``GROUP BY group, bin`` then returns ``SUM(c)``, ``SUM(c * c)`` and
    ``SUM(c * t)``, at most ``groups x k`` rows: the per-bin moments are
    their sums over groups, and ``sum_d t_d^2`` is the sum of every
    ``c * t``. No document leaves the database.
    """
    _, documents, ascii_only = _ascii_window(conn, source, where, target, dialect)
    if not ascii_only:
        return None
    numbered = (
        sa.select(sa.func.row_number().over().label("d"), target.value.label("doc"))
        .select_from(source)
        .where(sa.and_(where, sa.not_(target.is_missing)))
        .subquery("documents")
    )
    tokens = sa.select(
        numbered.c.d, _token(dialect, binning, numbered.c.doc).label("tok")
    ).subquery("doc_tokens")
    known = _in_vocabulary(dialect, tokens.c.tok, list(binning.vocabulary))
    key = sa.case((known, tokens.c.tok), else_=sa.null()).label("key")
    pairs = (
        sa.select(tokens.c.d, key, sa.func.count().label("c"))
        .where(tokens.c.tok != "")
        .group_by(tokens.c.d, key)
        .subquery("pairs")
    )
    lengths = (
        sa.select(pairs.c.d, sa.func.sum(pairs.c.c).label("t"))
        .group_by(pairs.c.d)
        .subquery("lengths")
    )
    group = ((pairs.c.d - 1) % groups).label("g")
    c, t = pairs.c.c, lengths.c.t
    query = (
        sa.select(group, pairs.c.key, sa.func.sum(c), sa.func.sum(c * c), sa.func.sum(c * t))
        .select_from(pairs.join(lengths, pairs.c.d == lengths.c.d))
        .group_by(group, pairs.c.key)
    )
    k = len(binning.labels)
    index = {token: i for i, token in enumerate(binning.vocabulary)}
    table = np.zeros((3, groups, k))
    for g, tok, *sums in conn.execute(query):
        column = k - 1 if tok is None else index[str(tok)]
        table[:, int(g), column] += [float(v) for v in sums]
    counts, squares, cross = table.sum(axis=1)
    return DocumentMoments(documents, counts, squares, cross, float(cross.sum()), table[0])
