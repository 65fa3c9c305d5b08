"""Data shaped like real data for the segment and pair tests (issue 19).

``orders`` draws an order table: a country (eight markets of unequal size,
BR 10% of rows), a device, a right-skewed amount whose level depends on the
country (log-normal), optionally autocorrelated in time (AR(1) of the log
amount, per country, in row order) and optionally shifted in one country;
and a model score that depends on the amount. ``correlated`` draws two
standard normals with a given correlation.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pandas as pd
import scipy.signal

COUNTRIES = ("US", "DE", "GB", "BR", "FR", "IN", "MX", "JP")
SHARES = (0.30, 0.15, 0.12, 0.10, 0.10, 0.09, 0.08, 0.06)
#: Mean log amount per country.
LEVEL = {"US": 3.8, "DE": 3.6, "GB": 3.7, "BR": 3.2, "FR": 3.5, "IN": 2.9, "MX": 3.1, "JP": 3.9}
LOG_SD = 0.6
DEVICES = ("ios", "android", "web")


def amount_sd(country: str) -> float:
    """The standard deviation of the amount in ``country`` (log-normal)."""
    variance = (np.exp(LOG_SD**2) - 1) * np.exp(2 * LEVEL[country] + LOG_SD**2)
    return float(np.sqrt(variance))


def order_arrays(
    rng: np.random.Generator,
    n: int,
    *,
    shift: float = 0.0,
    shifted: str = "BR",
    phi: float = 0.0,
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]]:
    """The country (an index into ``COUNTRIES``) and amount of ``n`` orders, as numpy.

    ``shift`` standard deviations are added to the amount in country
    ``shifted``. With ``phi`` > 0 each country's log amount is an AR(1)
    series in row order (lag correlation ``phi``, the same marginal).
    """
    country = rng.choice(len(COUNTRIES), n, p=SHARES).astype(np.int64)
    if phi:
        noise = np.empty(n)
        for c in range(len(COUNTRIES)):
            rows = np.flatnonzero(country == c)
            noise[rows] = ar1(rng, phi, rows.size)
    else:
        noise = rng.normal(size=n)
    levels = np.array([LEVEL[c] for c in COUNTRIES])
    amount = np.exp(levels[country] + LOG_SD * noise)
    if shift:
        amount[country == COUNTRIES.index(shifted)] += shift * amount_sd(shifted)
    return country, amount


def orders(
    rng: np.random.Generator,
    n: int,
    *,
    shift: float = 0.0,
    shifted: str = "BR",
    phi: float = 0.0,
) -> pd.DataFrame:
    """``n`` orders as a DataFrame: country, device, amount (as :func:`order_arrays`), score."""
    country, amount = order_arrays(rng, n, shift=shift, shifted=shifted, phi=phi)
    device = np.asarray(DEVICES)[rng.choice(3, n, p=[0.45, 0.40, 0.15])]
    score = 1 / (1 + np.exp(-(np.log(amount) - 3.5) + rng.normal(0, 1.0, n)))
    return pd.DataFrame(
        {
            "country": pd.Series(np.asarray(COUNTRIES)[country], dtype="str"),
            "device": pd.Series(device, dtype="str"),
            "amount": amount.round(2),
            "score": score,
        }
    )


def ar1(rng: np.random.Generator, phi: float, size: int) -> npt.NDArray[np.float64]:
    """A stationary AR(1) series with unit marginal variance and lag correlation ``phi``."""
    noise = rng.normal(size=size) * np.sqrt(1 - phi**2)
    out, _ = scipy.signal.lfilter([1.0], [1.0, -phi], noise, zi=[phi * rng.normal()])
    return np.asarray(out, dtype=np.float64)


def correlated(rng: np.random.Generator, n: int, rho: float) -> pd.DataFrame:
    """Columns ``x`` and ``y``: standard normals with correlation ``rho``."""
    x = rng.normal(size=n)
    y = rho * x + np.sqrt(1 - rho**2) * rng.normal(size=n)
    return pd.DataFrame({"x": x, "y": y})
