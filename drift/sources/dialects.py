"""What differs between database dialects: strings, NaN, infinities, percentiles."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement

from drift.sources.spark import SPARK_DIALECTS, prepare_engine

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
    inline_literals : bool
        The driver pastes bound values into the SQL text (PyHive), where NaN
        and infinities would render as bare ``nan``/``inf``: spell them as
        ``CAST('NaN' AS DOUBLE)`` literals instead.
    """

    name: str
    has_nan: bool
    has_inf: bool
    percentile: PercentileMethod
    collation: str | None
    inline_literals: bool = False

    def as_string(self, column: ColumnElement[Any]) -> ColumnElement[str]:
        """``CAST(column AS <string>)`` with a byte-wise collation.

        Categorical values are compared as these strings everywhere (fit,
        live counts, the streaming fallback), so the paths always agree.
        """
        # String() compiles to STRING on Spark (VARCHAR without a length is rejected there).
        text: ColumnElement[str] = sa.cast(column, sa.String())
        return text.collate(self.collation) if self.collation else text

    def nan_literal(self) -> ColumnElement[float]:
        """A NaN of double precision (``CAST('NaN' AS DOUBLE)`` where values are inlined)."""
        if self.inline_literals:
            return sa.literal_column("CAST('NaN' AS DOUBLE)", sa.Double())
        return sa.literal(math.nan, sa.Double())

    def inf_literal(self, sign: int) -> ColumnElement[float]:
        """A bound +inf (``sign=1``) or -inf (``sign=-1``) of double precision."""
        if self.inline_literals:
            spelled = "Infinity" if sign > 0 else "-Infinity"
            return sa.literal_column(f"CAST('{spelled}' AS DOUBLE)", sa.Double())
        return sa.literal(math.copysign(math.inf, sign), sa.Double())


_KNOWN = {
    "postgresql": Dialect("postgresql", True, True, "within_group", "C"),
    "duckdb": Dialect("duckdb", True, True, "within_group", None),
    "sqlite": Dialect("sqlite", False, True, "row_number", "BINARY"),
    "mariadb": Dialect("mariadb", False, False, "window", "utf8mb4_nopad_bin"),
    "mysql": Dialect("mysql", False, False, "row_number", "utf8mb4_bin"),
    # Spark SQL (PyHive's hive://, Databricks): holds NaN and infinities, compares
    # strings byte-wise already; percentile_disc is ~40x slower than row_number.
    "hive": Dialect("hive", True, True, "row_number", None, inline_literals=True),
    "databricks": Dialect("databricks", True, True, "row_number", None, inline_literals=True),
}


def dialect_of(engine: sa.Engine) -> Dialect:
    """The :class:`Dialect` facts for ``engine`` (generic defaults for unknown ones)."""
    name = engine.dialect.name
    if name == "mysql" and getattr(engine.dialect, "is_mariadb", False):
        name = "mariadb"
    if name in SPARK_DIALECTS:
        prepare_engine(engine)
    return _KNOWN.get(name, Dialect(name, False, False, "row_number", None))
