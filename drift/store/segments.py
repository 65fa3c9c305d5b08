"""Reads of one run by segment: which segments it scored, and its segment x feature table.

A segment is named by a string (:mod:`drift.stats.segments`): ``""`` is the
whole population, ``"country=BR"`` one segment, ``"country=<other>"`` the
reference's smaller segments lumped together. Both reads are one query on
the score table's (run, feature, segment, metric) key.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

import sqlalchemy as sa

from drift.stats.segments import OTHER_SEGMENT
from drift.store import tables as t
from drift.store.base import StoreBase
from drift.store.grids import SEVERITY_BY_RANK, headline, severity_rank

__all__ = ["SegmentTable", "Segments", "segment_order"]


@dataclass(frozen=True, slots=True)
class SegmentTable:
    """One run's scores of one metric, segments by features.

    Attributes
    ----------
    run_id : int
        The run.
    metric : str
        The metric of ``values`` (``kl``: its bias-corrected value where stored).
    segments : tuple of str
        The rows: ``""`` (the whole population) first, then the segments by
        reference size, largest first, the lumped ``<other>`` last.
    features : tuple of str
        The columns, by name.
    values : tuple of tuple of float or None
        ``values[i][j]``: feature ``features[j]`` in segment ``segments[i]``
        (``None``: not stored or not finite).
    severities : tuple of tuple of str or None
        The severity of the same cells.
    n_current, n_reference : tuple of tuple of int or None
        Live and reference rows of the same cells.
    """

    run_id: int
    metric: str
    segments: tuple[str, ...]
    features: tuple[str, ...]
    values: tuple[tuple[float | None, ...], ...]
    severities: tuple[tuple[str | None, ...], ...]
    n_current: tuple[tuple[int | None, ...], ...]
    n_reference: tuple[tuple[int | None, ...], ...]


def segment_order(sizes: Iterable[tuple[str, int]]) -> list[str]:
    """Segments in the order pages list them: whole population, largest, ``<other>`` last.

    Parameters
    ----------
    sizes : iterable of (str, int)
        Each segment with its reference rows (the largest seen, when repeated).

    Examples
    --------
    >>> segment_order([("country=<other>", 900), ("country=US", 500), ("", 2000),
    ...                ("country=BR", 100)])
    ['', 'country=US', 'country=BR', 'country=<other>']
    """
    largest: dict[str, int] = {}
    for name, n in sizes:
        largest[name] = max(n, largest.get(name, n))

    def key(name: str) -> tuple[int, int, str]:
        rank = 0 if name == "" else 2 if f"={OTHER_SEGMENT}" in name else 1
        return rank, -largest[name], name

    return sorted(largest, key=key)


class Segments(StoreBase):
    """Segment reads of :class:`drift.store.ResultsStore`."""

    def run_segments(self, run_id: int) -> list[str]:
        """The segments run ``run_id`` stored scores of, in :func:`segment_order`.

        ``[""]`` for a monitor without segments; empty for a run without scores.
        """
        s = t.score
        query = (
            sa.select(s.c.segment, sa.func.max(s.c.n_reference))
            .where(s.c.run_id == run_id)
            .group_by(s.c.segment)
        )
        rows = self._read(lambda c: c.execute(query).all())
        return segment_order((str(name), int(n or 0)) for name, n in rows)

    def segment_table(self, run_id: int, metric: str = "kl") -> SegmentTable:
        """Run ``run_id``'s ``metric`` and severity of every feature in every segment.

        Parameters
        ----------
        run_id : int
            The run (a monitor page passes its latest).
        metric : str, default "kl"
            The metric shown; for ``kl`` the bias-corrected value where stored.

        Returns
        -------
        SegmentTable
            Rows segments, columns features; empty when the run stored no
            ``metric``.
        """
        s = t.score
        query = sa.select(
            s.c.segment, s.c.feature, headline(s), severity_rank(s.c.severity),
            s.c.n_current, s.c.n_reference,
        ).where(s.c.run_id == run_id, s.c.metric == metric)  # fmt: skip
        rows = self._read(lambda c: c.execute(query).all())
        segments = segment_order((str(r[0]), int(r[5] or 0)) for r in rows)
        features = sorted({str(r[1]) for r in rows})
        row_of = {name: i for i, name in enumerate(segments)}
        column_of = {name: j for j, name in enumerate(features)}
        values: list[list[float | None]] = [[None] * len(features) for _ in segments]
        severities: list[list[str | None]] = [[None] * len(features) for _ in segments]
        current: list[list[int | None]] = [[None] * len(features) for _ in segments]
        reference: list[list[int | None]] = [[None] * len(features) for _ in segments]
        for segment, feature, value, rank, n_current, n_reference in rows:
            i, j = row_of[segment], column_of[feature]
            if value is not None and math.isfinite(float(value)):
                values[i][j] = float(value)
            severities[i][j] = None if rank is None else SEVERITY_BY_RANK.get(int(rank))
            current[i][j], reference[i][j] = int(n_current), int(n_reference)
        return SegmentTable(
            run_id=run_id, metric=metric, segments=tuple(segments), features=tuple(features),
            values=tuple(map(tuple, values)), severities=tuple(map(tuple, severities)),
            n_current=tuple(map(tuple, current)), n_reference=tuple(map(tuple, reference)),
        )  # fmt: skip
