"""Store fixtures: reflection of DuckDB tables from DuckDB's own catalog.

duckdb-engine 0.17 reflects through PostgreSQL's ``pg_catalog`` views, which
under SQLAlchemy 2.1 ask for ``pg_collation`` and ``REGCLASS`` that DuckDB
lacks, and it reflects no indexes at all. This module reads
``duckdb_columns()``, ``duckdb_constraints()`` and ``duckdb_indexes()``
instead, on one dialect instance, so ``alembic.autogenerate.compare_metadata``
can run against a real DuckDB database.

DuckDB keeps index names but not the names of primary keys and unique
constraints (it makes up ``<table>_id_pkey`` and ``..._key``); those are
given back under our naming convention, so the comparison checks their
columns, not names DuckDB never stored.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from types import MethodType
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine.default import DefaultDialect

TYPES: dict[str, type[sa.types.TypeEngine[Any]]] = {
    "BIGINT": sa.BIGINT,
    "INTEGER": sa.INTEGER,
    "VARCHAR": sa.VARCHAR,
    "TIMESTAMP": sa.TIMESTAMP,
    "DOUBLE": sa.DOUBLE,
    "BOOLEAN": sa.BOOLEAN,
}


def _rows(connection: sa.Connection, sql: str, table: str) -> list[Any]:
    return list(connection.exec_driver_sql(sql, (table,)).all())


def get_table_names(connection: sa.Connection, schema: str | None = None, **_kw: Any) -> list[str]:
    sql = "SELECT table_name FROM duckdb_tables() WHERE schema_name = 'main' ORDER BY 1"
    return [r[0] for r in connection.exec_driver_sql(sql).all()]


def get_columns(
    connection: sa.Connection, table_name: str, schema: str | None = None, **_kw: Any
) -> list[dict[str, Any]]:
    sql = (
        "SELECT column_name, data_type, is_nullable, column_default FROM duckdb_columns() "
        "WHERE table_name = ? ORDER BY column_index"
    )
    return [
        {"name": name, "type": TYPES[kind](), "nullable": nullable, "default": default}
        for name, kind, nullable, default in _rows(connection, sql, table_name)
    ]


def _constraints(connection: sa.Connection, table: str, kind: str) -> list[list[str]]:
    sql = (
        "SELECT constraint_column_names FROM duckdb_constraints() "
        f"WHERE table_name = ? AND constraint_type = '{kind}' ORDER BY constraint_index"
    )
    return [list(r[0]) for r in _rows(connection, sql, table)]


def get_pk_constraint(
    connection: sa.Connection, table_name: str, schema: str | None = None, **_kw: Any
) -> dict[str, Any]:
    (columns,) = _constraints(connection, table_name, "PRIMARY KEY") or [[]]
    return {"constrained_columns": columns, "name": f"pk_{table_name}" if columns else None}


def get_unique_constraints(
    connection: sa.Connection, table_name: str, schema: str | None = None, **_kw: Any
) -> list[dict[str, Any]]:
    return [
        {"name": f"uq_{table_name}_{'_'.join(columns)}", "column_names": columns}
        for columns in _constraints(connection, table_name, "UNIQUE")
    ]


def get_indexes(
    connection: sa.Connection, table_name: str, schema: str | None = None, **_kw: Any
) -> list[dict[str, Any]]:
    sql = "SELECT index_name, is_unique, sql FROM duckdb_indexes() WHERE table_name = ?"
    out = []
    for name, unique, text in _rows(connection, sql, table_name):
        found = re.search(r"\((.*)\)", text)
        columns = [c.strip().strip('"') for c in found.group(1).split(",")] if found else []
        out.append({"name": name, "unique": bool(unique), "column_names": columns})
    return out


def _nothing(*_args: Any, **_kw: Any) -> list[Any]:
    return []


def _no_comment(*_args: Any, **_kw: Any) -> dict[str, Any]:
    return {"text": None}


def _no_options(*_args: Any, **_kw: Any) -> dict[str, Any]:
    return {}


SINGLE = {
    "get_columns": get_columns,
    "get_pk_constraint": get_pk_constraint,
    "get_unique_constraints": get_unique_constraints,
    "get_indexes": get_indexes,
    "get_foreign_keys": _nothing,
    "get_check_constraints": _nothing,
    "get_table_comment": _no_comment,
    "get_table_options": _no_options,
}


def use_native_catalog(dialect: sa.Dialect) -> None:
    """Make ``dialect`` (one engine's DuckDB dialect instance) reflect from DuckDB's catalog."""
    dialect.get_table_names = get_table_names  # type: ignore[method-assign]
    dialect.get_temp_table_names = _nothing  # type: ignore[method-assign]
    dialect.get_view_names = _nothing  # type: ignore[method-assign]
    dialect.get_temp_view_names = _nothing  # type: ignore[method-assign]
    dialect.get_materialized_view_names = _nothing  # type: ignore[method-assign]
    for name, single in SINGLE.items():
        setattr(dialect, name, single)
        multi = name.replace("get_", "get_multi_", 1)
        setattr(dialect, multi, MethodType(getattr(DefaultDialect, multi), dialect))


@pytest.fixture
def native_catalog() -> Callable[[sa.Dialect], None]:
    """:func:`use_native_catalog`, for tests that reflect a DuckDB database."""
    return use_native_catalog
