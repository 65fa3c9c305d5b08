"""Is a difference more than sampling noise? G-tests, KL bias, and FDR control.

Runtime needs only numpy and :mod:`math`: the chi-square tail is the
regularized upper incomplete gamma function and the F tail the regularized
incomplete beta function, computed here (series or continued fractions, as
in Numerical Recipes sections 6.2 and 6.4) and tested against scipy.

Three tests of "same distribution" on a reference and a live count vector:

- :func:`g_test`, independent rows, chi-square reference distribution;
- :func:`quasi_g_test`, rows with a :class:`~drift.stats.dependence.Dispersion`
  (autocorrelated windows, tokens in documents): ``G / (k - 1) / phi``
  against an F distribution;
- :func:`monte_carlo_g_test`, small expected counts: the conditional
  distribution of ``G`` given both margins, by multivariate hypergeometric
  draws.

:func:`g_homogeneity` chooses between them (see :data:`MC_MIN_EXPECTED`),
and :func:`missing_test` tests a change in the missing rate.
"""

from __future__ import annotations

import hashlib
import math
from typing import Literal, NamedTuple

import numpy as np
import numpy.typing as npt

from drift.stats._checks import FloatArray, as_pair, is_whole, positive_int
from drift.stats.dependence import INDEPENDENT, Dispersion

_MAX_ITER = 100_000
_EPS = 1e-15
_TINY = 1e-300


def _lower_series(a: float, x: float) -> float:
    """Regularized lower incomplete gamma ``P(a, x)`` by its power series (for x < a + 1)."""
    term = total = 1.0 / a
    denom = a
    for _ in range(_MAX_ITER):
        denom += 1.0
        term *= x / denom
        total += term
        if term < total * _EPS:
            break
    return total * math.exp(-x + a * math.log(x) - math.lgamma(a))


def _upper_fraction(a: float, x: float) -> float:
    """Regularized upper incomplete gamma ``Q(a, x)`` by Lentz's continued fraction (x >= a + 1)."""
    b = x + 1.0 - a
    c = 1.0 / _TINY
    d = 1.0 / b
    h = d
    for i in range(1, _MAX_ITER):
        an = -i * (i - a)
        b += 2.0
        d = an * d + b
        d = _TINY if abs(d) < _TINY else d
        c = b + an / c
        c = _TINY if abs(c) < _TINY else c
        d = 1.0 / d
        delta = d * c
        h *= delta
        if abs(delta - 1.0) < _EPS:
            break
    return math.exp(-x + a * math.log(x) - math.lgamma(a)) * h


def chi2_sf(x: float, dof: int) -> float:
    """Survival function of the chi-square distribution, ``P(X >= x)``.

    ``sf(x; k) = Q(k / 2, x / 2)``, the regularized upper incomplete gamma
    function ``Q(a, y) = Gamma(a, y) / Gamma(a)``.

    Parameters
    ----------
    x : float
        The statistic, >= 0 (``inf`` gives 0).
    dof : int
        Degrees of freedom, >= 1.

    Returns
    -------
    float
        The upper tail probability in ``[0, 1]``.

    Examples
    --------
    >>> round(chi2_sf(3.841458820694124, 1), 6)
    0.05
    >>> chi2_sf(0.0, 4)
    1.0
    """
    k = positive_int(dof, "dof")
    value = float(x)
    if math.isnan(value) or value < 0:
        raise ValueError(f"`x` must be a number >= 0, got {x}.")
    if math.isinf(value):
        return 0.0
    return _gamma_q(k / 2.0, value / 2.0)


def _gamma_q(a: float, y: float) -> float:
    """Regularized upper incomplete gamma ``Q(a, y)`` for real ``a > 0``, ``y >= 0``."""
    if y == 0:
        return 1.0
    if math.isinf(y):
        return 0.0
    if y < a + 1.0:
        return min(max(1.0 - _lower_series(a, y), 0.0), 1.0)
    return min(max(_upper_fraction(a, y), 0.0), 1.0)


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
    :class:`drift.stats.scoring.Thresholds`).

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
    ref, cur = _counts_pair(ref_counts, cur_counts)
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


def _counts_pair(ref_counts: npt.ArrayLike, cur_counts: npt.ArrayLike) -> tuple[FloatArray, ...]:
    try:
        ref, cur = as_pair(ref_counts, cur_counts)
    except ValueError as exc:
        message = str(exc).replace("`p`", "`cur_counts`").replace("`q`", "`ref_counts`")
        raise ValueError(message) from None
    for name, arr in (("ref_counts", ref), ("cur_counts", cur)):
        if not is_whole(arr):
            raise ValueError(f"`{name}` must be whole numbers (counts), not probabilities.")
        if arr.sum() <= 0:
            raise ValueError(f"`{name}` must hold at least one count.")
    return ref, cur


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


def _beta_fraction(a: float, b: float, x: float) -> float:
    """Continued fraction for the incomplete beta function (modified Lentz)."""
    qab, qap, qam = a + b, a + 1.0, a - 1.0
    c = 1.0
    d = 1.0 - qab * x / qap
    d = _TINY if abs(d) < _TINY else d
    d = 1.0 / d
    h = d
    for m in range(1, _MAX_ITER):
        m2 = 2 * m
        aa = m * (b - m) * x / ((qam + m2) * (a + m2))
        d = 1.0 + aa * d
        d = _TINY if abs(d) < _TINY else d
        c = 1.0 + aa / c
        c = _TINY if abs(c) < _TINY else c
        d = 1.0 / d
        h *= d * c
        aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2))
        d = 1.0 + aa * d
        d = _TINY if abs(d) < _TINY else d
        c = 1.0 + aa / c
        c = _TINY if abs(c) < _TINY else c
        d = 1.0 / d
        delta = d * c
        h *= delta
        if abs(delta - 1.0) < _EPS:
            break
    return h


def _beta_inc(a: float, b: float, log_x: float, log_1mx: float) -> float:
    """Regularized incomplete beta ``I_x(a, b)``, given ``log x`` and ``log(1 - x)``."""
    x = math.exp(log_x)
    if x >= (a + 1.0) / (a + b + 2.0):
        return 1.0 - _beta_inc_direct(b, a, log_1mx, log_x)
    return _beta_inc_direct(a, b, log_x, log_1mx)


def _stirling_delta(x: float) -> float:
    """``lgamma(x) - ((x - 1/2) log x - x + log(2 pi) / 2)`` for ``x >= 10`` (error < 1e-12)."""
    inv, inv2 = 1.0 / x, 1.0 / (x * x)
    return inv * (1 / 12 - inv2 * (1 / 360 - inv2 * (1 / 1260 - inv2 / 1680)))


def _log_beta(a: float, b: float) -> float:
    """``log B(a, b)``, without the cancellation of ``lgamma`` differences for large arguments."""
    small, big = min(a, b), max(a, b)
    if big < 10:
        return math.lgamma(a) + math.lgamma(b) - math.lgamma(a + b)
    # lgamma(big) - lgamma(big + small) by Stirling's series, cancellation done by hand.
    diff = (
        -(big - 0.5) * math.log1p(small / big)
        - small * math.log(big + small)
        + small
        + _stirling_delta(big)
        - _stirling_delta(big + small)
    )
    return math.lgamma(small) + diff


def _beta_inc_direct(a: float, b: float, log_x: float, log_1mx: float) -> float:
    log_front = a * log_x + b * log_1mx - _log_beta(a, b)
    return math.exp(log_front) * _beta_fraction(a, b, math.exp(log_x)) / a


def f_sf(x: float, d1: float, d2: float) -> float:
    """Survival function of the F distribution, ``P(F(d1, d2) >= x)``.

    ``sf(x; d1, d2) = I_z(d2 / 2, d1 / 2)`` with ``z = d2 / (d2 + d1 x)``,
    the regularized incomplete beta function
    ``I_z(a, b) = B(z; a, b) / B(a, b)`` (continued fraction, switching to
    ``1 - I_{1-z}(b, a)`` above the mean). As ``d2 -> inf``, ``d1 F`` is
    chi-square with ``d1`` degrees of freedom, and ``d2 = inf`` gives that
    limit exactly. Degrees of freedom need not be whole (Satterthwaite).

    Parameters
    ----------
    x : float
        The statistic, >= 0 (``inf`` gives 0).
    d1, d2 : float
        Numerator and denominator degrees of freedom, > 0; ``d2`` may be ``inf``.

    Returns
    -------
    float
        The upper tail probability in ``[0, 1]``.

    Examples
    --------
    >>> round(f_sf(3.0, 5, 20), 6)
    0.035201
    >>> f_sf(2.0, 4, math.inf) == chi2_sf(8.0, 4)
    True
    >>> f_sf(0.0, 3, 7)
    1.0
    """
    value, a1, a2 = float(x), float(d1), float(d2)
    if math.isnan(value) or value < 0:
        raise ValueError(f"`x` must be a number >= 0, got {x}.")
    for name, dof in (("d1", a1), ("d2", a2)):
        if math.isnan(dof) or dof <= 0:
            raise ValueError(f"`{name}` must be > 0, got {dof}.")
    if math.isinf(a1):
        raise ValueError("`d1` must be finite.")
    if value == 0:
        return 1.0
    if math.isinf(value):
        return 0.0
    if math.isinf(a2):
        return _gamma_q(a1 / 2.0, a1 * value / 2.0)
    ratio = a1 * value / a2
    if ratio == 0:  # x so small it underflows: the tail is 1 to double precision
        return 1.0
    log_z = -math.log1p(ratio)  # z = d2 / (d2 + d1 x)
    log_w = math.log(ratio) + log_z  # 1 - z
    return min(max(_beta_inc(a2 / 2.0, a1 / 2.0, log_z, log_w), 0.0), 1.0)


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
    ref, cur = _counts_pair(reference_counts, current_counts)
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
    if dispersion.independent:
        return HomogeneityTest(g_obs, dof, p, "monte_carlo", g_obs, float(dof), math.inf, done)
    quasi = quasi_g_test(ref, cur, dispersion)
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
    ref, cur = _counts_pair(reference_counts, current_counts)
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
