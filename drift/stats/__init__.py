"""The math of drift: histograms, binnings, smoothing, divergences, significance.

Pure numpy and the standard library, no I/O: everything else in the package
builds on it.
"""

from drift.stats.binning import (
    OOV_LABEL,
    OTHER_LABEL,
    Binning,
    CategoricalBinning,
    NumericBinning,
    TokenBinning,
    binning_from_spec,
)
from drift.stats.counting import histogram, histogram_from_counts
from drift.stats.divergence import (
    conditional_kl,
    hellinger,
    jeffreys,
    jensen_shannon,
    kl_contributions,
    kl_divergence,
    reverse_kl,
    total_variation,
)
from drift.stats.fitting import fit_categorical, fit_categorical_counts, fit_numeric, fit_tokens
from drift.stats.histogram import Histogram
from drift.stats.scoring import METRICS, FeatureScore, Thresholds, score_feature, score_features
from drift.stats.significance import (
    GTest,
    benjamini_hochberg,
    chi2_sf,
    g_test,
    kl_bias,
    kl_corrected,
)
from drift.stats.smoothing import smooth
from drift.stats.tokens import tokenize

#: Jeffreys divergence in nats is the Population Stability Index.
psi = jeffreys

__all__ = [
    "METRICS",
    "OOV_LABEL",
    "OTHER_LABEL",
    "Binning",
    "CategoricalBinning",
    "FeatureScore",
    "GTest",
    "Histogram",
    "NumericBinning",
    "Thresholds",
    "TokenBinning",
    "benjamini_hochberg",
    "binning_from_spec",
    "chi2_sf",
    "conditional_kl",
    "fit_categorical",
    "fit_categorical_counts",
    "fit_numeric",
    "fit_tokens",
    "g_test",
    "hellinger",
    "histogram",
    "histogram_from_counts",
    "jeffreys",
    "jensen_shannon",
    "kl_bias",
    "kl_contributions",
    "kl_corrected",
    "kl_divergence",
    "psi",
    "reverse_kl",
    "score_feature",
    "score_features",
    "smooth",
    "tokenize",
    "total_variation",
]
