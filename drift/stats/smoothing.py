"""Turning bin counts into probabilities, with or without smoothing."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from drift.stats.checks import FloatArray, as_counts, is_whole, positive_float

#: Smoothing methods; ``"additive"`` is another name for ``"lidstone"``.
METHODS = ("lidstone", "additive", "epsilon", "none")


def check_method(method: str | None) -> str:
    """The canonical name of a smoothing method (``None`` means ``"none"``)."""
    if method is None:
        return "none"
    if method not in METHODS:
        raise ValueError(f"`smoothing` must be one of {METHODS} or None, got {method!r}.")
    return "lidstone" if method == "additive" else method


def smooth(
    counts: npt.ArrayLike,
    *,
    method: str | None = "lidstone",
    alpha: float = 0.5,
    eps: float = 1e-6,
) -> FloatArray:
    """Probabilities from bin counts, smoothed so that no bin is zero.

    With ``k`` bins, counts ``c_i`` and ``n = sum(c_i)``:

    - ``lidstone`` (additive): ``p_i = (c_i + alpha) / (n + k * alpha)``.
      ``alpha = 1`` is Laplace's rule, ``alpha = 0.5`` (the default)
      Jeffreys-Perks. ``alpha`` is a pseudo-count, so the input must be
      counts (whole numbers); an all-zero vector gives the uniform
      distribution.
    - ``epsilon``: ``p_i = max(c_i / n, eps)``, then renormalised to sum 1.
      Works on counts or probabilities.
    - ``none`` (or ``None``): ``p_i = c_i / n``. Zeros stay zero.

    Smoothing is what keeps a divergence finite when a bin is empty on one
    side; Lidstone's shrinkage toward uniform is strongest when ``n`` is small,
    which is exactly when a zero count is least informative.

    Parameters
    ----------
    counts : array_like
        Non-negative counts (or, for ``epsilon``/``none``, probabilities).
    method : {"lidstone", "additive", "epsilon", "none"} or None, optional
        The smoother. Default ``"lidstone"``.
    alpha : float, optional
        Lidstone pseudo-count per bin, > 0. Default 0.5.
    eps : float, optional
        Probability floor of ``epsilon`` smoothing, in ``(0, 1/k)``. Default 1e-6.

    Returns
    -------
    numpy.ndarray of float64
        Probabilities summing to 1.

    Raises
    ------
    ValueError
        Empty, negative, NaN/inf or (Lidstone) non-integer ``counts``; an
        all-zero ``counts`` with ``epsilon`` or ``none``.

    Examples
    --------
    >>> smooth([3, 1, 0]).round(4).tolist()
    [0.6364, 0.2727, 0.0909]
    >>> smooth([3, 1, 0], method="none").tolist()
    [0.75, 0.25, 0.0]
    >>> smooth([0.5, 0.5, 0.0], method="epsilon", eps=0.01).round(4).tolist()
    [0.495, 0.495, 0.0099]
    """
    name = check_method(method)
    arr = as_counts(counts, "counts")
    k = arr.size
    if name == "lidstone":
        a = positive_float(alpha, "alpha")
        if not is_whole(arr):
            raise ValueError(
                "`counts` must be whole numbers for Lidstone smoothing (it adds "
                "`alpha` pseudo-counts); for probabilities use method='epsilon' or 'none'."
            )
        out: FloatArray = (arr + a) / (arr.sum() + k * a)
        return out
    total = arr.sum()
    if total <= 0:
        raise ValueError(f"`counts` must not be all zero with smoothing {name!r}.")
    probs: FloatArray = arr / total
    if name == "none":
        return probs
    floor = positive_float(eps, "eps")
    if floor * k >= 1:
        raise ValueError(f"`eps` must be < 1/k = {1 / k:.3g} for {k} bins, got {eps}.")
    floored = np.maximum(probs, floor)
    result: FloatArray = floored / floored.sum()
    return result
