"""Segments: how they are named and which the reference keeps."""

from __future__ import annotations

import pytest

from drift.stats import NULL_SEGMENT, OTHER_SEGMENT, choose_segments, segment_label
from drift.stats.segments import other_label


def test_one_column_segment_is_column_equals_value() -> None:
    assert segment_label(["country"], ["BR"]) == "country=BR"


def test_several_columns_are_joined_in_config_order() -> None:
    assert segment_label(["country", "device"], ["BR", "ios"]) == "country=BR, device=ios"


def test_a_null_value_is_its_own_segment() -> None:
    assert segment_label(["country"], [None]) == f"country={NULL_SEGMENT}" == "country=<null>"


def test_the_rest_is_one_other_segment() -> None:
    assert other_label(["country"]) == f"country={OTHER_SEGMENT}"
    assert other_label(["country", "device"]) == "country=<other>, device=<other>"


def test_a_label_needs_one_value_per_column() -> None:
    with pytest.raises(ValueError, match="one value per column"):
        segment_label(["a", "b"], ["x"])
    with pytest.raises(ValueError, match="non-empty"):
        segment_label([], [])


def test_the_largest_reference_segments_are_kept_largest_first() -> None:
    sizes = {("US",): 5000, ("DE",): 3000, ("BR",): 1000, ("FR",): 10, ("IT",): 0}
    assert choose_segments(sizes, top_k=2) == (("US",), ("DE",))
    assert choose_segments(sizes, top_k=20) == (("US",), ("DE",), ("BR",), ("FR",))


def test_ties_are_broken_by_value_with_null_first() -> None:
    sizes = {("b", "x"): 10, ("a", "y"): 10, (None, "z"): 10, ("a", None): 10, ("c", "c"): 99}
    assert choose_segments(sizes, top_k=4) == (("c", "c"), (None, "z"), ("a", None), ("a", "y"))


def test_top_k_must_be_positive() -> None:
    with pytest.raises(ValueError, match="`top_k` must be an integer >= 1"):
        choose_segments({("a",): 1}, top_k=0)
    with pytest.raises(ValueError, match="counts >= 0"):
        choose_segments({("a",): -1}, top_k=1)
