"""A feature's bin index in SQL: one integer a row, for counting bins by ``GROUP BY``.

The index of a row is ``-1`` when the value is missing (NULL, or NaN where
the dialect holds it: tested first, since NaN = NaN and NaN sorts above
every number on Spark), else a *leaf*:

- numeric: a balanced ``CASE`` tree over the splits ``x < c`` (each cut),
  ``x < low`` and ``x <= high`` (the reference range's ends, when the
  binning knows them), about ``log2(k)`` comparisons a row; each leaf lies
  in one bin and below, inside or above the reference range;
- categorical: ``CASE WHEN v = c_0 THEN 0 ... ELSE k END`` over the ``k``
  kept categories (``k`` is the "other" bin).

:mod:`drift.sources.grouped_counts` groups rows by these indexes.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement

from drift.sources.predicates import Target
from drift.stats.binning import Binning, CategoricalBinning, NumericBinning
from drift.stats.histogram import Histogram

__all__ = ["ABOVE", "BELOW", "INSIDE", "BinIndex", "bin_index"]

#: Where a leaf's values lie against the reference range.
INSIDE, BELOW, ABOVE = 0, 1, 2


def _int(value: int) -> ColumnElement[int]:
    return sa.literal_column(str(value), sa.Integer())


@dataclass(frozen=True, slots=True)
class BinIndex:
    """One feature's bin index expression and how to read its values.

    ``expression`` is ``-1`` for a missing value, else a *leaf* ``0 <= j <
    len(bins)``; leaf ``j`` lies in bin ``bins[j]`` and is below, inside or
    above the reference range as ``regions[j]`` says (always inside when the
    binning has no range).
    """

    target: Target
    binning: Binning
    expression: ColumnElement[int]
    bins: tuple[int, ...]
    regions: tuple[int, ...]

    @property
    def cardinality(self) -> int:
        """How many values the index takes: the leaves and ``-1``."""
        return len(self.bins) + 1

    def histograms(
        self, table: npt.NDArray[np.int64], unseen: Sequence[dict[str, int]]
    ) -> list[Histogram]:
        """One histogram per row of ``table`` (windows x ``cardinality``, missing first).

        Bin counts ``counts[b] = sum(table[:, 1 + j] for leaf j with bins[j] = b)``;
        ``below`` and ``above`` sum the leaves of those regions.
        """
        leaves = table[:, 1:]
        k = len(self.binning.labels)
        to_bin = np.zeros((len(self.bins), k), dtype=np.int64)
        to_bin[np.arange(len(self.bins)), self.bins] = 1
        counts = leaves @ to_bin
        regions = np.asarray(self.regions)
        below = leaves[:, regions == BELOW].sum(axis=1)
        above = leaves[:, regions == ABOVE].sum(axis=1)
        bounds = self.binning.value_range if isinstance(self.binning, NumericBinning) else None
        return [
            Histogram(
                self.binning.labels,
                counts[w],
                int(table[w, 0]),
                unseen[w],
                below=int(below[w]),
                above=int(above[w]),
                value_range=bounds,
            )
            for w in range(table.shape[0])
        ]


def _numeric_index(target: Target, binning: NumericBinning) -> BinIndex:
    """The leaves between the splits ``x < c`` (each cut), ``x < low`` and ``x <= high``.

    A split ``(v, inclusive)`` is the test ``x <= v`` if inclusive, else ``x
    < v``; sorted by ``(v, inclusive)``, the tests of leaf ``j``'s values
    are false for the splits before ``j`` and true from ``j`` on, so its bin
    is the number of cuts among the splits before it (the bin rule
    ``c_{i-1} <= x < c_i``), it is below the range if ``x < low`` is still
    true and above it if ``x <= high`` is already false.
    """
    cuts = [float(c) for c in binning.cuts]
    bounds = binning.value_range
    splits = sorted({(c, False) for c in cuts} | (
        {(bounds[0], False), (bounds[1], True)} if bounds is not None else set()
    ))  # fmt: skip
    where = {split: i for i, split in enumerate(splits)}
    cut_positions = sorted(where[(c, False)] for c in cuts)
    bins = tuple(bisect.bisect_left(cut_positions, j) for j in range(len(splits) + 1))
    regions: list[int] = []
    for j in range(len(splits) + 1):
        if bounds is not None and where[(bounds[0], False)] >= j:
            regions.append(BELOW)
        elif bounds is not None and where[(bounds[1], True)] < j:
            regions.append(ABOVE)
        else:
            regions.append(INSIDE)
    x = target.value

    def node(lo: int, hi: int) -> ColumnElement[int]:  # leaves lo..hi
        if lo == hi:
            return _int(lo)
        mid = (lo + hi) // 2
        value, inclusive = splits[mid]
        bound: ColumnElement[float] = sa.literal(value, sa.Double())
        test = x <= bound if inclusive else x < bound
        return sa.case((test, node(lo, mid)), else_=node(mid + 1, hi))

    expression = sa.case((target.is_missing, _int(-1)), else_=node(0, len(splits)))
    return BinIndex(target, binning, expression, bins, tuple(regions))


def _categorical_index(target: Target, binning: CategoricalBinning) -> BinIndex:
    """``-1`` if missing, ``i`` for the i-th kept category, ``k`` for any other value."""
    k = len(binning.categories)
    whens = [(target.value == c, _int(i)) for i, c in enumerate(binning.categories)]
    expression = sa.case((target.is_missing, _int(-1)), *whens, else_=_int(k))
    return BinIndex(target, binning, expression, tuple(range(k + 1)), (INSIDE,) * (k + 1))


def bin_index(target: Target, binning: Binning) -> BinIndex:
    """The :class:`BinIndex` of a numeric or categorical feature.

    Raises
    ------
    TypeError
        For a binning that cannot be counted in SQL (text).
    """
    if isinstance(binning, NumericBinning):
        return _numeric_index(target, binning)
    if isinstance(binning, CategoricalBinning):
        return _categorical_index(target, binning)
    raise TypeError(f"{binning.kind} features cannot be binned in SQL; stream them instead.")
