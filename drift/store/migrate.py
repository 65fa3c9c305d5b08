"""Schema migrations of the results tables, driven through Alembic's API.

The scripts live in ``migrations/`` at the top of the source tree and ship
inside the wheel as ``drift/_migrations``, so an installed package migrates a
database without the source tree. Alembic keeps its own version table,
``drift_alembic_version``, beside whatever else the database holds.
"""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.ddl.impl import DefaultImpl
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

import drift
from drift.store.engine import make_engine

__all__ = ["VERSION_TABLE", "current", "downgrade", "head", "script_location", "upgrade"]

VERSION_TABLE = "drift_alembic_version"


class DuckDBImpl(DefaultImpl):
    """Alembic knows no DuckDB: it takes DuckDB's DDL as the default, transactional."""

    __dialect__ = "duckdb"
    transactional_ddl = True


def script_location() -> Path:
    """Where the migration scripts are: inside the package, else in the source tree."""
    packaged = Path(drift.__file__).resolve().parent / "_migrations"
    if (packaged / "env.py").is_file():
        return packaged
    return Path(drift.__file__).resolve().parent.parent / "migrations"


def _config(connection: sa.Connection) -> Config:
    config = Config()
    config.set_main_option("script_location", str(script_location()))
    config.attributes["connection"] = connection
    return config


def _engine(url_or_engine: str | sa.Engine) -> tuple[sa.Engine, bool]:
    if isinstance(url_or_engine, sa.Engine):
        return url_or_engine, False
    return make_engine(url_or_engine), True


def upgrade(url_or_engine: str | sa.Engine, revision: str = "head") -> None:
    """Migrate the results tables up to ``revision`` (default: the latest)."""
    engine, owned = _engine(url_or_engine)
    try:
        with engine.begin() as conn:
            command.upgrade(_config(conn), revision)
    finally:
        if owned:
            engine.dispose()


def downgrade(url_or_engine: str | sa.Engine, revision: str) -> None:
    """Migrate the results tables down to ``revision`` (``base`` removes them)."""
    engine, owned = _engine(url_or_engine)
    try:
        with engine.begin() as conn:
            command.downgrade(_config(conn), revision)
    finally:
        if owned:
            engine.dispose()


def current(url_or_engine: str | sa.Engine) -> str | None:
    """The revision the database is at, or ``None`` before the first upgrade."""
    engine, owned = _engine(url_or_engine)
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"version_table": VERSION_TABLE})
            return context.get_current_revision()
    finally:
        if owned:
            engine.dispose()


def head() -> str:
    """The latest revision the scripts define."""
    config = Config()
    config.set_main_option("script_location", str(script_location()))
    found = ScriptDirectory.from_config(config).get_current_head()
    if found is None:  # pragma: no cover - the package always ships a revision
        raise RuntimeError("no migration scripts found")
    return found
