"""The one class that reads and writes the results tables."""

from __future__ import annotations

from drift.store.actions import Actions
from drift.store.alert_rows import AlertRows
from drift.store.reads import Reads
from drift.store.segments import Segments
from drift.store.summaries import Summaries
from drift.store.writes import Writes

__all__ = ["ResultsStore"]


class ResultsStore(Writes, Reads, Summaries, Segments, AlertRows, Actions):
    """Reads and writes the ``drift_*`` results tables.

    Parameters
    ----------
    url_or_engine : str, sqlalchemy.URL or sqlalchemy.Engine
        The results database. Its tables must be at the latest revision
        (``drift db upgrade``); the first read or write checks, and raises
        :class:`drift.errors.StoreError` naming the fix when they are not.

    Notes
    -----
    Every write is one transaction: a run's row, scores and histograms are
    replaced together, so a crash leaves the previous state and a re-run
    never duplicates. A transaction that loses a race (two writers of one
    window) is rolled back and retried; the unique key on (monitor, window)
    keeps one row. Times go in as timezone-aware datetimes (naive ones are
    taken as UTC), are stored as naive UTC on every dialect, and always come
    out timezone-aware UTC.

    Examples
    --------
    >>> from drift.store import ResultsStore, upgrade
    >>> upgrade("sqlite:///drift.db")  # doctest: +SKIP
    >>> store = ResultsStore("sqlite:///drift.db")  # doctest: +SKIP
    >>> store.monitors_overview()  # doctest: +SKIP
    []
    """
