"""Did the missing rate change? A 2 x 2 test of missing vs present rows.

:func:`missing_test` compares the share of missing rows in the reference
and the live window: Williams' G-test (:func:`drift.stats.significance.g_test`),
Fisher's exact test for small expected counts (below
:data:`drift.stats.homogeneity.MC_MIN_EXPECTED`), or the quasi F test when
the missing indicator has a :class:`~drift.stats.dependence.Dispersion`.
"""

from __future__ import annotations

from typing import Literal, NamedTuple

import numpy as np
import numpy.typing as npt

from drift.stats.checks import positive_int
from drift.stats.dependence import INDEPENDENT, Dispersion
from drift.stats.distributions import f_sf
from drift.stats.homogeneity import MC_MIN_EXPECTED
from drift.stats.significance import g_test


class MissingTest(NamedTuple):
    """Result of :func:`missing_test`."""

    p_value: float
    reference_rate: float
    current_rate: float
    statistic: float
    test: Literal["g", "exact", "quasi_f", "quasi_exact", "none"]


def _fisher_exact(table: npt.NDArray[np.int64]) -> float:
    """Two-sided Fisher exact p-value of a 2 x 2 table (sum of outcomes no likelier)."""
    (a, b), (c, d) = (int(v) for v in table[0]), (int(v) for v in table[1])
    row1, col1, total = a + b, a + c, a + b + c + d
    lo, hi = max(0, row1 + col1 - total), min(row1, col1)
    x = np.arange(lo, hi, dtype=np.float64)
    # log pmf(x + 1) - log pmf(x) for the hypergeometric, summed from lo.
    step = np.log((row1 - x) * (col1 - x)) - np.log((x + 1) * (total - row1 - col1 + x + 1))
    log_pmf = np.concatenate([[0.0], np.cumsum(step)])
    log_pmf -= log_pmf.max()
    pmf = np.exp(log_pmf)
    observed = pmf[a - lo]
    return min(float(pmf[pmf <= observed * (1 + 1e-7)].sum() / pmf.sum()), 1.0)


def missing_test(
    reference_missing: int,
    reference_total: int,
    current_missing: int,
    current_total: int,
    dispersion: Dispersion = INDEPENDENT,
) -> MissingTest:
    """Did the missing rate change? A 2 x 2 test of missing vs present, reference vs live.

    Rates ``r = missing / total`` on each side (``total`` counts every row,
    missing or not; documents for text). For independent rows: the G-test
    of the 2 x 2 table with Williams' correction (chi-square, 1 degree of
    freedom) when every expected count is at least :data:`MC_MIN_EXPECTED`,
    else Fisher's exact test (two-sided: the probability of tables no
    likelier than the observed one). With a dispersion of the missing
    indicator (for example :func:`~drift.stats.dependence.window_dispersion`
    of the reference windows' ``[missing, present]`` counts): the quasi F
    test ``G / phi`` against ``F(1, df)``, and with small expected counts
    the larger of that and Fisher's p-value.

    If no row is missing on either side (or every row is), the margin
    leaves nothing to test: ``p = 1``, ``test = "none"`` (and
    :func:`drift.stats.scoring.score_features` leaves it out of the
    Benjamini-Hochberg family).

    Parameters
    ----------
    reference_missing, reference_total, current_missing, current_total : int
        Missing rows and all rows, per side.
    dispersion : Dispersion, optional
        Of the missing indicator; default independent rows.

    Returns
    -------
    MissingTest
        ``(p_value, reference_rate, current_rate, statistic, test)``.

    Examples
    --------
    >>> t = missing_test(0, 1000, 30, 100)
    >>> t.test, t.p_value < 1e-10, t.reference_rate, t.current_rate
    ('exact', True, 0.0, 0.3)
    >>> missing_test(50, 1000, 6, 100).p_value > 0.5
    True
    >>> missing_test(0, 1000, 0, 100).test
    'none'
    """
    values = (reference_missing, reference_total, current_missing, current_total)
    for name, value in zip(
        ("reference_missing", "reference_total", "current_missing", "current_total"),
        values,
        strict=True,
    ):
        positive_int(value, name, minimum=0)
    if reference_missing > reference_total or current_missing > current_total:
        raise ValueError("missing rows cannot exceed all rows.")
    ref_rate = reference_missing / reference_total if reference_total else 0.0
    cur_rate = current_missing / current_total if current_total else 0.0
    missing = reference_missing + current_missing
    total = reference_total + current_total
    if reference_total == 0 or current_total == 0 or missing in (0, total):
        return MissingTest(1.0, ref_rate, cur_rate, 0.0, "none")
    table = np.array(
        [
            [reference_missing, reference_total - reference_missing],
            [current_missing, current_total - current_missing],
        ],
        dtype=np.int64,
    )
    g, _, p_g = g_test(table[:, 0], table[:, 1], williams=True)
    rows, cols = table.sum(axis=1), table.sum(axis=0)
    small = float(rows.min()) * float(cols.min()) / total < MC_MIN_EXPECTED
    exact = _fisher_exact(table) if small else p_g
    if dispersion.independent:
        return MissingTest(exact, ref_rate, cur_rate, g, "exact" if small else "g")
    p_f = f_sf(g / dispersion.phi, 1.0, dispersion.df)
    if small:
        return MissingTest(max(exact, p_f), ref_rate, cur_rate, g, "quasi_exact")
    return MissingTest(p_f, ref_rate, cur_rate, g, "quasi_f")
