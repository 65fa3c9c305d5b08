"""Is a difference more than sampling noise? The G-test, KL bias, and FDR control.

The building blocks of every verdict on independent rows:

- :func:`g_test`, the G-test of homogeneity of a reference and a live count
  vector against a chi-square distribution (:func:`~drift.stats.distributions.chi2_sf`);
- :func:`kl_bias` and :func:`kl_corrected`, the KL divergence noise alone
  produces, and KL with it taken off;
- :func:`benjamini_hochberg`, p-values adjusted across the features of a run.

The tests for dependent rows and small counts built on :func:`g_test` are in
:mod:`drift.stats.homogeneity`; the missing-rate test in
:mod:`drift.stats.missingness`; the distribution tails in
:mod:`drift.stats.distributions`.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
import numpy.typing as npt

from drift.stats.checks import FloatArray, as_count_pair, positive_int
from drift.stats.distributions import chi2_sf


class GTest(NamedTuple):
    """Result of :func:`g_test`: the statistic, its degrees of freedom, the p-value."""

    statistic: float
    dof: int
    p_value: float


def g_test(
    ref_counts: npt.ArrayLike, cur_counts: npt.ArrayLike, *, williams: bool = False
) -> GTest:
    """G-test of homogeneity: could both count vectors come from one distribution?

    On the 2 x k table of reference and current counts, with expected counts
    ``E_ij = row_i * col_j / N`` under "no change",
    ``G = 2 * sum_ij O_ij * log(O_ij / E_ij)`` (``0 log 0 = 0``), compared
    with a chi-square distribution with ``k' - 1`` degrees of freedom, where
    ``k'`` is the number of bins with a count on either side.

    ``G`` is ``2 N`` times the mutual information between "which sample" and
    "which bin"; for a large reference it is about ``2 n D_KL(P || Q)``. So
    a tiny divergence is significant on a big window and a large one may not
    be on a small window: that is why alerts need both (see
    :class:`drift.stats.verdicts.Thresholds`).

    With many sparse bins (expected counts below about 5) the chi-square
    approximation is anti-conservative: unchanged data gets too many small
    p-values. Williams' correction divides ``G`` by
    ``q = 1 + (N * sum_i 1/R_i - 1) * (N * sum_j 1/C_j - 1) / (6 N (r - 1)(c - 1))``
    (row totals ``R_i``, column totals ``C_j``, ``r = 2`` rows, ``c = k'``
    columns), which is close to 1 when every bin is well filled.

    Parameters
    ----------
    ref_counts, cur_counts : array_like of int
        Whole, non-negative counts over the same bins, each with at least one count.
    williams : bool, optional
        Apply Williams' correction (default False: the textbook G).

    Returns
    -------
    GTest
        ``(statistic, dof, p_value)``. With a single non-empty bin there is
        nothing to test: ``(0.0, 0, 1.0)``.

    References
    ----------
    Sokal, R. R. and Rohlf, F. J., *Biometry*, section 17 (G-test of independence).

    Examples
    --------
    >>> g, dof, p = g_test([30, 40, 30], [40, 40, 20])
    >>> round(g, 4), dof, round(p, 4)
    (3.447, 2, 0.1784)
    >>> round(g_test([30, 40, 30], [40, 40, 20], williams=True).statistic, 4)
    3.4114
    """
    ref, cur = as_count_pair(ref_counts, cur_counts)
    keep = (ref + cur) > 0
    ref, cur = ref[keep], cur[keep]
    if ref.size < 2:
        return GTest(0.0, 0, 1.0)
    observed = np.stack([ref, cur])
    col = observed.sum(axis=0)
    row = observed.sum(axis=1, keepdims=True)
    expected = row * col / col.sum()
    seen = observed > 0
    g = 2.0 * float(np.sum(observed[seen] * np.log(observed[seen] / expected[seen])))
    g = max(g, 0.0)
    dof = int(ref.size - 1)
    if williams:
        total = float(col.sum())
        rows = total * float(np.sum(1.0 / row)) - 1.0
        cols = total * float(np.sum(1.0 / col)) - 1.0
        g /= 1.0 + rows * cols / (6.0 * total * dof)
    return GTest(g, dof, chi2_sf(g, dof))


def kl_bias(k: int, n: int, m: int | None = None, *, phi: float = 1.0) -> float:
    """Expected KL divergence, in nats, between two samples of one distribution.

    ``bias = phi * (k - 1) / 2 * (1 / n + 1 / m)`` (``1 / m`` dropped when
    ``m`` is None, i.e. the reference is known exactly; ``phi`` the
    dispersion, 1 for independent rows: dependent rows vary more, so their
    KL from noise alone is larger by that factor).

    Under "no change", ``2 n m / (n + m) * D_KL`` is asymptotically
    chi-square with ``k - 1`` degrees of freedom, whose mean gives this value.
    It is how much KL a window of ``n`` rows shows from noise alone: 0.045
    nats for 10 bins and 100 rows. Subtract it (and clip at 0) to compare
    windows of different sizes with one threshold; see :func:`kl_corrected`.

    Parameters
    ----------
    k : int
        Number of bins (with data), >= 1.
    n : int
        Live sample size, >= 1.
    m : int, optional
        Reference sample size, >= 1.
    phi : float, optional
        Dispersion (design effect), >= 1. Default 1.

    Returns
    -------
    float

    Examples
    --------
    >>> kl_bias(10, 100)
    0.045
    >>> kl_bias(10, 100, phi=4.0)
    0.18
    >>> round(kl_bias(10, 100, 10_000), 5)
    0.04545
    """
    bins = positive_int(k, "k")
    live = positive_int(n, "n")
    inverse = 1.0 / live
    if m is not None:
        inverse += 1.0 / positive_int(m, "m")
    if math.isnan(phi) or phi < 1:
        raise ValueError(f"`phi` must be a number >= 1, got {phi}.")
    return phi * (bins - 1) / 2.0 * inverse


def kl_corrected(kl: float, k: int, n: int, m: int | None = None, *, phi: float = 1.0) -> float:
    """Bias-corrected KL: ``max(kl - kl_bias(k, n, m, phi=phi), 0)``.

    Examples
    --------
    >>> kl_corrected(0.05, 10, 100)
    0.005
    >>> kl_corrected(0.01, 10, 100)
    0.0
    """
    if math.isnan(kl) or kl < 0:
        raise ValueError(f"`kl` must be a number >= 0, got {kl}.")
    return round(max(kl - kl_bias(k, n, m, phi=phi), 0.0), 15)


def benjamini_hochberg(pvalues: npt.ArrayLike) -> FloatArray:
    """Benjamini-Hochberg adjusted p-values (false discovery rate).

    With ``m`` p-values sorted ascending, ``p_(i)``:
    ``adj_(i) = min_{j >= i} min(1, m * p_(j) / j)``, returned in the input
    order. Rejecting where ``adj < alpha`` keeps the expected share of false
    alarms among the alarms of one run at most ``alpha`` (for independent or
    positively dependent tests).

    Parameters
    ----------
    pvalues : array_like of float
        P-values in ``[0, 1]``; may be empty.

    Returns
    -------
    numpy.ndarray of float64
        Adjusted p-values, same order, each >= its raw p-value.

    References
    ----------
    Benjamini, Y. and Hochberg, Y. (1995), "Controlling the false discovery rate".

    Examples
    --------
    >>> benjamini_hochberg([0.01, 0.04, 0.03, 0.5]).round(4).tolist()
    [0.04, 0.0533, 0.0533, 0.5]
    """
    try:
        p = np.asarray(pvalues, dtype=np.float64)
    except (TypeError, ValueError):
        raise TypeError("`pvalues` must be an array of numbers.") from None
    if p.ndim != 1:
        raise ValueError(f"`pvalues` must be one-dimensional, got shape {p.shape}.")
    if p.size == 0:
        return p.copy()
    if np.any(np.isnan(p)) or np.any(p < 0) or np.any(p > 1):
        raise ValueError("`pvalues` must be numbers in [0, 1] (found NaN or out of range).")
    order = np.argsort(p, kind="stable")
    ranked = p[order] * p.size / np.arange(1, p.size + 1)
    adjusted = np.minimum.accumulate(ranked[::-1])[::-1]
    out = np.empty_like(p)
    out[order] = np.minimum(adjusted, 1.0)
    return out
