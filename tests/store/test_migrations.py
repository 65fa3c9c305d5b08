"""Migrations: up, down and up again on every backend; models and scripts agree."""

from __future__ import annotations

import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from drift.store import current, downgrade, head, upgrade
from drift.store.migrate import VERSION_TABLE, script_location
from drift.store.tables import metadata

DRIFT_TABLES = {t.name for t in metadata.sorted_tables}


def _tables(url: str) -> set[str]:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return set(sa.inspect(conn).get_table_names())
    finally:
        engine.dispose()


@pytest.mark.db
def test_upgrade_downgrade_upgrade_again(db_url: str) -> None:
    assert current(db_url) is None
    upgrade(db_url)
    assert current(db_url) == head()
    assert DRIFT_TABLES | {VERSION_TABLE} <= _tables(db_url)
    downgrade(db_url, "base")
    assert current(db_url) is None
    assert not (DRIFT_TABLES & _tables(db_url))
    upgrade(db_url)
    assert current(db_url) == head()


@pytest.mark.db
def test_upgrade_leaves_other_tables_alone(db_url: str) -> None:
    engine = sa.create_engine(db_url)
    with engine.begin() as conn:
        conn.execute(sa.text("CREATE TABLE airflow_like (id INTEGER)"))
        conn.execute(sa.text("INSERT INTO airflow_like VALUES (7)"))
    upgrade(db_url)
    downgrade(db_url, "base")
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT id FROM airflow_like")).scalar_one() == 7
    engine.dispose()


@pytest.mark.db
def test_models_and_migrations_agree(
    db_url: str, backend: str, native_catalog: Callable[[sa.Dialect], None]
) -> None:
    upgrade(db_url)
    engine = sa.create_engine(db_url)
    if backend == "duckdb":
        native_catalog(engine.dialect)
    with engine.connect() as conn:
        context = MigrationContext.configure(
            conn,
            opts={
                "compare_type": True,
                "include_name": lambda name, type_, _p: type_ != "table" or name in DRIFT_TABLES,
            },
        )
        diff = compare_metadata(context, metadata)
    engine.dispose()
    assert diff == []


def test_scripts_are_found_in_the_source_tree() -> None:
    assert (script_location() / "env.py").is_file()
    assert any((script_location() / "versions").glob("0001_*.py"))


@pytest.mark.slow
def test_the_wheel_ships_the_migrations(tmp_path: Path) -> None:
    import subprocess
    import sys

    root = Path(__file__).resolve().parents[2]
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
         "-w", str(tmp_path), str(root)],
        check=True,
    )  # fmt: skip
    (wheel,) = tmp_path.glob("airflow_drift-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "drift/_migrations/env.py" in names
    assert "drift/_migrations/versions/0001_create_results_tables.py" in names


def test_head_read_without_alembic_agrees_with_alembic() -> None:
    """drift.store.head() parses the scripts itself (no Alembic import on a run's path)."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    from drift.store import head

    config = Config()
    config.set_main_option("script_location", str(script_location()))
    assert head() == ScriptDirectory.from_config(config).get_current_head()


def test_a_run_path_import_does_not_import_alembic() -> None:
    import subprocess
    import sys

    code = "import sys, drift.store, drift.run; print('alembic' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False", out.stderr
