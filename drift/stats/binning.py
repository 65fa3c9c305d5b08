"""Binnings: how values of one feature map to bins.

A binning is fitted on the reference and then applied, unchanged, to every
later window. It is a small frozen value with a JSON form (``to_spec`` /
``binning_from_spec``) so the results store can keep the baseline's binning
and a SQL source can push the same rule down into the database.

Bin rules (the SQL sources reproduce them exactly):

- numeric, with interior cut points ``c_1 < ... < c_{k-1}``: value ``x`` goes
  to bin ``i = #{j : c_j <= x}`` (``numpy.searchsorted(cuts, x, "right")``),
  so the outer bins are open: ``(-inf, c_1)`` and ``[c_{k-1}, +inf]``.
  NaN and None are missing; +/-inf land in the outer bins.
- categorical: the reference's top-k categories (compared as strings) plus
  one last "other" bin for everything else. None/NaN is missing.
- tokens: the reference's top-K tokens (or n-grams) plus one last
  out-of-vocabulary bin.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
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
    """

    cuts: tuple[float, ...]
    kind: Literal["numeric"] = "numeric"

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
        return {"kind": "numeric", "cuts": list(self.cuts)}


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


Binning = NumericBinning | CategoricalBinning | TokenBinning


def binning_from_spec(spec: Mapping[str, Any]) -> Binning:
    """Rebuild a binning from its ``to_spec()`` form."""
    kind = spec.get("kind")
    if kind == "numeric":
        return NumericBinning(tuple(float(c) for c in spec["cuts"]))
    if kind == "categorical":
        return CategoricalBinning(tuple(str(c) for c in spec["categories"]))
    if kind == "text":
        return TokenBinning(
            tuple(str(t) for t in spec["vocabulary"]),
            ngram=int(spec.get("ngram", 1)),
            tokenizer=str(spec.get("tokenizer", "regex")),
            lowercase=bool(spec.get("lowercase", True)),
        )
    raise ValueError(f"Unknown binning kind {kind!r}; expected numeric, categorical or text.")
