"""Pairs: the joint histogram, the chain-rule split of its KL, and scoring a pair.

The split is checked against scipy.stats.entropy (an independent oracle for
every term) and, on random tables drawn by hypothesis, for the identity
``KL(joint) = KL(marginal) + sum_x P(x) KL(conditional)``.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from scipy.stats import entropy

from drift.stats import (
    CategoricalBinning,
    Histogram,
    NumericBinning,
    PairBinning,
    bin_index,
    binning_from_spec,
    chain_rule_kl,
    histogram,
    joint_counts,
    joint_histogram,
    pair_name,
    score_feature,
    score_features,
    smooth,
)


def _oracle(p: np.ndarray, q: np.ndarray) -> tuple[float, float, float]:
    """Joint, marginal and conditional KL of two joint probability tables, by scipy."""
    px, qx = p.sum(axis=1), q.sum(axis=1)
    conditional = sum(
        px[i] * entropy(p[i] / px[i], q[i] / qx[i]) for i in range(p.shape[0]) if px[i] > 0
    )
    return float(entropy(p.ravel(), q.ravel())), float(entropy(px, qx)), float(conditional)


def test_pair_name_joins_with_a_multiplication_sign() -> None:
    assert pair_name("amount", "country") == "amount \u00d7 country"


def test_pair_binning_cells_are_row_major_with_x_outer() -> None:
    pair = PairBinning(NumericBinning((0.0, 1.0)), CategoricalBinning(("a", "b")))
    assert pair.shape == (3, 3)
    assert pair.labels[:3] == ("(-inf, 0) × a", "(-inf, 0) × b", "(-inf, 0) × <other>")
    assert pair.labels[3] == "[0, 1) × a"
    assert pair.to_spec() == {
        "kind": "pair",
        "x": {"kind": "numeric", "cuts": [0.0, 1.0]},
        "y": {"kind": "categorical", "categories": ["a", "b"]},
    }
    assert binning_from_spec(pair.to_spec()) == pair


def test_pair_binning_refuses_text() -> None:
    from drift.stats import TokenBinning

    with pytest.raises(TypeError, match="`y` of a pair must be a numeric or categorical"):
        PairBinning(NumericBinning(()), TokenBinning(("a",)))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="numeric or categorical"):
        binning_from_spec({"kind": "pair", "x": {"kind": "numeric", "cuts": []},
                           "y": {"kind": "text", "vocabulary": ["a"]}})  # fmt: skip


def test_bin_index_follows_the_histogram_rule() -> None:
    rng = np.random.default_rng(3)
    numeric = NumericBinning((-1.0, 0.0, 0.5))
    values = np.concatenate([rng.normal(size=500), [np.nan, -np.inf, np.inf, 0.0, 0.5]])
    index = bin_index(numeric, values)
    assert (index == -1).sum() == histogram(numeric, values).missing
    assert np.bincount(index[index >= 0], minlength=4).tolist() == (
        histogram(numeric, values).counts.tolist()
    )
    categorical = CategoricalBinning(("a", "1"))
    labels = ["a", 1, "1", "z", None, float("nan"), 1.0]
    index = bin_index(categorical, labels)
    assert index.tolist() == [0, 1, 1, 2, -1, -1, 2]
    assert np.bincount(index[index >= 0], minlength=3).tolist() == (
        histogram(categorical, labels).counts.tolist()
    )


def test_joint_counts_drop_rows_missing_either_value() -> None:
    counts, missing = joint_counts([0, 1, 1, -1, 2, 0], [1, 0, 0, 1, -1, 1], 3, 2)
    assert counts.tolist() == [[0, 2], [2, 0], [0, 0]]
    assert missing == 2
    with pytest.raises(ValueError, match="below kx=3"):
        joint_counts([3], [0], 3, 2)


def test_joint_histogram_labels_match_the_pair_binning() -> None:
    pair = PairBinning(NumericBinning((0.0,)), CategoricalBinning(("a",)))
    h = joint_histogram(pair.x.labels, pair.y.labels, np.arange(4).reshape(2, 2), missing=3)
    assert h.labels == pair.labels
    assert h.counts.tolist() == [0, 1, 2, 3]
    assert h.missing == 3
    with pytest.raises(ValueError, match=r"shape \(2, 2\)"):
        joint_histogram(pair.x.labels, pair.y.labels, np.arange(4))


def test_chain_rule_split_matches_scipy_entropy() -> None:
    rng = np.random.default_rng(11)
    p_counts = rng.integers(0, 50, size=(4, 6))
    q_counts = rng.integers(0, 50, size=(4, 6))
    split = chain_rule_kl(p_counts, q_counts, (4, 6))
    p = smooth(p_counts.ravel()).reshape(4, 6)
    q = smooth(q_counts.ravel()).reshape(4, 6)
    joint, marginal, conditional = _oracle(p, q)
    assert split.joint == pytest.approx(joint, rel=1e-12)
    assert split.marginal == pytest.approx(marginal, rel=1e-12)
    assert split.conditional == pytest.approx(conditional, rel=1e-12)
    assert marginal > 0 and conditional > 0


@settings(max_examples=100, deadline=None)
@given(
    st.integers(1, 6).flatmap(
        lambda kx: st.integers(1, 6).flatmap(
            lambda ky: st.tuples(
                arrays(np.int64, (kx, ky), elements=st.integers(0, 1000)),
                arrays(np.int64, (kx, ky), elements=st.integers(0, 1000)),
                st.sampled_from(["lidstone", "epsilon"]),
            )
        )
    )
)
def test_chain_rule_identity_holds_on_random_tables(
    case: tuple[np.ndarray, np.ndarray, str],
) -> None:
    p_counts, q_counts, method = case
    if method == "epsilon" and (p_counts.sum() == 0 or q_counts.sum() == 0):
        return  # epsilon smoothing needs some mass on each side
    shape = p_counts.shape
    split = chain_rule_kl(p_counts, q_counts, shape, smoothing=method, eps=1e-4)
    assert split.marginal >= 0 and split.conditional >= 0
    assert split.marginal + split.conditional == pytest.approx(split.joint, rel=1e-9, abs=1e-12)
    p = smooth(p_counts.ravel(), method=method, eps=1e-4).reshape(shape)
    q = smooth(q_counts.ravel(), method=method, eps=1e-4).reshape(shape)
    joint, marginal, conditional = _oracle(p, q)
    assert split.joint == pytest.approx(joint, rel=1e-9, abs=1e-12)
    assert split.marginal == pytest.approx(marginal, rel=1e-9, abs=1e-12)
    assert split.conditional == pytest.approx(conditional, rel=1e-9, abs=1e-12)


def test_chain_rule_without_smoothing_is_infinite_where_the_reference_lacks_a_row() -> None:
    split = chain_rule_kl([[1, 1], [1, 1]], [[2, 2], [0, 0]], (2, 2), smoothing=None)
    assert math.isinf(split.joint) and math.isinf(split.marginal)
    same = chain_rule_kl([[1, 3], [0, 0]], [[1, 3], [2, 2]], (2, 2), smoothing=None)
    assert same.conditional == 0.0
    assert same.marginal == pytest.approx(entropy([1.0, 0.0], [0.5, 0.5]))


def test_a_pair_scores_its_joint_and_the_split_adds_up() -> None:
    rng = np.random.default_rng(5)
    cells = PairBinning(NumericBinning((0.0,)), NumericBinning((-0.5, 0.5))).labels
    ref = Histogram(cells, rng.integers(100, 200, 6))
    cur = Histogram(cells, rng.integers(100, 200, 6))
    s = score_feature(ref, cur, feature="x × y", kind="pair", shape=(2, 3))
    assert s.metrics["kl_marginal"] + s.metrics["kl_conditional"] == pytest.approx(
        s.metrics["kl"], rel=1e-9
    )
    assert s.dof == 5  # the G-test on the 2 x 3 table: k_x * k_y - 1
    single = score_feature(ref, cur, feature="x × y", kind="numeric")
    assert single.p_value == s.p_value and single.metrics["kl"] == s.metrics["kl"]
    assert "kl_marginal" not in single.metrics


def test_a_pair_without_its_shape_is_refused() -> None:
    cells = ("a × a", "a × b")
    h = Histogram(cells, np.array([5, 5]))
    with pytest.raises(ValueError, match="needs its `shape`"):
        score_features([("p", "pair", h, h)])
    with pytest.raises(ValueError, match="does not match its 2 cells"):
        score_features([("p", "pair", h, h)], pairs={"p": (2, 2)})
    with pytest.raises(ValueError, match="for pairs only"):
        score_feature(h, h, feature="q", kind="numeric", shape=(1, 2))


def test_an_empty_side_of_a_pair_has_zero_terms() -> None:
    cells = ("a × a", "a × b")
    s = score_feature(
        Histogram.empty(cells), Histogram(cells, np.array([5, 5])),
        feature="p", kind="pair", shape=(1, 2),
    )  # fmt: skip
    assert s.metrics["kl_marginal"] == s.metrics["kl_conditional"] == 0.0
    assert not s.enough_data
