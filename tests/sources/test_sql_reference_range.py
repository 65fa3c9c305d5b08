"""The reference range of numeric features: fitted with the cuts, counted in every path."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from source_data import DAY, T0, Events

from drift.config import FeatureConfig
from drift.sources import SqlSource
from drift.stats.binning import NumericBinning, binning_from_spec
from drift.stats.counting import histogram
from drift.stats.fitting import fit_numeric
from drift.stats.histogram import Histogram

pytestmark = pytest.mark.db

FEATURES = [
    FeatureConfig(name="amount", bins=10),
    FeatureConfig(name="qty", bins=5),
    FeatureConfig(name="const"),
    FeatureConfig(name="country", top_k=6),
]
REF = (T0, T0 + DAY)
LIVE = (T0 + DAY, T0 + 3 * DAY)


def _floats(values: list[Any]) -> np.ndarray[Any, np.dtype[np.float64]]:
    return np.array([math.nan if v is None else float(v) for v in values], dtype=np.float64)


def _oracle(values: list[Any], low: float, high: float) -> tuple[int, int]:
    """Below and above by hand: NULL and NaN are never outside, infinities are."""
    present = [float(v) for v in values if v is not None and not math.isnan(float(v))]
    return sum(v < low for v in present), sum(v > high for v in present)


def _source(events: Events, **kwargs: Any) -> SqlSource:
    return SqlSource(events.engine, table=events.table, timestamp="ts", **kwargs)


def test_the_fit_keeps_the_finite_minimum_and_maximum_of_the_reference(events: Events) -> None:
    binnings = _source(events).fit(FEATURES, *REF)
    for name in ("amount", "qty", "const"):
        values = _floats(events.values(name, *REF))
        finite = values[np.isfinite(values)]
        binning = binnings[name]
        assert isinstance(binning, NumericBinning)
        assert binning.value_range == (finite.min(), finite.max()), name
    in_memory = fit_numeric(_floats(events.values("amount", *REF)))
    assert binnings["amount"] == in_memory
    assert binnings["amount"].value_range == in_memory.value_range


def test_fixed_edges_and_uniform_bins_keep_the_range_too(events: Events) -> None:
    features = [
        FeatureConfig(name="amount", edges=(0, 50, 100)),
        FeatureConfig(name="qty", bins=4, strategy="uniform"),
    ]
    binnings = _source(events).fit(features, *REF)
    for name in ("amount", "qty"):
        values = _floats(events.values(name, *REF))
        finite = values[np.isfinite(values)]
        assert binnings[name].value_range == (finite.min(), finite.max())  # type: ignore[union-attr]


@pytest.mark.parametrize("pushdown", [True, False])
def test_counts_outside_the_range_equal_the_in_memory_count(events: Events, pushdown: bool) -> None:
    src = _source(events, pushdown=pushdown)
    binnings = src.fit(FEATURES, *REF)
    got = src.histograms(binnings, *LIVE)
    for name in ("amount", "qty", "const"):
        binning = binnings[name]
        assert isinstance(binning, NumericBinning) and binning.value_range is not None
        values = events.values(name, *LIVE)
        assert (got[name].below, got[name].above) == _oracle(values, *binning.value_range), name
        assert got[name].value_range == binning.value_range
        assert got[name] == histogram(binning, _floats(values)), name
    assert got["amount"].below + got["amount"].above > 0
    assert (got["country"].below, got["country"].above, got["country"].value_range) == (0, 0, None)


def test_pushdown_streamed_and_one_pass_windows_count_the_same(events: Events) -> None:
    src = _source(events)
    binnings = src.fit(FEATURES, *REF)
    bounds = [T0 + DAY + i * DAY / 4 for i in range(9)]
    one_pass = list(src.window_histograms(binnings, bounds))
    streamed = list(src.window_histograms(binnings, bounds, pushdown=False))
    for i, (a, b) in enumerate(zip(one_pass, streamed, strict=True)):
        lo, hi = bounds[i], bounds[i + 1]
        alone = src.histograms(binnings, lo, hi)
        for name in ("amount", "qty", "const"):
            assert a[name] == b[name] == alone[name], (i, name)
            assert (a[name].below, a[name].above) == _oracle(
                events.values(name, lo, hi),
                *binnings[name].value_range,  # type: ignore[union-attr, misc]
            )
    total = sum(w["amount"].below + w["amount"].above for w in one_pass)
    whole = src.histograms(binnings, bounds[0], bounds[-1])["amount"]
    assert total == whole.below + whole.above > 0


def test_infinities_are_outside_and_nan_and_null_are_missing(events: Events) -> None:
    src = _source(events)
    binnings = src.fit(FEATURES, *REF)
    amount = binnings["amount"]
    assert isinstance(amount, NumericBinning) and amount.value_range is not None
    low, high = amount.value_range
    live = events.values("amount", *LIVE)
    infinities = sum(1 for v in live if v is not None and math.isinf(v))
    hist = src.histograms(binnings, *LIVE)["amount"]
    finite_outside = sum(
        1 for v in live if v is not None and math.isfinite(v) and not low <= v <= high
    )
    assert hist.below + hist.above == finite_outside + infinities
    assert hist.missing == sum(1 for v in live if v is None or math.isnan(v))


def test_an_old_spec_without_a_range_counts_nothing_outside(events: Events) -> None:
    src = _source(events)
    fitted = src.fit(FEATURES[:1], *REF)["amount"]
    spec = {k: v for k, v in fitted.to_spec().items() if k not in ("low", "high")}
    old = binning_from_spec({**spec, "fit_key": "abc"})
    assert isinstance(old, NumericBinning) and old.value_range is None and old == fitted
    for push in (True, False):
        hist = src.histograms({"amount": old}, *LIVE, pushdown=push)["amount"]
        assert (hist.below, hist.above, hist.value_range) == (0, 0, None)
        counted = src.histograms({"amount": fitted}, *LIVE, pushdown=push)["amount"]
        assert hist.counts.tolist() == counted.counts.tolist()
    merged = Histogram.empty(old.labels) + src.histograms({"amount": fitted}, *LIVE)["amount"]
    assert merged.value_range is None and merged.below == 0
