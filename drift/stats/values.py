"""Reading raw column values into arrays, and telling missing values apart (private)."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
ObjectArray = npt.NDArray[np.object_]

_MISSING_TYPES = ("NAType", "NaTType")


def is_missing(value: object) -> bool:
    """None, a float NaN, or a pandas NA/NaT (recognised without importing pandas)."""
    if value is None:
        return True
    if isinstance(value, float | np.floating):
        return math.isnan(value)
    return type(value).__name__ in _MISSING_TYPES


def as_float_values(values: npt.ArrayLike, name: str) -> FloatArray:
    """``values`` as a 1-D float64 array, NaN for missing; a view when already float64."""
    arr = np.asarray(values)
    if arr.ndim != 1:
        raise ValueError(f"`{name}` must be one-dimensional, got shape {arr.shape}.")
    if arr.dtype.kind in "fiub":
        return arr.astype(np.float64, copy=False)
    if arr.dtype.kind == "O":
        out = np.empty(arr.size, dtype=np.float64)
        for i, value in enumerate(arr):
            if is_missing(value):
                out[i] = np.nan
            elif isinstance(value, int | float | np.number) and not isinstance(value, bool):
                out[i] = float(value)
            else:
                raise TypeError(
                    f"`{name}` must hold numbers for a numeric binning; found {value!r} "
                    f"({type(value).__name__}) at position {i}."
                )
        return out
    what = "strings" if arr.dtype.kind in "US" else f"dtype {arr.dtype}"
    raise TypeError(f"`{name}` must hold numbers for a numeric binning, got {what}.")


def as_label_values(values: npt.ArrayLike | Iterable[object], name: str) -> ObjectArray:
    """``values`` as a 1-D object array with every missing value replaced by None."""
    if isinstance(values, str | bytes):
        raise TypeError(f"`{name}` must be a sequence of values, not a single string.")
    if isinstance(values, np.ndarray):
        arr = values.astype(object, copy=False)
    else:
        items = list(values)  # type: ignore[arg-type]
        arr = np.empty(len(items), dtype=object)
        arr[:] = items
    if arr.ndim != 1:
        raise ValueError(f"`{name}` must be one-dimensional, got shape {arr.shape}.")
    if values is not None and isinstance(values, np.ndarray) and values.dtype.kind in "US":
        return arr
    missing = np.fromiter((is_missing(v) for v in arr), dtype=bool, count=arr.size)
    if missing.any():
        arr = arr.copy()
        arr[missing] = None
    return arr


def merge_by_string(value_counts: Mapping[Any, Any], name: str) -> dict[str, int]:
    """Counts keyed by ``str(value)``, positive counts only; refuse bad counts naming ``name``."""
    if not isinstance(value_counts, Mapping):
        raise TypeError(f"`{name}` must be a mapping of value to count.")
    totals: dict[str, int] = {}
    for value, count in value_counts.items():
        if isinstance(count, bool) or not isinstance(count, int | np.integer) or count < 0:
            raise ValueError(
                f"`{name}` must map values to whole counts >= 0; {value!r}: {count!r}."
            )
        if count and not is_missing(value):
            key = str(value)
            totals[key] = totals.get(key, 0) + int(count)
    return totals
