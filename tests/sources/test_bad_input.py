"""Bad input on every backend: bytes that are not UTF-8, a column that changed type.

Missing tables and columns, NULL/NaN/inf and empty windows are covered in
test_sql_source.py; this file adds what was not.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from drift.config import FeatureConfig, parse_monitor
from drift.errors import SourceError
from drift.run import measure_window
from drift.sources import SqlSource
from drift.store import ResultsStore, upgrade

pytestmark = pytest.mark.db

T0 = datetime(2024, 1, 1, tzinfo=UTC)
DAY = timedelta(days=1)
REF = (T0, T0 + DAY)
LIVE = (T0 + DAY, T0 + 2 * DAY)
PROMPT = FeatureConfig(name="prompt", kind="text", top_k=10)


def naive(ts: datetime) -> datetime:
    return ts.replace(tzinfo=None)


def make_table(engine: sa.Engine, column_type: Any, rows: list[dict[str, Any]]) -> None:
    table = sa.Table(
        "docs",
        sa.MetaData(),
        sa.Column("ts", sa.DateTime()),
        sa.Column("prompt", column_type),
    )
    table.create(engine)
    with engine.begin() as conn:
        conn.execute(table.insert(), rows)


def test_binary_column_is_decoded_as_utf8_and_bad_bytes_name_the_feature(db_url: str) -> None:
    engine = sa.create_engine(db_url)
    good = ["héllo world".encode(), b"hello", b"", None]
    rows = [{"ts": naive(T0 + timedelta(hours=i)), "prompt": v} for i, v in enumerate(good)]
    rows.append({"ts": naive(T0 + DAY), "prompt": b"h\xffllo"})
    make_table(engine, sa.LargeBinary, rows)
    try:
        src = SqlSource(engine, table="docs", timestamp="ts")
        binning = src.fit([PROMPT], *REF)["prompt"]
        assert binning.labels == ("hello", "héllo", "world", "<oov>")
        hist = src.histograms({"prompt": binning}, *REF)["prompt"]
        # The empty document is present with no tokens; only NULL is missing.
        assert hist.counts.tolist() == [1, 1, 1, 0] and hist.missing == 1
        with pytest.raises(SourceError) as info:
            src.histograms({"prompt": binning}, *LIVE)
        assert str(info.value).startswith(
            "feature 'prompt': a row holds bytes that are not valid UTF-8 text "
            "(byte 1: b'h\\xffllo')"
        )
    finally:
        engine.dispose()


def test_sqlite_text_holding_non_utf8_bytes_is_a_clear_error(db_url: str, backend: str) -> None:
    if backend != "sqlite":
        pytest.skip("only SQLite stores bytes that are not UTF-8 in a text column")
    engine = sa.create_engine(db_url)
    rows = [{"ts": naive(T0 + timedelta(minutes=i)), "prompt": "the cat"} for i in range(300)]
    make_table(engine, sa.Text, rows)
    with engine.begin() as conn:
        conn.execute(
            sa.text("INSERT INTO docs VALUES (:ts, CAST(X'68FF6C' AS TEXT))"),
            {"ts": naive(T0 + DAY)},
        )
    try:
        src = SqlSource(engine, table="docs", timestamp="ts")
        binning = src.fit([PROMPT], *REF)["prompt"]
        with pytest.raises(SourceError, match=r"column 'prompt' .*not valid UTF-8"):
            src.histograms({"prompt": binning}, *LIVE)
    finally:
        engine.dispose()


def _events(engine: sa.Engine, amount_type: Any, days: int, value: Any) -> None:
    table = sa.Table(
        "events",
        sa.MetaData(),
        sa.Column("ts", sa.DateTime()),
        sa.Column("amount", amount_type),
        sa.Column("country", sa.String(8)),
    )
    table.drop(engine, checkfirst=True)
    table.create(engine)
    rows = [
        {
            "ts": naive(T0 + timedelta(hours=h)),
            "amount": value(h),
            "country": ["US", "DE", "FR"][h % 3],
        }
        for h in range(24 * days)
    ]
    with engine.begin() as conn:
        conn.execute(table.insert(), rows)


def test_numeric_column_that_became_text_names_the_column(db_url: str) -> None:
    engine = sa.create_engine(db_url)
    _events(engine, sa.Double(), 2, lambda h: h * 1.5)
    try:
        src = SqlSource(engine, table="events", timestamp="ts")
        binnings = src.fit([FeatureConfig(name="amount", kind="numeric")], *REF)
        _events(engine, sa.Text(), 2, lambda h: f"{h * 1.5} EUR")
        changed = SqlSource(engine, table="events", timestamp="ts")
        for pushdown in (True, False):
            with pytest.raises(SourceError) as info:
                changed.histograms(binnings, *LIVE, pushdown=pushdown)
            message = str(info.value)
            assert message.startswith("column 'amount' in table events holds text")
            assert "feature 'amount' is numeric" in message
        with pytest.raises(SourceError, match="column 'amount' in table events holds text"):
            changed.fit([FeatureConfig(name="amount", kind="numeric")], *REF)
    finally:
        engine.dispose()


def test_type_change_is_a_feature_error_in_the_pipeline_and_others_still_run(db_url: str) -> None:
    upgrade(db_url)
    store = ResultsStore(db_url)
    engine = sa.create_engine(db_url)
    _events(engine, sa.Double(), 10, lambda h: float(h % 17))
    monitor = parse_monitor(
        {
            "name": "events_monitor",
            "source": {"url": db_url},
            "table": "events",
            "timestamp": "ts",
            "window": "1d",
            "reference": {"start": T0.isoformat(), "end": (T0 + 3 * DAY).isoformat()},
            "features": [
                {"name": "amount", "kind": "numeric"},
                {"name": "country", "kind": "categorical"},
            ],
            "thresholds": {"min_rows": 10},
        }
    )
    try:
        first = measure_window(monitor, T0 + 5 * DAY, T0 + 6 * DAY, store=store)
        assert first.status == "ok"
        _events(engine, sa.Text(), 10, lambda h: f"{h % 17} EUR")
        result = measure_window(monitor, T0 + 6 * DAY, T0 + 7 * DAY, store=store)
        assert result.status == "error"
        assert "amount: column 'amount' in table events holds text" in (result.error or "")
        assert [s.feature for s in result.scores] == ["country"]
        run = next(r for r in store.runs("events_monitor") if r.status == "error")
        assert "column 'amount'" in (run.error or "")
        assert {s.feature for s in store.run_scores(run.id)} == {"country"}
    finally:
        engine.dispose()
