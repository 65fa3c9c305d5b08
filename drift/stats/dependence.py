"""How much more bin shares vary than independent rows would: dispersion.

The G-test and the KL bias term assume every row is an independent draw.
Rows in time order are autocorrelated, and tokens of one document share its
topic, so the share of a bin varies more from window to window (or sample
to sample) than the multinomial variance ``p (1 - p) / n`` says. A
:class:`Dispersion` is that inflation, ``phi >= 1``, with the degrees of
freedom of its estimate, so a test can divide the G statistic by it and
compare with an F distribution (:func:`drift.stats.homogeneity.quasi_g_test`).

This module holds the type, :data:`INDEPENDENT`, and the estimate from time
series, :func:`window_dispersion` (the bin counts of several reference
windows of the live window's length). The estimate for tokens clustered in
documents, :func:`~drift.stats.documents.document_dispersion`, is in
:mod:`drift.stats.documents`. Where the reference has no such structure (a
separate table, two frames in ``compare``), use :data:`INDEPENDENT`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt

from drift.stats.checks import FloatArray
from drift.stats.distributions import chi2_sf
from drift.stats.histogram import Histogram

DispersionSource = Literal["independent", "reference_windows", "documents"]

__all__ = [
    "INDEPENDENT",
    "Dispersion",
    "replicate_heterogeneity",
    "window_dispersion",
]


@dataclass(frozen=True, slots=True)
class Dispersion:
    """Variance inflation of bin shares relative to independent rows.

    Attributes
    ----------
    phi : float
        The (average) design effect, ``>= 1``: the factor by which the
        sampling variance of bin shares exceeds the multinomial variance of
        independent rows. The G statistic is divided by it.
    df : float
        Effective degrees of freedom of the estimate of ``phi`` (the
        denominator degrees of freedom of the quasi F test); ``math.inf``
        when ``phi`` is known (the independent case).
    source : {"independent", "reference_windows", "documents"}
        Where the estimate came from.
    units : int
        Number of windows or documents it was estimated from (0 for
        :data:`INDEPENDENT`).
    spread : float
        Satterthwaite factor ``c = 1 + a^2 >= 1`` (``a`` the coefficient of
        variation of the design effect's eigenvalues): the quasi F test uses
        ``(k - 1) / c`` numerator degrees of freedom. 1 means every
        direction is inflated alike (the first-order correction).

    Examples
    --------
    >>> INDEPENDENT
    Dispersion(phi=1.0, df=inf, source='independent', units=0, spread=1.0)
    >>> INDEPENDENT.independent
    True
    """

    phi: float
    df: float
    source: DispersionSource
    units: int
    spread: float = 1.0

    def __post_init__(self) -> None:
        if math.isnan(self.phi) or self.phi < 1:
            raise ValueError(f"`phi` must be a number >= 1, got {self.phi!r}.")
        if math.isnan(self.df) or self.df <= 0:
            raise ValueError(f"`df` must be > 0 (or inf), got {self.df!r}.")
        if self.source not in ("independent", "reference_windows", "documents"):
            raise ValueError(f"unknown dispersion source {self.source!r}.")
        if self.units < 0:
            raise ValueError(f"`units` must be >= 0, got {self.units}.")
        if math.isnan(self.spread) or self.spread < 1:
            raise ValueError(f"`spread` must be a number >= 1, got {self.spread!r}.")

    @property
    def independent(self) -> bool:
        """True when this is the independent-rows case (``phi = 1`` known exactly)."""
        return self.source == "independent"

    def describe(self) -> str:
        """A short human note: where the dispersion came from and how big it is."""
        if self.independent:
            return "independent rows assumed"
        what = "reference windows" if self.source == "reference_windows" else "documents"
        return f"dispersion {self.phi:.3g} from {self.units:,} {what} (df {self.df:.3g})"


#: Independent rows: ``phi = 1`` exactly, infinite degrees of freedom.
INDEPENDENT = Dispersion(phi=1.0, df=math.inf, source="independent", units=0)


def _window_matrix(windows: npt.ArrayLike | Sequence[npt.ArrayLike | Histogram]) -> FloatArray:
    if isinstance(windows, Sequence) and windows and isinstance(windows[0], Histogram):
        rows = [w.counts if isinstance(w, Histogram) else np.asarray(w) for w in windows]
        arr = np.asarray(np.stack(rows), dtype=np.float64)
    else:
        try:
            arr = np.asarray(windows, dtype=np.float64)
        except (TypeError, ValueError):
            raise TypeError(
                "`windows` must be a J x k array or a sequence of count vectors of one length."
            ) from None
    if arr.ndim != 2:
        if arr.size == 0:
            return np.zeros((0, 0))
        raise ValueError(f"`windows` must be two-dimensional (J x k), got shape {arr.shape}.")
    if not np.all(np.isfinite(arr)) or np.any(arr < 0) or np.any(arr != np.floor(arr)):
        raise ValueError("`windows` must hold whole, non-negative counts.")
    return arr


#: Significance of the between-window heterogeneity below which rows count as dependent
#: (5 or more reference windows; with fewer, :data:`FEW_WINDOWS_LEVEL`).
OVERDISPERSION_LEVEL = 0.25
#: The same with 2-4 reference windows, whose estimate has too few degrees of freedom to
#: be worth its cost on weak evidence.
FEW_WINDOWS_LEVEL = 0.05


def window_dispersion(
    windows: npt.ArrayLike | Sequence[npt.ArrayLike | Histogram],
    *,
    pretest: float | None = OVERDISPERSION_LEVEL,
) -> Dispersion:
    """Dispersion of bin shares between reference windows of the live window's length.

    With ``J`` windows (rows of the ``J x k`` table ``O_jb``, window totals
    ``n_j``, pooled shares ``p_b = sum_j O_jb / N``), the Pearson residuals
    ``e_jb = (O_jb - n_j p_b) / sqrt(n_j p_b)`` give the heterogeneity

        X2 = sum_jb e_jb^2,    df0 = (J - 1)(k' - 1),    phi = max(1, X2 / df0),

    where windows without rows are dropped and ``k'`` counts bins with any
    count. For independent rows ``X2`` is about chi-square with ``df0``
    degrees of freedom, so ``phi`` is about 1; for autocorrelated rows it
    is the average design effect of a window's bin shares.

    The inflation is rarely the same in every direction (a slow wander of
    an autocorrelated series moves the location far more than the shape),
    so the first-order F test would be anti-conservative. The
    Satterthwaite factor ``c = (k' - 1) tr(S^2) / tr(S)^2`` of the
    between-window covariance ``S`` is estimated without bias for Gaussian
    residuals from the ``J x J`` Gram matrix ``M = e e^T`` (``nu = J - 1``):

        T2 = (||M||_F^2 - X2^2 / nu) / ((nu + 2)(nu - 1))       ~ tr(Sigma^2)
        T1 = (X2^2 - 2 nu T2) / nu^2                             ~ tr(Sigma)^2
        c  = clip((k' - 1) T2 / T1, 1, k' - 1)

    and the estimate has ``df = df0 / c`` effective degrees of freedom.
    With two windows (``nu = 1``) ``c`` cannot be estimated and is set to
    its conservative bound ``k' - 1``.

    Parameters
    ----------
    windows : array_like or sequence of Histogram
        ``J x k`` counts: one row per reference window, over the same bins
        (the live window's binning).
    pretest : float or None, optional
        Keep the dispersion only when the windows are significantly more
        heterogeneous than independent rows (``X2`` against chi-square with
        ``df0`` degrees of freedom, p below ``pretest``, default 0.25, and at
        most 0.05 with fewer than 5 windows);
        otherwise return :data:`INDEPENDENT`. With few reference windows
        the estimated ``phi`` and ``c`` carry few degrees of freedom, and
        dividing by them without evidence of dependence costs most of the
        power for nothing (3 windows of 8 bins leave an F with 2 denominator
        degrees of freedom). ``None`` keeps every estimate.

    Returns
    -------
    Dispersion
        ``source="reference_windows"``, ``units`` the windows used; with
        fewer than two windows holding rows, or fewer than two bins with
        data, :data:`INDEPENDENT` (nothing to estimate from).

    Notes
    -----
    A single odd reference window inflates ``phi`` (conservative: alarms
    get rarer, not more frequent). Positive correlation between the live
    window and the last reference window only makes the test more
    conservative too. With 7 windows of 10 bins the estimate has at most
    54 degrees of freedom, and far fewer when ``c`` is large; the F
    distribution of :func:`drift.stats.homogeneity.quasi_g_test` accounts
    for that.

    Examples
    --------
    >>> import numpy as np
    >>> same = np.array([[50, 50], [49, 51], [52, 48], [50, 50]])
    >>> window_dispersion(same).phi, window_dispersion(same).source
    (1.0, 'independent')
    >>> wobbly = np.array([[80, 20], [20, 80], [70, 30], [30, 70]])
    >>> d = window_dispersion(wobbly)
    >>> round(d.phi, 1), d.df, d.source, d.units
    (34.7, 3.0, 'reference_windows', 4)
    """
    table = _window_matrix(windows)
    found = replicate_heterogeneity(table)
    if found is None:
        return INDEPENDENT
    phi, df0, spread, j = found
    level = pretest if pretest is None or j >= 5 else min(pretest, FEW_WINDOWS_LEVEL)
    if level is not None and chi2_sf(phi * df0, round(df0)) >= level:
        # Independent rows, but say how many windows showed it.
        return Dispersion(phi=1.0, df=math.inf, source="independent", units=j)
    return Dispersion(phi=phi, df=df0 / spread, source="reference_windows", units=j, spread=spread)


def replicate_heterogeneity(table: FloatArray) -> tuple[float, float, float, int] | None:
    """``(phi, df0, spread, J)`` of a J x k table of replicate counts, or None.

    The Pearson heterogeneity and Satterthwaite spread of
    :func:`window_dispersion`, shared with
    :func:`drift.stats.documents.document_dispersion` (document groups).
    """
    if table.size == 0:
        return None
    table = table[table.sum(axis=1) > 0]
    table = table[:, table.sum(axis=0) > 0]
    j, k = table.shape
    if j < 2 or k < 2:
        return None
    sizes = table.sum(axis=1, keepdims=True)
    shares = table.sum(axis=0) / table.sum()
    expected = sizes * shares
    residuals = (table - expected) / np.sqrt(expected)
    x2 = float(np.sum(residuals**2))
    df0 = float((j - 1) * (k - 1))
    phi = max(1.0, x2 / df0)
    nu = j - 1
    if nu < 2:
        spread = float(k - 1)
    else:
        gram = residuals @ residuals.T
        t2 = (float(np.sum(gram**2)) - x2**2 / nu) / ((nu + 2) * (nu - 1))
        t1 = (x2**2 - 2.0 * nu * t2) / nu**2
        spread = (k - 1) * t2 / t1 if t1 > 0 else float(k - 1)
        spread = min(max(spread, 1.0), float(k - 1))
    return phi, df0, spread, j
