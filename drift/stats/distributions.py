"""Tail probabilities of the chi-square and F distributions, in pure Python.

The p-values of :mod:`drift.stats.significance`, :mod:`drift.stats.homogeneity`
and :mod:`drift.stats.missingness` come from here. Runtime needs only
:mod:`math`: the chi-square tail is the regularized upper incomplete gamma
function and the F tail the regularized incomplete beta function, computed
here (series or continued fractions, as in Numerical Recipes sections 6.2
and 6.4) and tested against scipy.
"""

from __future__ import annotations

import math

from drift.stats.checks import positive_int

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
