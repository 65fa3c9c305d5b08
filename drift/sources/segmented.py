"""Segments in SQL: the reference's largest segments, and each row's segment index.

A segment of columns ``(c_1, ..., c_m)`` is one tuple of their values, read
as the strings a categorical feature of those columns would see (``NULL``
stays ``None``). :func:`segment_sizes` ranks the reference's tuples by row
count (``GROUP BY c_1, ..., c_m ORDER BY count DESC``, ties by value);
:func:`segment_index` maps a row to the position of its tuple among the kept
ones, or to ``len(kept)`` (the ``<other>`` segment) for any other tuple. The
grouped counts of :mod:`drift.sources.windowed` then count every segment in
the same pass, keyed by ``window * (len(kept) + 1) + segment``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement

from drift.sources.predicates import Target

__all__ = ["SegmentSpec", "SegmentValues", "segment_index", "segment_sizes"]

#: One segment: a value per segment column, ``None`` for NULL.
SegmentValues = tuple[str | None, ...]


@dataclass(frozen=True, slots=True)
class SegmentSpec:
    """The segments one grouped read counts: the kept value tuples, then ``<other>``.

    Attributes
    ----------
    columns : tuple of str
        The segment columns.
    kept : tuple of SegmentValues
        The kept segments, in the order of their indexes ``0 .. len(kept) - 1``;
        index ``len(kept)`` is every other tuple.
    """

    columns: tuple[str, ...]
    kept: tuple[SegmentValues, ...]

    def __post_init__(self) -> None:
        if not self.columns:
            raise ValueError("a segment needs at least one column")
        if any(len(v) != len(self.columns) for v in self.kept):
            raise ValueError(f"every kept segment needs one value per column {self.columns}")
        if len(set(self.kept)) != len(self.kept):
            raise ValueError("a kept segment is listed twice")

    @property
    def slots(self) -> int:
        """Segments counted: the kept ones and ``<other>``."""
        return len(self.kept) + 1


def _matches(targets: Sequence[Target], values: SegmentValues) -> ColumnElement[bool]:
    return sa.and_(
        *(
            t.value.is_(None) if v is None else t.value == sa.literal(v, sa.String())
            for t, v in zip(targets, values, strict=True)
        )
    )


def segment_index(targets: Sequence[Target], spec: SegmentSpec) -> ColumnElement[int]:
    """``CASE WHEN <row is kept[0]> THEN 0 ... ELSE len(kept) END``: a row's segment.

    ``targets`` are the segment columns as categorical targets (string
    values), in the order of ``spec.columns``. Never NULL.
    """
    other = sa.literal_column(str(len(spec.kept)), sa.BigInteger())
    if not spec.kept:
        return other
    whens = [
        (_matches(targets, values), sa.literal_column(str(i), sa.BigInteger()))
        for i, values in enumerate(spec.kept)
    ]
    return sa.case(*whens, else_=other)


def segment_sizes(
    conn: sa.Connection,
    source: sa.FromClause,
    where: ColumnElement[bool],
    targets: Sequence[Target],
    limit: int | None = None,
) -> list[tuple[SegmentValues, int]]:
    """The rows of each segment in the window, largest first.

    At most ``limit`` segments (all when ``None``), chosen in the database
    (``GROUP BY ... ORDER BY count DESC, values LIMIT``), so a column of a
    million values moves ``limit`` rows. Ties are broken by the values in the
    database's order; ``NULL`` values are ``None``.
    """
    values: list[ColumnElement[Any]] = [t.value for t in targets]
    count = sa.func.count()
    query = (
        sa.select(*values, count)
        .select_from(source)
        .where(where)
        .group_by(*values)
        .order_by(count.desc(), *values)
    )
    if limit is not None:
        query = query.limit(limit)
    return [
        (tuple(None if v is None else str(v) for v in row[:-1]), int(row[-1]))
        for row in conn.execute(query)
    ]
