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
    PairBinning,
    TokenBinning,
    binning_from_spec,
)
from drift.stats.counting import histogram, histogram_from_counts
from drift.stats.dependence import INDEPENDENT, Dispersion, window_dispersion
from drift.stats.distributions import chi2_sf, f_sf
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
from drift.stats.documents import DocumentMoments, document_dispersion
from drift.stats.fitting import fit_categorical, fit_categorical_counts, fit_numeric, fit_tokens
from drift.stats.histogram import Histogram
from drift.stats.homogeneity import HomogeneityTest, g_homogeneity, monte_carlo_g_test, quasi_g_test
from drift.stats.missingness import MissingTest, missing_test
from drift.stats.pairs import (
    KLSplit,
    bin_index,
    chain_rule_kl,
    joint_counts,
    joint_histogram,
    pair_name,
)
from drift.stats.scoring import score_feature, score_features
from drift.stats.segments import NULL_SEGMENT, OTHER_SEGMENT, choose_segments, segment_label
from drift.stats.significance import GTest, benjamini_hochberg, g_test, kl_bias, kl_corrected
from drift.stats.smoothing import smooth
from drift.stats.tokens import tokenize
from drift.stats.verdicts import METRICS, FeatureScore, Thresholds

#: Jeffreys divergence in nats is the Population Stability Index.
psi = jeffreys

__all__ = [
    "INDEPENDENT",
    "METRICS",
    "NULL_SEGMENT",
    "OOV_LABEL",
    "OTHER_LABEL",
    "OTHER_SEGMENT",
    "Binning",
    "CategoricalBinning",
    "Dispersion",
    "DocumentMoments",
    "FeatureScore",
    "GTest",
    "Histogram",
    "HomogeneityTest",
    "KLSplit",
    "MissingTest",
    "NumericBinning",
    "PairBinning",
    "Thresholds",
    "TokenBinning",
    "benjamini_hochberg",
    "bin_index",
    "binning_from_spec",
    "chain_rule_kl",
    "chi2_sf",
    "choose_segments",
    "conditional_kl",
    "document_dispersion",
    "f_sf",
    "fit_categorical",
    "fit_categorical_counts",
    "fit_numeric",
    "fit_tokens",
    "g_homogeneity",
    "g_test",
    "hellinger",
    "histogram",
    "histogram_from_counts",
    "jeffreys",
    "jensen_shannon",
    "joint_counts",
    "joint_histogram",
    "kl_bias",
    "kl_contributions",
    "kl_corrected",
    "kl_divergence",
    "missing_test",
    "monte_carlo_g_test",
    "pair_name",
    "psi",
    "quasi_g_test",
    "reverse_kl",
    "score_feature",
    "score_features",
    "segment_label",
    "smooth",
    "tokenize",
    "total_variation",
    "window_dispersion",
]
