"""Reading many windows (and segments) of a :class:`~drift.sources.sql.SqlSource` in one pass.

Numeric, categorical and pair features of consecutive windows are counted by
one grouped query per chunk of windows (see :mod:`drift.sources.windowed`).
With a :class:`~drift.sources.segmented.SegmentSpec` the grouping key is
``window * slots + segment`` (``slots`` = kept segments + ``<other>``), so
every segment of every window is counted by the same pass; the whole
population of a window is the sum of its segments, and its unseen values
come from one more ranked query keyed by window alone, so they equal an
unsegmented read's. Text features are read whole, window by window.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any, Protocol

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement

from drift.sources.dialects import Dialect
from drift.sources.predicates import Target
from drift.sources.relation import Relation, TimestampStyle
from drift.sources.segmented import SegmentSpec, segment_index
from drift.sources.streaming import stream_histograms
from drift.sources.windowed import (
    arithmetic_index,
    count_bins_by_window,
    date_bin_supported,
    unseen_by_window,
    window_index,
    windows_per_query,
)
from drift.stats.binning import Binning, CategoricalBinning, PairBinning, TokenBinning
from drift.stats.histogram import Histogram


class SqlSource(Protocol):
    """What these reads need of :class:`drift.sources.sql.SqlSource`."""

    engine: sa.Engine
    pushdown: bool
    chunk_size: int
    timestamp: str | None
    dialect: Dialect

    @property
    def timestamp_style(self) -> TimestampStyle | None: ...

    def relation(self, conn: sa.Connection) -> Relation: ...

    def window_filter(
        self, relation: Relation, start: datetime | None, end: datetime | None
    ) -> ColumnElement[bool]: ...

    def binned_target(self, relation: Relation, name: str, binning: Binning) -> Target: ...

    def target(self, relation: Relation, name: str, kind: Any) -> Target: ...

    def histograms(
        self,
        binnings: Mapping[str, Binning],
        start: datetime | None,
        end: datetime | None,
        *,
        pushdown: bool | None = None,
    ) -> dict[str, Histogram]: ...


__all__ = ["Segmented", "window_histograms", "window_segments"]

#: One window's histograms by segment index (``slots - 1`` is ``<other>``), then feature.
Segmented = list[dict[str, Histogram]]


def _checked(bounds: Sequence[datetime]) -> None:
    if len(bounds) < 2 or any(a >= b for a, b in itertools.pairwise(bounds)):
        raise ValueError("`bounds` must be at least two increasing instants.")


def _size(source: SqlSource, binnings: Mapping[str, Binning], bounds: Sequence[datetime],
          slots: int) -> int:  # fmt: skip
    with source.engine.connect() as conn:
        source.relation(conn)
    columns = 1 + sum(len(b.labels) + 3 for b in binnings.values())
    case_tree = not arithmetic_index(source.timestamp_style or "naive", source.dialect, bounds)
    return max(1, windows_per_query(columns * slots, case_tree))


def _index(
    source: SqlSource, conn: sa.Connection, part: Sequence[datetime], *, date_bin: bool
) -> ColumnElement[Any]:
    relation = source.relation(conn)
    assert source.timestamp is not None and source.timestamp_style is not None
    column = relation.column(source.timestamp)
    return window_index(column, source.timestamp_style, source.dialect, part, date_bin=date_bin)


def window_histograms(
    source: SqlSource,
    binnings: Mapping[str, Binning],
    bounds: Sequence[datetime],
    *,
    pushdown: bool | None = None,
) -> Iterator[dict[str, Histogram]]:
    """Histograms of each window ``[bounds[i], bounds[i + 1])``, oldest first.

    The same histograms as calling :meth:`SqlSource.histograms` once per
    window, but numeric and categorical features of many windows are counted
    by one pass over the data, grouped by window index (see
    :mod:`drift.sources.windowed`); at most
    :func:`~drift.sources.windowed.windows_per_query` windows per query, so
    memory stays bounded for any range. Text features, and every feature
    when ``pushdown`` is false, are read window by window.

    Yields one dict of histograms per window, keyed like ``binnings``.
    """
    push = source.pushdown if pushdown is None else pushdown
    _checked(bounds)
    grouped = {n: b for n, b in binnings.items() if push and not isinstance(b, TokenBinning)}
    alone = {n: b for n, b in binnings.items() if n not in grouped}
    size = _size(source, grouped, bounds, 1) if grouped else len(bounds) - 1
    for first in range(0, len(bounds) - 1, size):
        part = bounds[first : first + size + 1]
        chunk: list[dict[str, Histogram]] = [{} for _ in range(len(part) - 1)]
        if grouped:
            with source.engine.connect() as conn:
                relation = source.relation(conn)
                where = source.window_filter(relation, part[0], part[-1])
                index = _index(source, conn, part, date_bin=date_bin_supported(conn))
                targets = [(source.binned_target(relation, n, b), b) for n, b in grouped.items()]
                chunk = count_bins_by_window(
                    conn, relation.selectable, where, index, len(part) - 1, targets, source.dialect
                )
        for i, (lo, hi) in enumerate(itertools.pairwise(part)):
            if alone:
                chunk[i].update(source.histograms(alone, lo, hi, pushdown=push))
            yield {name: chunk[i][name] for name in binnings}


def _whole(
    parts: Segmented, binnings: Mapping[str, Binning], unseen: Mapping[str, dict[str, int]]
) -> dict[str, Histogram]:
    out: dict[str, Histogram] = {}
    for name in binnings:
        total = parts[0][name]
        for part in parts[1:]:
            total = total.merge(part[name])
        out[name] = replace(total, unseen=unseen[name]) if name in unseen else total
    return out


def window_segments(
    source: SqlSource,
    binnings: Mapping[str, Binning],
    bounds: Sequence[datetime | None],
    spec: SegmentSpec,
) -> Iterator[tuple[dict[str, Histogram], Segmented]]:
    """Per window, the whole population's histograms and each segment's, in one pass.

    ``binnings`` holds numeric, categorical (and pair) features only. Two
    bounds may be ``None`` on either side for one window read open-ended
    (a reference table). Yields ``(whole, segments)`` per window, where
    ``segments[i]`` are segment ``i``'s histograms (``spec.kept[i]``, then
    ``<other>``) and ``whole`` their sum, with the unseen values of the whole
    window ranked as :meth:`SqlSource.histograms` ranks them.
    """
    if any(isinstance(b, TokenBinning) for b in binnings.values()):
        raise ValueError("text features are not counted per segment")
    slots, size = spec.slots, 1
    if len(bounds) > 2:
        if any(b is None for b in bounds):
            raise ValueError("`bounds` of several windows must all be instants.")
        _checked(bounds)  # type: ignore[arg-type]
        size = _size(source, binnings, bounds, slots)  # type: ignore[arg-type]
    for first in range(0, len(bounds) - 1, size):
        part = bounds[first : first + size + 1]
        n = len(part) - 1
        with source.engine.connect() as conn:
            relation = source.relation(conn)
            where = source.window_filter(relation, part[0], part[-1])
            columns = [source.target(relation, c, "categorical") for c in spec.columns]
            segment = segment_index(columns, spec)
            window: ColumnElement[Any] = sa.literal_column("0", sa.BigInteger())
            key: ColumnElement[Any] = segment
            if n > 1:
                assert all(b is not None for b in part)
                window = _index(source, conn, part, date_bin=False)  # type: ignore[arg-type]
                key = window * slots + segment
            targets = [(source.binned_target(relation, k, b), b) for k, b in binnings.items()]
            pushed = [t for t in targets if source.pushdown or isinstance(t[1], PairBinning)]
            streamed = [t for t in targets if t not in pushed]
            cells: Segmented = [{} for _ in range(n * slots)]
            if pushed:
                cells = count_bins_by_window(
                    conn, relation.selectable, where, key, n * slots, pushed, source.dialect,
                    timed=n > 1,
                )  # fmt: skip
            if streamed:
                alone = _streamed(conn, relation.selectable, where, key, n * slots, streamed,
                                  source.chunk_size)  # fmt: skip
                for cell, more in zip(cells, alone, strict=True):
                    cell.update(more)
            unseen = _window_unseen(conn, relation.selectable, where, window, n, targets, cells)
        for w in range(n):
            parts = cells[w * slots : (w + 1) * slots]
            yield _whole(parts, binnings, unseen[w]), parts


def _streamed(
    conn: sa.Connection,
    source: sa.FromClause,
    where: ColumnElement[bool],
    key: ColumnElement[Any],
    cells: int,
    targets: Sequence[tuple[Target, Binning]],
    chunk_size: int,
) -> list[dict[str, Histogram]]:
    """The grouped counts without pushdown: one stream per cell (``pushdown: false``)."""
    return [
        stream_histograms(conn, source, sa.and_(where, key == c), targets, chunk_size)
        for c in range(cells)
    ]


def _window_unseen(
    conn: sa.Connection,
    source: sa.FromClause,
    where: ColumnElement[bool],
    window: ColumnElement[Any],
    n: int,
    targets: Sequence[tuple[Target, Binning]],
    cells: Segmented,
) -> list[dict[str, dict[str, int]]]:
    """Per window (``window`` its index), the unseen values of each categorical feature."""
    out: list[dict[str, dict[str, int]]] = [{} for _ in range(n)]
    for target, binning in targets:
        if not isinstance(binning, CategoricalBinning):
            continue
        if not any(cell[target.name].counts[-1] for cell in cells):
            continue
        ranked = unseen_by_window(conn, source, window, where, n, target, binning.categories)
        for w in range(n):
            out[w][target.name] = ranked[w]
    return out
