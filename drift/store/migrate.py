"""Schema migrations of the results tables, driven through Alembic's API.

The scripts live in ``migrations/`` at the top of the source tree and ship
inside the wheel as ``drift/_migrations``, so an installed package migrates a
database without the source tree. Alembic keeps its own version table,
``drift_alembic_version``, beside whatever else the database holds.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from drift.errors import StoreError
from drift.store.engine import make_engine, safe_url
from drift.store.tables import VERSION_TABLE

if TYPE_CHECKING:
    from alembic.config import Config

__all__ = ["VERSION_TABLE", "current", "downgrade", "head", "script_location", "upgrade"]

#: The installed ``drift`` package folder (this file is drift/store/migrate.py).
_PACKAGE = Path(__file__).resolve().parent.parent


@cache
def _alembic() -> None:
    """Import Alembic and teach it DuckDB, on first use only.

    Alembic (with Mako) costs about a quarter of a second to import, and a run
    only needs it to migrate: :func:`head` reads the scripts without it.
    """
    from alembic.ddl.impl import DefaultImpl

    class DuckDBImpl(DefaultImpl):
        """Alembic knows no DuckDB: it takes DuckDB's DDL as the default, transactional."""

        __dialect__ = "duckdb"
        transactional_ddl = True

        def compare_type(
            self, inspector_column: sa.Column[Any], metadata_column: sa.Column[Any]
        ) -> bool:
            """DuckDB has one string type: ``TEXT`` and ``VARCHAR(n)`` both are ``VARCHAR``."""
            if isinstance(inspector_column.type, sa.String) and isinstance(
                metadata_column.type, sa.String
            ):
                return False
            return bool(super().compare_type(inspector_column, metadata_column))


def script_location() -> Path:
    """Where the migration scripts are: inside the package, else in the source tree."""
    packaged = _PACKAGE / "_migrations"
    if (packaged / "env.py").is_file():
        return packaged
    return _PACKAGE.parent / "migrations"


def _config(connection: sa.Connection) -> Config:
    from alembic.config import Config

    _alembic()
    config = Config()
    config.set_main_option("script_location", str(script_location()))
    config.attributes["connection"] = connection
    return config


@contextmanager
def _connection(
    url_or_engine: str | sa.URL | sa.Engine, doing: str, *, begin: bool
) -> Iterator[sa.Connection]:
    """A connection (in a transaction when ``begin``); failures become StoreError."""
    from alembic.util import CommandError

    engine = url_or_engine if isinstance(url_or_engine, sa.Engine) else make_engine(url_or_engine)
    try:
        with engine.begin() if begin else engine.connect() as conn:
            yield conn
    except (sa.exc.SQLAlchemyError, CommandError) as exc:
        text = (str(getattr(exc, "orig", None) or exc).strip().splitlines() or ["?"])[0]
        raise StoreError(
            f"could not {doing} the results database at {safe_url(engine.url)}: {text[:300]}"
        ) from exc
    finally:
        if engine is not url_or_engine:
            engine.dispose()


#: Advisory lock key (PostgreSQL) and lock name prefix (MySQL/MariaDB) held while migrating.
_LOCK_KEY = 0x6472696674  # "drift"


@contextmanager
def _migration_lock(conn: sa.Connection) -> Iterator[None]:
    """Hold the database's migration lock, so that migrations run one after another.

    The first windows of a fresh deployment each migrate the results
    database before their first write, side by side: without the lock all
    but one failed (PostgreSQL: a duplicate ``pg_type`` row; MariaDB: ``Table
    ... already exists``). The next one in finds the tables at head and does
    nothing. On PostgreSQL a transaction-level advisory lock (per database);
    on MySQL/MariaDB a named lock with the database in its name (their DDL
    commits at once, so it is held by the session and released after); SQLite
    and DuckDB lock the file themselves.
    """
    dialect = conn.dialect.name
    if dialect == "postgresql":
        conn.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK_KEY})
        yield
    elif dialect in ("mysql", "mariadb"):
        name = f"drift_migrations:{conn.engine.url.database}"
        conn.execute(sa.text("SELECT GET_LOCK(:name, 600)"), {"name": name})
        try:
            yield
        finally:
            conn.execute(sa.text("SELECT RELEASE_LOCK(:name)"), {"name": name})
    else:
        yield


def upgrade(url_or_engine: str | sa.URL | sa.Engine, revision: str = "head") -> None:
    """Migrate the results tables up to ``revision``, in one transaction.

    Parameters
    ----------
    url_or_engine : str, sqlalchemy.URL or sqlalchemy.Engine
        The results database; other tables in it are left alone.
    revision : str, default "head"
        The target revision (``head`` is the latest).

    Raises
    ------
    drift.errors.StoreError
        If the database cannot be reached or refuses the change (the
        message names it, password hidden).

    Notes
    -----
    Safe to call from several processes at once: they migrate one after
    another (:func:`_migration_lock`), and those after the first find the
    tables at ``revision`` already.
    """
    from alembic import command

    with (
        _connection(url_or_engine, f"upgrade to {revision}", begin=True) as conn,
        _migration_lock(conn),
    ):
        command.upgrade(_config(conn), revision)


def downgrade(url_or_engine: str | sa.URL | sa.Engine, revision: str) -> None:
    """Migrate the results tables down to ``revision`` (``base`` drops them all).

    Parameters
    ----------
    url_or_engine : str, sqlalchemy.URL or sqlalchemy.Engine
        The results database.
    revision : str
        The target revision: an id, ``-1`` (one step) or ``base``.

    Raises
    ------
    drift.errors.StoreError
        If the database cannot be reached or the revision is unknown.
    """
    from alembic import command

    with _connection(url_or_engine, f"downgrade to {revision}", begin=True) as conn:
        command.downgrade(_config(conn), revision)


def current(url_or_engine: str | sa.URL | sa.Engine) -> str | None:
    """The revision the results tables are at, or ``None`` before the first upgrade."""
    from alembic.runtime.migration import MigrationContext

    _alembic()  # Alembic looks up an implementation for the dialect (DuckDB's is ours)
    with _connection(url_or_engine, "read the revision of", begin=False) as conn:
        context = MigrationContext.configure(conn, opts={"version_table": VERSION_TABLE})
        return context.get_current_revision()


@cache
def head() -> str:
    """The latest revision the scripts define.

    Read from the scripts' ``revision`` and ``down_revision`` assignments
    without importing Alembic (every run checks the schema against it); the
    test suite checks it agrees with Alembic's own ``get_current_head()``.
    """
    links: dict[str, str | None] = {}
    for script in sorted((script_location() / "versions").glob("*.py")):
        values: dict[str, Any] = {}
        for node in ast.parse(script.read_text(encoding="utf-8")).body:
            if isinstance(node, ast.Assign) and len(node.targets) == 1:
                target = node.targets[0]
                if isinstance(target, ast.Name) and target.id in ("revision", "down_revision"):
                    values[target.id] = ast.literal_eval(node.value)
        if "revision" in values:
            links[str(values["revision"])] = values.get("down_revision")
    heads = set(links) - {down for down in links.values() if down is not None}
    if len(heads) != 1:  # pragma: no cover - the package always ships one line of revisions
        raise RuntimeError(f"expected one head among the migration scripts, found {sorted(heads)}")
    return heads.pop()
