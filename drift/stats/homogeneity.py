"""Tests of "same distribution" for rows that are not independent or are few.

Built on the G statistic of :func:`drift.stats.significance.g_test`:

- :func:`quasi_g_test`, rows with a :class:`~drift.stats.dependence.Dispersion`
  (autocorrelated windows, tokens in documents): ``G / (k - 1) / phi``
  against an F distribution;
- :func:`monte_carlo_g_test`, small expected counts: the conditional
  distribution of ``G`` given both margins, by multivariate hypergeometric
  draws.

:func:`g_homogeneity` chooses between them (see :data:`MC_MIN_EXPECTED`);
every one returns a :class:`HomogeneityTest`.
"""

from __future__ import annotations

import hashlib
import math
from typing import Literal, NamedTuple

import numpy as np
import numpy.typing as npt

from drift.stats.checks import FloatArray, as_count_pair, positive_int
from drift.stats.dependence import INDEPENDENT, Dispersion
from drift.stats.distributions import f_sf
from drift.stats.significance import g_test

TestName = Literal["g", "quasi_f", "monte_carlo", "quasi_monte_carlo", "none"]

#: Monte Carlo p-values are used when an expected count of the 2 x k' table is below this...
MC_MIN_EXPECTED = 5.0
#: ...and the table has at most this many bins (wider tables keep Williams' G).
MC_MAX_BINS = 100
#: Most Monte Carlo draws (smallest p-value ``1 / (MC_DRAWS + 1) = 1e-4``).
MC_DRAWS = 9_999
#: Draws come in batches of this size; sampling stops after a batch once
#: ``MC_STOP_EXCEEDANCES`` draws reached the observed statistic.
MC_BATCH = 1_000
MC_STOP_EXCEEDANCES = 50


class HomogeneityTest(NamedTuple):
    """Result of :func:`quasi_g_test`, :func:`monte_carlo_g_test` or :func:`g_homogeneity`.

    Attributes
    ----------
    statistic : float
        ``G`` (Williams-corrected for ``"g"`` and ``"quasi_f"``, plain for
        the Monte Carlo tests, whose conditional distribution makes the
        correction irrelevant).
    dof : int
        ``k' - 1``.
    p_value : float
    test : {"g", "quasi_f", "monte_carlo", "quasi_monte_carlo", "none"}
        Which reference distribution gave ``p_value``.
    scaled : float
        ``statistic / phi``.
    df1, df2 : float
        F degrees of freedom (``df2 = inf`` for the chi-square tests).
    draws : int
        Monte Carlo draws made (0 for the others).
    """

    statistic: float
    dof: int
    p_value: float
    test: TestName
    scaled: float
    df1: float
    df2: float
    draws: int


def _nothing(dof: int = 0) -> HomogeneityTest:
    return HomogeneityTest(0.0, dof, 1.0, "none", 0.0, 0.0, math.inf, 0)


def quasi_g_test(
    reference_counts: npt.ArrayLike,
    current_counts: npt.ArrayLike,
    dispersion: Dispersion = INDEPENDENT,
) -> HomogeneityTest:
    """Quasi-likelihood G-test: ``G`` scaled by a dispersion, against an F distribution.

    With ``G`` the Williams-corrected statistic of :func:`g_test` on
    ``k'`` bins, dispersion ``phi`` with ``nu`` degrees of freedom and
    Satterthwaite factor ``c`` (:class:`~drift.stats.dependence.Dispersion`),

        F = G / (k' - 1) / phi,    p = P(F(d1, d2) >= F),
        d1 = (k' - 1) / c,         d2 = nu.

    When rows are dependent, ``G`` is about ``sum_j lambda_j chi2_1`` with
    ``lambda_j`` the eigenvalues of the design effect: dividing by their
    mean ``phi`` and matching the second moment (``c``) gives a scaled
    chi-square with ``d1`` degrees of freedom, and estimating ``phi`` from
    ``nu`` degrees of freedom turns the chi-square into an F. With the
    independent dispersion this is exactly :func:`g_test` with Williams'
    correction (``test="g"``).

    Parameters
    ----------
    reference_counts, current_counts : array_like of int
        Counts over the same bins.
    dispersion : Dispersion, optional
        Default :data:`~drift.stats.dependence.INDEPENDENT`.

    Returns
    -------
    HomogeneityTest

    Examples
    --------
    >>> from drift.stats.dependence import Dispersion
    >>> ref, cur = [300, 400, 300], [40, 40, 20]
    >>> round(quasi_g_test(ref, cur).p_value, 4)
    0.0462
    >>> t = quasi_g_test(ref, cur, Dispersion(2.0, 60.0, "reference_windows", 7))
    >>> t.test, round(t.scaled, 3), round(t.p_value, 4)
    ('quasi_f', 3.074, 0.2234)
    """
    g, dof, p = g_test(reference_counts, current_counts, williams=True)
    if dof == 0:
        return _nothing()
    if dispersion.independent:
        return HomogeneityTest(g, dof, p, "g", g, float(dof), math.inf, 0)
    scaled = g / dispersion.phi
    d1 = dof / dispersion.spread
    p_f = f_sf(scaled / dof, d1, dispersion.df)
    return HomogeneityTest(g, dof, p_f, "quasi_f", scaled, d1, dispersion.df, 0)


def _seed(ref: FloatArray, cur: FloatArray, phi: float) -> int:
    digest = hashlib.blake2b(digest_size=8)
    digest.update(ref.astype(np.int64).tobytes())
    digest.update(b"|")
    digest.update(cur.astype(np.int64).tobytes())
    digest.update(np.float64(phi).tobytes())
    return int.from_bytes(digest.digest(), "little")


def _xlogx(counts: npt.NDArray[np.int64]) -> FloatArray:
    return np.asarray(counts * np.log(np.maximum(counts, 1)), dtype=np.float64)


def monte_carlo_g_test(
    reference_counts: npt.ArrayLike,
    current_counts: npt.ArrayLike,
    dispersion: Dispersion = INDEPENDENT,
    *,
    draws: int = MC_DRAWS,
    seed: int | None = None,
) -> HomogeneityTest:
    """G-test with a Monte Carlo p-value conditional on both margins.

    Given the bin totals ``C_j = r_j + c_j`` and the live total ``n``, under
    "no change" the live counts are multivariate hypergeometric. With
    ``G*_1 .. G*_B`` the (plain) G statistics of ``B`` such draws and
    ``G_obs`` the observed one,

        p = (1 + #{b : G*_b >= G_obs / phi}) / (B + 1),

    an exact-size test for independent rows however small the counts
    (``phi = 1``). With a dispersion the observed statistic is deflated by
    ``phi`` first, and the p-value is the larger of that and the
    :func:`quasi_g_test` one, which accounts for the uncertainty of ``phi``
    (``test="quasi_monte_carlo"``).

    Draws come in batches of :data:`MC_BATCH`; after a batch in which at
    least :data:`MC_STOP_EXCEEDANCES` draws reached ``G_obs`` the estimate
    is precise enough (a p-value of 0.05 or more) and sampling stops, so
    unchanged windows cost a thousand draws. The seed is derived from the
    counts (and ``phi``), so a re-run gives the same p-value.

    Parameters
    ----------
    reference_counts, current_counts : array_like of int
        Counts over the same bins.
    dispersion : Dispersion, optional
        Default independent rows.
    draws : int, optional
        Most draws ``B``, default :data:`MC_DRAWS` (smallest p-value 1e-4).
    seed : int, optional
        Override the count-derived seed.

    Returns
    -------
    HomogeneityTest
        ``draws`` is the number of draws made.

    Examples
    --------
    >>> t = monte_carlo_g_test([3, 3, 3, 3, 3], [0, 0, 1, 5, 9])
    >>> t.test, 0.01 < t.p_value < 0.05, t.draws
    ('monte_carlo', True, 1999)
    >>> monte_carlo_g_test([3, 3, 3], [3, 2, 4]).p_value > 0.5
    True
    """
    total_draws = positive_int(draws, "draws")
    ref, cur = as_count_pair(reference_counts, current_counts)
    keep = (ref + cur) > 0
    ref, cur = ref[keep], cur[keep]
    if ref.size < 2:
        return _nothing()
    dof = int(ref.size - 1)
    colors = (ref + cur).astype(np.int64)
    n, m = int(cur.sum()), int(ref.sum())
    total = n + m
    log_e_cur = np.log(colors * (n / total))
    log_e_ref = np.log(colors * (m / total))

    def g_of(live: npt.NDArray[np.int64]) -> FloatArray:
        other = colors - live
        return np.asarray(
            2.0
            * (
                _xlogx(live).sum(axis=-1)
                + _xlogx(other).sum(axis=-1)
                - (live * log_e_cur).sum(axis=-1)
                - (other * log_e_ref).sum(axis=-1)
            ),
            dtype=np.float64,
        )

    g_obs = max(float(g_of(cur.astype(np.int64))), 0.0)
    target = g_obs / dispersion.phi
    # Ties: statistics equal up to rounding count as reaching the observed one.
    threshold = target - 1e-9 * max(target, 1.0)
    rng = np.random.default_rng(_seed(ref, cur, dispersion.phi) if seed is None else seed)
    exceed = done = 0
    while done < total_draws:
        size = min(MC_BATCH - (1 if done == 0 else 0), total_draws - done)
        sample = rng.multivariate_hypergeometric(colors, n, size=size)
        exceed += int(np.count_nonzero(g_of(sample) >= threshold))
        done += size
        if exceed >= MC_STOP_EXCEEDANCES:
            break
    p = (1 + exceed) / (done + 1)
    quasi = quasi_g_test(ref, cur, dispersion)
    if exceed == 0:
        # Beyond every draw, the estimate only bounds p by 1 / (B + 1), which
        # Benjamini-Hochberg over many features could never push below the gate;
        # the asymptotic p-value says how far out in the tail the statistic is.
        p = min(p, quasi.p_value)
    if dispersion.independent:
        return HomogeneityTest(g_obs, dof, p, "monte_carlo", g_obs, float(dof), math.inf, done)
    return HomogeneityTest(
        g_obs, dof, max(p, quasi.p_value), "quasi_monte_carlo", target, quasi.df1, quasi.df2, done
    )


def needs_monte_carlo(reference_counts: npt.ArrayLike, current_counts: npt.ArrayLike) -> bool:
    """True when the chi-square (or F) approximation is not trusted for these counts.

    That is when some expected count ``E_ij = R_i C_j / N`` of the 2 x k'
    table (bins with data on either side) is below :data:`MC_MIN_EXPECTED`
    and the table has at most :data:`MC_MAX_BINS` bins. Wider tables
    (vocabularies) keep Williams' correction, which is built for sparse
    tables and keeps the test fast.

    Examples
    --------
    >>> needs_monte_carlo([30, 30], [3, 4])
    True
    >>> needs_monte_carlo([3000, 3000], [300, 400])
    False
    """
    ref, cur = as_count_pair(reference_counts, current_counts)
    col = ref + cur
    col = col[col > 0]
    if col.size < 2 or col.size > MC_MAX_BINS:
        return False
    smallest = float(col.min()) * min(float(ref.sum()), float(cur.sum())) / float(col.sum())
    return smallest < MC_MIN_EXPECTED


def g_homogeneity(
    reference_counts: npt.ArrayLike,
    current_counts: npt.ArrayLike,
    dispersion: Dispersion = INDEPENDENT,
) -> HomogeneityTest:
    """The test :func:`drift.stats.scoring.score_feature` uses: MC, quasi F or G.

    :func:`monte_carlo_g_test` when :func:`needs_monte_carlo` says so,
    else :func:`quasi_g_test` (which is Williams' G-test for independent rows).

    Examples
    --------
    >>> g_homogeneity([30, 30], [3, 4]).test
    'monte_carlo'
    >>> g_homogeneity([3000, 3000], [300, 400]).test
    'g'
    """
    if needs_monte_carlo(reference_counts, current_counts):
        return monte_carlo_g_test(reference_counts, current_counts, dispersion)
    return quasi_g_test(reference_counts, current_counts, dispersion)
