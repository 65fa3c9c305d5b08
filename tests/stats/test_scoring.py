"""Scoring features: metrics, significance, and the drifted/severity rule."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

from drift.stats import (
    METRICS,
    FeatureScore,
    Histogram,
    Thresholds,
    fit_tokens,
    g_test,
    histogram,
    kl_divergence,
    score_feature,
    score_features,
)

LABELS = ("a", "b", "c", "<other>")


def hist(*counts: int, missing: int = 0) -> Histogram:
    return Histogram(LABELS, np.array(counts), missing)


def test_score_holds_every_metric_named_in_the_contract() -> None:
    s = score_feature(hist(500, 300, 200, 0), hist(50, 30, 20, 0), feature="f", kind="categorical")
    assert set(s.metrics) == set(METRICS)
    assert s.metrics["kl"] == pytest.approx(kl_divergence([50, 30, 20, 0], [500, 300, 200, 0]))


def test_contributions_are_per_bin_and_sum_to_kl() -> None:
    s = score_feature(hist(500, 300, 200, 0), hist(10, 30, 60, 5), feature="f", kind="categorical")
    assert len(s.contributions) == 4
    assert sum(s.contributions) == pytest.approx(s.metrics["kl"])
    assert s.top_contributions(1)[0][0] == "c"


def test_p_value_is_the_williams_corrected_g_test_on_raw_counts() -> None:
    s = score_feature(hist(500, 300, 200, 0), hist(60, 30, 20, 0), feature="f", kind="categorical")
    expected = g_test([500, 300, 200, 0], [60, 30, 20, 0], williams=True)
    assert (s.g_statistic, s.dof, s.p_value) == tuple(expected)


def test_a_big_significant_change_is_critical_and_drifted() -> None:
    s = score_feature(
        hist(5000, 3000, 2000, 0), hist(100, 300, 600, 0), feature="f", kind="categorical"
    )
    assert (s.severity, s.drifted) == ("critical", True)


def test_a_big_change_on_too_few_rows_is_not_flagged() -> None:
    s = score_feature(hist(5000, 3000, 2000, 0), hist(1, 3, 6, 0), feature="f", kind="categorical")
    assert (s.enough_data, s.test, s.severity, s.drifted) == (True, "monte_carlo", "ok", False)
    assert s.notes[1] == "few rows: 10 live, 10000 reference < 100; p-value by Monte Carlo"
    strict = score_feature(
        hist(5000, 3000, 2000, 0),
        hist(1, 3, 6, 0),
        feature="f",
        kind="categorical",
        thresholds=Thresholds(min_rows=100),
    )
    assert (strict.enough_data, strict.severity, strict.drifted) == (False, "ok", False)
    assert strict.notes[1] == "too few rows to judge: 10 live, 10000 reference < 100"


def test_a_significant_but_small_change_is_drifted_with_severity_ok() -> None:
    ref = hist(100_000, 100_000, 100_000, 0)
    cur = hist(36_000, 33_000, 31_000, 0)
    s = score_feature(ref, cur, feature="f", kind="categorical")
    assert s.p_value < 1e-6 and s.metrics["kl_corrected"] < 0.05
    assert (s.severity, s.drifted) == ("ok", True)


def test_a_large_but_insignificant_kl_is_not_flagged() -> None:
    thresholds = Thresholds(min_rows=5)
    s = score_feature(
        hist(50, 30, 20, 0),
        hist(3, 1, 2, 0),
        feature="f",
        kind="categorical",
        thresholds=thresholds,
    )
    assert s.metrics["kl"] > 0.05 and s.p_value > 0.01
    assert not s.drifted


def test_without_the_p_value_gate_the_effect_alone_decides() -> None:
    thresholds = Thresholds(p_value=None, min_rows=5)
    s = score_feature(
        hist(50, 30, 20, 0),
        hist(1, 1, 8, 0),
        feature="f",
        kind="categorical",
        thresholds=thresholds,
    )
    assert s.drifted and s.severity in ("warn", "critical")


def test_unsmoothed_inf_is_reported_not_hidden() -> None:
    s = score_feature(
        hist(500, 500, 0, 0), hist(50, 40, 10, 0), feature="f", kind="categorical", smoothing="none"
    )
    assert s.metrics["kl"] == math.inf
    assert s.drifted


def test_an_empty_window_scores_zero_with_not_enough_data() -> None:
    s = score_feature(
        hist(5, 5, 5, 0), hist(0, 0, 0, 0, missing=3), feature="f", kind="categorical"
    )
    assert (s.metrics["kl"], s.p_value, s.enough_data, s.drifted) == (0.0, 1.0, False, False)


def test_histograms_over_different_bins_are_refused() -> None:
    other = Histogram(("x", "<other>"), np.array([1, 1]))
    with pytest.raises(ValueError, match="must have the same bins"):
        score_feature(hist(1, 1, 1, 0), other, feature="f", kind="categorical")


def test_unseen_values_travel_with_the_score() -> None:
    cur = Histogram(LABELS, np.array([1, 1, 1, 3]), unseen={"zebra": 3})
    s = score_feature(hist(1, 1, 1, 0), cur, feature="f", kind="categorical")
    assert s.unseen == (("zebra", 3),)


def test_ngram_text_features_get_a_conditional_kl() -> None:
    binning = fit_tokens(["a b", "a c"], ngram=2)
    s = score_feature(
        histogram(binning, ["a b"] * 50 + ["a c"] * 50),
        histogram(binning, ["a b"] * 10 + ["a c"] * 90),
        feature="t",
        kind="text",
    )
    assert s.metrics["conditional_kl"] > 0


def test_score_features_adjusts_p_values_across_the_run() -> None:
    items = [
        ("x", "categorical", hist(500, 300, 200, 0), hist(60, 30, 20, 0)),
        ("y", "categorical", hist(500, 300, 200, 0), hist(50, 30, 20, 0)),
    ]
    scores = score_features(items)
    assert [s.feature for s in scores] == ["x", "y"]
    assert all(s.p_adjusted >= s.p_value for s in scores)
    assert max(s.p_adjusted for s in scores) == pytest.approx(max(s.p_value for s in scores))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"warn": 0.3, "critical": 0.2}, "min_effect <= warn <= critical"),
        ({"p_value": 0.0}, "`p_value` must be in"),
        ({"min_rows": -1}, "`min_rows` must be >= 0"),
        ({"metric": "entropy"}, "`metric` must be one of"),
        ({"warn": float("nan")}, "`warn` must be a number >= 0"),
    ],
)
def test_bad_thresholds_are_refused(kwargs: dict, message: str) -> None:  # type: ignore[type-arg]
    with pytest.raises(ValueError, match=message):
        Thresholds(**kwargs)


def test_threshold_metric_accepts_aliases_and_keeps_the_canonical_name() -> None:
    assert Thresholds(metric="js").metric == "jensen_shannon"
    assert Thresholds(metric="jensen_shannon").metric == "jensen_shannon"


def test_feature_score_is_a_frozen_slotted_value() -> None:
    s = score_feature(hist(5, 5, 5, 0), hist(5, 5, 5, 0), feature="f", kind="categorical")
    assert isinstance(s, FeatureScore) and not hasattr(s, "__dict__")
    with pytest.raises(dataclasses.FrozenInstanceError):
        s.severity = "critical"  # type: ignore[misc]
    assert s.metric("jeffreys") == s.metrics["psi"]
