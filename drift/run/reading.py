"""Reading a monitor's source: the engines, one snapshot per window, feature lists.

A window is read on one connection, in one transaction; all features come
from one query where possible, and a feature that cannot be read costs that
feature, not the run (a lost connection fails the whole run, so its retry
reads the window again in one statement).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from drift.config import FeatureConfig, MonitorConfig
from drift.config.windows import reference_window
from drift.errors import SourceError
from drift.sources import SqlSource, open_source
from drift.sources.engine import EngineFactory
from drift.sources.segment_reads import SegmentMember
from drift.sql.secrets import mask_text
from drift.stats import Histogram
from drift.stats.binning import Binning

__all__ = [
    "EngineFactory",
    "FeatureList",
    "Sources",
    "connection_lost",
    "first_line",
    "one_read",
    "read_histograms",
    "safe_url",
]


def snapshot_reads(engine: sa.Engine) -> sa.Engine:
    """``engine``, reading in REPEATABLE READ transactions where that gives one snapshot.

    A window is read on one connection, in one transaction, but sometimes in
    more than one statement (the bin counts, then the unseen values of a
    categorical feature; wide monitors split their aggregates). Under READ
    COMMITTED each statement would see the rows committed by then, so a table
    growing during the read could report a window of 300 rows whose "new
    values" hold a million rows inserted meanwhile. PostgreSQL's and
    MariaDB/MySQL's REPEATABLE READ give the whole transaction the snapshot
    of its first statement; the source is only read, so it never has to
    retry a serialization failure.
    """
    if engine.dialect.name in ("postgresql", "mysql", "mariadb"):
        return engine.execution_options(isolation_level="REPEATABLE READ")
    return engine


@dataclass(frozen=True, slots=True)
class FeatureList:
    """The features a window measures, and what was left out.

    ``problems`` name configured features that cannot be read (their column
    is missing); ``skipped`` name inferred columns that are no feature
    (identifiers, timestamps), with the reason.
    """

    features: tuple[FeatureConfig, ...]
    problems: tuple[str, ...] = ()
    skipped: tuple[tuple[str, str], ...] = ()


class Sources:
    """The live source and, when the reference is separate, its own source."""

    engine: sa.Engine
    reader: sa.Engine
    live: SqlSource
    monitor: MonitorConfig

    def __init__(self, monitor: MonitorConfig, engine_factory: EngineFactory | None) -> None:
        shared = _SHARED.get()
        key = (id(monitor), id(engine_factory))
        if shared is not None and key in shared:
            # Inside one_read(): the engine and the sampled relation of this run's first
            # Sources, so the baseline and the window do not reflect and sample twice.
            first = shared[key]
            self.engine, self.reader, self.live = first.engine, first.reader, first.live
            self.monitor, self._owned = monitor, False
            return
        self.engine = open_source(monitor.source, engine_factory=engine_factory)
        self.reader = snapshot_reads(self.engine)
        self.live = SqlSource(
            self.reader,
            table=monitor.table,
            schema=monitor.db_schema,
            query=monitor.query,
            timestamp=monitor.timestamp,
            pushdown=monitor.pushdown,
            pairs={p.name: p.columns for p in monitor.pairs},
        )
        self.monitor = monitor
        self._owned = shared is None
        if shared is not None:
            shared[key] = self

    def use_segments(self, members: Mapping[str, SegmentMember]) -> None:
        """Count these segment members (of the baseline) wherever the monitor is read."""
        self.live.segments.update(members)

    def __enter__(self) -> Sources:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def reference(self, start: datetime, end: datetime) -> tuple[SqlSource, Any, Any]:
        """The source and bounds of the reference for the live window [start, end)."""
        ref = reference_window(self.monitor, start, end)
        if not ref.separate:
            return self.live, ref.start, ref.end
        bounded = ref.start is not None or ref.end is not None
        source = SqlSource(
            self.reader,
            table=ref.table,
            schema=ref.schema,
            query=ref.query,
            timestamp=ref.timestamp if bounded else None,
            pushdown=self.monitor.pushdown,
            pairs=self.live.pairs,
            segments=self.live.segments,
        )
        return source, ref.start, ref.end

    def features(self) -> FeatureList:
        """The monitor's features with kinds filled in, and what is missing or skipped."""
        configured = self.monitor.features
        try:
            columns = self.live.columns()
        except sa.exc.DBAPIError as exc:
            if exc.statement is not None:  # a statement failed: not a connection problem
                raise
            raise SourceError(
                f"cannot connect to the source {safe_url(self.engine.url)}: {first_line(exc)}"
            ) from exc
        if configured is None:
            skipped = tuple(
                (name, inferred.reason or "no feature")
                for name, inferred in columns.items()
                if inferred.kind is None
            )
            return FeatureList(tuple(self.live.resolve_features(None, columns)), (), skipped)
        missing = [f for f in configured if f.name not in columns]
        problems = tuple(
            f"{f.name}: column not found in the source (it has {', '.join(sorted(columns))})"
            for f in missing
        )
        kept = [f for f in configured if f.name in columns]
        resolved = self.live.resolve_features(kept, columns) if kept else []
        return FeatureList(tuple(resolved), problems)

    def close(self) -> None:
        """Dispose of the engine, unless :func:`one_read` shares it (it disposes it at its end)."""
        if self._owned:
            self.engine.dispose()


_SHARED: ContextVar[dict[tuple[int, int], Sources] | None] = ContextVar(
    "drift_shared_sources", default=None
)


@contextmanager
def one_read() -> Iterator[None]:
    """Within this block, the :class:`Sources` of one monitor share one engine and relation.

    A run prepares its baseline and then reads its window, each through
    ``Sources``; inside this block the second reuses the first's engine and
    its reflected, sampled relation instead of reflecting the table and
    sampling its columns again. The engines are disposed at the end.
    """
    opened: dict[tuple[int, int], Sources] = {}
    token = _SHARED.set(opened)
    try:
        yield
    finally:
        _SHARED.reset(token)
        for sources in opened.values():
            sources.engine.dispose()


def read_histograms(
    source: SqlSource,
    binnings: Mapping[str, Binning],
    start: datetime | None,
    end: datetime | None,
    problems: list[str],
) -> dict[str, Histogram]:
    """All features in one query; if that fails, each alone, so one bad column costs one feature.

    A lost connection (killed, server restarted, network gone) is no bad
    column: it is raised at once, so the run fails as a whole and its retry
    reads the window again in one statement, instead of reading the features
    one by one from other snapshots or recording them as not measured.
    """
    try:
        return source.histograms(binnings, start, end)
    except (SourceError, sa.exc.SQLAlchemyError) as exc:
        if len(binnings) == 1 or connection_lost(exc):
            raise
    out: dict[str, Histogram] = {}
    for name, binning in binnings.items():
        try:
            out.update(source.histograms({name: binning}, start, end))
        except (SourceError, sa.exc.SQLAlchemyError) as exc:
            problems.append(f"{name}: {first_line(exc)}")
    return out


def safe_url(url: sa.URL) -> str:
    """``url`` as text without its password."""
    return mask_text(url.render_as_string(hide_password=True))


def connection_lost(exc: BaseException) -> bool:
    """Whether ``exc`` is the database connection going away, not a problem of the query."""
    return isinstance(exc, sa.exc.DBAPIError) and bool(exc.connection_invalidated)


def first_line(exc: BaseException) -> str:
    """The first line of an error's message (the driver's, when there is one), at most 300 chars."""
    text = str(getattr(exc, "orig", None) or exc).strip()
    return text.splitlines()[0][:300] if text else type(exc).__name__
