"""SqlSource on every backend: pushed-down counts agree with numpy, paths agree."""

from __future__ import annotations

import math
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pytest
import sqlalchemy as sa
from source_data import DAY, T0, Events, has_inf, has_nan, load, make_rows

from drift.config import FeatureConfig, SourceConfig
from drift.errors import SourceError
from drift.sources import SqlSource, open_source
from drift.sources.quantiles import positions
from drift.sources.streaming import tokenizer
from drift.stats.binning import CategoricalBinning, NumericBinning, TokenBinning
from drift.stats.histogram import UNSEEN_KEEP

pytestmark = pytest.mark.db

FEATURES = [
    FeatureConfig(name="amount", bins=10),
    FeatureConfig(name="qty", bins=5),
    FeatureConfig(name="const"),
    FeatureConfig(name="country", top_k=6),
    FeatureConfig(name="prompt", kind="text", top_k=8),
]
REF = (T0, T0 + DAY)
LIVE = (T0 + DAY, T0 + 2 * DAY)


def is_missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def numeric_oracle(values: list[Any], cuts: tuple[float, ...]) -> tuple[list[int], int]:
    present = np.array([float(v) for v in values if not is_missing(v)], dtype=np.float64)
    bins = np.searchsorted(np.asarray(cuts, dtype=np.float64), present, "right")
    counts = np.bincount(bins, minlength=len(cuts) + 1)
    return counts.tolist(), len(values) - present.size


def quantile_oracle(values: list[Any], bins: int) -> tuple[float, ...]:
    finite = np.sort([float(v) for v in values if not is_missing(v) and math.isfinite(v)])
    if finite.size == 0:
        return ()
    return tuple(sorted({float(finite[p - 1]) for p in positions(finite.size, bins)}))


def top(values: list[Any], k: int, exclude: tuple[str, ...] = ()) -> list[tuple[str, int]]:
    counts = Counter(str(v) for v in values if v is not None and str(v) not in exclude)
    return sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:k]


def source(events: Events, **kwargs: Any) -> SqlSource:
    return SqlSource(events.engine, table=events.table, timestamp="ts", **kwargs)


def test_quantile_cuts_are_the_inverted_cdf_order_statistics(events: Events) -> None:
    binnings = source(events).fit(FEATURES[:3], *REF)
    for feature in FEATURES[:3]:
        expected = quantile_oracle(events.values(feature.name, *REF), feature.bins)
        assert binnings[feature.name] == NumericBinning(expected), feature.name
    finite = [v for v in events.values("amount", *REF) if not is_missing(v) and math.isfinite(v)]
    numpy_cuts = np.quantile(finite, [i / 10 for i in range(1, 10)], method="inverted_cdf")
    assert np.allclose(binnings["amount"].cuts, numpy_cuts)  # type: ignore[union-attr]


def test_constant_column_gives_one_cut_and_all_values_in_the_upper_bin(events: Events) -> None:
    src = source(events)
    binning = src.fit([FeatureConfig(name="const")], *REF)["const"]
    assert binning == NumericBinning((4.5,))
    hist = src.histograms({"const": binning}, *LIVE)["const"]
    assert hist.counts.tolist() == [0, len(events.values("const", *LIVE))]


def test_uniform_strategy_cuts_between_finite_min_and_max(events: Events) -> None:
    binning = source(events).fit([FeatureConfig(name="amount", bins=4, strategy="uniform")], *REF)
    finite = [v for v in events.values("amount", *REF) if not is_missing(v) and math.isfinite(v)]
    lo, hi = min(finite), max(finite)
    assert np.allclose(binning["amount"].cuts, [lo + (hi - lo) * i / 4 for i in (1, 2, 3)])  # type: ignore[union-attr]


def test_fixed_edges_are_used_as_given(events: Events) -> None:
    binning = source(events).fit([FeatureConfig(name="amount", edges=(0, 50, 100))], *REF)
    assert binning["amount"] == NumericBinning((0.0, 50.0, 100.0))


def test_top_k_categories_are_compared_as_exact_strings(events: Events) -> None:
    binning = source(events).fit([FeatureConfig(name="country", top_k=6)], *REF)["country"]
    expected = tuple(v for v, _ in top(events.values("country", *REF), 6))
    assert binning == CategoricalBinning(expected)


def test_pushed_down_histograms_match_numpy(events: Events) -> None:
    src = source(events)
    binnings = src.fit(FEATURES[:4], *REF)
    hists = src.histograms(binnings, *LIVE)
    for name in ("amount", "qty", "const"):
        counts, missing = numeric_oracle(events.values(name, *LIVE), binnings[name].cuts)  # type: ignore[union-attr]
        assert hists[name].counts.tolist() == counts, name
        assert hists[name].missing == missing, name
    live = events.values("country", *LIVE)
    categories = binnings["country"].labels[:-1]
    assert hists["country"].counts.tolist() == [
        *(sum(1 for v in live if v == c) for c in categories),
        sum(1 for v in live if v is not None and v not in categories),
    ]
    assert hists["country"].missing == live.count(None)
    assert dict(hists["country"].unseen) == dict(top(live, UNSEEN_KEEP, tuple(categories)))


def test_nan_is_missing_and_infinities_land_in_outer_bins(events: Events) -> None:
    src = source(events)
    amounts = events.values("amount", *LIVE)
    nan = sum(1 for v in amounts if isinstance(v, float) and math.isnan(v))
    pos_inf, neg_inf = amounts.count(math.inf), amounts.count(-math.inf)
    assert (nan > 0) == has_nan(events.backend)
    assert (pos_inf + neg_inf > 0) == has_inf(events.backend)
    hist = src.histograms({"amount": NumericBinning((0.0, 1e9))}, *LIVE)["amount"]
    assert hist.missing == amounts.count(None) + nan
    assert hist.counts[0] == neg_inf + sum(
        1 for v in amounts if not is_missing(v) and -math.inf < v < 0
    )
    assert hist.counts[2] == pos_inf


def test_text_histograms_count_tokens_against_the_vocabulary(events: Events) -> None:
    src = source(events)
    binning = src.fit([FEATURES[4]], *REF)["prompt"]
    assert isinstance(binning, TokenBinning)
    tokenize = tokenizer()

    def tokens(window: tuple[datetime, datetime]) -> list[str]:
        texts = [t for t in events.values("prompt", *window) if t is not None]
        options = {"tokenizer": "regex", "lowercase": True, "ngram": 1}
        return [tok for t in texts for tok in tokenize(t, **options)]

    assert binning.vocabulary == tuple(v for v, _ in top(tokens(REF), 8))
    hist = src.histograms({"prompt": binning}, *LIVE)["prompt"]
    live = Counter(tokens(LIVE))
    vocab = binning.vocabulary
    assert hist.counts.tolist() == [
        *(live[t] for t in vocab),
        sum(n for t, n in live.items() if t not in vocab),
    ]
    assert hist.missing == events.values("prompt", *LIVE).count(None)


@pytest.mark.parametrize("chunk_size", [7, 10_000])
def test_streaming_fallback_equals_pushdown(events: Events, chunk_size: int) -> None:
    src = source(events, chunk_size=chunk_size)
    binnings = src.fit(FEATURES[:4], *REF)
    pushed = src.histograms(binnings, *LIVE)
    streamed = src.histograms(binnings, *LIVE, pushdown=False)
    assert pushed.keys() == streamed.keys()
    for name in pushed:
        assert pushed[name] == streamed[name], name


def test_empty_window_gives_zero_histograms(events: Events) -> None:
    src = source(events)
    binnings = src.fit(FEATURES, *REF)
    empty = (T0 - 10 * DAY, T0 - 9 * DAY)
    assert src.row_count(*empty) == 0
    for pushdown in (True, False):
        hists = src.histograms(binnings, *empty, pushdown=pushdown)
        assert all(h.n == 0 and h.missing == 0 for h in hists.values())
        assert [h.labels for h in hists.values()] == [b.labels for b in binnings.values()]


def test_empty_reference_fits_one_bin(events: Events) -> None:
    binnings = source(events).fit(FEATURES[:1], T0 - 10 * DAY, T0 - 9 * DAY)
    assert binnings["amount"] == NumericBinning(())


def test_row_count_and_unbounded_reads(events: Events) -> None:
    src = source(events)
    assert src.row_count(*LIVE) == len(events.values("id", *LIVE))
    assert src.row_count(None, None) == len(events.rows)
    assert src.row_count(T0 + DAY, None) == len(events.values("id", T0 + DAY))
    whole = SqlSource(events.engine, table=events.table, timestamp=None)
    assert whole.row_count(None, None) == len(events.rows)
    with pytest.raises(SourceError, match="no timestamp column"):
        whole.row_count(*LIVE)


def test_missing_column_names_the_column_table_and_existing_columns(events: Events) -> None:
    src = source(events)
    with pytest.raises(SourceError) as info:
        src.fit([FeatureConfig(name="amout", kind="numeric")], *REF)
    message = str(info.value)
    assert "'amout'" in message and "table events" in message
    assert "'amount'" in message and "'country'" in message


def test_missing_timestamp_column_is_named(events: Events) -> None:
    src = SqlSource(events.engine, table=events.table, timestamp="created")
    with pytest.raises(SourceError, match="column 'created' not found in table events"):
        src.row_count(*LIVE)


def test_missing_table_is_named(events: Events) -> None:
    src = SqlSource(events.engine, table="evnts", timestamp="ts")
    with pytest.raises(SourceError, match="table evnts not found"):
        src.row_count(*LIVE)


def test_kinds_are_inferred_from_column_types(events: Events) -> None:
    assert {name: c.kind for name, c in source(events).columns().items()} == {
        "id": None,  # a primary key: an identifier, no feature
        "amount": "numeric",
        "qty": "numeric",
        "const": "numeric",
        "country": "categorical",
        "prompt": "text",
    }


def test_omitted_features_mean_every_column(events: Events) -> None:
    resolved = source(events).resolve_features(None)
    assert [(f.name, f.kind) for f in resolved][-2:] == [
        ("country", "categorical"),
        ("prompt", "text"),
    ]


def test_query_source_reads_the_select(events: Events) -> None:
    query = (
        "SELECT ts, amount, country FROM events "
        "WHERE qty < 5 AND (country IS NULL OR country <> 'a:b')"
    )
    src = SqlSource(events.engine, query=query, timestamp="ts")
    assert set(src.columns()) == {"amount", "country"}
    binnings = src.fit([FeatureConfig(name="amount"), FeatureConfig(name="country")], *REF)
    kept = [r for r in events.rows if r["qty"] < 5 and LIVE[0] <= r["ts"] < LIVE[1]]
    hists = src.histograms(binnings, *LIVE)
    counts, missing = numeric_oracle([r["amount"] for r in kept], binnings["amount"].cuts)  # type: ignore[union-attr]
    assert hists["amount"].counts.tolist() == counts and hists["amount"].missing == missing
    assert hists["country"].total == len(kept)
    streamed = src.histograms(binnings, *LIVE, pushdown=False)
    assert streamed == hists


def test_timestamps_stored_as_text_and_epoch_seconds(db_url: str, backend: str) -> None:
    engine = sa.create_engine(db_url)
    table = sa.Table(
        "stamps",
        sa.MetaData(),
        sa.Column("iso", sa.String(40)),
        sa.Column("epoch", sa.BigInteger),
        sa.Column("x", sa.Integer),
    )
    table.create(engine)
    stamps = [T0 + timedelta(hours=h, seconds=s) for h in range(0, 72, 5) for s in (0, 1)]
    with engine.begin() as conn:
        conn.execute(
            table.insert(),
            [
                {"iso": t.strftime("%Y-%m-%d %H:%M:%S"), "epoch": int(t.timestamp()), "x": 1}
                for t in stamps
            ],
        )
    expected = sum(1 for t in stamps if LIVE[0] <= t < LIVE[1])
    for column in ("iso", "epoch"):
        src = SqlSource(engine, table="stamps", timestamp=column)
        assert src.row_count(*LIVE) == expected, column
    engine.dispose()


def test_window_bounds_must_be_aware(events: Events) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        source(events).row_count(datetime(2024, 1, 1), datetime(2024, 1, 2))


def test_aware_timestamps_are_compared_in_utc(db_url: str, backend: str) -> None:
    engine = sa.create_engine(db_url)
    rows = make_rows(backend, n=120)
    table = sa.Table(
        "ev", sa.MetaData(), sa.Column("ts", sa.DateTime()), sa.Column("x", sa.Float())
    )
    load(engine, table, [{"ts": r["ts"], "x": r["qty"]} for r in rows])
    src = SqlSource(engine, table="ev", timestamp="ts")
    berlin = LIVE[0].astimezone(ZoneInfo("Europe/Berlin"))
    assert src.row_count(berlin, LIVE[1]) == sum(1 for r in rows if LIVE[0] <= r["ts"] < LIVE[1])
    engine.dispose()


def test_open_source_reads_url_and_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'x.db'}"
    assert open_source(SourceConfig(url=url)).url.render_as_string() == url
    monkeypatch.setenv("DRIFT_TEST_SOURCE", url)
    assert open_source(SourceConfig(url_env="DRIFT_TEST_SOURCE")).dialect.name == "sqlite"
    monkeypatch.delenv("DRIFT_TEST_SOURCE")
    with pytest.raises(SourceError, match="DRIFT_TEST_SOURCE"):
        open_source(SourceConfig(url_env="DRIFT_TEST_SOURCE"))
    with pytest.raises(SourceError, match="Airflow connection"):
        open_source(SourceConfig(conn_id="warehouse"))
    engine = sa.create_engine("sqlite://")
    assert open_source(SourceConfig(conn_id="w"), engine_factory=lambda _: engine) is engine


def test_a_url_with_a_bad_port_is_a_source_error_without_the_password(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DRIFT_TEST_SOURCE", "postgresql+psycopg://u:s3cret@h:abc/db")
    with pytest.raises(SourceError, match="environment variable DRIFT_TEST_SOURCE") as caught:
        open_source(SourceConfig(url_env="DRIFT_TEST_SOURCE"))
    assert "s3cret" not in str(caught.value)
