"""Binnings: how values of one feature map to bins.

A binning is fitted on the reference and then applied, unchanged, to every
later window. It is a small frozen value with a JSON form (``to_spec`` /
``binning_from_spec``) so the results store can keep the baseline's binning
and a SQL source can push the same rule down into the database.

Bin rules (the SQL sources reproduce them exactly):

- numeric, with interior cut points ``c_1 < ... < c_{k-1}``: value ``x`` goes
  to bin ``i = #{j : c_j <= x}`` (``numpy.searchsorted(cuts, x, "right")``),
  so the outer bins are open: ``(-inf, c_1)`` and ``[c_{k-1}, +inf]``.
  NaN and None are missing; +/-inf land in the outer bins. A fitted numeric
  binning also keeps the reference's observed finite ``low`` and ``high``,
  so every window can count its values below and above that range.
- categorical: the reference's top-k categories (compared as strings) plus
  one last "other" bin for everything else. None/NaN is missing.
- tokens: the reference's top-K tokens (or n-grams) plus one last
  out-of-vocabulary bin.
- pair: two columns binned jointly by their own binnings; cell
  ``(i, j)`` is bin ``i * k_y + j`` (row-major, ``x`` outer), and a row
  missing either value is missing (see :mod:`drift.stats.pairs`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any, Literal

OTHER_LABEL = "<other>"
OOV_LABEL = "<oov>"

Kind = Literal["numeric", "categorical", "text"]


def _fmt(x: float) -> str:
    return f"{x:.6g}"


@dataclass(frozen=True, slots=True)
class NumericBinning:
    """Bins of a numeric feature, given by interior cut points.

    ``cuts`` of length ``k - 1`` give ``k`` bins; an empty ``cuts`` is one bin.
    ``low`` and ``high`` are the smallest and largest finite reference values
    (``None`` when unknown: fixed edges without values, an older stored spec);
    they change no bin (nor equality: two binnings with the same cuts are
    equal), only what :func:`drift.stats.counting.histogram` counts as
    outside the reference range.
    """

    cuts: tuple[float, ...]
    kind: Literal["numeric"] = "numeric"
    low: float | None = field(default=None, compare=False)
    high: float | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        if (self.low is None) != (self.high is None):
            raise ValueError("`low` and `high` must be given together.")
        if self.low is not None and self.high is not None:
            low, high = float(self.low), float(self.high)
            if not (math.isfinite(low) and math.isfinite(high) and low <= high):
                raise ValueError(f"the reference range must be finite, low <= high: {low}, {high}")
            object.__setattr__(self, "low", low)
            object.__setattr__(self, "high", high)

    @property
    def value_range(self) -> tuple[float, float] | None:
        """``(low, high)``, the reference's observed finite range, or ``None``."""
        if self.low is None or self.high is None:
            return None
        return (self.low, self.high)

    @property
    def labels(self) -> tuple[str, ...]:
        """``(-inf, c1)``, ``[c1, c2)``, ..., ``[c_{k-1}, inf]``."""
        if not self.cuts:
            return ("(-inf, inf)",)
        edges = ["-inf", *(_fmt(c) for c in self.cuts), "inf"]
        out = [f"[{lo}, {hi})" for lo, hi in pairwise(edges)]
        out[0] = f"(-inf, {edges[1]})"
        out[-1] = f"[{edges[-2]}, inf]"
        return tuple(out)

    def to_spec(self) -> dict[str, Any]:
        """JSON-ready description of this binning."""
        spec: dict[str, Any] = {"kind": "numeric", "cuts": list(self.cuts)}
        if self.low is not None:
            spec["low"], spec["high"] = self.low, self.high
        return spec


@dataclass(frozen=True, slots=True)
class CategoricalBinning:
    """The reference's top categories plus one last "other" bin."""

    categories: tuple[str, ...]
    kind: Literal["categorical"] = "categorical"

    @property
    def labels(self) -> tuple[str, ...]:
        """The categories, then ``OTHER_LABEL``."""
        return (*self.categories, OTHER_LABEL)

    def to_spec(self) -> dict[str, Any]:
        """JSON-ready description of this binning."""
        return {"kind": "categorical", "categories": list(self.categories)}


@dataclass(frozen=True, slots=True)
class TokenBinning:
    """A vocabulary of tokens (or n-grams joined by a space) plus one OOV bin."""

    vocabulary: tuple[str, ...]
    ngram: int = 1
    tokenizer: str = "regex"
    lowercase: bool = True
    kind: Literal["text"] = "text"

    @property
    def labels(self) -> tuple[str, ...]:
        """The vocabulary, then ``OOV_LABEL``."""
        return (*self.vocabulary, OOV_LABEL)

    def to_spec(self) -> dict[str, Any]:
        """JSON-ready description of this binning."""
        return {
            "kind": "text",
            "vocabulary": list(self.vocabulary),
            "ngram": self.ngram,
            "tokenizer": self.tokenizer,
            "lowercase": self.lowercase,
        }


@dataclass(frozen=True, slots=True)
class PairBinning:
    """Two features binned jointly: the ``k_x * k_y`` cells of their own binnings.

    The cells are row-major, ``x`` outer: cell ``(i, j)`` is bin
    ``i * k_y + j``, labelled ``f"{x label} × {y label}"``. ``x`` and ``y``
    are numeric or categorical binnings (text is not paired).

    Examples
    --------
    >>> pair = PairBinning(NumericBinning((0.0,)), CategoricalBinning(("a",)))
    >>> pair.shape, pair.labels
    ((2, 2), ('(-inf, 0) × a', '(-inf, 0) × <other>', '[0, inf] × a', '[0, inf] × <other>'))
    >>> binning_from_spec(pair.to_spec()) == pair
    True
    """

    x: NumericBinning | CategoricalBinning
    y: NumericBinning | CategoricalBinning
    kind: Literal["pair"] = "pair"

    def __post_init__(self) -> None:
        for name in ("x", "y"):
            part = getattr(self, name)
            if not isinstance(part, NumericBinning | CategoricalBinning):
                raise TypeError(
                    f"`{name}` of a pair must be a numeric or categorical binning, "
                    f"got {type(part).__name__}."
                )

    @property
    def shape(self) -> tuple[int, int]:
        """``(k_x, k_y)``, the bins of ``x`` and of ``y``."""
        return (len(self.x.labels), len(self.y.labels))

    @property
    def labels(self) -> tuple[str, ...]:
        """``f"{lx} × {ly}"`` for every cell, row-major (``x`` outer)."""
        return tuple(f"{lx} × {ly}" for lx in self.x.labels for ly in self.y.labels)

    def to_spec(self) -> dict[str, Any]:
        """JSON-ready description: ``{"kind": "pair", "x": ..., "y": ...}``."""
        return {"kind": "pair", "x": self.x.to_spec(), "y": self.y.to_spec()}


Binning = NumericBinning | CategoricalBinning | TokenBinning | PairBinning


def binning_from_spec(spec: Mapping[str, Any]) -> Binning:
    """Rebuild a binning from its ``to_spec()`` form."""
    kind = spec.get("kind")
    if kind == "numeric":
        low, high = spec.get("low"), spec.get("high")
        return NumericBinning(
            tuple(float(c) for c in spec["cuts"]),
            low=None if low is None or high is None else float(low),
            high=None if low is None or high is None else float(high),
        )
    if kind == "categorical":
        return CategoricalBinning(tuple(str(c) for c in spec["categories"]))
    if kind == "text":
        return TokenBinning(
            tuple(str(t) for t in spec["vocabulary"]),
            ngram=int(spec.get("ngram", 1)),
            tokenizer=str(spec.get("tokenizer", "regex")),
            lowercase=bool(spec.get("lowercase", True)),
        )
    if kind == "pair":
        x, y = binning_from_spec(spec["x"]), binning_from_spec(spec["y"])
        if not isinstance(x, NumericBinning | CategoricalBinning) or not isinstance(
            y, NumericBinning | CategoricalBinning
        ):
            raise ValueError("a pair's `x` and `y` must be numeric or categorical binnings.")
        return PairBinning(x, y)
    raise ValueError(f"Unknown binning kind {kind!r}; expected numeric, categorical, text or pair.")
