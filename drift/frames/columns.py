"""Reading one pandas column for ``compare``: its kind, its binning, its counts, its bin per row.

The rules are those of :mod:`drift.stats` (numbers on quantile cuts,
categories as ``str(value)``, text by documents); this module only reads
pandas columns into the arrays and value counts the statistics take, with
pandas doing the per-row work in C where it can.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from drift.config.kinds import ColumnFacts, Family, Inferred, infer_kind
from drift.stats.binning import (
    Binning,
    CategoricalBinning,
    NumericBinning,
    PairBinning,
    TokenBinning,
)
from drift.stats.counting import histogram, histogram_from_counts
from drift.stats.dependence import Dispersion
from drift.stats.document_counts import token_documents
from drift.stats.documents import document_dispersion
from drift.stats.fitting import fit_categorical_counts, fit_numeric, fit_tokens
from drift.stats.histogram import Histogram
from drift.stats.pairs import bin_index

__all__ = [
    "bin_codes",
    "count",
    "fit_and_count",
    "floats",
    "inferred",
    "labels",
    "string_codes",
    "value_counts",
]

# Values looked at when inferring a column's kind.
_SAMPLE = 1000

IntArray = npt.NDArray[np.int64]


def inferred(series: pd.Series[Any]) -> Inferred:
    """The kind :func:`drift.config.kinds.infer_kind` gives ``series`` (or why it is none)."""
    dtype = series.dtype
    if pd.api.types.is_datetime64_any_dtype(dtype) or pd.api.types.is_timedelta64_dtype(dtype):
        raise TypeError(
            f"column {series.name!r} has dtype {dtype}, which compare cannot bin; convert it "
            "to numbers (e.g. seconds) or strings first."
        )
    family: Family
    if pd.api.types.is_bool_dtype(dtype) or isinstance(dtype, pd.CategoricalDtype):
        family = "boolean" if pd.api.types.is_bool_dtype(dtype) else "enum"
    elif pd.api.types.is_integer_dtype(dtype):
        family = "integer"
    elif pd.api.types.is_numeric_dtype(dtype):
        family = "number"
    else:
        family = "unknown"
    sample = series.dropna().head(_SAMPLE).tolist()
    if family == "unknown" and sample and not all(isinstance(v, str) for v in sample):
        family = "string"
    return infer_kind(ColumnFacts(family, sample))


def fit_and_count(
    kind: str,
    ref: pd.Series[Any],
    cur: pd.Series[Any],
    *,
    bins: int,
    top_k: int,
    vocabulary_size: int,
) -> tuple[Binning, Histogram, Histogram, Dispersion | None]:
    """Fit the column's binning on ``ref``, count both columns, and (text) the dispersion."""
    if kind == "numeric":
        ref_values, cur_values = floats(ref), floats(cur)
        numeric = fit_numeric(ref_values, bins=bins)
        return numeric, histogram(numeric, ref_values), histogram(numeric, cur_values), None
    if kind == "categorical":
        # pandas counts values in C; the stats layer then compares them as strings.
        ref_counts, cur_counts = value_counts(ref), value_counts(cur)
        categorical = fit_categorical_counts(ref_counts, top_k=top_k)
        return (
            categorical,
            histogram_from_counts(categorical, ref_counts, missing=int(ref.isna().sum())),
            histogram_from_counts(categorical, cur_counts, missing=int(cur.isna().sum())),
            None,
        )
    ref_labels, cur_labels = labels(ref), labels(cur)
    tokens = fit_tokens(ref_labels, top_k=vocabulary_size)
    ref_hist, moments = token_documents(tokens, ref_labels)
    return tokens, ref_hist, histogram(tokens, cur_labels), document_dispersion(moments)


def count(binning: Binning, series: pd.Series[Any]) -> tuple[Histogram, Dispersion | None]:
    """Count ``series`` over a fitted ``binning`` (and, for text, its documents' dispersion)."""
    if isinstance(binning, NumericBinning):
        return histogram(binning, floats(series)), None
    if isinstance(binning, CategoricalBinning):
        found = histogram_from_counts(
            binning, value_counts(series), missing=int(series.isna().sum())
        )
        return found, None
    if isinstance(binning, TokenBinning):
        found, moments = token_documents(binning, labels(series))
        return found, document_dispersion(moments)
    raise TypeError(f"a {type(binning).__name__} counts two columns, not one.")


def bin_codes(binning: Binning, series: pd.Series[Any]) -> IntArray:
    """Each row's bin under a numeric or categorical ``binning``, ``-1`` where missing.

    The rule of :func:`drift.stats.pairs.bin_index`; a categorical column is
    factorized by pandas first, so ``str(value)`` is looked up once per
    distinct value, not once per row.
    """
    if isinstance(binning, NumericBinning):
        return bin_index(binning, floats(series))
    if isinstance(binning, CategoricalBinning):
        codes, uniques = string_codes(series)
        found = bin_index(binning, np.asarray(uniques, dtype=object))
        out: IntArray = np.where(codes < 0, -1, found[np.maximum(codes, 0)] if found.size else -1)
        return out
    if isinstance(binning, PairBinning | TokenBinning):
        raise TypeError(f"a {binning.kind} column has no single bin per row.")
    raise TypeError(f"unknown binning {type(binning).__name__}.")


def string_codes(series: pd.Series[Any]) -> tuple[IntArray, list[str]]:
    """``series`` as codes into its distinct values compared as strings; ``-1`` for missing.

    Values equal as Python objects but printed differently (``1``, ``1.0``,
    ``True`` in one object column) stay apart, as categories compare them.
    """
    if pd.api.types.is_object_dtype(series.dtype):
        series = series.map(str, na_action="ignore")
    codes, uniques = pd.factorize(series, use_na_sentinel=True)
    names = [str(u) for u in uniques]
    merged, distinct = pd.factorize(pd.Series(names, dtype=object))
    codes = np.asarray(codes, dtype=np.int64)
    remap = np.asarray(merged, dtype=np.int64)
    out: IntArray = np.where(codes < 0, -1, remap[np.maximum(codes, 0)] if remap.size else -1)
    return out, [str(d) for d in distinct]


def value_counts(series: pd.Series[Any]) -> dict[Any, int]:
    """Counts of the non-missing values, keyed so that ``str(key)`` is the category."""
    dtype = series.dtype
    if not (
        (pd.api.types.is_string_dtype(dtype) and not pd.api.types.is_object_dtype(dtype))
        or pd.api.types.is_bool_dtype(dtype)
        or pd.api.types.is_numeric_dtype(dtype)
    ):
        # Objects of mixed types: 1, 1.0 and True are one dict key but three
        # categories ("1", "1.0", "True"), so count their strings.
        series = series.dropna().astype(object).map(str)
    counts = series.value_counts(dropna=True, sort=False)
    return {key: int(n) for key, n in zip(counts.index, counts.to_numpy(), strict=True) if n}


def floats(series: pd.Series[Any]) -> npt.NDArray[np.float64] | npt.NDArray[Any]:
    """A numeric column as numpy, NaN for missing; no copy for numpy numeric dtypes."""
    dtype = series.dtype
    if isinstance(dtype, np.dtype) and dtype.kind in "fiu":
        return series.to_numpy(copy=False)
    if pd.api.types.is_numeric_dtype(dtype) or pd.api.types.is_bool_dtype(dtype):
        return series.to_numpy(dtype=np.float64, na_value=np.nan)
    return series.to_numpy(dtype=object)


def labels(series: pd.Series[Any]) -> npt.NDArray[np.object_]:
    """A column as an object array with None for every missing value."""
    values = series.to_numpy(dtype=object, copy=True)
    values[series.isna().to_numpy()] = None
    return values
