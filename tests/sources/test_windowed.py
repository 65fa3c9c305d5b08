"""Many windows in one pass: the same histograms as each window read alone."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from source_data import DAY, T0, Events

from drift.config import FeatureConfig
from drift.sources import SqlSource, windowed
from drift.sources.dialects import dialect_of
from drift.sources.windowed import EpochMicros, arithmetic_index
from drift.stats.binning import Binning
from drift.stats.histogram import Histogram

pytestmark = pytest.mark.db

FEATURES = [
    FeatureConfig(name="amount", bins=10),
    FeatureConfig(name="qty", bins=5),
    FeatureConfig(name="const"),
    FeatureConfig(name="country", top_k=4),
    FeatureConfig(name="prompt", kind="text", top_k=5),
]
HOUR = timedelta(hours=1)


def _binnings(src: SqlSource) -> dict[str, Binning]:
    return src.fit(FEATURES, T0, T0 + DAY)


def _one_by_one(
    src: SqlSource, binnings: dict[str, Binning], bounds: list[datetime]
) -> list[dict[str, Histogram]]:
    return [src.histograms(binnings, lo, hi) for lo, hi in itertools.pairwise(bounds)]


def _assert_same(got: list[dict[str, Histogram]], want: list[dict[str, Histogram]]) -> None:
    assert len(got) == len(want)
    for i, (g, w) in enumerate(zip(got, want, strict=True)):
        assert list(g) == list(w)
        for name in w:
            assert g[name] == w[name], (i, name, g[name], w[name])


def test_hourly_windows_in_one_pass_equal_each_window_alone(events: Events) -> None:
    src = SqlSource(events.engine, table=events.table, timestamp="ts")
    binnings = _binnings(src)
    # From an hour before the data to an hour after; many rows sit on a bound.
    bounds = [T0 - HOUR + i * HOUR for i in range(3 * 24 + 3)]
    got = list(src.window_histograms(binnings, bounds))
    _assert_same(got, _one_by_one(src, binnings, bounds))
    assert sum(h["qty"].total for h in got) == len(events.rows)
    assert any(h["country"].unseen for h in got)


def test_irregular_windows_use_the_case_tree_and_equal_each_window_alone(events: Events) -> None:
    src = SqlSource(events.engine, table=events.table, timestamp="ts")
    binnings = _binnings(src)
    steps = [0, 1, 3, 4, 9, 17, 18, 30, 45, 46, 60, 71, 72]
    bounds = [T0 + s * HOUR + timedelta(minutes=s % 2 * 37) for s in steps]
    assert not arithmetic_index("naive", src.dialect, bounds)
    _assert_same(list(src.window_histograms(binnings, bounds)), _one_by_one(src, binnings, bounds))


def test_a_range_split_over_several_queries_gives_the_same_windows(
    events: Events, monkeypatch: pytest.MonkeyPatch
) -> None:
    src = SqlSource(events.engine, table=events.table, timestamp="ts")
    binnings = _binnings(src)
    bounds = [T0 + i * 6 * HOUR for i in range(13)]
    whole = list(src.window_histograms(binnings, bounds))
    monkeypatch.setattr(windowed, "MAX_CELLS", 40)  # a few windows per query
    assert windowed.windows_per_query(20, case_tree=False) == 2
    _assert_same(list(src.window_histograms(binnings, bounds)), whole)
    _assert_same(whole, _one_by_one(src, binnings, bounds))


def test_without_pushdown_windows_are_streamed_one_by_one(events: Events) -> None:
    src = SqlSource(events.engine, table=events.table, timestamp="ts", pushdown=False)
    binnings = _binnings(src)
    bounds = [T0 + i * 12 * HOUR for i in range(7)]
    _assert_same(list(src.window_histograms(binnings, bounds)), _one_by_one(src, binnings, bounds))


def test_bounds_must_increase(events: Events) -> None:
    src = SqlSource(events.engine, table=events.table, timestamp="ts")
    with pytest.raises(ValueError, match="increasing"):
        list(src.window_histograms({}, [T0 + DAY, T0]))


@pytest.mark.parametrize("column", ["iso", "epoch"])
def test_text_and_epoch_timestamps_are_windowed_like_the_window_filter(
    db_url: str, backend: str, column: str
) -> None:
    engine = sa.create_engine(db_url)
    table = sa.Table(
        "stamps",
        sa.MetaData(),
        sa.Column("iso", sa.String(40)),
        sa.Column("epoch", sa.Double),
        sa.Column("x", sa.Integer),
    )
    table.create(engine)
    stamps = [T0 + timedelta(hours=h, seconds=s) for h in range(0, 72, 5) for s in (-1, 0, 1)]
    rows = [
        {"iso": t.strftime("%Y-%m-%d %H:%M:%S"), "epoch": t.timestamp(), "x": i % 7}
        for i, t in enumerate(stamps)
    ]
    with engine.begin() as conn:
        conn.execute(table.insert(), rows)
    src = SqlSource(engine, table="stamps", timestamp=column)
    binnings = src.fit([FeatureConfig(name="x", kind="numeric", bins=3)], None, None)
    bounds = [T0 + i * 5 * HOUR for i in range(16)]
    got = list(src.window_histograms(binnings, bounds))
    _assert_same(got, _one_by_one(src, binnings, bounds))
    assert sum(h["x"].total for h in got) == sum(1 for t in stamps if T0 <= t < bounds[-1])
    engine.dispose()


@pytest.mark.parametrize("backend", ["mariadb"])
def test_mariadb_window_index_ignores_the_session_time_zone(db_url: str, backend: str) -> None:
    engine = sa.create_engine(db_url, connect_args={"init_command": "SET time_zone = '+05:00'"})
    table = sa.Table("ev", sa.MetaData(), sa.Column("ts", sa.DateTime()), sa.Column("x", sa.Float))
    table.create(engine)
    stamps = [T0 + timedelta(hours=h) for h in range(48)]
    with engine.begin() as conn:
        conn.execute(table.insert(), [{"ts": t.replace(tzinfo=None), "x": 1.0} for t in stamps])
        assert conn.execute(sa.text("SELECT @@session.time_zone")).scalar() == "+05:00"
    src = SqlSource(engine, table="ev", timestamp="ts")
    binnings = src.fit([FeatureConfig(name="x", kind="numeric")], None, None)
    got = list(src.window_histograms(binnings, [T0, T0 + DAY, T0 + 2 * DAY]))
    assert [h["x"].total for h in got] == [24, 24]
    engine.dispose()


@pytest.mark.parametrize(
    ("dialect", "spelling"),
    [
        ("postgresql", "date_part('epoch', "),
        ("duckdb", "epoch_us("),
        ("mariadb", "TIMESTAMPDIFF(MICROSECOND, '1970-01-01 00:00:00'"),
        ("sqlite", "julianday("),
    ],
)
def test_epoch_micros_compiles_per_dialect(dialect: str, spelling: str) -> None:
    url = {
        "postgresql": "postgresql+psycopg://",
        "duckdb": "duckdb:///:memory:",
        "mariadb": "mariadb+pymysql://",
        "sqlite": "sqlite://",
    }[dialect]
    engine = sa.create_engine(url)
    sql = str(EpochMicros(sa.column("ts")).compile(dialect=engine.dialect))
    assert spelling in sql
    assert "UNIX_TIMESTAMP" not in sql.upper()
    assert dialect_of(engine).name in windowed.ARITHMETIC_DIALECTS


def _exact_ms(bounds: list[datetime]) -> Any:
    return arithmetic_index("text", dialect_of(sa.create_engine("sqlite://")), bounds)


def test_sqlite_arithmetic_needs_whole_milliseconds() -> None:
    assert _exact_ms([T0, T0 + HOUR, T0 + 2 * HOUR])
    assert not _exact_ms([T0, T0 + timedelta(microseconds=1500)])


def test_arithmetic_only_where_epoch_micros_is_exact() -> None:
    far = datetime(2200, 1, 1, tzinfo=T0.tzinfo)
    postgresql = dialect_of(sa.create_engine("postgresql+psycopg://"))
    assert arithmetic_index("aware", postgresql, [T0, T0 + DAY])
    assert not arithmetic_index("aware", postgresql, [far, far + DAY])
    assert not arithmetic_index("epoch", postgresql, [T0, T0 + DAY])


@pytest.mark.parametrize("backend", ["postgresql"])
def test_microsecond_timestamps_fall_in_the_right_window(db_url: str, backend: str) -> None:
    engine = sa.create_engine(db_url)
    table = sa.Table(
        "ev", sa.MetaData(), sa.Column("ts", sa.DateTime(timezone=True)), sa.Column("x", sa.Float)
    )
    table.create(engine)
    edges = [datetime(y, 6, 1, tzinfo=T0.tzinfo) for y in (1900, 1969, 1970, 2024, 2100)]
    one = timedelta(microseconds=1)
    stamps = [t + d for t in edges for d in (-one, timedelta(0), one)]
    with engine.begin() as conn:
        conn.execute(table.insert(), [{"ts": t, "x": 1.0} for t in stamps])
    src = SqlSource(engine, table="ev", timestamp="ts")
    binnings = src.fit([FeatureConfig(name="x", kind="numeric")], None, None)
    for edge in edges:
        bounds = [edge - DAY, edge, edge + DAY]
        assert arithmetic_index("aware", src.dialect, bounds)
        got = [h["x"].total for h in src.window_histograms(binnings, bounds)]
        assert got == [1, 2], edge
    engine.dispose()


def _grouped_statements(src: SqlSource, binnings: dict[str, Binning], bounds: Any) -> list[str]:
    seen: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if "GROUP BY" in statement:
            seen.append(statement)

    sa.event.listen(src.engine, "before_cursor_execute", record)
    try:
        list(src.window_histograms(binnings, bounds))
    finally:
        sa.event.remove(src.engine, "before_cursor_execute", record)
    return seen


@pytest.mark.parametrize("backend", ["postgresql"])
@pytest.mark.parametrize("aware", [True, False])
def test_postgresql_14_keys_windows_by_date_bin(db_url: str, backend: str, aware: bool) -> None:
    engine = sa.create_engine(db_url)
    table = sa.Table(
        "ev", sa.MetaData(), sa.Column("ts", sa.DateTime(timezone=aware)), sa.Column("x", sa.Float)
    )
    table.create(engine)
    with engine.begin() as conn:
        stamps = [T0 + timedelta(hours=h) for h in range(48)]
        conn.execute(
            table.insert(),
            [{"ts": t if aware else t.replace(tzinfo=None), "x": 1.0} for t in stamps],
        )
        assert windowed.date_bin_supported(conn) == (conn.dialect.server_version_info >= (14,))
    with engine.connect() as conn:
        if not windowed.date_bin_supported(conn):
            pytest.skip("PostgreSQL before 14 has no date_bin")
    src = SqlSource(engine, table="ev", timestamp="ts")
    binnings = src.fit([FeatureConfig(name="x", kind="numeric")], None, None)
    bounds = [T0 + i * 6 * HOUR for i in range(9)]
    (sql,) = _grouped_statements(src, binnings, bounds)
    assert "date_bin(INTERVAL '6:00:00.000000'" in sql
    assert "date_part" not in sql
    assert "generate_series" in sql
    # An older server takes the date_part arithmetic, with the same counts.
    got = [h["x"].total for h in src.window_histograms(binnings, bounds)]
    engine.dialect.server_version_info = (13, 9)
    (old,) = _grouped_statements(src, binnings, bounds)
    assert "date_part('epoch'" in old and "date_bin" not in old
    assert [h["x"].total for h in src.window_histograms(binnings, bounds)] == got == [6] * 8
    engine.dispose()


@pytest.mark.parametrize("backend", ["postgresql"])
@pytest.mark.parametrize("zone", ["UTC", "America/New_York", "Asia/Kolkata"])
def test_date_bin_windows_at_microsecond_edges_in_any_session_time_zone(
    db_url: str, backend: str, zone: str
) -> None:
    engine = sa.create_engine(db_url)

    @sa.event.listens_for(engine, "connect")
    def set_zone(dbapi_conn: Any, record: Any) -> None:
        with dbapi_conn.cursor() as cursor:
            cursor.execute(f"SET TIME ZONE '{zone}'")
        dbapi_conn.commit()

    table = sa.Table(
        "ev",
        sa.MetaData(),
        sa.Column("aware", sa.DateTime(timezone=True)),
        sa.Column("naive", sa.DateTime()),
        sa.Column("x", sa.Float),
    )
    table.create(engine)
    # Windows of 7 h 3 µs from 1 µs past midnight, across the 2024-03-10 DST
    # change of New York; rows on every bound and 1 µs either side of it.
    one = timedelta(microseconds=1)
    step = timedelta(hours=7, microseconds=3)
    origin = datetime(2024, 3, 9, tzinfo=T0.tzinfo) + one
    bounds = [origin + i * step for i in range(13)]
    stamps = [b + d for b in [bounds[0] - step, *bounds] for d in (-one, timedelta(0), one)]
    with engine.begin() as conn:
        assert conn.execute(sa.text("SHOW TIME ZONE")).scalar() == zone
        conn.execute(
            table.insert(),
            [{"aware": t, "naive": t.replace(tzinfo=None), "x": 1.0} for t in stamps],
        )
    want = [sum(1 for t in stamps if lo <= t < hi) for lo, hi in itertools.pairwise(bounds)]
    assert want == [3] * 12
    for column in ("aware", "naive"):
        src = SqlSource(engine, table="ev", timestamp=column)
        binnings = src.fit([FeatureConfig(name="x", kind="numeric")], None, None)
        (sql,) = _grouped_statements(src, binnings, bounds)
        assert "date_bin(INTERVAL '7:00:00.000003'" in sql, column
        got = list(src.window_histograms(binnings, bounds))
        assert [h["x"].total for h in got] == want, column
        _assert_same(got, _one_by_one(src, binnings, bounds))
    engine.dispose()
