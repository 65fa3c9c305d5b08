"""What every part of the results store shares: the engine, transactions, errors.

The store's methods live in six mixins over this base
(:mod:`drift.store.writes`, :mod:`drift.store.reads`,
:mod:`drift.store.summaries`, :mod:`drift.store.segments`,
:mod:`drift.store.alert_rows` and :mod:`drift.store.actions`), and
:class:`drift.store.ResultsStore` puts them together.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TypeVar

import sqlalchemy as sa

from drift.errors import StoreError
from drift.store import tables as t
from drift.store.engine import make_engine, safe_url
from drift.store.migrate import head

__all__ = ["WRITE_ATTEMPTS", "StoreBase"]

T = TypeVar("T")

#: Attempts of a write transaction that lost a race (unique key, lock, conflict).
WRITE_ATTEMPTS = 6

_RETRYABLE = (
    "locked",
    "deadlock",
    "conflict",
    "could not serialize",
    "lock wait",
    "duplicate key",
)
_MISSING_TABLE = ("no such table", "does not exist", "doesn't exist", "not found")


class StoreBase:
    """The engine and the transaction helpers of :class:`drift.store.ResultsStore`."""

    engine: sa.Engine
    url: str

    def __init__(self, url_or_engine: str | sa.URL | sa.Engine) -> None:
        if isinstance(url_or_engine, sa.Engine):
            self.engine, self._owned = url_or_engine, False
        else:
            self.engine, self._owned = make_engine(url_or_engine), True
        self.url = safe_url(self.engine.url)
        self._schema_checked = False
        self._pinned: ContextVar[sa.Connection | None] = ContextVar("pinned", default=None)

    def close(self) -> None:
        """Release the engine's connections (when this store created it)."""
        if self._owned:
            self.engine.dispose()

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.url!r})"

    def check_schema(self) -> None:
        """Make sure the results tables are at the revision this package expects.

        Raises
        ------
        drift.errors.StoreError
            If the tables are missing or at another revision; the message
            names the database (password hidden) and the command that fixes it.
        """
        version = t.alembic_version
        try:
            conn = self.engine.connect()
        except sa.exc.DBAPIError as exc:
            # Not reachable, or the database itself is missing ('database "x" does not
            # exist'): say so, rather than taking it for a database without our tables.
            raise self._error("connect to", exc, hint=False) from exc
        try:
            with conn:
                found = conn.execute(sa.select(version.c.version_num)).scalars().all()
        except sa.exc.DBAPIError as exc:
            if _says_missing(exc):
                found = []
            else:
                raise self._error("read from", exc) from exc
        latest = head()
        if found == [latest]:
            self._schema_checked = True
            return
        at = ", ".join(found) or "no drift tables"
        raise StoreError(
            f"results database at {self.url} is not at the latest schema (it is at {at}, "
            f"this airflow-drift expects {latest}): run `drift db upgrade --url {self.url}`"
            + (" (or upgrade airflow-drift if the database is newer)" if found else "")
        )

    def _write(self, action: Callable[[sa.Connection], T]) -> T:
        """Run ``action`` in one transaction, again when it lost a race with another writer."""
        if not self._schema_checked:
            self.check_schema()
        for attempt in range(WRITE_ATTEMPTS):
            try:
                with self.engine.begin() as conn:
                    return action(conn)
            except sa.exc.DBAPIError as exc:
                if attempt + 1 == WRITE_ATTEMPTS or not _retryable(exc):
                    raise self._error("write to", exc) from exc
                time.sleep(0.02 * (attempt + 1))
        raise AssertionError("unreachable")  # pragma: no cover

    @contextmanager
    def reading(self) -> Iterator[None]:
        """Serve every read inside the block from one connection.

        A page that makes many small reads (the overview makes several per
        monitor) then pays for checking out, pinging and resetting a pooled
        connection once, not once per read. Nested blocks share the outer
        one; writes always take their own transaction.
        """
        if self._pinned.get() is not None:
            yield
            return
        if not self._schema_checked:
            self.check_schema()
        try:
            conn = self.engine.connect()
        except sa.exc.DBAPIError as exc:
            raise self._error("read from", exc) from exc
        token = self._pinned.set(conn)
        try:
            yield
        finally:
            self._pinned.reset(token)
            conn.close()

    def _read(self, action: Callable[[sa.Connection], T]) -> T:
        """Run ``action`` on one connection (one snapshot where the dialect gives one)."""
        if not self._schema_checked:
            self.check_schema()
        pinned = self._pinned.get()
        try:
            if pinned is not None:
                return action(pinned)
            with self.engine.connect() as conn:
                return action(conn)
        except sa.exc.DBAPIError as exc:
            raise self._error("read from", exc) from exc

    def _error(self, verb: str, exc: Exception, *, hint: bool = True) -> StoreError:
        text = (str(getattr(exc, "orig", exc)).strip().splitlines() or [type(exc).__name__])[0]
        hint_text = (
            f"; the results tables are missing: run `drift db upgrade --url {self.url}`"
            if hint and _says_missing(exc)
            else ""
        )
        return StoreError(
            f"could not {verb} the results database at {self.url}: {text[:300]}{hint_text}"
        )


def _says_missing(exc: Exception) -> bool:
    text = str(getattr(exc, "orig", exc)).lower()
    return any(word in text for word in _MISSING_TABLE)


def _retryable(exc: Exception) -> bool:
    if isinstance(exc, sa.exc.IntegrityError):
        return True
    text = str(getattr(exc, "orig", exc)).lower()
    return any(word in text for word in _RETRYABLE)
