"""Dispersion estimates, the F tail, quasi and Monte Carlo tests, the missing-rate test."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
import scipy.stats
from hypothesis import given, settings
from hypothesis import strategies as st

from drift.stats import (
    INDEPENDENT,
    Dispersion,
    DocumentMoments,
    Histogram,
    document_dispersion,
    f_sf,
    g_test,
    kl_bias,
    kl_corrected,
    missing_test,
    monte_carlo_g_test,
    quasi_g_test,
    score_feature,
    score_features,
    window_dispersion,
)

GRID_D1 = (0.3, 1, 2, 3.3, 9, 49, 999, 5000)
GRID_D2 = (0.5, 1, 2.5, 6, 19.6, 54, 300, 2999, 1e4, 1e5, 1e6, math.inf)
GRID_X = (1e-8, 1e-3, 0.3, 0.9, 1.0, 1.1, 2, 4, 10, 50, 300, 1e4)


def _oracle(x: float, d1: float, d2: float) -> float:
    return float(scipy.stats.chi2.sf(x * d1, d1) if math.isinf(d2) else scipy.stats.f.sf(x, d1, d2))


def test_f_sf_matches_scipy_on_a_broad_grid() -> None:
    for d1, d2, x in itertools.product(GRID_D1, GRID_D2, GRID_X):
        expected = _oracle(x, d1, d2)
        assert f_sf(x, d1, d2) == pytest.approx(expected, rel=1e-9, abs=1e-300), (x, d1, d2)


@settings(max_examples=300, deadline=None)
@given(st.floats(0, 500), st.floats(0.2, 2000), st.floats(0.2, 1e5))
def test_f_sf_matches_scipy_everywhere(x: float, d1: float, d2: float) -> None:
    assert f_sf(x, d1, d2) == pytest.approx(_oracle(x, d1, d2), rel=1e-8, abs=1e-14)


def test_f_sf_edges() -> None:
    assert f_sf(0.0, 3, 4) == 1.0 and f_sf(math.inf, 3, 4) == 0.0
    with pytest.raises(ValueError, match="`x` must be"):
        f_sf(-1.0, 1, 1)
    with pytest.raises(ValueError, match="`d2` must be > 0"):
        f_sf(1.0, 1, 0)


def test_independent_windows_have_dispersion_about_one() -> None:
    rng = np.random.default_rng(1)
    probs = np.full(10, 0.1)
    phis = [window_dispersion(rng.multinomial(1000, probs, size=7)).phi for _ in range(300)]
    assert 1.0 <= np.mean(phis) < 1.15


def test_overdispersed_windows_recover_the_inflation() -> None:
    # Dirichlet-multinomial: variance inflation (n + a0) / (1 + a0) = 1.99 for n = 100, a0 = 99.
    rng = np.random.default_rng(2)
    alpha = np.full(10, 9.9)
    phis = []
    for _ in range(300):
        shares = rng.dirichlet(alpha, size=30)
        windows = np.array([rng.multinomial(100, s) for s in shares])
        phis.append(window_dispersion(windows).phi)
    assert np.mean(phis) == pytest.approx(1.99, rel=0.05)


def test_window_dispersion_drops_empty_windows_and_needs_two() -> None:
    assert window_dispersion([[5, 5]]) == INDEPENDENT
    assert window_dispersion([[5, 5], [0, 0]]) == INDEPENDENT
    assert window_dispersion(np.zeros((0, 3))) == INDEPENDENT
    some = window_dispersion([[50, 50], [0, 0], [20, 80], [80, 20]])
    assert some.units == 3 and some.source == "reference_windows"


def test_window_dispersion_accepts_histograms() -> None:
    labels = ("a", "b", "c")
    counts = [[30, 40, 30], [50, 20, 30], [20, 50, 30]]
    hists = [Histogram(labels, np.array(c)) for c in counts]
    assert window_dispersion(hists) == window_dispersion(np.array(counts))


def test_document_moments_merge_like_the_whole() -> None:
    rng = np.random.default_rng(3)
    doc = np.sort(rng.integers(0, 200, 3000))
    bins = rng.integers(0, 7, 3000)
    whole = DocumentMoments.from_indices(doc, bins, n_bins=7)
    low, high = doc < 100, doc >= 100
    parts = DocumentMoments.from_indices(doc[low], bins[low], n_bins=7) + (
        DocumentMoments.from_indices(doc[high], bins[high], n_bins=7)
    )
    assert parts.documents == whole.documents
    for name in ("counts", "squares", "cross", "groups"):
        assert np.array_equal(getattr(parts, name), getattr(whole, name)), name
    assert parts.length_squares == whole.length_squares


def test_document_dispersion_is_the_rao_scott_mean_design_effect() -> None:
    rng = np.random.default_rng(4)
    docs = [
        rng.choice(5, size=int(rng.integers(1, 30)), p=rng.dirichlet(np.ones(5)))
        for _ in range(300)
    ]
    moments = DocumentMoments.from_documents(docs, n_bins=5)
    c = np.array([np.bincount(d, minlength=5) for d in docs], dtype=float)
    t = c.sum(axis=1)
    total = t.sum()
    p = c.sum(axis=0) / total
    d = len(docs)
    v = d / (d - 1) * ((c - np.outer(t, p)) ** 2).sum(axis=0) / total**2
    deff = v / (p * (1 - p) / total)
    expected = max(1.0, float(np.sum((1 - p) * deff) / 4))
    found = document_dispersion(moments)
    assert found.phi == pytest.approx(expected, rel=1e-12)
    assert (found.df, found.units, found.source) == (299.0, 300, "documents")


def test_quasi_g_test_is_williams_g_when_independent_and_an_f_test_otherwise() -> None:
    ref, cur = [300, 400, 300, 200], [40, 40, 20, 30]
    williams = g_test(ref, cur, williams=True)
    plain = quasi_g_test(ref, cur)
    assert (plain.statistic, plain.p_value, plain.test) == (
        williams.statistic,
        williams.p_value,
        "g",
    )
    disp = Dispersion(2.5, 40.0, "reference_windows", 7, spread=1.5)
    quasi = quasi_g_test(ref, cur, disp)
    expected = scipy.stats.f.sf(williams.statistic / 3 / 2.5, 3 / 1.5, 40.0)
    assert quasi.test == "quasi_f" and quasi.p_value == pytest.approx(expected, rel=1e-9)


def _exact_conditional_p(ref: list[int], cur: list[int]) -> float:
    """Enumerate every live table with the same margins; P(G >= G_obs)."""
    colors = np.array(ref) + np.array(cur)
    n = sum(cur)
    g_obs = g_test(ref, cur).statistic
    total = 0.0
    for live in itertools.product(*(range(c + 1) for c in colors)):
        if sum(live) != n:
            continue
        prob = scipy.stats.multivariate_hypergeom.pmf(live, colors, n)
        g = g_test(colors - np.array(live), list(live)).statistic
        total += prob if g >= g_obs - 1e-9 else 0.0
    return total


def test_monte_carlo_p_value_matches_exact_enumeration_and_repeats() -> None:
    ref, cur = [6, 5, 4], [1, 4, 8]
    exact = _exact_conditional_p(ref, cur)
    mc = monte_carlo_g_test(ref, cur)
    assert mc.test == "monte_carlo"
    tolerance = 4 * math.sqrt(exact * (1 - exact) / mc.draws) + 1 / mc.draws
    assert abs(mc.p_value - exact) < tolerance
    assert monte_carlo_g_test(ref, cur) == mc


def test_monte_carlo_with_dispersion_is_never_below_the_quasi_f() -> None:
    disp = Dispersion(2.0, 30.0, "reference_windows", 7)
    ref, cur = [10, 10, 10, 10], [0, 1, 5, 24]
    mc = monte_carlo_g_test(ref, cur, disp)
    assert mc.test == "quasi_monte_carlo"
    assert mc.p_value >= quasi_g_test(ref, cur, disp).p_value
    assert mc.p_value >= monte_carlo_g_test(ref, cur).p_value


def test_missing_test_matches_fisher_and_the_g_test() -> None:
    small = missing_test(1, 40, 6, 30)
    _, fisher = scipy.stats.fisher_exact([[1, 39], [6, 24]])
    assert small.test == "exact" and small.p_value == pytest.approx(fisher, rel=1e-9)
    large = missing_test(100, 1000, 40, 200)
    g = g_test([100, 40], [900, 160], williams=True)
    assert large.test == "g" and large.p_value == pytest.approx(g.p_value)
    assert (large.reference_rate, large.current_rate) == (0.1, 0.2)
    disp = Dispersion(3.0, 20.0, "reference_windows", 7)
    quasi = missing_test(100, 1000, 40, 200, disp)
    assert quasi.test == "quasi_f" and quasi.p_value > large.p_value


def test_kl_bias_scales_with_the_dispersion() -> None:
    assert kl_bias(10, 100, phi=3.0) == pytest.approx(3 * kl_bias(10, 100))
    assert kl_corrected(0.2, 10, 100, phi=3.0) == pytest.approx(0.065)
    with pytest.raises(ValueError, match="`phi` must be"):
        kl_bias(10, 100, phi=0.5)


LABELS = ("a", "b", "c", "d")


def test_a_dispersion_lowers_the_evidence_and_raises_the_bias() -> None:
    ref = Histogram(LABELS, np.array([2500, 2500, 2500, 2500]))
    cur = Histogram(LABELS, np.array([280, 250, 240, 230]))
    plain = score_feature(ref, cur, feature="f", kind="numeric")
    disp = Dispersion(4.0, 30.0, "reference_windows", 7)
    quasi = score_feature(ref, cur, feature="f", kind="numeric", dispersion=disp)
    assert (plain.test, quasi.test) == ("g", "quasi_f")
    assert quasi.p_value > plain.p_value
    assert quasi.metrics["kl_corrected"] <= plain.metrics["kl_corrected"]
    assert quasi.dispersion == disp
    assert quasi.notes[0].startswith("rows not independent: dispersion 4 from 7 reference windows")
    assert plain.notes[0].startswith("independent rows assumed")


def test_a_jump_in_missing_values_is_its_own_finding_in_the_bh_family() -> None:
    ref = Histogram(LABELS, np.array([250, 250, 250, 250]), missing=0)
    cur = Histogram(LABELS, np.array([70, 70, 70, 70]), missing=120)
    same = Histogram(LABELS, np.array([25, 25, 25, 25]))
    scores = score_features([("x", "numeric", ref, cur), ("y", "numeric", ref, same)])
    x, y = scores
    assert not x.drifted and x.missing_drifted
    assert (x.missing_reference_rate, x.missing_current_rate) == (0.0, 0.3)
    assert x.missing_p_adjusted >= x.missing_p_value
    assert any(n.startswith("missing rate changed: 0.0% -> 30.0%") for n in x.notes)
    assert (y.missing_method, y.missing_p_value, y.missing_drifted) == ("none", 1.0, False)


def test_text_missing_rate_counts_documents_when_rows_are_given() -> None:
    ref = Histogram(LABELS, np.array([3000, 3000, 3000, 3000]), missing=0)
    cur = Histogram(LABELS, np.array([300, 300, 300, 300]), missing=30)
    s = score_feature(ref, cur, feature="t", kind="text", rows=(1000, 100))
    assert s.missing_current_rate == pytest.approx(30 / 130)
