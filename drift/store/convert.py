"""Conversions between Python values and what the results tables hold."""

from __future__ import annotations

import json
import math
import secrets
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

import sqlalchemy as sa

__all__ = ["UtcDateTime", "dumps", "from_db_time", "loads", "new_ids", "number", "to_db_time"]


def to_db_time(value: datetime | None) -> datetime | None:
    """Naive UTC, as stored; a naive input is taken to be UTC already."""
    if value is None:
        return None
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value


def from_db_time(value: datetime | None) -> datetime | None:
    """Timezone-aware UTC, as returned by every read."""
    if value is None:
        return None
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def number(value: float | None) -> float | None:
    """A float the column can hold: NaN and infinities become NULL."""
    if value is None or not math.isfinite(value):
        return None
    return float(value)


def dumps(value: Any) -> str:
    """Canonical JSON text (sorted keys, no NaN)."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), allow_nan=False)


def loads(text: str) -> Any:
    """Inverse of :func:`dumps`."""
    return json.loads(text)


def new_ids(n: int) -> Sequence[int]:
    """``n`` consecutive row ids from a random start below 2**52 (exact in JSON numbers)."""
    base = secrets.randbits(51) + 1
    return range(base, base + n)


class UtcDateTime(sa.TypeDecorator[datetime]):
    """A ``DATETIME`` holding naive UTC on every dialect, aware UTC in Python.

    Aware values are converted to UTC on the way in (naive ones are taken as
    UTC already); every value read comes back with ``tzinfo=UTC``. The
    columns are plain ``DateTime`` in the database and in the migrations,
    except on MariaDB/MySQL, where they are ``DATETIME(6)`` (revision 0002)
    so that fractions of a second are kept there too.
    """

    impl = sa.DateTime
    cache_ok = True

    def load_dialect_impl(self, dialect: sa.Dialect) -> sa.types.TypeEngine[Any]:
        """``DATETIME(6)`` on MariaDB/MySQL, whose plain ``DATETIME`` drops microseconds."""
        if dialect.name in ("mysql", "mariadb"):
            from sqlalchemy.dialects.mysql import DATETIME

            return dialect.type_descriptor(DATETIME(fsp=6))
        return dialect.type_descriptor(sa.DateTime())

    def process_bind_param(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        return to_db_time(value)

    def process_result_value(self, value: Any, dialect: sa.Dialect) -> datetime | None:
        return from_db_time(value)

    def result_processor(
        self, dialect: sa.Dialect, coltype: object
    ) -> Callable[[Any], datetime | None] | None:
        """The conversion of each value read, memoised: windows repeat across rows."""
        inner = super().result_processor(dialect, coltype)
        return None if inner is None else lru_cache(maxsize=16384)(inner)
