"""Smoothing: the formulas of DESIGN.md, and never a zero or a NaN."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from drift.stats import smooth


def test_lidstone_adds_alpha_to_every_count() -> None:
    assert smooth([3, 1, 0], alpha=0.5).tolist() == pytest.approx([3.5 / 5.5, 1.5 / 5.5, 0.5 / 5.5])


def test_additive_is_another_name_for_lidstone() -> None:
    assert smooth([3, 1, 0], method="additive").tolist() == smooth([3, 1, 0]).tolist()


def test_lidstone_of_no_counts_is_uniform() -> None:
    assert smooth([0, 0, 0, 0]).tolist() == [0.25] * 4


def test_epsilon_floors_then_renormalises() -> None:
    probs = smooth([1, 0], method="epsilon", eps=0.1)
    assert probs.tolist() == pytest.approx([1 / 1.1, 0.1 / 1.1])


def test_none_only_normalises() -> None:
    assert smooth([3, 1, 0], method="none").tolist() == [0.75, 0.25, 0.0]
    assert smooth([3, 1, 0], method=None).tolist() == [0.75, 0.25, 0.0]


@settings(max_examples=100, deadline=None)
@given(st.lists(st.integers(0, 10**9), min_size=1, max_size=50), st.floats(1e-6, 10))
def test_lidstone_is_always_finite_positive_and_sums_to_one(
    counts: list[int], alpha: float
) -> None:
    probs = smooth(counts, alpha=alpha)
    assert np.all(np.isfinite(probs)) and np.all(probs > 0)
    assert probs.sum() == pytest.approx(1.0)


def test_epsilon_must_leave_room_for_the_other_bins() -> None:
    with pytest.raises(ValueError, match="`eps` must be < 1/k"):
        smooth([1, 1, 1], method="epsilon", eps=0.5)


@pytest.mark.parametrize("alpha", [0, -1, float("nan"), float("inf")])
def test_alpha_must_be_positive_and_finite(alpha: float) -> None:
    with pytest.raises(ValueError, match="`alpha` must be a finite number > 0"):
        smooth([1, 2], alpha=alpha)


def test_alpha_must_be_a_number() -> None:
    with pytest.raises(TypeError, match="`alpha` must be a number"):
        smooth([1, 2], alpha="0.5")  # type: ignore[arg-type]
