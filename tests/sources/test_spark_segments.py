"""The segment and pair source tests, on Spark SQL: the same counts as in memory.

The tests of ``test_segments_source.py`` run here again, unchanged, on the
session's Spark Thrift server, over the Parquet copy of the ``events`` rows
(NaN and infinities included) that ``test_spark_source.py`` loads.
"""

from __future__ import annotations

import pytest
from test_segments_source import (
    test_each_segment_counts_its_rows_and_the_whole_is_the_unsegmented_read,
    test_many_windows_of_segments_in_one_pass_equal_each_window_alone,
    test_unkept_segments_fall_in_other_and_an_empty_window_counts_zeros,
    test_without_pushdown_segments_are_streamed_with_the_same_counts,
)
from test_spark_source import events, spark_db

pytestmark = [pytest.mark.spark, pytest.mark.slow]

__all__ = [  # the shared tests and the Spark fixtures they run on here
    "events",
    "spark_db",
    "test_each_segment_counts_its_rows_and_the_whole_is_the_unsegmented_read",
    "test_many_windows_of_segments_in_one_pass_equal_each_window_alone",
    "test_unkept_segments_fall_in_other_and_an_empty_window_counts_zeros",
    "test_without_pushdown_segments_are_streamed_with_the_same_counts",
]
