"""Engines for the results database, set up for safe concurrent writers."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from drift.sql.secrets import mask_passwords

__all__ = ["make_engine", "mask_passwords", "safe_url"]


def safe_url(url: str | sa.URL) -> str:
    """The URL as text with any password masked, for messages and logs."""
    try:
        return sa.make_url(url).render_as_string(hide_password=True)
    except sa.exc.ArgumentError:
        return "<unparsable URL>"


def make_engine(url: str | sa.URL) -> sa.Engine:
    """An engine for the results database.

    SQLite gets a 30 s busy timeout and takes its write lock at ``BEGIN``
    (``BEGIN IMMEDIATE``), so two writers queue instead of failing with
    "database is locked" half way through a transaction; a file database
    runs in WAL mode (``synchronous=NORMAL``: a power cut may lose the last
    commits, never corrupt the file or leave half a transaction).
    """
    parsed = sa.make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return sa.create_engine(parsed, pool_pre_ping=True)
    engine = sa.create_engine(parsed, connect_args={"timeout": 30})

    on_disk = parsed.database not in (None, "", ":memory:")

    @sa.event.listens_for(engine, "connect")
    def _no_implicit_transactions(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        if on_disk:
            # WAL: readers never wait for the writer, and a commit is one
            # append instead of a rollback journal's several fsyncs.
            dbapi_connection.execute("PRAGMA journal_mode=WAL")
            dbapi_connection.execute("PRAGMA synchronous=NORMAL")

    @sa.event.listens_for(engine, "begin")
    def _begin_immediate(conn: sa.Connection) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")

    return engine
