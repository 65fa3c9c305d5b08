"""Divergences: known answers, scipy as oracle, and the properties that make them divergences."""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.spatial.distance
import scipy.stats
from hypothesis import given, settings
from hypothesis import strategies as st

import drift
from drift.stats import (
    conditional_kl,
    hellinger,
    jeffreys,
    jensen_shannon,
    kl_contributions,
    kl_divergence,
    reverse_kl,
    smooth,
    total_variation,
)

P = [0.4, 0.4, 0.2]
Q = [0.3, 0.4, 0.3]

counts = st.lists(st.integers(0, 1000), min_size=2, max_size=30)


def count_pairs() -> st.SearchStrategy[tuple[list[int], list[int]]]:
    return st.integers(2, 30).flatmap(
        lambda k: st.tuples(
            st.lists(st.integers(0, 1000), min_size=k, max_size=k),
            st.lists(st.integers(0, 1000), min_size=k, max_size=k),
        )
    )


def test_known_answer_unsmoothed_kl_is_0_033980_nats() -> None:
    assert drift.kl_divergence(P, Q, smoothing=None) == pytest.approx(0.033980, abs=5e-7)


def test_known_answer_in_bits_is_nats_over_ln2() -> None:
    nats = kl_divergence(P, Q, smoothing=None)
    assert kl_divergence(P, Q, smoothing=None, base="bits") == pytest.approx(nats / math.log(2))


def test_kl_is_asymmetric_on_the_known_pair() -> None:
    assert kl_divergence(P, Q, smoothing=None) != pytest.approx(reverse_kl(P, Q, smoothing=None))
    assert reverse_kl(P, Q, smoothing=None) == pytest.approx(kl_divergence(Q, P, smoothing=None))


def test_counts_and_their_probabilities_agree_without_smoothing() -> None:
    assert kl_divergence([40, 40, 20], [300, 400, 300], smoothing=None) == pytest.approx(
        kl_divergence(P, Q, smoothing=None)
    )


def test_lidstone_on_probabilities_is_refused_with_a_hint() -> None:
    with pytest.raises(ValueError, match="whole numbers for Lidstone"):
        kl_divergence(P, Q)


def test_epsilon_smoothing_accepts_probabilities() -> None:
    assert kl_divergence(P, Q, smoothing="epsilon") == pytest.approx(0.033980, abs=1e-5)


def test_unsmoothed_kl_is_inf_when_live_has_mass_the_reference_lacks() -> None:
    assert kl_divergence([1, 1], [1, 0], smoothing=None) == math.inf
    assert kl_contributions([1, 1], [1, 0], smoothing=None).tolist()[1] == math.inf


def test_unsmoothed_kl_ignores_bins_empty_in_live() -> None:
    assert kl_divergence([1, 0], [1, 1], smoothing=None) == pytest.approx(math.log(2))


@settings(max_examples=200, deadline=None)
@given(count_pairs())
def test_kl_matches_scipy_entropy_on_smoothed_probabilities(
    pair: tuple[list[int], list[int]],
) -> None:
    p, q = pair
    expected = scipy.stats.entropy(smooth(p), smooth(q))
    assert kl_divergence(p, q) == pytest.approx(expected, rel=1e-9, abs=1e-12)


@settings(max_examples=200, deadline=None)
@given(count_pairs())
def test_js_matches_scipy_jensenshannon_squared(pair: tuple[list[int], list[int]]) -> None:
    p, q = pair
    expected = scipy.spatial.distance.jensenshannon(smooth(p), smooth(q)) ** 2
    assert jensen_shannon(p, q) == pytest.approx(expected, rel=1e-7, abs=1e-12)


@settings(max_examples=200, deadline=None)
@given(count_pairs())
def test_kl_is_non_negative(pair: tuple[list[int], list[int]]) -> None:
    assert kl_divergence(*pair) >= 0


@settings(max_examples=100, deadline=None)
@given(counts)
def test_kl_of_a_distribution_with_itself_is_zero(c: list[int]) -> None:
    assert kl_divergence(c, c) == 0.0
    assert jensen_shannon(c, c) == 0.0
    assert hellinger(c, c) == pytest.approx(0.0, abs=1e-7)


@settings(max_examples=200, deadline=None)
@given(count_pairs())
def test_js_is_at_most_ln2_and_hellinger_tv_at_most_1(pair: tuple[list[int], list[int]]) -> None:
    p, q = pair
    for smoothing in ("lidstone", "epsilon", None):
        if smoothing != "lidstone" and (sum(p) == 0 or sum(q) == 0):
            continue
        assert 0 <= jensen_shannon(p, q, smoothing=smoothing) <= math.log(2)
        assert 0 <= hellinger(p, q, smoothing=smoothing) <= 1
        assert 0 <= total_variation(p, q, smoothing=smoothing) <= 1


def test_js_of_disjoint_distributions_is_ln2() -> None:
    assert jensen_shannon([1, 0], [0, 1], smoothing=None) == pytest.approx(math.log(2))


@settings(max_examples=200, deadline=None)
@given(count_pairs())
def test_smoothed_divergences_are_always_finite(pair: tuple[list[int], list[int]]) -> None:
    p, q = pair
    for f in (kl_divergence, reverse_kl, jeffreys, jensen_shannon):
        assert math.isfinite(f(p, q))
    if sum(p) and sum(q):
        assert math.isfinite(kl_divergence(p, q, smoothing="epsilon"))


@settings(max_examples=100, deadline=None)
@given(count_pairs(), st.randoms(use_true_random=False))
def test_bin_order_does_not_change_divergences(pair: tuple[list[int], list[int]], rnd) -> None:  # type: ignore[no-untyped-def]
    p, q = pair
    order = list(range(len(p)))
    rnd.shuffle(order)
    p2, q2 = [p[i] for i in order], [q[i] for i in order]
    for f in (kl_divergence, reverse_kl, jeffreys, jensen_shannon, hellinger, total_variation):
        assert f(p2, q2) == pytest.approx(f(p, q), rel=1e-9, abs=1e-12)


@settings(max_examples=100, deadline=None)
@given(count_pairs())
def test_contributions_sum_to_kl(pair: tuple[list[int], list[int]]) -> None:
    p, q = pair
    assert kl_contributions(p, q).sum() == pytest.approx(kl_divergence(p, q), abs=1e-12)


def test_jeffreys_is_kl_plus_reverse_kl() -> None:
    assert jeffreys([5, 3, 2], [2, 3, 5]) == pytest.approx(
        kl_divergence([5, 3, 2], [2, 3, 5]) + reverse_kl([5, 3, 2], [2, 3, 5])
    )


def test_psi_is_jeffreys() -> None:
    assert drift.psi is jeffreys


def test_hellinger_and_tv_known_answers() -> None:
    assert total_variation(P, Q, smoothing=None) == pytest.approx(0.1)
    expected = math.sqrt(
        0.5 * sum((math.sqrt(a) - math.sqrt(b)) ** 2 for a, b in zip(P, Q, strict=True))
    )
    assert hellinger(P, Q, smoothing=None) == pytest.approx(expected)


def test_conditional_kl_ignores_a_change_in_context_frequency() -> None:
    labels = ["a x", "a y", "b x", "b y", "<oov>"]
    # Context "b" became much rarer, but what follows each context did not change.
    assert conditional_kl([10, 10, 1, 1, 50], [10, 10, 10, 10, 0], labels, smoothing=None) == 0.0


def test_conditional_kl_weights_each_context_by_its_live_share() -> None:
    labels = ["a x", "a y", "b x", "b y"]
    kl_b = kl_divergence([9, 1], [1, 9], smoothing=None)
    assert conditional_kl([5, 5, 9, 1], [5, 5, 1, 9], labels, smoothing=None) == pytest.approx(
        0.5 * kl_b
    )


@pytest.mark.parametrize(
    ("p", "q", "error", "message"),
    [
        ([], [], ValueError, "`p` must not be empty"),
        ([1, 2], [1, 2, 3], ValueError, "same number of bins"),
        ([1, -1], [1, 1], ValueError, "`p` must be non-negative"),
        ([1, float("nan")], [1, 1], ValueError, "`p` must hold finite numbers"),
        ([1, 1], [1, float("inf")], ValueError, "`q` must hold finite numbers"),
        ([[1, 1]], [[1, 1]], ValueError, "one-dimensional"),
        (["a", "b"], [1, 1], TypeError, "`p` must be an array of numbers"),
    ],
)
def test_bad_input_is_refused_naming_the_argument(
    p: object, q: object, error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        kl_divergence(p, q)  # type: ignore[arg-type]


def test_all_zero_counts_without_smoothing_are_refused() -> None:
    with pytest.raises(ValueError, match="must not be all zero"):
        kl_divergence([0, 0], [1, 1], smoothing=None)


def test_bad_base_and_smoothing_are_named() -> None:
    with pytest.raises(ValueError, match="`base` must be 'nats' or 'bits'"):
        kl_divergence([1, 1], [1, 1], base="hartleys")
    with pytest.raises(ValueError, match="`smoothing` must be one of"):
        kl_divergence([1, 1], [1, 1], smoothing="laplace")


def test_random_pairs_against_scipy_with_numpy_generator() -> None:
    rng = np.random.default_rng(7)
    for _ in range(50):
        k = int(rng.integers(2, 40))
        p, q = rng.dirichlet(np.ones(k)), rng.dirichlet(np.ones(k))
        assert kl_divergence(p, q, smoothing=None) == pytest.approx(scipy.stats.entropy(p, q))
