"""Every backend the suite needs answers, isolated per test."""

from __future__ import annotations

import sqlalchemy as sa


def test_backend_is_reachable_and_empty(db_url: str) -> None:
    engine = sa.create_engine(db_url)
    try:
        with engine.begin() as conn:
            conn.execute(sa.text("CREATE TABLE probe (x INTEGER)"))
            conn.execute(sa.text("INSERT INTO probe VALUES (1)"))
        assert sa.inspect(engine).get_table_names() == ["probe"]
    finally:
        engine.dispose()
