"""Argument checks shared by the stats modules.

Validation helpers (counts, whole numbers, positive integers and floats)
that raise with the argument's name; not re-exported from :mod:`drift.stats`.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]


def as_counts(values: npt.ArrayLike, name: str) -> FloatArray:
    """``values`` as a 1-D float array of finite, non-negative numbers, or raise.

    The message names the argument (``name``) and the rule it broke.
    """
    try:
        arr = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"`{name}` must be an array of numbers ({exc}).") from None
    if arr.ndim != 1:
        raise ValueError(f"`{name}` must be one-dimensional, got shape {arr.shape}.")
    if arr.size == 0:
        raise ValueError(f"`{name}` must not be empty.")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"`{name}` must hold finite numbers (found NaN or inf).")
    if np.any(arr < 0):
        raise ValueError(f"`{name}` must be non-negative.")
    return arr


def as_pair(p: npt.ArrayLike, q: npt.ArrayLike) -> tuple[FloatArray, FloatArray]:
    """Two count (or probability) vectors over the same bins."""
    p_arr, q_arr = as_counts(p, "p"), as_counts(q, "q")
    if p_arr.size != q_arr.size:
        raise ValueError(
            f"`p` and `q` must have the same number of bins, got {p_arr.size} and {q_arr.size}."
        )
    return p_arr, q_arr


def as_count_pair(ref_counts: npt.ArrayLike, cur_counts: npt.ArrayLike) -> tuple[FloatArray, ...]:
    """Reference and live counts over the same bins: whole, each with a count, or raise."""
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


def is_whole(arr: FloatArray) -> bool:
    """True when every entry is a whole number (so the vector can be counts)."""
    return bool(np.all(arr == np.floor(arr)))


def positive_int(value: object, name: str, minimum: int = 1) -> int:
    """``value`` as an int >= ``minimum``, or raise naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise TypeError(f"`{name}` must be an integer, got {type(value).__name__}.")
    if value < minimum:
        raise ValueError(f"`{name}` must be >= {minimum}, got {value}.")
    return int(value)


def positive_float(value: object, name: str) -> float:
    """``value`` as a finite float > 0, or raise naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, int | float | np.number):
        raise TypeError(f"`{name}` must be a number, got {type(value).__name__}.")
    out = float(value)
    if not np.isfinite(out) or out <= 0:
        raise ValueError(f"`{name}` must be a finite number > 0, got {value}.")
    return out
