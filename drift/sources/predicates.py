"""The SQL form of the bin rules: missing values and one condition per bin.

Shared by the pushed-down counts and the streaming fallback, so both paths
classify every row by the same expressions.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement

from drift.sources.dialects import Dialect
from drift.stats.binning import Binning, CategoricalBinning, NumericBinning, PairBinning


def is_number_column(column: ColumnElement[Any], sample: Any) -> bool:
    """Whether ``column`` holds numbers (so NaN may occur where the dialect has it)."""
    if isinstance(column.type, sa.Numeric | sa.Integer):
        return True
    return isinstance(sample, float | int | Decimal) and not isinstance(sample, bool)


def missing(column: ColumnElement[Any], dialect: Dialect, number: bool) -> ColumnElement[bool]:
    """``column IS NULL``, or NaN for numbers where the dialect stores NaN.

    Never NULL itself: PostgreSQL and DuckDB treat NaN as equal to NaN and to
    nothing else, so ``column = NaN`` is TRUE or FALSE for every non-NULL value.
    """
    if number and dialect.has_nan:
        return sa.or_(column.is_(None), column == dialect.nan_literal())
    return column.is_(None)


def finite(column: ColumnElement[Any], dialect: Dialect) -> ColumnElement[bool]:
    """Not NULL, not NaN, not +/-inf: the values quantiles are fitted on."""
    clauses: list[ColumnElement[bool]] = [column.is_not(None)]
    if dialect.has_nan:
        clauses.append(column != dialect.nan_literal())
    if dialect.has_inf:
        clauses.append(column != dialect.inf_literal(1))
        clauses.append(column != dialect.inf_literal(-1))
    return sa.and_(*clauses)


@dataclass(frozen=True, slots=True)
class Target:
    """One feature of one relation, ready to be binned in SQL.

    ``value`` is the column for numeric and text features and its string
    cast for categorical ones; ``is_missing`` is never NULL.
    """

    name: str
    value: ColumnElement[Any]
    is_missing: ColumnElement[bool]
    parts: tuple[Target, Target] | None = None
    """For a pair feature, the targets of its ``x`` and ``y`` columns."""


def pair_target(name: str, x: Target, y: Target) -> Target:
    """The target of a pair: missing when either column is (its ``value`` is unused)."""
    return Target(name, x.value, sa.or_(x.is_missing, y.is_missing), (x, y))


def numeric_bins(target: Target, binning: NumericBinning) -> list[ColumnElement[bool]]:
    """One condition per bin: ``c_{i-1} <= x < c_i``, outer bins open."""
    present = sa.not_(target.is_missing)
    x = target.value
    cuts: list[ColumnElement[float]] = [sa.literal(float(c), sa.Double()) for c in binning.cuts]
    if not cuts:
        return [present]
    conditions = [sa.and_(present, x < cuts[0])]
    conditions += [sa.and_(present, x >= lo, x < hi) for lo, hi in itertools.pairwise(cuts)]
    conditions.append(sa.and_(present, x >= cuts[-1]))
    return conditions


def outside_range(target: Target, binning: Binning) -> list[ColumnElement[bool]]:
    """``[x < low, x > high]`` over non-missing values, for a numeric binning with a range.

    Empty when the binning has no reference range (or is not numeric). A
    missing value (NULL, NaN) is never outside; ``-inf`` and ``+inf`` are.
    """
    bounds = binning.value_range if isinstance(binning, NumericBinning) else None
    if bounds is None:
        return []
    present = sa.not_(target.is_missing)
    low: ColumnElement[float] = sa.literal(bounds[0], sa.Double())
    high: ColumnElement[float] = sa.literal(bounds[1], sa.Double())
    return [sa.and_(present, target.value < low), sa.and_(present, target.value > high)]


def categorical_bins(target: Target, binning: CategoricalBinning) -> list[ColumnElement[bool]]:
    """One condition per category, then the "other" bin."""
    present = sa.not_(target.is_missing)
    conditions = [sa.and_(present, target.value == c) for c in binning.categories]
    if binning.categories:
        conditions.append(sa.and_(present, target.value.not_in(binning.categories)))
    else:
        conditions.append(present)
    return conditions


def pair_bins(target: Target, binning: PairBinning) -> list[ColumnElement[bool]]:
    """One condition per cell of a pair, row-major (``x`` outer): both bins' conditions."""
    if target.parts is None:
        raise TypeError(f"{target.name!r} is a pair, but its target has no parts")
    tx, ty = target.parts
    return [
        sa.and_(cx, cy)
        for cx in bin_conditions(tx, binning.x)
        for cy in bin_conditions(ty, binning.y)
    ]


def bin_conditions(target: Target, binning: Binning) -> list[ColumnElement[bool]]:
    """The per-bin conditions of a numeric, categorical or pair binning."""
    if isinstance(binning, PairBinning):
        return pair_bins(target, binning)
    if isinstance(binning, NumericBinning):
        return numeric_bins(target, binning)
    if isinstance(binning, CategoricalBinning):
        return categorical_bins(target, binning)
    raise TypeError(f"{binning.kind} features cannot be binned in SQL; stream them instead.")
