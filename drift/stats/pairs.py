"""Pairs of features: their joint histogram and the chain-rule split of its KL.

Marginals can stay put while the relationship between two columns changes
(a feature and the model's prediction, price and country). A pair ``(x, y)``
is binned jointly by the features' own binnings
(:class:`~drift.stats.binning.PairBinning`: ``k_x * k_y`` cells, row-major,
``x`` outer), counted like one more feature named :func:`pair_name`, and
scored like any histogram (:func:`drift.stats.scoring.score_features` with
``pairs={name: (k_x, k_y)}``). The KL of the joint splits by the chain rule

    KL(P(x,y) || Q(x,y)) = KL(P(x) || Q(x)) + sum_x P(x) KL(P(y|x) || Q(y|x)),

the marginal term (how much ``x`` moved) plus the conditional term (how
much the relationship itself changed), :func:`chain_rule_kl`.

Pure numpy, no I/O: a SQL source counts the cells in the database and hands
them to :func:`joint_histogram`; in memory, :func:`bin_index` and
:func:`joint_counts` do it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from drift.stats.binning import CategoricalBinning, NumericBinning, PairBinning
from drift.stats.divergence import kl_divergence
from drift.stats.histogram import Histogram
from drift.stats.smoothing import check_method, smooth
from drift.stats.values import as_float_values, as_label_values

__all__ = [
    "PAIR_KIND",
    "PAIR_SEPARATOR",
    "KLSplit",
    "PairBinning",
    "bin_index",
    "chain_rule_kl",
    "joint_counts",
    "joint_histogram",
    "pair_name",
]

#: The ``kind`` of a pair's score and baseline row.
PAIR_KIND = "pair"
#: Joins the two names of a pair, and the two labels of a cell (U+00D7 with spaces).
PAIR_SEPARATOR = " × "

IntArray = npt.NDArray[np.int64]


def pair_name(x: str, y: str) -> str:
    """The feature name of the pair ``(x, y)``: ``f"{x} × {y}"``.

    Examples
    --------
    >>> pair_name("amount", "country")
    'amount × country'
    """
    return f"{x}{PAIR_SEPARATOR}{y}"


def bin_index(binning: NumericBinning | CategoricalBinning, values: npt.ArrayLike) -> IntArray:
    """Each value's bin under ``binning``, ``-1`` for a missing value.

    The rule of :func:`drift.stats.counting.histogram`: a number ``v`` goes
    to bin ``#{j : cut_j <= v}`` (NaN and None missing, infinities in the
    outer bins); a category is looked up as ``str(v)``, anything unknown in
    the last ``"<other>"`` bin (None, NaN and pandas NA missing).

    Examples
    --------
    >>> bin_index(NumericBinning((0.0, 1.0)), [-5.0, 0.0, 1.0, float("nan")]).tolist()
    [0, 1, 2, -1]
    >>> bin_index(CategoricalBinning(("a", "b")), ["b", "z", None]).tolist()
    [1, 2, -1]
    """
    if isinstance(binning, NumericBinning):
        arr = as_float_values(values, "values")
        found: IntArray = np.searchsorted(
            np.asarray(binning.cuts, dtype=np.float64), arr, side="right"
        ).astype(np.int64)
        found[np.isnan(arr)] = -1
        return found
    if isinstance(binning, CategoricalBinning):
        labels = as_label_values(values, "values")
        index = {c: i for i, c in enumerate(binning.categories)}
        other = len(binning.categories)
        return np.fromiter(
            (-1 if v is None else index.get(str(v), other) for v in labels),
            dtype=np.int64,
            count=labels.size,
        )
    raise TypeError(
        f"`binning` must be a NumericBinning or CategoricalBinning, got {type(binning).__name__}."
    )


def joint_counts(
    x_index: npt.ArrayLike, y_index: npt.ArrayLike, kx: int, ky: int
) -> tuple[IntArray, int]:
    """The ``(kx, ky)`` table of a pair's cells, and the rows missing either value.

    Parameters
    ----------
    x_index, y_index : array_like of int
        Per row, the bin of ``x`` in ``[0, kx)`` and of ``y`` in ``[0, ky)``
        (:func:`bin_index`); a negative index is a missing value.
    kx, ky : int
        The bins of ``x`` and of ``y``.

    Returns
    -------
    counts : numpy.ndarray of int64, shape (kx, ky)
        Rows per cell, ``x`` along the first axis.
    missing : int
        Rows where ``x`` or ``y`` is missing.

    Examples
    --------
    >>> counts, missing = joint_counts([0, 0, 1, -1], [1, 1, 0, 0], 2, 2)
    >>> counts.tolist(), missing
    ([[0, 2], [1, 0]], 1)
    """
    xs, ys = np.asarray(x_index, dtype=np.int64), np.asarray(y_index, dtype=np.int64)
    if xs.shape != ys.shape or xs.ndim != 1:
        raise ValueError(
            f"`x_index` and `y_index` must be 1-D of one length, got {xs.shape} and {ys.shape}."
        )
    for name, k in (("kx", kx), ("ky", ky)):
        if isinstance(k, bool) or not isinstance(k, int) or k < 1:
            raise ValueError(f"`{name}` must be an integer >= 1, got {k!r}.")
    if xs.size and (xs.max() >= kx or ys.max() >= ky):
        raise ValueError(f"bin indexes must be below kx={kx} and ky={ky}.")
    present = (xs >= 0) & (ys >= 0)
    flat = np.bincount(xs[present] * ky + ys[present], minlength=kx * ky)
    return flat.reshape(kx, ky).astype(np.int64), int(xs.size - np.count_nonzero(present))


def joint_histogram(
    x_labels: Sequence[str], y_labels: Sequence[str], counts_2d: npt.ArrayLike, missing: int = 0
) -> Histogram:
    """The histogram of a pair: ``counts_2d`` flattened row-major (``x`` outer).

    Its labels are :attr:`PairBinning.labels <drift.stats.binning.PairBinning.labels>`,
    ``f"{lx} × {ly}"``; ``missing`` counts the rows where ``x`` or ``y`` is missing.

    Examples
    --------
    >>> h = joint_histogram(["lo", "hi"], ["a", "b"], [[1, 2], [3, 4]], missing=5)
    >>> h.labels, h.counts.tolist(), h.missing
    (('lo × a', 'lo × b', 'hi × a', 'hi × b'), [1, 2, 3, 4], 5)
    """
    table = np.asarray(counts_2d)
    shape = (len(x_labels), len(y_labels))
    if table.shape != shape:
        raise ValueError(
            f"`counts_2d` must have shape {shape} (x bins, y bins), got {table.shape}."
        )
    labels = tuple(f"{lx}{PAIR_SEPARATOR}{ly}" for lx in x_labels for ly in y_labels)
    return Histogram(labels, table.reshape(-1), missing)


@dataclass(frozen=True, slots=True)
class KLSplit:
    """The chain-rule split of a joint KL: ``joint == marginal + conditional`` to rounding."""

    joint: float
    marginal: float
    conditional: float


def chain_rule_kl(
    p: npt.ArrayLike,
    q: npt.ArrayLike,
    shape: tuple[int, int],
    *,
    smoothing: str | None = "lidstone",
    alpha: float = 0.5,
    eps: float = 1e-6,
) -> KLSplit:
    """KL of two joint distributions of a pair, split into marginal and conditional terms.

    With ``P`` (live) and ``Q`` (reference) the smoothed joints over the
    ``k_x * k_y`` cells (smoothed as :func:`drift.stats.smoothing.smooth`
    does the flattened counts), ``P(x) = sum_y P(x, y)`` and
    ``P(y | x) = P(x, y) / P(x)``:

        KL(P(x,y) || Q(x,y)) = KL(P(x) || Q(x)) + sum_x P(x) KL(P(y|x) || Q(y|x)).

    The first term is how much ``x`` moved; the second, how much ``y``
    given ``x`` changed: the relationship itself. Both are taken from the
    one smoothed joint (its marginals and conditionals), so they add up to
    the joint's KL, which is the feature's ``kl``. Swap the pair to split
    the other way (the joint KL is the same, the terms are not).

    Parameters
    ----------
    p, q : array_like
        Live and reference counts per cell, flattened row-major (``x``
        outer), or of shape ``shape``.
    shape : (int, int)
        ``(k_x, k_y)``.
    smoothing, alpha, eps
        As :func:`drift.stats.divergence.kl_divergence`.

    Returns
    -------
    KLSplit
        ``joint``, ``marginal`` and ``conditional``, in nats, each >= 0
        (``inf`` possible without smoothing).

    Notes
    -----
    The chain rule for relative entropy (Cover and Thomas, Elements of
    Information Theory, 2nd ed., Theorem 2.5.3).

    Examples
    --------
    Same marginals, the relationship reversed: all of it is conditional.

    >>> split = chain_rule_kl([40, 10, 10, 40], [10, 40, 40, 10], (2, 2))
    >>> round(split.joint, 4), round(split.marginal, 4), round(split.conditional, 4)
    (0.7941, 0.0, 0.7941)
    """
    method = check_method(smoothing)
    kx, ky = (int(k) for k in shape)
    p_arr, q_arr = np.asarray(p).reshape(-1), np.asarray(q).reshape(-1)
    if p_arr.size != kx * ky or q_arr.size != kx * ky:
        raise ValueError(
            f"`p` and `q` must have k_x * k_y = {kx * ky} cells for shape {shape}, "
            f"got {p_arr.size} and {q_arr.size}."
        )
    pp = smooth(p_arr, method=method, alpha=alpha, eps=eps).reshape(kx, ky)
    qq = smooth(q_arr, method=method, alpha=alpha, eps=eps).reshape(kx, ky)
    px, qx = pp.sum(axis=1), qq.sum(axis=1)
    # The smoothed pieces are probabilities already: no second smoothing.
    marginal = kl_divergence(px, qx, smoothing=None)
    conditional = 0.0
    for i in np.flatnonzero(px > 0):
        if qx[i] <= 0:
            conditional = math.inf
            break
        conditional += float(px[i]) * kl_divergence(pp[i], qq[i], smoothing=None)
    joint = kl_divergence(pp.reshape(-1), qq.reshape(-1), smoothing=None)
    return KLSplit(joint, marginal, conditional)
