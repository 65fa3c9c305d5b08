"""The reference range of a numeric binning: fitted, kept in the spec, counted, merged."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from drift.stats.binning import NumericBinning, binning_from_spec
from drift.stats.counting import histogram
from drift.stats.fitting import fit_numeric
from drift.stats.histogram import Histogram

NAN, INF = math.nan, math.inf


@pytest.mark.parametrize("strategy", ["quantile", "uniform"])
def test_the_fit_keeps_the_finite_minimum_and_maximum(strategy: str) -> None:
    values = [5.0, NAN, -INF, 2.0, 9.5, INF, 3.0]
    assert fit_numeric(values, bins=3, strategy=strategy).value_range == (2.0, 9.5)


def test_constant_one_bin_and_fixed_edges_keep_the_range() -> None:
    assert fit_numeric([4.0, 4.0]).value_range == (4.0, 4.0)
    assert fit_numeric([1.0, 3.0], bins=1).value_range == (1.0, 3.0)
    assert fit_numeric([1.0, 30.0, NAN], edges=[2, 5]).value_range == (1.0, 30.0)
    assert fit_numeric([], edges=[2, 5]).value_range is None


def test_the_spec_carries_the_range_and_an_old_spec_still_loads() -> None:
    binning = fit_numeric(np.arange(100.0), bins=4)
    spec = json.loads(json.dumps(binning.to_spec()))
    assert spec["low"] == 0.0 and spec["high"] == 99.0
    loaded = binning_from_spec(spec)
    assert isinstance(loaded, NumericBinning) and loaded.value_range == (0.0, 99.0)
    old = binning_from_spec({"kind": "numeric", "cuts": list(binning.cuts), "fit_key": "k"})
    assert isinstance(old, NumericBinning)
    assert old.value_range is None and old == binning and "low" not in old.to_spec()


def test_a_range_must_be_whole_finite_and_ordered() -> None:
    with pytest.raises(ValueError, match="together"):
        NumericBinning((1.0,), low=0.0)
    with pytest.raises(ValueError, match="finite"):
        NumericBinning((1.0,), low=2.0, high=1.0)
    with pytest.raises(ValueError, match="finite"):
        NumericBinning((1.0,), low=-INF, high=1.0)


def test_counts_outside_nan_is_missing_infinities_are_outside() -> None:
    binning = NumericBinning((0.0, 1.0), low=-1.0, high=2.0)
    h = histogram(binning, [-5.0, -1.0, 0.5, 2.0, 2.5, INF, -INF, NAN])
    assert (h.below, h.above, h.missing, h.n) == (2, 2, 1, 7)
    assert h.outside_range == pytest.approx(4 / 7)
    assert h.value_range == (-1.0, 2.0)
    none = histogram(NumericBinning((0.0, 1.0)), [-5.0, 9.0])
    assert (none.below, none.above, none.value_range, none.outside_range) == (0, 0, None, 0.0)


def test_chunked_counting_and_merging_add_up() -> None:
    rng = np.random.default_rng(3)
    reference = rng.normal(size=1000)
    binning = fit_numeric(reference)
    live = rng.normal(0.5, 1.5, size=200_000)
    whole = histogram(binning, live)
    assert whole.below == int(np.sum(live < reference.min()))
    assert whole.above == int(np.sum(live > reference.max()))
    merged = histogram(binning, live[:70_001]) + histogram(binning, live[70_001:])
    assert merged == whole
    assert Histogram.from_dict(json.loads(json.dumps(whole.to_dict()))) == whole
    other = histogram(NumericBinning(binning.cuts), live[:10])
    mixed = histogram(binning, live[:10]) + other
    assert (mixed.below, mixed.above, mixed.value_range) == (0, 0, None)
