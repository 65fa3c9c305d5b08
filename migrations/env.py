"""Alembic environment of the drift results tables.

The caller (``drift.store.migrate``) passes an open connection in
``config.attributes["connection"]``; the plain ``alembic`` command may pass a
URL as ``sqlalchemy.url`` instead. The version table is our own,
``drift_alembic_version``, so the tables can share a database with Airflow.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import context

from drift.store.tables import VERSION_TABLE, metadata


def _run(connection: sa.Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        version_table=VERSION_TABLE,
        include_name=lambda name, type_, _parent: type_ != "table" or name.startswith("drift_"),
    )
    with context.begin_transaction():
        context.run_migrations()


given = context.config.attributes.get("connection")
if given is not None:
    _run(given)
else:
    engine = sa.create_engine(context.config.get_main_option("sqlalchemy.url") or "")
    with engine.begin() as conn:
        _run(conn)
    engine.dispose()
