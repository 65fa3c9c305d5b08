"""airflow-drift: data-drift monitoring for Apache Airflow 3.

The public API for notebooks and scripts: :func:`compare` two pandas
DataFrames, or use the statistics directly (binnings, histograms,
divergences, significance, scoring) from :mod:`drift.stats`.

Every name is imported on first use (``compare`` and ``DriftReport`` need
pandas, the statistics numpy): Airflow imports this package (its provider) in
every process, and the ``drift`` command imports it before ``--help``; most of
them never compare DataFrames or compute a divergence.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__all__ = [
    "CategoricalBinning",
    "DriftReport",
    "FeatureScore",
    "Histogram",
    "NumericBinning",
    "Thresholds",
    "TokenBinning",
    "benjamini_hochberg",
    "compare",
    "conditional_kl",
    "fit_categorical",
    "fit_numeric",
    "fit_tokens",
    "g_test",
    "hellinger",
    "histogram",
    "infer_kind",
    "jeffreys",
    "jensen_shannon",
    "kl_bias",
    "kl_contributions",
    "kl_divergence",
    "psi",
    "reverse_kl",
    "score_feature",
    "score_features",
    "smooth",
    "tokenize",
    "total_variation",
]

if TYPE_CHECKING:
    from drift.frames import DriftReport, compare, infer_kind
    from drift.stats import (
        CategoricalBinning,
        FeatureScore,
        Histogram,
        NumericBinning,
        Thresholds,
        TokenBinning,
        benjamini_hochberg,
        conditional_kl,
        fit_categorical,
        fit_numeric,
        fit_tokens,
        g_test,
        hellinger,
        histogram,
        jeffreys,
        jensen_shannon,
        kl_bias,
        kl_contributions,
        kl_divergence,
        psi,
        reverse_kl,
        score_feature,
        score_features,
        smooth,
        tokenize,
        total_variation,
    )

_FRAMES = ("DriftReport", "compare", "infer_kind")


def __getattr__(name: str) -> Any:
    """Load :mod:`drift.frames` (pandas) or :mod:`drift.stats` (numpy) when a name is used."""
    if name in _FRAMES:
        from drift import frames

        return getattr(frames, name)
    if name in __all__:
        from drift import stats

        value = getattr(stats, name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'drift' has no attribute {name!r}")
