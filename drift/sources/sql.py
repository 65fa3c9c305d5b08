"""``SqlSource``: histograms of a table or query, binned inside the database."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement

from drift.config import FeatureConfig
from drift.config.kinds import Inferred
from drift.errors import SourceError
from drift.sources.dialects import dialect_of
from drift.sources.predicates import Target, is_number_column, missing, pair_target
from drift.sources.pushdown import count_bins, top_values
from drift.sources.quantiles import NumericFit, fit_binnings
from drift.sources.relation import (
    Relation,
    TimestampStyle,
    infer_kind,
    open_relation,
    timestamp_style,
    window_clause,
)
from drift.sources.segment_reads import (
    SegmentMember,
    rest_of,
    segmented_histograms,
    segmented_window_histograms,
)
from drift.sources.streaming import CHUNK_SIZE, fit_vocabulary, stream_histograms
from drift.sources.text_moments import document_moments
from drift.sources.text_pushdown import count_tokens_sql, fit_vocabulary_sql, supported
from drift.sources.token_tally import token_shape
from drift.sources.window_reads import window_histograms
from drift.stats.binning import Binning, CategoricalBinning, Kind, PairBinning, TokenBinning
from drift.stats.documents import DocumentMoments
from drift.stats.histogram import Histogram


class SqlSource:
    """A table or SELECT in a SQL database, read one time window at a time.

    Parameters
    ----------
    engine : sqlalchemy.Engine
        The source database (see :func:`drift.sources.open_source`).
    table, schema : str, optional
        The relation to read: a table (or view), optionally in a schema.
    query : str, optional
        A SELECT to read instead of a table; it is wrapped as a subquery.
    timestamp : str or None
        The column placing rows in time. ``None`` only for a relation that is
        always read whole (``start`` and ``end`` both ``None``).
    pushdown : bool, optional
        Count numeric and categorical bins in the database (default). With
        ``False`` rows are streamed and binned in Python.
    chunk_size : int, optional
        Rows per chunk when streaming.
    pairs : mapping of str to (str, str), optional
        The columns ``(x, y)`` of each pair feature (a
        :class:`~drift.stats.binning.PairBinning`), by its name; pairs are
        always counted in the database.
    segments : mapping of str to SegmentMember, optional
        Keys of the binnings that are a feature in one segment
        (:mod:`drift.sources.segment_reads`); each segment spec's members
        are counted by one grouped pass.

    Notes
    -----
    Windows are ``start <= timestamp < end``; ``None`` leaves that side open.
    Every identifier is a quoted SQLAlchemy column of the reflected table or
    of the query's subquery, and every value a bound parameter.
    """

    def __init__(
        self,
        engine: sa.Engine,
        *,
        table: str | None = None,
        schema: str | None = None,
        query: str | None = None,
        timestamp: str | None,
        pushdown: bool = True,
        chunk_size: int = CHUNK_SIZE,
        pairs: Mapping[str, tuple[str, str]] | None = None,
        segments: Mapping[str, SegmentMember] | None = None,
    ) -> None:
        if (table is None) == (query is None):
            raise ValueError("Give exactly one of `table` or `query`.")
        if chunk_size < 1:
            raise ValueError("`chunk_size` must be a positive number of rows.")
        self.engine = engine
        self.table, self.schema, self.query = table, schema, query
        self.timestamp = timestamp
        self.pushdown = pushdown
        self.chunk_size = chunk_size
        self.pairs = dict(pairs or {})
        self.segments = dict(segments or {})
        self.dialect = dialect_of(engine)
        self._relation: Relation | None = None
        self._style: TimestampStyle | None = None

    def relation(self, conn: sa.Connection) -> Relation:
        """The table or query, reflected once (with its timestamp's style)."""
        if self._relation is None:
            relation = open_relation(conn, table=self.table, schema=self.schema, query=self.query)
            if self.timestamp is not None:
                column = relation.column(self.timestamp)
                self._style = timestamp_style(column, relation.sample(self.timestamp), self.dialect)
            self._relation = relation
        return self._relation

    @property
    def timestamp_style(self) -> TimestampStyle | None:
        """How the timestamp column holds instants, once :meth:`relation` has run."""
        return self._style

    def window_filter(
        self, relation: Relation, start: datetime | None, end: datetime | None
    ) -> ColumnElement[bool]:
        """``start <= timestamp < end`` in the column's own terms; ``None`` leaves a side open."""
        if start is None and end is None:
            return sa.true()
        if self.timestamp is None or self._style is None:
            raise SourceError(
                f"{relation.description} has no timestamp column, so it can only be read whole "
                "(start=None, end=None)"
            )
        if start is not None and end is not None and start >= end:
            raise ValueError(f"`start` ({start}) must be before `end` ({end}).")
        column = relation.column(self.timestamp)
        return window_clause(column, self._style, self.dialect, start, end)

    def target(self, relation: Relation, name: str, kind: Kind) -> Target:
        """Column ``name`` ready to be binned as ``kind`` (a string cast for categories)."""
        column = relation.column(name)
        number = is_number_column(column, relation.sample(name))
        untyped = isinstance(column.type, sa.types.NullType)
        if kind == "numeric" and (
            isinstance(column.type, sa.String)
            or (untyped and isinstance(relation.sample(name), str))
        ):
            held = "text values" if untyped else f"text ({column.type})"
            raise SourceError(
                f"column {name!r} in {relation.description} holds {held}, but feature {name!r} "
                "is numeric: the column changed type since the baseline was fitted, or the "
                "feature needs kind: categorical or text"
            )
        is_missing = missing(column, self.dialect, number)
        value = self.dialect.as_string(column) if kind == "categorical" else column
        return Target(name, value, is_missing)

    def binned_target(self, relation: Relation, name: str, binning: Binning) -> Target:
        """:meth:`target` for ``binning``'s kind; a pair's target holds its two columns'."""
        if not isinstance(binning, PairBinning):
            return self.target(relation, name, binning.kind)
        if name not in self.pairs:
            raise SourceError(f"{name!r} is a pair, but the source was not told its columns")
        x, y = self.pairs[name]
        return pair_target(
            name, self.target(relation, x, binning.x.kind), self.target(relation, y, binning.y.kind)
        )

    def _text_pushable(self, relation: Relation, name: str, binning: TokenBinning) -> bool:
        return supported(self.dialect, relation.column(name), relation.sample(name), binning)

    def columns(self) -> dict[str, Inferred]:
        """Every column except the timestamp, with its inferred feature kind.

        A kind of ``None`` marks a column that is no feature (identifiers,
        dates, binary data), with the reason.
        """
        with self.engine.connect() as conn:
            relation = self.relation(conn)
            return {
                c.name: infer_kind(c, relation.samples.get(c.name, []))
                for c in relation.selectable.c
                if c.name != self.timestamp
            }

    def resolve_features(
        self,
        features: Sequence[FeatureConfig] | None,
        columns: Mapping[str, Inferred] | None = None,
    ) -> list[FeatureConfig]:
        """``features`` with every ``kind`` filled in; ``None`` means every column.

        ``columns`` is :meth:`columns` when the caller already has it (it
        samples the relation).

        Raises
        ------
        drift.errors.SourceError
            If a named column does not exist, or a kind cannot be inferred.
        """
        kinds = self.columns() if columns is None else columns
        if features is None:
            return [
                FeatureConfig(name=n, kind=k.kind) for n, k in kinds.items() if k.kind is not None
            ]
        out = []
        with self.engine.connect() as conn:
            relation = self.relation(conn)
            for feature in features:
                column = relation.column(feature.name)
                if feature.kind is not None:
                    out.append(feature)
                    continue
                inferred = kinds.get(feature.name)
                kind = inferred and (inferred.kind or inferred.identifier_kind)
                if kind is None:
                    raise SourceError(
                        f"cannot infer the kind of column {feature.name!r} ({column.type}) in "
                        f"{relation.description}; set kind: numeric, categorical or text"
                    )
                out.append(feature.model_copy(update={"kind": kind}))
        return out

    def row_count(self, start: datetime | None, end: datetime | None) -> int:
        """Number of rows in the window."""
        with self.engine.connect() as conn:
            relation = self.relation(conn)
            query = (
                sa.select(sa.func.count())
                .select_from(relation.selectable)
                .where(self.window_filter(relation, start, end))
            )
            return int(conn.execute(query).scalar_one())

    def fit(
        self,
        features: Sequence[FeatureConfig],
        start: datetime | None,
        end: datetime | None,
        *,
        pushdown: bool | None = None,
    ) -> dict[str, Binning]:
        """Fit each feature's binning on the reference window, in the database.

        Numeric: quantile cuts (see :mod:`drift.sources.quantiles`), uniform
        cuts or the fixed ``edges``, with the finite minimum and maximum.
        Categorical: the ``top_k`` most frequent values as strings
        (``GROUP BY ... ORDER BY count DESC LIMIT k``).
        Text: the ``top_k`` most frequent tokens, counted by one ``GROUP BY``
        where :mod:`drift.sources.text_pushdown` allows it (PostgreSQL and
        DuckDB, ``regex``/``whitespace`` tokenizers, ``ngram`` 1, an ASCII
        window), else streamed; both give the same vocabulary.

        ``pushdown`` overrides the source's setting for the text features.

        Returns
        -------
        dict of str to Binning
            Keyed by feature name, in the order of ``features``.
        """
        push = self.pushdown if pushdown is None else pushdown
        resolved = self.resolve_features(features)
        out: dict[str, Binning] = {}
        with self.engine.connect() as conn:
            relation = self.relation(conn)
            where = self.window_filter(relation, start, end)
            source = relation.selectable
            fits = []
            for f in resolved:
                if f.kind == "numeric":
                    column = self.target(relation, f.name, "numeric").value
                    edges = None if f.edges is None else tuple(f.edges)
                    fits.append(NumericFit(f.name, column, f.bins, f.strategy, edges))
            out.update(fit_binnings(conn, source, where, fits, self.dialect) if fits else {})
            for f in resolved:
                kind = f.kind or "numeric"
                if kind == "categorical":
                    target = self.target(relation, f.name, kind)
                    top = top_values(conn, source, where, target, (), f.resolved_top_k(kind))
                    out[f.name] = CategoricalBinning(tuple(top))
                elif kind == "text":
                    target = self.target(relation, f.name, kind)
                    shape = token_shape(f)
                    k = f.resolved_top_k(kind)
                    fitted = None
                    if push and self._text_pushable(relation, f.name, shape):
                        fitted = fit_vocabulary_sql(
                            conn, source, where, target, shape, k, self.dialect
                        )
                    out[f.name] = fitted or fit_vocabulary(
                        conn, source, where, target, shape, k, self.chunk_size
                    )
        return {f.name: out[f.name] for f in resolved}

    def histograms(
        self,
        binnings: Mapping[str, Binning],
        start: datetime | None,
        end: datetime | None,
        *,
        pushdown: bool | None = None,
    ) -> dict[str, Histogram]:
        """Histograms of the window ``[start, end)`` for every feature in ``binnings``.

        Numeric and categorical features are counted by one query (pushdown);
        text features by one ``GROUP BY`` query each where
        :mod:`drift.sources.text_pushdown` allows it; everything else, and all
        features when ``pushdown`` (which overrides the source's setting) is
        false, is streamed in chunks. Bounds are timezone-aware, ``None``
        leaves a side open; an empty window gives histograms of zeros. Text
        histograms count tokens and know their (present) ``documents``.
        """
        if any(k in self.segments for k in binnings):
            return segmented_histograms(
                self, binnings, start, end, self.segments, pushdown=pushdown
            )
        push = self.pushdown if pushdown is None else pushdown
        with self.engine.connect() as conn:
            relation = self.relation(conn)
            where = self.window_filter(relation, start, end)
            pushed: list[tuple[Target, Binning]] = []
            streamed: list[tuple[Target, Binning]] = []
            out: dict[str, Histogram] = {}
            for name, binning in binnings.items():
                target = self.binned_target(relation, name, binning)
                if not isinstance(binning, TokenBinning):
                    pair = isinstance(binning, PairBinning)
                    (pushed if push or pair else streamed).append((target, binning))
                    continue
                hist = None
                if push and self._text_pushable(relation, name, binning):
                    hist = count_tokens_sql(
                        conn, relation.selectable, where, target, binning, self.dialect
                    )
                if hist is None:
                    streamed.append((target, binning))
                else:
                    out[name] = hist
            if pushed:
                out.update(count_bins(conn, relation.selectable, where, pushed)[1])
            if streamed:
                out.update(
                    stream_histograms(conn, relation.selectable, where, streamed, self.chunk_size)
                )
        return {name: out[name] for name in binnings}

    def document_moments(
        self, binnings: Mapping[str, Binning], start: datetime | None, end: datetime | None
    ) -> dict[str, DocumentMoments]:
        """Per text feature, its documents' moments over the window (see :mod:`.text_moments`)."""
        with self.engine.connect() as conn:
            relation = self.relation(conn)
            targets = [
                (self.target(relation, n, "text"), b)
                for n, b in binnings.items() if isinstance(b, TokenBinning)
            ]  # fmt: skip
            where = self.window_filter(relation, start, end)
            return document_moments(
                conn, relation, where, targets, self.dialect,
                pushdown=self.pushdown, chunk_size=self.chunk_size,
            )  # fmt: skip

    def __repr__(self) -> str:
        what = f"query={self.query!r}" if self.query else f"table={self.table!r}"
        return f"SqlSource({self.engine.url.render_as_string()!r}, {what})"

    def window_histograms(
        self,
        binnings: Mapping[str, Binning],
        bounds: Sequence[datetime],
        *,
        pushdown: bool | None = None,
    ) -> Iterator[dict[str, Histogram]]:
        """Histograms of each window ``[bounds[i], bounds[i + 1])``, oldest first.

        The same histograms as :meth:`histograms` once per window, counted in
        one pass grouped by window (see :func:`drift.sources.window_reads.window_histograms`).
        """
        if not any(k in self.segments for k in binnings):
            yield from window_histograms(self, binnings, bounds, pushdown=pushdown)
            return
        rest = rest_of(binnings, self.segments)
        plain = window_histograms(self, rest, bounds, pushdown=pushdown) if rest else None
        yield from segmented_window_histograms(self, binnings, bounds, self.segments, plain)
