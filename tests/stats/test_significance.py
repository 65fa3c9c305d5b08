"""G-test, chi-square tail, KL bias and Benjamini-Hochberg, with scipy as the oracle."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.stats
from hypothesis import given, settings
from hypothesis import strategies as st

from drift.stats import benjamini_hochberg, chi2_sf, g_test, kl_bias, kl_corrected, kl_divergence


@pytest.mark.parametrize(
    ("x", "dof"),
    [
        (0.001, 1),
        (3.841458820694124, 1),
        (21.666, 9),
        (100.0, 50),
        (1e-8, 3),
        (5000.0, 4999),
        (20000.0, 20000),
        (300.0, 10),
        (1e4, 9),
    ],
)
def test_chi2_sf_matches_scipy(x: float, dof: int) -> None:
    assert chi2_sf(x, dof) == pytest.approx(scipy.stats.chi2.sf(x, dof), rel=1e-9, abs=1e-300)


@settings(max_examples=300, deadline=None)
@given(st.floats(0, 2000), st.integers(1, 1000))
def test_chi2_sf_matches_scipy_everywhere(x: float, dof: int) -> None:
    assert chi2_sf(x, dof) == pytest.approx(scipy.stats.chi2.sf(x, dof), rel=1e-8, abs=1e-15)


def test_chi2_sf_edges() -> None:
    assert chi2_sf(0.0, 5) == 1.0
    assert chi2_sf(float("inf"), 5) == 0.0
    with pytest.raises(ValueError, match="`x` must be a number >= 0"):
        chi2_sf(-1.0, 1)
    with pytest.raises(ValueError, match="`dof` must be >= 1"):
        chi2_sf(1.0, 0)


def test_g_test_matches_scipy_log_likelihood_contingency_on_random_tables() -> None:
    rng = np.random.default_rng(3)
    for _ in range(100):
        k = int(rng.integers(2, 30))
        ref = rng.integers(1, 500, size=k)
        cur = rng.integers(0, 50, size=k)
        g, dof, p = g_test(ref, cur)
        sg, sp, sdof, _ = scipy.stats.chi2_contingency(
            np.stack([ref, cur]), correction=False, lambda_="log-likelihood"
        )
        assert (g, dof) == (pytest.approx(sg, rel=1e-9), sdof)
        assert p == pytest.approx(scipy.stats.chi2.sf(g, dof), rel=1e-8, abs=1e-300)
        assert p == pytest.approx(sp, rel=1e-6, abs=1e-300)


def test_williams_correction_divides_g_by_q() -> None:
    ref, cur = np.array([30, 40, 30]), np.array([40, 40, 20])
    rows, cols, total = np.array([100, 100]), ref + cur, 200
    q = 1 + (total * np.sum(1 / rows) - 1) * (total * np.sum(1 / cols) - 1) / (6 * total * 2)
    plain, corrected = g_test(ref, cur), g_test(ref, cur, williams=True)
    assert corrected.statistic == pytest.approx(plain.statistic / q)
    assert corrected.p_value > plain.p_value


def test_g_test_drops_bins_empty_on_both_sides() -> None:
    assert g_test([10, 0, 20], [5, 0, 9]) == g_test([10, 20], [5, 9])


def test_g_test_with_one_non_empty_bin_has_nothing_to_test() -> None:
    assert tuple(g_test([10, 0], [5, 0])) == (0.0, 0, 1.0)


def test_g_is_about_twice_n_times_kl_for_a_large_reference() -> None:
    ref = np.array([250_000, 250_000, 500_000])
    cur = np.array([300, 200, 500])
    g, _, _ = g_test(ref, cur)
    assert g == pytest.approx(2 * 1000 * kl_divergence(cur, ref, smoothing=None), rel=0.01)


@pytest.mark.parametrize(
    ("ref", "cur", "message"),
    [
        ([0, 0], [1, 1], "`ref_counts` must hold at least one count"),
        ([1, 1], [0, 0], "`cur_counts` must hold at least one count"),
        ([0.5, 0.5], [1, 1], "`ref_counts` must be whole numbers"),
        ([1, 2], [1, 2, 3], "same number of bins"),
        ([1, -2], [1, 2], "must be non-negative"),
    ],
)
def test_g_test_refuses_bad_counts(ref: list[float], cur: list[float], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        g_test(ref, cur)


def test_kl_bias_is_half_dof_over_effective_sample_size() -> None:
    assert kl_bias(10, 100) == pytest.approx(0.045)
    assert kl_bias(10, 100, 100) == pytest.approx(0.09)


def test_kl_bias_matches_the_mean_kl_of_unchanged_samples() -> None:
    rng = np.random.default_rng(11)
    probs = np.full(10, 0.1)
    kls = [
        kl_divergence(rng.multinomial(2000, probs), rng.multinomial(20_000, probs), smoothing=None)
        for _ in range(400)
    ]
    assert np.mean(kls) == pytest.approx(kl_bias(10, 2000, 20_000), rel=0.1)


def test_kl_corrected_clips_at_zero() -> None:
    assert kl_corrected(0.01, 10, 100) == 0.0
    assert kl_corrected(0.05, 10, 100) == pytest.approx(0.005)


def test_benjamini_hochberg_matches_scipy() -> None:
    rng = np.random.default_rng(5)
    for size in (1, 2, 7, 50):
        p = rng.uniform(size=size) ** 3
        expected = scipy.stats.false_discovery_control(p, method="bh")
        assert benjamini_hochberg(p) == pytest.approx(expected)


def test_benjamini_hochberg_of_nothing_is_nothing() -> None:
    assert benjamini_hochberg([]).tolist() == []


def test_benjamini_hochberg_refuses_nan_and_out_of_range() -> None:
    with pytest.raises(ValueError, match="`pvalues` must be numbers in"):
        benjamini_hochberg([0.1, float("nan")])
    with pytest.raises(ValueError, match="`pvalues` must be numbers in"):
        benjamini_hochberg([1.5])
