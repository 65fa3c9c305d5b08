"""Identifiers from config are names, never SQL: hostile names on every backend."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa
from source_data import DAY, T0

from drift.config import FeatureConfig
from drift.errors import SourceError
from drift.sources import SqlSource

pytestmark = pytest.mark.db

TABLE = 'x"; DROP TABLE victim; --'
COLUMN = "y`'\"); DROP TABLE victim; --"
STAMP = 'ts" FROM victim; --'


def test_hostile_table_and_column_names_are_read_as_names(db_url: str) -> None:
    engine = sa.create_engine(db_url)
    victim = sa.Table("victim", sa.MetaData(), sa.Column("id", sa.Integer))
    hostile = sa.Table(
        TABLE,
        sa.MetaData(),
        sa.Column(STAMP, sa.DateTime()),
        sa.Column(COLUMN, sa.Double()),
        sa.Column("c", sa.String(10)),
    )
    victim.create(engine)
    hostile.create(engine)
    rows = [
        {STAMP: (T0 + timedelta(hours=h)).replace(tzinfo=None), COLUMN: float(h), "c": f"v{h % 3}"}
        for h in range(48)
    ]
    with engine.begin() as conn:
        conn.execute(victim.insert(), [{"id": 1}])
        conn.execute(hostile.insert(), rows)
    src = SqlSource(engine, table=TABLE, timestamp=STAMP)
    features = [FeatureConfig(name=COLUMN, bins=4), FeatureConfig(name="c")]
    binnings = src.fit(features, T0, T0 + DAY)
    assert binnings[COLUMN].cuts == (5.0, 11.0, 17.0)  # type: ignore[union-attr]
    for pushdown in (True, False):
        hists = src.histograms(binnings, T0 + DAY, T0 + 2 * DAY, pushdown=pushdown)
        assert hists[COLUMN].counts.tolist() == [0, 0, 0, 24]
        assert hists["c"].n == 24
    with pytest.raises(SourceError, match="not found"):
        SqlSource(engine, table=TABLE, timestamp=STAMP).fit(
            [FeatureConfig(name=COLUMN + " x", kind="numeric")], T0, T0 + DAY
        )
    assert sa.inspect(engine).has_table("victim")
    with engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(victim)).scalar_one() == 1
    engine.dispose()
