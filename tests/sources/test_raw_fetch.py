"""Text streams read from psycopg's cursor give exactly what SQLAlchemy's rows give."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from drift.sources.raw_fetch import raw_text_rows
from drift.sources.streaming import stream_rows

T0 = datetime(2024, 1, 1, tzinfo=UTC)
DOCS = ["plain words", "", None, "émoji 🎉 and ünïcode", "x'; DROP TABLE t; --", "a\nb\tc"]


def _table(url: str) -> tuple[sa.Engine, sa.Table]:
    engine = sa.create_engine(url)
    meta = sa.MetaData()
    table = sa.Table(
        "docs", meta, sa.Column("ts", sa.DateTime(timezone=True)), sa.Column("body", sa.Text)
    )
    meta.create_all(engine)
    rows = [{"ts": T0 + timedelta(hours=i), "body": DOCS[i % len(DOCS)]} for i in range(500)]
    with engine.begin() as conn:
        conn.execute(table.insert(), rows)
    return engine, table


def test_raw_rows_equal_sqlalchemy_rows_and_only_on_psycopg(db_url: str, backend: str) -> None:
    engine, table = _table(db_url)
    where = sa.and_(table.c.ts >= T0 + timedelta(hours=3), table.c.ts < T0 + timedelta(hours=401))
    columns = [table.c.body, sa.case((table.c.body.is_(None), 1), else_=0)]
    with engine.connect() as conn:
        query = sa.select(*columns).where(where)
        raw = raw_text_rows(conn, query, 64)
        assert (raw is not None) == (backend == "postgresql")
        if raw is not None:
            raw_chunks = list(raw)
            assert max(len(c) for c in raw_chunks) == 64
        fast = [
            tuple(r)
            for c in stream_rows(conn, columns, table, where, 64, text_only=True)
            for r in c
        ]
        slow = [tuple(r) for c in stream_rows(conn, columns, table, where, 64) for r in c]
    engine.dispose()
    assert fast == slow and len(fast) == 398
    assert sorted(fast, key=repr) == sorted(
        ((d, int(d is None)) for d in (DOCS[i % len(DOCS)] for i in range(3, 401))), key=repr
    )
