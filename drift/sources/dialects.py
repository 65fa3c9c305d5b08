"""What differs between database dialects: strings, NaN, infinities, percentiles."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement

PercentileMethod = Literal["within_group", "window", "row_number"]


@dataclass(frozen=True, slots=True)
class Dialect:
    """The few facts about a dialect that binning in SQL depends on.

    Attributes
    ----------
    name : str
        SQLAlchemy dialect name (``mariadb`` for MariaDB servers).
    has_nan : bool
        Float columns can hold NaN (PostgreSQL, DuckDB). There NaN equals NaN
        and sorts above every number, so it must be excluded explicitly.
    has_inf : bool
        Float columns can hold +/-infinity.
    percentile : str
        How quantiles are computed: ``within_group`` (ordered-set aggregate
        ``percentile_disc(p) WITHIN GROUP (ORDER BY x)``), ``window``
        (MariaDB's ``PERCENTILE_DISC ... OVER ()``) or ``row_number`` (pick the
        order statistics with ``ROW_NUMBER() OVER (ORDER BY x)``).
    collation : str or None
        Collation making string comparison and ordering byte-wise (code-point
        order, exact, no padding), so the database agrees with Python.
    """

    name: str
    has_nan: bool
    has_inf: bool
    percentile: PercentileMethod
    collation: str | None

    def as_string(self, column: ColumnElement[Any]) -> ColumnElement[str]:
        """``CAST(column AS <string>)`` with a byte-wise collation.

        Categorical values are compared as these strings everywhere (fit,
        live counts, the streaming fallback), so the paths always agree.
        """
        text: ColumnElement[str] = sa.cast(column, sa.String())
        return text.collate(self.collation) if self.collation else text

    def nan_literal(self) -> ColumnElement[float]:
        """A bound NaN of double precision."""
        return sa.literal(math.nan, sa.Double())

    def inf_literal(self, sign: int) -> ColumnElement[float]:
        """A bound +inf (``sign=1``) or -inf (``sign=-1``) of double precision."""
        return sa.literal(math.copysign(math.inf, sign), sa.Double())


_KNOWN = {
    "postgresql": Dialect("postgresql", True, True, "within_group", "C"),
    "duckdb": Dialect("duckdb", True, True, "within_group", None),
    "sqlite": Dialect("sqlite", False, True, "row_number", "BINARY"),
    "mariadb": Dialect("mariadb", False, False, "window", "utf8mb4_nopad_bin"),
    "mysql": Dialect("mysql", False, False, "row_number", "utf8mb4_bin"),
}


def dialect_of(engine: sa.Engine) -> Dialect:
    """The :class:`Dialect` facts for ``engine`` (generic defaults for unknown ones)."""
    name = engine.dialect.name
    if name == "mysql" and getattr(engine.dialect, "is_mariadb", False):
        name = "mariadb"
    return _KNOWN.get(name, Dialect(name, False, False, "row_number", None))
