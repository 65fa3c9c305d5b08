"""Divergences between two distributions over the same bins.

Every function takes two count (or probability) vectors ``p`` and ``q`` of
one binning: ``p`` is what is observed now (the live window), ``q`` the
reference. Both are first turned into probabilities by :func:`smooth` with
the same method, so the defaults (Lidstone, ``alpha = 0.5``) need counts;
pass ``smoothing="epsilon"`` or ``smoothing=None`` for probabilities.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from drift.stats.binning import OOV_LABEL
from drift.stats.checks import FloatArray, as_pair
from drift.stats.smoothing import check_method, smooth

_BASES = {"nats": 1.0, "bits": math.log(2.0)}


def _scale(base: str) -> float:
    if base not in _BASES:
        raise ValueError(f"`base` must be 'nats' or 'bits', got {base!r}.")
    return _BASES[base]


def _probabilities(
    p: npt.ArrayLike, q: npt.ArrayLike, smoothing: str | None, alpha: float, eps: float
) -> tuple[FloatArray, FloatArray]:
    method = check_method(smoothing)
    p_arr, q_arr = as_pair(p, q)
    return (
        smooth(p_arr, method=method, alpha=alpha, eps=eps),
        smooth(q_arr, method=method, alpha=alpha, eps=eps),
    )


def _terms(p: FloatArray, q: FloatArray) -> FloatArray:
    """``p_i * log(p_i / q_i)`` with ``0 log(0/q) = 0`` and ``inf`` where ``p_i > 0 = q_i``."""
    out = np.zeros_like(p)
    both = (p > 0) & (q > 0)
    out[both] = p[both] * np.log(p[both] / q[both])
    out[(p > 0) & (q == 0)] = np.inf
    return out


def _kl(p: FloatArray, q: FloatArray) -> float:
    # Clip the tiny negative sums that rounding can leave when p == q.
    return max(float(_terms(p, q).sum()), 0.0)


def kl_contributions(
    p: npt.ArrayLike,
    q: npt.ArrayLike,
    *,
    smoothing: str | None = "lidstone",
    alpha: float = 0.5,
    eps: float = 1e-6,
    base: str = "nats",
) -> FloatArray:
    """Each bin's term of the KL divergence ``D_KL(P || Q)``.

    ``t_i = p_i * log(p_i / q_i)``; the terms sum to :func:`kl_divergence`.
    A negative term is a bin that is rarer now than in the reference; the
    largest terms are the bins (categories, tokens) that drive the drift.

    Parameters and smoothing are as for :func:`kl_divergence`.

    Returns
    -------
    numpy.ndarray of float64
        One term per bin (``inf`` where ``p_i > 0 = q_i`` without smoothing).

    Examples
    --------
    >>> kl_contributions([0.4, 0.4, 0.2], [0.3, 0.4, 0.3], smoothing=None).round(5).tolist()
    [0.11507, 0.0, -0.08109]
    """
    scale = _scale(base)
    pp, qq = _probabilities(p, q, smoothing, alpha, eps)
    return _terms(pp, qq) / scale


def kl_divergence(
    p: npt.ArrayLike,
    q: npt.ArrayLike,
    *,
    smoothing: str | None = "lidstone",
    alpha: float = 0.5,
    eps: float = 1e-6,
    base: str = "nats",
) -> float:
    """Kullback-Leibler divergence of the live distribution from the reference.

    ``D_KL(P || Q) = sum_i p_i * log(p_i / q_i)``, with ``0 * log(0 / q) = 0``.

    The information lost when the reference ``Q`` is used to describe what is
    observed now, ``P``. It is >= 0, 0 exactly when ``P = Q``, and not
    symmetric (see :func:`reverse_kl`, :func:`jeffreys`).

    Parameters
    ----------
    p : array_like
        Live counts (or probabilities), one per bin.
    q : array_like
        Reference counts (or probabilities) over the same bins.
    smoothing : {"lidstone", "additive", "epsilon", "none"} or None, optional
        How both vectors become probabilities (:func:`smooth`). The default,
        ``"lidstone"``, adds ``alpha`` to every count and so needs counts
        (whole numbers): a vector with fractions raises ``ValueError``. Pass
        ``"epsilon"`` or ``None`` for probabilities; with ``None`` both are
        only normalised, and a bin with ``p_i > 0 = q_i`` makes the result
        ``inf`` (reported, not hidden).
    alpha : float, optional
        Lidstone pseudo-count, > 0. Default 0.5.
    eps : float, optional
        Floor of ``epsilon`` smoothing. Default 1e-6.
    base : {"nats", "bits"}, optional
        Unit of the result. Default ``"nats"``.

    Returns
    -------
    float
        ``D_KL(P || Q)``, >= 0, possibly ``inf`` without smoothing.

    Notes
    -----
    Estimated from samples, KL is biased upward by about ``(k - 1) / 2 *
    (1/n + 1/m)`` nats when nothing changed; see
    :func:`drift.stats.significance.kl_bias` and the G-test.

    References
    ----------
    Kullback, S. and Leibler, R. A. (1951), "On information and sufficiency".

    Examples
    --------
    >>> round(kl_divergence([0.4, 0.4, 0.2], [0.3, 0.4, 0.3], smoothing=None), 6)
    0.03398
    >>> round(kl_divergence([40, 40, 20], [30, 40, 30]), 6)
    0.032908
    >>> kl_divergence([1, 1], [1, 0], smoothing=None)
    inf
    """
    scale = _scale(base)
    pp, qq = _probabilities(p, q, smoothing, alpha, eps)
    return _kl(pp, qq) / scale


def reverse_kl(
    p: npt.ArrayLike,
    q: npt.ArrayLike,
    *,
    smoothing: str | None = "lidstone",
    alpha: float = 0.5,
    eps: float = 1e-6,
    base: str = "nats",
) -> float:
    """KL divergence the other way round, of the reference from the live data.

    ``D_KL(Q || P) = sum_i q_i * log(q_i / p_i)``.

    Large when the reference has mass where the live data has little (a
    category that disappeared), where ``D_KL(P || Q)`` is large when the live
    data has mass the reference lacked. Arguments as :func:`kl_divergence`.

    Examples
    --------
    >>> round(reverse_kl([0.4, 0.4, 0.2], [0.3, 0.4, 0.3], smoothing=None), 6)
    0.035335
    """
    scale = _scale(base)
    pp, qq = _probabilities(p, q, smoothing, alpha, eps)
    return _kl(qq, pp) / scale


def jeffreys(
    p: npt.ArrayLike,
    q: npt.ArrayLike,
    *,
    smoothing: str | None = "lidstone",
    alpha: float = 0.5,
    eps: float = 1e-6,
    base: str = "nats",
) -> float:
    """Jeffreys divergence (symmetric KL), which is the PSI in nats.

    ``J = D_KL(P || Q) + D_KL(Q || P) = sum_i (p_i - q_i) * log(p_i / q_i)``.

    The Population Stability Index used in credit scoring is this quantity on
    the same bins; its folklore thresholds are 0.1 (watch) and 0.25 (act).
    Arguments as :func:`kl_divergence`.

    Examples
    --------
    >>> round(jeffreys([0.4, 0.4, 0.2], [0.3, 0.4, 0.3], smoothing=None), 6)
    0.069315
    """
    scale = _scale(base)
    pp, qq = _probabilities(p, q, smoothing, alpha, eps)
    return (_kl(pp, qq) + _kl(qq, pp)) / scale


def jensen_shannon(
    p: npt.ArrayLike,
    q: npt.ArrayLike,
    *,
    smoothing: str | None = "lidstone",
    alpha: float = 0.5,
    eps: float = 1e-6,
    base: str = "nats",
) -> float:
    """Jensen-Shannon divergence, a bounded symmetric relative of KL.

    ``JS = D_KL(P || M) / 2 + D_KL(Q || M) / 2`` with ``M = (P + Q) / 2``.

    Always finite (``M`` is never zero where ``P`` or ``Q`` is not), between 0
    and ``ln 2`` nats (1 bit). This is the divergence;
    ``scipy.spatial.distance.jensenshannon`` returns its square root.
    Arguments as :func:`kl_divergence`.

    Examples
    --------
    >>> round(jensen_shannon([1, 0], [0, 1], smoothing=None, base="bits"), 6)
    1.0
    """
    scale = _scale(base)
    pp, qq = _probabilities(p, q, smoothing, alpha, eps)
    m = (pp + qq) / 2
    return min((_kl(pp, m) + _kl(qq, m)) / 2, math.log(2.0)) / scale


def hellinger(
    p: npt.ArrayLike,
    q: npt.ArrayLike,
    *,
    smoothing: str | None = "lidstone",
    alpha: float = 0.5,
    eps: float = 1e-6,
) -> float:
    """Hellinger distance, in [0, 1].

    ``H = sqrt(sum_i (sqrt(p_i) - sqrt(q_i))^2 / 2)``.

    A true metric; 1 means the two distributions share no bin. Arguments as
    :func:`kl_divergence` (no ``base``: it is not measured in nats).

    Examples
    --------
    >>> round(hellinger([1, 0], [0, 1], smoothing=None), 6)
    1.0
    """
    pp, qq = _probabilities(p, q, smoothing, alpha, eps)
    return min(float(np.sqrt(np.sum((np.sqrt(pp) - np.sqrt(qq)) ** 2) / 2)), 1.0)


def total_variation(
    p: npt.ArrayLike,
    q: npt.ArrayLike,
    *,
    smoothing: str | None = "lidstone",
    alpha: float = 0.5,
    eps: float = 1e-6,
) -> float:
    """Total variation distance, in [0, 1].

    ``TV = sum_i |p_i - q_i| / 2``: the largest difference in probability the
    two distributions give to any set of bins. Arguments as :func:`kl_divergence`.

    Examples
    --------
    >>> round(total_variation([0.4, 0.4, 0.2], [0.3, 0.4, 0.3], smoothing=None), 6)
    0.1
    """
    pp, qq = _probabilities(p, q, smoothing, alpha, eps)
    return min(float(np.abs(pp - qq).sum() / 2), 1.0)


def conditional_kl(
    p: npt.ArrayLike,
    q: npt.ArrayLike,
    labels: Sequence[str],
    *,
    smoothing: str | None = "lidstone",
    alpha: float = 0.5,
    eps: float = 1e-6,
    base: str = "nats",
) -> float:
    """Conditional KL of n-gram counts: how the next word given its context changed.

    ``D = sum_ctx P(ctx) * D_KL(P(w | ctx) || Q(w | ctx))``, where an n-gram
    label ``"w_1 ... w_n"`` has context ``"w_1 ... w_{n-1}"`` and next word
    ``w_n``; ``P(ctx)`` is the live share of the n-grams with that context.

    This is the per-step form of KL used for language models: it ignores a
    change in how often contexts occur and measures only what follows them.
    Each context's conditional distributions are smoothed over the n-grams of
    that context, as :func:`smooth` does. The out-of-vocabulary bin has no
    context and is left out.

    Parameters
    ----------
    p, q : array_like
        Live and reference counts per n-gram (as :func:`kl_divergence`).
    labels : sequence of str
        One n-gram per bin, words separated by single spaces; a label without
        a space is its own context. ``"<oov>"`` is skipped.
    smoothing, alpha, eps, base
        As :func:`kl_divergence`.

    Returns
    -------
    float
        The conditional KL, >= 0 (``inf`` possible without smoothing); 0 when
        the live data has no in-vocabulary n-gram.

    Examples
    --------
    >>> labels = ["a x", "a y", "b x", "b y"]
    >>> round(conditional_kl([5, 5, 9, 1], [5, 5, 1, 9], labels, smoothing=None), 6)
    0.87889
    """
    scale = _scale(base)
    method = check_method(smoothing)
    p_arr, q_arr = as_pair(p, q)
    if len(labels) != p_arr.size:
        raise ValueError(f"`labels` has {len(labels)} entries but `p` has {p_arr.size} bins.")
    keep = np.array([label != OOV_LABEL for label in labels], dtype=bool)
    contexts = [label.rsplit(" ", 1)[0] for label, k in zip(labels, keep, strict=True) if k]
    p_in, q_in = p_arr[keep], q_arr[keep]
    if p_in.sum() <= 0:
        return 0.0
    _, group = np.unique(np.asarray(contexts, dtype=object), return_inverse=True)
    weights = np.bincount(group, weights=p_in) / p_in.sum()
    total = 0.0
    for g in np.flatnonzero(weights > 0):
        members = group == g
        if method != "lidstone" and q_in[members].sum() <= 0:
            return math.inf
        pp = smooth(p_in[members], method=method, alpha=alpha, eps=eps)
        qq = smooth(q_in[members], method=method, alpha=alpha, eps=eps)
        total += float(weights[g]) * _kl(pp, qq)
    return total / scale
