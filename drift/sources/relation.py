"""The relation a source reads: a reflected table or a SELECT as a subquery."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement

from drift.config.kinds import ColumnFacts, Family, Inferred
from drift.config.kinds import infer_kind as infer_column_kind
from drift.errors import SourceError
from drift.sources.dialects import Dialect
from drift.sources.spark import SPARK_DIALECTS, check_identifier, spark_tables

TimestampStyle = Literal["aware", "naive", "text", "epoch"]

#: Rows sampled to infer what an untyped (query or SQLite) column holds.
SAMPLE_ROWS = 200
#: Strings longer than this (or mostly containing spaces) are text, not categories.


@dataclass(frozen=True, slots=True)
class Relation:
    """A readable relation: its FROM clause, columns, and a sample of values."""

    selectable: sa.FromClause
    description: str
    samples: dict[str, list[Any]]
    #: Spark SQL (PyHive) cannot quote every name: such columns are refused by name.
    spark: bool = False

    def column(self, name: str) -> ColumnElement[Any]:
        """The column ``name``, quoted by SQLAlchemy.

        Raises
        ------
        drift.errors.SourceError
            Naming the column, the relation and the columns it does have.
        """
        if name not in self.selectable.c:
            have = ", ".join(repr(c.name) for c in self.selectable.c)
            raise SourceError(f"column {name!r} not found in {self.description}; it has {have}")
        if self.spark:
            check_identifier(name, self.description)
        column: ColumnElement[Any] = self.selectable.c[name]
        return column

    def sample(self, name: str) -> Any:
        """The first non-NULL sampled value of ``name`` (None if there is none)."""
        return next((v for v in self.samples.get(name, []) if v is not None), None)


def _escape_colons(query: str) -> str:
    # sa.text() reads ":name" as a bind parameter; a user's SQL has none.
    return re.sub(r"(?<!\\):", r"\\:", query)


def _sample(conn: sa.Connection, selectable: sa.FromClause) -> dict[str, list[Any]]:
    rows = conn.execute(sa.select(selectable).limit(SAMPLE_ROWS)).all()
    return {c.name: [row[i] for row in rows] for i, c in enumerate(selectable.c)}


def _probe_names(conn: sa.Connection, table: sa.Table) -> list[str]:
    probe: sa.CursorResult[Any] = conn.execute(
        sa.select(sa.literal_column("*")).select_from(table).limit(0)
    )
    keys = list(probe.keys())
    probe.close()
    return keys


def _reflected(conn: sa.Connection, table: str, schema: str | None) -> sa.Table:
    """The reflected table, with the names the server reports for its columns.

    MySQL/MariaDB reflection parses ``SHOW CREATE TABLE`` and keeps a doubled
    backtick in a column name doubled; the cursor's names are the real ones.
    """
    reflected = sa.Table(table, sa.MetaData(), schema=schema, autoload_with=conn)
    if conn.dialect.name not in ("mysql", "mariadb"):
        return reflected
    names = _probe_names(conn, reflected)
    columns = [sa.Column(n, c.type) for n, c in zip(names, reflected.columns, strict=True)]
    return sa.Table(table, sa.MetaData(), *columns, schema=schema)


def _declared(conn: sa.Connection, table: str, schema: str | None) -> sa.Table:
    """A table declared from its column names (for dialects whose reflection fails).

    duckdb-engine cannot reflect under SQLAlchemy 2.1 (it lacks PostgreSQL's
    ``pg_collation``), so the names come from a ``LIMIT 0`` probe and the
    types are inferred from sampled values instead.
    """
    if not sa.inspect(conn).has_table(table, schema=schema):
        raise sa.exc.NoSuchTableError(table)
    keys = _probe_names(conn, sa.Table(table, sa.MetaData(), schema=schema))
    return sa.Table(table, sa.MetaData(), *(sa.Column(k) for k in keys), schema=schema)


def _not_found(description: str, schema: str | None, names: list[str]) -> SourceError:
    return SourceError(
        f"{description} not found; the {'schema' if schema else 'database'} has "
        f"{', '.join(map(repr, names)) or 'no tables'}"
    )


def open_relation(
    conn: sa.Connection, *, table: str | None, schema: str | None, query: str | None
) -> Relation:
    """Reflect ``schema.table`` or wrap ``query`` as a subquery named ``src``.

    A query's columns are learned by running it with ``LIMIT 0``; their names
    become quoted column objects of the subquery, never SQL text.
    """
    if (table is None) == (query is None):
        raise ValueError("Give exactly one of `table` or `query`.")
    spark = conn.dialect.name in SPARK_DIALECTS
    if table is not None:
        description = f"table {f'{schema}.' if schema else ''}{table}"
        if spark and table not in (tables := spark_tables(conn, schema)):
            raise _not_found(description, schema, tables)  # PyHive: a bare OperationalError
        try:
            if conn.dialect.name == "duckdb":
                reflected = _declared(conn, table, schema)
            else:
                reflected = _reflected(conn, table, schema)
        except sa.exc.NoSuchTableError:
            names = sa.inspect(conn).get_table_names(schema=schema)
            raise _not_found(description, schema, names) from None
        return Relation(reflected, description, _sample(conn, reflected), spark)
    assert query is not None
    text = sa.text(_escape_colons(query))
    try:
        probe: sa.CursorResult[Any] = conn.execute(
            sa.select(sa.literal_column("*")).select_from(text.columns().subquery("src")).limit(0)
        )
    except sa.exc.DBAPIError as exc:
        raise SourceError(f"the source query failed: {exc.orig}") from None
    keys = list(probe.keys())
    probe.close()
    subquery = text.columns(*(sa.column(k) for k in keys)).subquery("src")
    return Relation(subquery, "the source query", _sample(conn, subquery), spark)


def _family(sqltype: sa.types.TypeEngine[Any]) -> Family:
    if isinstance(sqltype, sa.Boolean):
        return "boolean"
    if isinstance(sqltype, sa.Enum):
        return "enum"
    if isinstance(sqltype, sa.Integer):
        return "integer"
    if isinstance(sqltype, sa.Numeric):
        return "number"
    if isinstance(sqltype, sa.Date | sa.DateTime | sa.Time | sa.Interval):
        return "temporal"
    if isinstance(sqltype, sa.LargeBinary):
        return "binary"
    if isinstance(sqltype, sa.String):
        return "string"
    return "unknown"


def _is_key(column: ColumnElement[Any]) -> bool:
    """A primary key, or the only column of a unique constraint or index."""
    if getattr(column, "primary_key", False) or getattr(column, "unique", False):
        return True
    table = getattr(column, "table", None)
    if not isinstance(table, sa.Table):
        return False
    uniques = [
        list(c.columns)
        for c in table.constraints
        if isinstance(c, sa.UniqueConstraint | sa.PrimaryKeyConstraint)
    ] + [list(i.columns) for i in table.indexes if i.unique]
    return any(len(cols) == 1 and cols[0].name == column.name for cols in uniques)


def infer_kind(column: ColumnElement[Any], samples: list[Any]) -> Inferred:
    """The feature kind of ``column``, by :func:`drift.config.kinds.infer_kind`.

    The column's SQL type gives the type family (an untyped column, as in
    SQLite, is judged by its sampled values), its constraints whether it is
    a key.
    """
    return infer_column_kind(ColumnFacts(_family(column.type), samples, _is_key(column)))


def timestamp_style(column: ColumnElement[Any], sample: Any, dialect: Dialect) -> TimestampStyle:
    """How timestamps are stored, so the window bounds can be bound to match."""
    sqltype = column.type
    if isinstance(sqltype, sa.DateTime | sa.Date):
        if dialect.name == "sqlite":
            return "text"
        return "aware" if getattr(sqltype, "timezone", False) else "naive"
    if isinstance(sqltype, sa.String):
        return "text"
    if isinstance(sqltype, sa.Integer | sa.Numeric):
        return "epoch"
    if isinstance(sample, dt.datetime):
        return "aware" if sample.tzinfo is not None else "naive"
    if isinstance(sample, dt.date):
        return "naive"
    if isinstance(sample, int | float | Decimal) and not isinstance(sample, bool):
        return "epoch"
    return "text" if isinstance(sample, str) or dialect.name == "sqlite" else "naive"


def window_clause(
    column: ColumnElement[Any],
    style: TimestampStyle,
    dialect: Dialect,
    start: dt.datetime | None,
    end: dt.datetime | None,
) -> ColumnElement[bool]:
    """``start <= column < end`` with the bounds bound to the column's storage.

    Aware datetimes are converted to UTC; naive columns get naive UTC values;
    SQLite text (and untyped) timestamps compare by ``julianday()``, which
    reads every ISO-8601 spelling; epoch columns compare with seconds.
    """
    clauses: list[ColumnElement[bool]] = []
    for bound, lower in ((start, True), (end, False)):
        if bound is None:
            continue
        if bound.tzinfo is None:
            raise ValueError(f"Window bounds must be timezone-aware (UTC), got naive {bound}.")
        utc = bound.astimezone(dt.UTC)
        value: ColumnElement[Any]
        target: ColumnElement[Any] = column
        if style == "aware":
            value = sa.literal(utc, sa.DateTime(timezone=True))
        elif style == "naive":
            value = sa.literal(utc.replace(tzinfo=None), sa.DateTime())
        elif style == "epoch":
            value = sa.literal(utc.timestamp(), sa.Double())
        elif dialect.name == "sqlite":
            iso = utc.replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")
            target, value = sa.func.julianday(column), sa.func.julianday(sa.literal(iso))
        else:
            target = sa.cast(column, sa.DateTime())
            value = sa.literal(utc.replace(tzinfo=None), sa.DateTime())
        clauses.append(target >= value if lower else target < value)
    return sa.and_(sa.true(), *clauses)
