"""Applying a fitted binning to values: the histogram of one window."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import numpy.typing as npt

from drift.stats.binning import Binning, CategoricalBinning, NumericBinning, TokenBinning
from drift.stats.histogram import Histogram
from drift.stats.tokens import tokenize
from drift.stats.values import as_float_values, as_label_values, merge_by_string

# Values binned per step: keeps the bin-index scratch arrays in cache and small.
_CHUNK = 1 << 16
# Up to this many cuts, bin by comparing with each cut (uint8 index, < 256 bins).
_MAX_COMPARISONS = 32


def histogram(binning: Binning, values: npt.ArrayLike | Iterable[object]) -> Histogram:
    """Count ``values`` in the bins of ``binning``.

    - Numeric: value ``x`` goes to bin ``#{j : cut_j <= x}``
      (``numpy.searchsorted(cuts, x, side="right")``); NaN/None are counted
      as missing, ``-inf``/``+inf`` land in the first/last bin. With the
      reference range ``(low, high)`` known, values ``x < low`` and
      ``x > high`` (infinities included) are counted in ``below``/``above``.
    - Categorical: ``str(x)`` is looked up among the categories; anything
      else goes to the last ``"<other>"`` bin and is reported, most frequent
      first, in ``Histogram.unseen``. None/NaN/NA are missing.
    - Text: each value is a document, split by the binning's tokenizer;
      tokens outside the vocabulary go to the last ``"<oov>"`` bin (and to
      ``unseen``). Counts are of tokens, the missing count is of documents,
      and ``documents`` counts the present documents (the feature's rows).

    Parameters
    ----------
    binning : NumericBinning, CategoricalBinning or TokenBinning
        A fitted binning (see :func:`drift.stats.fitting.fit_numeric` and friends).
    values : array_like
        The values of one window. Numeric input that is already float64 is
        not copied.

    Returns
    -------
    Histogram
        Labelled counts; merging the histograms of two chunks gives the
        histogram of both.

    Examples
    --------
    >>> from drift.stats.binning import NumericBinning, CategoricalBinning
    >>> h = histogram(NumericBinning((0.0, 1.0)), [-5, 0.0, 0.5, 1.0, float("nan")])
    >>> h.counts.tolist(), h.missing
    ([1, 2, 1], 1)
    >>> h = histogram(NumericBinning((0.0, 1.0), low=0.0, high=2.0), [-5, 0.5, 3, float("inf")])
    >>> h.below, h.above, h.outside_range
    (1, 2, 0.75)
    >>> h = histogram(CategoricalBinning(("a", "b")), ["a", "z", "z", None])
    >>> h.counts.tolist(), dict(h.unseen)
    ([1, 0, 2], {'z': 2})
    """
    if isinstance(binning, NumericBinning):
        return _numeric(binning, values)
    if isinstance(binning, CategoricalBinning):
        return _categorical(binning, values)
    if isinstance(binning, TokenBinning):
        return _tokens(binning, values)
    raise TypeError(
        "`binning` must be a NumericBinning, CategoricalBinning or TokenBinning, "
        f"got {type(binning).__name__}."
    )


def _numeric(binning: NumericBinning, values: object) -> Histogram:
    arr = as_float_values(values, "values")  # type: ignore[arg-type]
    cuts = np.asarray(binning.cuts, dtype=np.float64)
    k = cuts.size + 1
    counts = np.zeros(k, dtype=np.int64)
    missing = below = above = 0
    bounds = binning.value_range
    for start in range(0, arr.size, _CHUNK):
        chunk = arr[start : start + _CHUNK]
        counts += np.bincount(_bin_index(cuts, chunk), minlength=k)
        missing += int(np.count_nonzero(np.isnan(chunk)))
        if bounds is not None:
            # NaN compares false: a missing value is never outside the range. The
            # chunk's min and max (NaN if it holds one) skip the count when none is.
            if not chunk.min() >= bounds[0]:
                below += int(np.count_nonzero(chunk < bounds[0]))
            if not chunk.max() <= bounds[1]:
                above += int(np.count_nonzero(chunk > bounds[1]))
    # NaN compares false with every cut, so _bin_index put each missing value in bin 0.
    counts[0] -= missing
    return Histogram(binning.labels, counts, missing, below=below, above=above, value_range=bounds)


def _bin_index(cuts: npt.NDArray[np.float64], chunk: npt.NDArray[np.float64]) -> npt.NDArray[Any]:
    """``#{j : cuts[j] <= x}`` for each x (NaN gives 0)."""
    if cuts.size <= _MAX_COMPARISONS:
        # A few vectorised comparisons beat a binary search per value.
        index: npt.NDArray[Any] = np.zeros(chunk.size, dtype=np.uint8)
        for cut in cuts:
            index += chunk >= cut
        return index
    found: npt.NDArray[Any] = np.searchsorted(cuts, chunk, side="right")
    found[np.isnan(chunk)] = 0
    return found


def _categorical(binning: CategoricalBinning, values: object) -> Histogram:
    arr = as_label_values(values, "values")  # type: ignore[arg-type]
    present = arr[arr != None]  # noqa: E711 - elementwise comparison on an object array
    return _from_counter(binning.labels, Counter(map(str, present)), int(arr.size - present.size))


def _tokens(binning: TokenBinning, values: object) -> Histogram:
    docs = as_label_values(values, "values")  # type: ignore[arg-type]
    seen: Counter[str] = Counter()
    missing = 0
    for doc in docs:
        if doc is None:
            missing += 1
            continue
        seen.update(
            tokenize(
                str(doc),
                tokenizer=binning.tokenizer,
                lowercase=binning.lowercase,
                ngram=binning.ngram,
            )
        )
    found = _from_counter(binning.labels, seen, missing)
    return Histogram(
        found.labels, found.counts, missing, found.unseen, documents=docs.size - missing
    )


def histogram_from_counts(
    binning: CategoricalBinning | TokenBinning,
    value_counts: Mapping[Any, int],
    *,
    missing: int = 0,
) -> Histogram:
    """The histogram of a window given as value counts, for categories or tokens.

    The same rule as :func:`histogram`, for counts computed elsewhere (a SQL
    ``GROUP BY``, ``pandas.Series.value_counts()``): keys are compared as
    ``str(key)``; keys outside the categories go to the last bin and to
    ``unseen``. ``histogram_from_counts(b, Counter(values))`` equals
    ``histogram(b, values)``, except that a Python mapping has already
    merged keys that are equal but print differently (``1``, ``1.0``,
    ``True``): count mixed-type values by ``str(value)`` to keep them apart.

    Parameters
    ----------
    binning : CategoricalBinning or TokenBinning
    value_counts : mapping of value to int
        Whole counts >= 0 of the non-missing values.
    missing : int, optional
        Number of missing values. Default 0.

    Returns
    -------
    Histogram

    Examples
    --------
    >>> from drift.stats.binning import CategoricalBinning
    >>> h = histogram_from_counts(CategoricalBinning(("a",)), {"a": 3, "b": 2}, missing=1)
    >>> h.counts.tolist(), h.missing, dict(h.unseen)
    ([3, 2], 1, {'b': 2})
    """
    if not isinstance(binning, CategoricalBinning | TokenBinning):
        raise TypeError(
            f"`binning` must be a CategoricalBinning or TokenBinning, got {type(binning).__name__}."
        )
    if isinstance(missing, bool) or not isinstance(missing, int) or missing < 0:
        raise ValueError(f"`missing` must be a whole number >= 0, got {missing!r}.")
    return _from_counter(binning.labels, merge_by_string(value_counts, "value_counts"), missing)


def _from_counter(labels: tuple[str, ...], seen: Mapping[str, int], missing: int) -> Histogram:
    index = {label: i for i, label in enumerate(labels[:-1])}
    counts = np.zeros(len(labels), dtype=np.int64)
    unseen: Counter[str] = Counter()
    for value, count in seen.items():
        i = index.get(value)
        if i is None:
            counts[-1] += count
            unseen[value] = count
        else:
            counts[i] += count
    return Histogram(labels, counts, missing, unseen)
