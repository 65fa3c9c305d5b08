"""Identifiers in monitor YAML built to inject SQL are read as names, on every dialect.

Tables, feature columns and the timestamp column are named with quotes,
backticks, semicolons and comments (``x"; DROP TABLE victim; --`` and
friends). They are created for real, written into a monitor YAML file, loaded
with ``load_monitor`` and monitored with ``run_window`` into a results store
on the same database (bins counted in the database, and streamed): every
window is measured, the hostile names come back
as feature names, and the ``victim`` table survives with its row.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
import yaml
from fault_support import DAY, DAY0, LIVE

from drift.config import load_monitor
from drift.run import run_window
from drift.store import ResultsStore, upgrade

pytestmark = pytest.mark.db

HOSTILE = [
    'x"; DROP TABLE victim; --',
    "x`; DROP TABLE victim; --",
    "x'); DROP TABLE victim; --",
]
STAMP = "ts'; DELETE FROM victim; /*"
PER_DAY = 40


def _create(engine: sa.Engine, table: str) -> None:
    meta = sa.MetaData()
    hostile = sa.Table(
        table,
        meta,
        sa.Column(STAMP, sa.DateTime, nullable=False),
        sa.Column(HOSTILE[0], sa.Float),
        sa.Column(HOSTILE[1], sa.String(40)),
        sa.Column(HOSTILE[2], sa.Float),
    )
    meta.create_all(engine)
    rows = []
    for day in range(9):
        for i in range(PER_DAY):
            ts = DAY0 + day * DAY + timedelta(minutes=30 * i)
            rows.append(
                {
                    STAMP: ts.replace(tzinfo=None),
                    HOSTILE[0]: float(i + (20 if day == 8 else 0)),
                    HOSTILE[1]: f"{HOSTILE[1]}{i % 3}" if day < 8 else "'; --",
                    HOSTILE[2]: None if i % 7 == 0 else float(i % 5),
                }
            )
    with engine.begin() as conn:
        conn.execute(hostile.insert(), rows)


def test_hostile_names_are_monitored_and_never_executed(db_url: str, tmp_path: Path) -> None:
    engine = sa.create_engine(db_url)
    victim = sa.Table("victim", sa.MetaData(), sa.Column("id", sa.Integer))
    victim.create(engine)
    with engine.begin() as conn:
        conn.execute(victim.insert(), [{"id": 1}])
    for table in HOSTILE:
        _create(engine, table)
    upgrade(db_url)
    store = ResultsStore(db_url)
    cases = [(i, table, push) for i, table in enumerate(HOSTILE) for push in (True, False)]
    for i, table, push in cases:
        path = tmp_path / f"hostile{i}{push}.yaml"
        path.write_text(
            yaml.safe_dump(
                {
                    "name": f"hostile{i}-{'pushdown' if push else 'streamed'}",
                    "source": {"url": db_url},
                    "table": table,
                    "timestamp": STAMP,
                    "window": "1d",
                    "reference": {"start": "2024-03-01", "end": "2024-03-08"},
                    "features": [
                        {"name": HOSTILE[0], "kind": "numeric", "bins": 4},
                        {"name": HOSTILE[1], "kind": "categorical"},
                        {"name": HOSTILE[2], "kind": "numeric", "bins": 3},
                    ],
                    "thresholds": {"min_rows": 10},
                    "pushdown": push,
                }
            ),
            encoding="utf-8",
        )
        mon = load_monitor(path)
        assert mon.table == table
        result = run_window(mon, *LIVE, store=store)
        assert result.status == "ok", result.error
        assert [s.feature for s in result.scores] == HOSTILE
        assert all(s.current.total == PER_DAY for s in result.scores)
        assert set(result.drifted) == {HOSTILE[0], HOSTILE[1]}
        (run,) = store.runs(mon.name)
        assert sorted({s.feature for s in store.run_scores(run.id)}) == sorted(HOSTILE)
        assert store.monitor_config(mon.name)["table"] == table  # type: ignore[index]
    assert sa.inspect(engine).has_table("victim")
    with engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(victim)).scalar_one() == 1
    store.close()
    engine.dispose()
