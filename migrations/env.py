"""Alembic environment of the drift results tables.

The caller (``drift.store.migrate``) passes an open connection in
``config.attributes["connection"]``; the version table is our own,
``drift_alembic_version``, so the tables can share a database with Airflow.
"""

from __future__ import annotations

from alembic import context

from drift.store.migrate import VERSION_TABLE
from drift.store.tables import metadata

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=metadata,
    version_table=VERSION_TABLE,
    include_name=lambda name, type_, parent: type_ != "table" or name.startswith("drift_"),
)
with context.begin_transaction():
    context.run_migrations()
