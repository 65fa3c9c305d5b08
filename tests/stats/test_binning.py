"""Fitting binnings on a reference and counting windows over them."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from drift.stats import (
    CategoricalBinning,
    Histogram,
    NumericBinning,
    TokenBinning,
    binning_from_spec,
    fit_categorical,
    fit_categorical_counts,
    fit_numeric,
    fit_tokens,
    histogram,
    histogram_from_counts,
)

floats = st.floats(allow_nan=True, allow_infinity=True, width=64)


def test_quantile_cuts_are_the_inverted_cdf_quantiles_of_the_reference() -> None:
    values = np.random.default_rng(0).normal(size=1001)
    expected = np.quantile(values, np.arange(1, 10) / 10, method="inverted_cdf")
    assert fit_numeric(values).cuts == tuple(expected)


def test_quantile_bins_hold_equal_shares_of_the_reference() -> None:
    values = np.random.default_rng(1).normal(size=10_000)
    counts = histogram(fit_numeric(values), values).counts
    # Each cut is a reference value, and a value equal to a cut opens the next bin.
    assert counts.tolist() == [999] + [1000] * 8 + [1001]


def test_tied_quantiles_are_deduplicated() -> None:
    values = [0] * 50 + list(range(1, 51))
    assert fit_numeric(values, bins=10).cuts == (0.0, 10.0, 20.0, 30.0, 40.0)


def test_constant_reference_gets_below_equal_above_bins() -> None:
    binning = fit_numeric([3.0] * 50)
    h = histogram(binning, [2.0, 3.0, 3.0, 3.5])
    assert h.counts.tolist() == [1, 2, 1]


@pytest.mark.parametrize("strategy", ["quantile", "uniform"])
def test_a_constant_reference_at_the_largest_float_gets_finite_cuts(strategy: str) -> None:
    """No finite float lies above it (found by test_fuzz): the equal bin ends at it instead."""
    top = float(np.finfo(np.float64).max)
    with np.errstate(all="raise"):
        binning = fit_numeric([top] * 5, strategy=strategy)
    assert all(np.isfinite(binning.cuts)) and len(binning.cuts) == 2
    h = histogram(binning, [0.0, top, top, float("inf")])
    assert h.counts.tolist() == [1, 0, 3]  # the constant, and anything above, in the top bin


def test_uniform_strategy_cuts_equal_widths() -> None:
    assert fit_numeric([0.0, 10.0, 5.0], bins=5, strategy="uniform").cuts == (2, 4, 6, 8)


def test_uniform_cuts_over_the_whole_float_range_do_not_overflow() -> None:
    assert fit_numeric([-1e308, 1e308], bins=2, strategy="uniform").cuts == (0.0,)


def test_given_edges_are_the_interior_cuts() -> None:
    assert fit_numeric([], edges=[1, 2]).cuts == (1.0, 2.0)


def test_fit_ignores_missing_and_infinite_values() -> None:
    values = [np.nan, None, np.inf, -np.inf, 1.0, 2.0, 3.0, 4.0]
    assert fit_numeric(values, bins=2).cuts == (2.0,)


@pytest.mark.parametrize("values", [[], [np.nan, np.nan], [np.inf, -np.inf]])
def test_fit_without_a_finite_value_is_refused(values: list[float]) -> None:
    with pytest.raises(ValueError, match="no finite value"):
        fit_numeric(values)


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"bins": 0}, ValueError, "`bins` must be >= 1"),
        ({"bins": 2.5}, TypeError, "`bins` must be an integer"),
        ({"strategy": "kmeans"}, ValueError, "`strategy` must be one of"),
        ({"edges": [2, 1]}, ValueError, "`edges` must be strictly increasing"),
        ({"edges": [1, np.inf]}, ValueError, "`edges` must be finite"),
    ],
)
def test_bad_fit_options_are_named(kwargs: dict, error: type[Exception], message: str) -> None:  # type: ignore[type-arg]
    with pytest.raises(error, match=message):
        fit_numeric([1.0, 2.0, 3.0], **kwargs)


def test_numeric_values_that_are_not_numbers_are_refused() -> None:
    with pytest.raises(TypeError, match="found 'a' \\(str\\) at position 1"):
        fit_numeric(np.array([1.0, "a"], dtype=object))
    with pytest.raises(TypeError, match="must hold numbers for a numeric binning, got strings"):
        fit_numeric(["1.0", "a"])


def test_numeric_bin_rule_is_searchsorted_right_with_open_outer_bins() -> None:
    binning = NumericBinning((0.0, 1.0))
    h = histogram(binning, [-np.inf, -1, 0.0, 0.5, 1.0, 7, np.inf, np.nan, None])
    assert h.counts.tolist() == [2, 2, 3]
    assert h.missing == 2


def test_numeric_histogram_matches_numpy_on_random_data() -> None:
    rng = np.random.default_rng(2)
    values = rng.normal(size=100_003)
    values[rng.integers(0, values.size, 500)] = np.nan
    binning = fit_numeric(values[:5000])
    expected = np.bincount(
        np.searchsorted(binning.cuts, values[~np.isnan(values)], side="right"), minlength=10
    )
    h = histogram(binning, values)
    assert h.counts.tolist() == expected.tolist()
    assert h.missing == int(np.isnan(values).sum())


@settings(max_examples=100, deadline=None)
@given(st.lists(floats, max_size=60), st.lists(floats, max_size=60))
def test_merging_numeric_histograms_equals_binning_the_concatenation(
    a: list[float], b: list[float]
) -> None:
    binning = NumericBinning((-1.0, 0.0, 2.5))
    assert histogram(binning, a) + histogram(binning, b) == histogram(binning, a + b)


@settings(max_examples=100, deadline=None)
@given(
    st.lists(st.sampled_from(["a", "b", "c", "d", None]), max_size=40),
    st.lists(st.sampled_from(["a", "b", "c", "e", None]), max_size=40),
)
def test_merging_categorical_histograms_equals_binning_the_concatenation(
    a: list[str | None], b: list[str | None]
) -> None:
    binning = CategoricalBinning(("a", "b"))
    assert histogram(binning, a) + histogram(binning, b) == histogram(binning, a + b)


def test_top_k_categories_by_frequency_ties_by_name() -> None:
    assert fit_categorical(["b", "c", "a", "c", "b"], top_k=2).categories == ("b", "c")


def test_unseen_category_goes_to_other_bin_and_is_reported() -> None:
    h = histogram(CategoricalBinning(("a",)), ["a", "z", "z", "y"])
    assert h.counts.tolist() == [1, 3]
    assert dict(h.unseen) == {"z": 2, "y": 1}


def test_categories_are_compared_as_strings_so_mixed_types_are_defined() -> None:
    binning = fit_categorical([1, "1", 2.0, True, None])
    assert binning.categories == ("1", "2.0", "True")
    assert histogram(binning, ["1", 1, 2.0, "True", np.nan]).counts.tolist() == [2, 1, 1, 0]


def test_categorical_missing_values_are_counted_not_binned() -> None:
    h = histogram(CategoricalBinning(("a",)), ["a", None, np.nan, float("nan")])
    assert (h.counts.tolist(), h.missing) == ([1, 0], 3)


def test_all_missing_categorical_reference_fits_only_the_other_bin() -> None:
    assert fit_categorical([None, np.nan]).labels == ("<other>",)


def test_a_single_string_is_not_a_column() -> None:
    with pytest.raises(TypeError, match="not a single string"):
        fit_categorical("abc")


def test_vocabulary_is_the_top_tokens_with_an_oov_bin() -> None:
    binning = fit_tokens(["The cat", "the dog", "a cat"], top_k=2)
    assert binning.labels == ("cat", "the", "<oov>")
    h = histogram(binning, ["the bird", None, "CAT cat"])
    assert h.counts.tolist() == [2, 1, 1]
    assert (h.missing, dict(h.unseen)) == (1, {"bird": 1})


def test_bigram_vocabulary_joins_words_with_one_space() -> None:
    binning = fit_tokens(["a b c", "a b"], ngram=2)
    assert binning.vocabulary == ("a b", "b c")


def test_binning_specs_round_trip() -> None:
    for binning in (
        fit_numeric([1.0, 2.0, 3.0]),
        fit_categorical(["x", "y"]),
        fit_tokens(["hello world"], ngram=2, tokenizer="whitespace", lowercase=False),
    ):
        assert binning_from_spec(binning.to_spec()) == binning


def test_histogram_refuses_something_that_is_not_a_binning() -> None:
    with pytest.raises(TypeError, match="`binning` must be"):
        histogram((0.0, 1.0), [1.0])  # type: ignore[arg-type]


def test_histogram_of_an_empty_window_is_all_zero() -> None:
    h = histogram(NumericBinning((0.0,)), np.array([], dtype=float))
    assert (h.n, h.missing) == (0, 0)
    assert isinstance(h, Histogram)


def test_token_binning_uses_its_own_tokenizer_options() -> None:
    binning = TokenBinning(("Hello,",), tokenizer="whitespace", lowercase=False)
    assert histogram(binning, ["Hello, hello,"]).counts.tolist() == [1, 1]


@pytest.mark.parametrize("n_cuts", [1, 9, 32, 33, 200])
def test_every_number_of_cuts_follows_the_searchsorted_rule(n_cuts: int) -> None:
    rng = np.random.default_rng(n_cuts)
    values = rng.normal(size=70_000)
    values[::7], values[::11], values[::13] = np.nan, np.inf, -np.inf
    cuts = tuple(np.sort(rng.normal(size=n_cuts)))
    h = histogram(NumericBinning(cuts), values)
    present = values[~np.isnan(values)]
    expected = np.bincount(np.searchsorted(cuts, present, side="right"), minlength=n_cuts + 1)
    assert h.counts.tolist() == expected.tolist()
    assert h.missing == int(np.isnan(values).sum())


@settings(max_examples=100, deadline=None)
@given(st.lists(st.sampled_from(["a", "b", 1, "1", 2.5, None]), max_size=60))
def test_counting_from_value_counts_equals_counting_the_values(values: list[object]) -> None:
    from collections import Counter

    present = Counter(v for v in values if v is not None)
    binning = fit_categorical(values, top_k=2)
    assert fit_categorical_counts(present, top_k=2) == binning
    assert histogram_from_counts(binning, present, missing=values.count(None)) == histogram(
        binning, values
    )


def test_value_counts_must_be_whole_non_negative_counts() -> None:
    with pytest.raises(ValueError, match="`value_counts` must map values to whole counts"):
        histogram_from_counts(CategoricalBinning(("a",)), {"a": -1})
    with pytest.raises(ValueError, match="`value_counts` must map values to whole counts"):
        fit_categorical_counts({"a": 0.5})  # type: ignore[dict-item]
