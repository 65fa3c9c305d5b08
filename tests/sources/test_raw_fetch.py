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


def _pg_docs(db_url: str, backend: str) -> tuple[sa.Engine, sa.Table]:
    if backend != "postgresql":
        import pytest

        pytest.skip("the raw read is PostgreSQL's (psycopg)")
    return _table(db_url)


def test_a_failing_raw_read_raises_sqlalchemy_s_error(db_url: str, backend: str) -> None:
    """Callers record SQLAlchemy errors as failed runs: a psycopg error must arrive as one."""
    import pytest

    engine, table = _pg_docs(db_url, backend)
    bad = sa.cast(table.c.body, sa.Integer)  # 'plain words' is no integer
    with engine.connect() as conn:
        chunks = raw_text_rows(conn, sa.select(bad), 64)
        assert chunks is not None
        with pytest.raises(sa.exc.DataError, match="invalid input syntax"):
            list(chunks)
    engine.dispose()


def test_a_connection_killed_during_a_raw_read_is_a_lost_connection(
    db_url: str, backend: str
) -> None:
    import pytest

    engine, table = _pg_docs(db_url, backend)
    with engine.connect() as conn, engine.connect() as killer:
        pid = conn.execute(sa.text("SELECT pg_backend_pid()")).scalar_one()
        chunks = raw_text_rows(conn, sa.select(table.c.body), 64)
        assert chunks is not None
        assert len(next(chunks)) == 64
        killer.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        with pytest.raises(sa.exc.OperationalError) as caught:
            list(chunks)
        assert caught.value.connection_invalidated
        assert conn.invalidated
    engine.dispose()
