"""Fitting binnings on reference data.

A binning is fitted once, on the reference, and then applied unchanged to
every later window (:func:`drift.stats.counting.histogram`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from drift.stats.binning import CategoricalBinning, NumericBinning, TokenBinning
from drift.stats.checks import positive_int
from drift.stats.tokens import TOKENIZERS, tokenize
from drift.stats.values import as_float_values, as_label_values, merge_by_string

#: The largest finite float: a constant column there has no bin edge above it.
_LARGEST = float(np.finfo(np.float64).max)

STRATEGIES = ("quantile", "uniform")


def fit_numeric(
    values: npt.ArrayLike,
    *,
    bins: int = 10,
    strategy: str = "quantile",
    edges: Sequence[float] | None = None,
) -> NumericBinning:
    """Fit numeric bins on reference values.

    ``quantile``: the cut for probability ``i / bins`` is the reference's
    ``inverted_cdf`` quantile (an observed value: the order statistic at
    position ``ceil(i * n / bins)``), exactly as the SQL sources compute it
    in the database; each bin holds about ``1 / bins`` of the reference.
    ``uniform``: ``bins`` equal widths over ``[min, max]``. ``edges``: the
    interior cut points as given (``k`` edges give ``k + 1`` bins).
    The binning keeps the smallest and largest finite value (``low``,
    ``high``): the reference range, outside which every later window counts
    its values (with ``edges``, when ``values`` holds a finite value).

    Only finite values take part in the fit: NaN/None (missing) and +/-inf
    are left out (+/-inf land in the outer bins when applied). Tied quantiles
    are deduplicated, so heavily tied data gets fewer bins. A constant
    reference ``c`` gets the cuts ``[c, nextafter(c, inf)]``, three bins
    (below, equal, above), so any departure from the constant shows.

    Parameters
    ----------
    values : array_like of float
        Reference values.
    bins : int, optional
        Number of bins to aim for, >= 1. Default 10.
    strategy : {"quantile", "uniform"}, optional
        Default ``"quantile"``.
    edges : sequence of float, optional
        Fixed, strictly increasing, finite interior cut points; ``bins`` and
        ``strategy`` are then not used, ``values`` only for the range.

    Returns
    -------
    NumericBinning

    Raises
    ------
    ValueError
        No finite value to fit on; bad ``bins``, ``strategy`` or ``edges``.
    TypeError
        ``values`` that are not numbers.

    Examples
    --------
    >>> fit_numeric(range(1, 11), bins=4).cuts
    (3.0, 5.0, 8.0)
    >>> fit_numeric([0, 10], bins=2, strategy="uniform").cuts
    (5.0,)
    >>> fit_numeric([7, 7, 7]).cuts
    (7.0, 7.000000000000001)
    >>> fit_numeric([3.5, float("inf"), 1.0, float("nan")]).value_range
    (1.0, 3.5)
    """
    if edges is not None:
        cut_points = _check_edges(edges)
        given = as_float_values(values, "values")
        present = given[np.isfinite(given)]
        if present.size == 0:
            return NumericBinning(cut_points)
        return NumericBinning(cut_points, low=float(present.min()), high=float(present.max()))
    n_bins = positive_int(bins, "bins")
    if strategy not in STRATEGIES:
        raise ValueError(f"`strategy` must be one of {STRATEGIES}, got {strategy!r}.")
    arr = as_float_values(values, "values")
    if strategy == "quantile":
        # One sort (NaN last, infinities at the ends) gives the finite values in
        # order; it is faster than np.quantile's partition for a handful of cuts.
        ordered = np.sort(arr)
        start = int(np.searchsorted(ordered, -np.inf, side="right"))
        stop = int(np.searchsorted(ordered, np.inf, side="left"))
        finite = ordered[start:stop]
    else:
        finite = arr[np.isfinite(arr)]
    if finite.size == 0:
        raise ValueError(
            "`values` has no finite value to fit bins on (empty, all missing or all inf)."
        )
    low, high = float(finite.min()), float(finite.max())
    if low == high:
        if low == _LARGEST:  # no finite float above it: the bin ends at it instead
            return NumericBinning((float(np.nextafter(low, -np.inf)), low), low=low, high=high)
        return NumericBinning((low, float(np.nextafter(low, np.inf))), low=low, high=high)
    if n_bins == 1:
        return NumericBinning((), low=low, high=high)
    if strategy == "quantile":
        # Order statistic at 1-based position ceil(i * n / bins), in exact integers:
        # numpy's "inverted_cdf" quantile, and what the SQL sources compute.
        n = finite.size
        positions = (np.arange(1, n_bins, dtype=np.int64) * n + n_bins - 1) // n_bins
        cuts = finite[np.maximum(positions, 1) - 1]
    else:
        # Interpolate without forming high - low, which overflows for huge ranges.
        share = np.arange(1, n_bins) / n_bins
        cuts = low * (1 - share) + high * share
    return NumericBinning(tuple(float(c) for c in np.unique(cuts)), low=low, high=high)


def _check_edges(edges: Sequence[float]) -> tuple[float, ...]:
    try:
        arr = np.asarray(edges, dtype=np.float64)
    except (TypeError, ValueError):
        raise TypeError("`edges` must be a sequence of numbers.") from None
    if arr.ndim != 1:
        raise ValueError(f"`edges` must be one-dimensional, got shape {arr.shape}.")
    if not np.all(np.isfinite(arr)):
        raise ValueError("`edges` must be finite numbers.")
    if np.any(np.diff(arr) <= 0):
        raise ValueError("`edges` must be strictly increasing.")
    return tuple(float(e) for e in arr)


def fit_categorical(values: npt.ArrayLike, *, top_k: int = 50) -> CategoricalBinning:
    """Fit a categorical binning: the reference's ``top_k`` most frequent values.

    Values are compared as strings (``str(v)``), as the SQL sources compare
    them, so ``1`` and ``"1"`` are one category while ``1`` and ``1.0`` are
    two. None/NaN are missing and never a category. Ties in frequency are
    broken by the string order, so the fit is deterministic. Everything
    outside the top ``top_k`` shares one last ``"<other>"`` bin.

    Parameters
    ----------
    values : array_like
        Reference values (any objects; strings, numbers, booleans).
    top_k : int, optional
        Categories kept, >= 1. Default 50.

    Returns
    -------
    CategoricalBinning
        Categories ordered by descending reference frequency.

    Examples
    --------
    >>> fit_categorical(["b", "a", "b", None, "c", "a", "b"], top_k=2).labels
    ('b', 'a', '<other>')
    """
    k = positive_int(top_k, "top_k")
    labels = as_label_values(values, "values")
    present = labels[labels != None]  # noqa: E711 - elementwise comparison on an object array
    return fit_categorical_counts(Counter(map(str, present)), top_k=k)


def fit_categorical_counts(
    value_counts: Mapping[Any, int], *, top_k: int = 50
) -> CategoricalBinning:
    """Fit a categorical binning from value counts (a GROUP BY, ``Series.value_counts()``).

    Same rule as :func:`fit_categorical`: keys are compared as ``str(key)``
    (keys with the same string are added up), the ``top_k`` most frequent
    are kept, ties broken by the string order. Zero counts are ignored.

    Parameters
    ----------
    value_counts : mapping of value to int
        How often each (non-missing) value occurs in the reference.
    top_k : int, optional
        Categories kept, >= 1. Default 50.

    Returns
    -------
    CategoricalBinning

    Examples
    --------
    >>> fit_categorical_counts({"b": 3, "a": 2, 1: 1, "1": 1}, top_k=2).labels
    ('b', '1', '<other>')
    """
    k = positive_int(top_k, "top_k")
    totals = merge_by_string(value_counts, "value_counts")
    ranked = sorted(totals.items(), key=lambda kv: (-kv[1], kv[0]))[:k]
    return CategoricalBinning(tuple(label for label, _ in ranked))


def fit_tokens(
    texts: Iterable[object],
    *,
    top_k: int = 5000,
    ngram: int = 1,
    tokenizer: str = "regex",
    lowercase: bool = True,
) -> TokenBinning:
    """Fit a vocabulary: the ``top_k`` most frequent tokens (or n-grams) of the reference.

    Each document is split by :func:`drift.stats.tokens.tokenize`; None/NaN
    documents are missing. Ties are broken by the token's string order.
    Every other token later lands in the last ``"<oov>"`` bin.

    Parameters
    ----------
    texts : iterable of str
        Reference documents.
    top_k : int, optional
        Vocabulary size, >= 1. Default 5000.
    ngram : int, optional
        Words per token, >= 1. Default 1.
    tokenizer : {"regex", "whitespace", "char"}, optional
        Default ``"regex"``.
    lowercase : bool, optional
        Default True.

    Returns
    -------
    TokenBinning

    Examples
    --------
    >>> fit_tokens(["the cat", "the dog", None], top_k=2).labels
    ('the', 'cat', '<oov>')
    """
    k = positive_int(top_k, "top_k")
    n = positive_int(ngram, "ngram")
    if tokenizer not in TOKENIZERS:
        raise ValueError(f"`tokenizer` must be one of {TOKENIZERS}, got {tokenizer!r}.")
    counter: Counter[str] = Counter()
    for doc in as_label_values(texts, "texts"):
        if doc is not None:
            counter.update(tokenize(str(doc), tokenizer=tokenizer, lowercase=lowercase, ngram=n))
    ranked = sorted(counter.items(), key=lambda kv: (-kv[1], kv[0]))[:k]
    return TokenBinning(
        tuple(token for token, _ in ranked), ngram=n, tokenizer=tokenizer, lowercase=lowercase
    )
