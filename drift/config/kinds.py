"""The one rule that infers a column's feature kind, for SQL sources and DataFrames alike.

A column is described by :class:`ColumnFacts` (its type family, whether it is
a key, a sample of its values in storage order); :func:`infer_kind` returns
the kind, or why the column is no feature. The rule goes by type and
cardinality, never by word count:

- booleans and enums are categorical; other numbers are numeric;
- integers that identify rows (a primary key or unique column, or sampled
  values that are all distinct and strictly increasing) are skipped;
- dates, times and binary data are skipped;
- strings: UUIDs are skipped, as are strings without spaces that are all
  distinct (codes, keys, e-mails); strings that are mostly distinct and
  hold spaces, or longer than :data:`CATEGORY_MAX_LENGTH`, are text; values
  that repeat (``"San Luis Obispo"``, ``"0 - 20K €"``) are categorical.

The caller's ``kind:`` always wins over this guess.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal

__all__ = [
    "CATEGORY_MAX_LENGTH",
    "MIN_SAMPLE",
    "ColumnFacts",
    "Family",
    "Inferred",
    "family_of_value",
    "infer_kind",
]

Kind = Literal["numeric", "categorical", "text"]
Family = Literal["boolean", "enum", "integer", "number", "string", "temporal", "binary", "unknown"]

#: Strings longer than this are free text, however often they repeat.
CATEGORY_MAX_LENGTH = 255
#: Fewer sampled values than this say nothing about cardinality.
MIN_SAMPLE = 20
#: Share of distinct values above which strings are free text (with spaces).
TEXT_DISTINCT_SHARE = 0.5

_UUID = re.compile(
    r"^\{?[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}\}?$"
)


@dataclass(frozen=True, slots=True)
class ColumnFacts:
    """What is known of a column before it is binned.

    Attributes
    ----------
    family : str
        The type family: ``boolean``, ``enum``, ``integer``, ``number``,
        ``string``, ``temporal``, ``binary`` or ``unknown`` (untyped, as in
        SQLite; the sampled values decide).
    values : sequence
        A sample of the column's values in storage order (NULLs allowed).
    key : bool
        The column is a primary key or declared unique.
    """

    family: Family
    values: Sequence[Any] = ()
    key: bool = False


@dataclass(frozen=True, slots=True)
class Inferred:
    """The kind of a column, or ``None`` with the reason it is no feature.

    ``identifier_kind`` is the kind an identifier-like column would be binned
    as if a monitor names it as a feature anyway.
    """

    kind: Kind | None
    reason: str | None = None
    identifier_kind: Kind | None = None


def family_of_value(value: Any) -> Family:
    """The type family of one Python value (for untyped columns).

    Examples
    --------
    >>> family_of_value(True), family_of_value(3), family_of_value(2.5), family_of_value("a")
    ('boolean', 'integer', 'number', 'string')
    """
    import datetime as dt

    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float | Decimal):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, dt.date | dt.time | dt.timedelta):
        return "temporal"
    if isinstance(value, bytes | bytearray | memoryview):
        return "binary"
    return "unknown"


def infer_kind(facts: ColumnFacts) -> Inferred:
    """The feature kind of a column from its type family, keys and sampled values.

    Parameters
    ----------
    facts : ColumnFacts

    Returns
    -------
    Inferred
        ``kind`` is ``numeric``, ``categorical`` or ``text``; ``None`` with a
        ``reason`` for columns that are no feature (identifiers, timestamps,
        binary data, untyped columns without a value).

    Examples
    --------
    >>> infer_kind(ColumnFacts("string", ["San Luis Obispo", "Fresno"] * 20)).kind
    'categorical'
    >>> infer_kind(ColumnFacts("integer", list(range(1, 201)))).reason
    'unique, increasing integers (an identifier)'
    >>> reviews = [f"review number {i} was fine" for i in range(50)]
    >>> infer_kind(ColumnFacts("string", reviews)).kind
    'text'
    """
    values = [v for v in facts.values if v is not None]
    family = facts.family
    if family == "unknown":
        family = family_of_value(values[0]) if values else "unknown"
    if family in ("boolean", "enum"):
        return Inferred("categorical")
    if family == "temporal":
        return Inferred(None, "a date or time column")
    if family == "binary":
        return Inferred(None, "binary data")
    if family == "unknown":
        return Inferred(None, "no values to infer a kind from (set kind:)")
    if facts.key and family in ("integer", "string"):
        fallback: Kind = "numeric" if family == "integer" else "categorical"
        return Inferred(None, "a primary key or unique column (an identifier)", fallback)
    if family == "integer":
        if _increasing_identifiers(values):
            return Inferred(None, "unique, increasing integers (an identifier)", "numeric")
        return Inferred("numeric")
    if family == "number":
        return Inferred("numeric")
    return _string_kind([v if isinstance(v, str) else str(v) for v in values])


def _increasing_identifiers(values: list[Any]) -> bool:
    if len(values) < MIN_SAMPLE:
        return False
    return all(b > a for a, b in itertools.pairwise(values))


def _string_kind(strings: list[str]) -> Inferred:
    if not strings:
        return Inferred("categorical")
    if sum(1 for s in strings if _UUID.match(s.strip())) * 5 >= len(strings) * 4:
        return Inferred(None, "UUIDs (an identifier)", "categorical")
    if max(len(s) for s in strings) > CATEGORY_MAX_LENGTH:
        return Inferred("text")
    if len(strings) < MIN_SAMPLE:
        return Inferred("categorical")
    distinct = len(set(strings))
    spaced = sum(1 for s in strings if " " in s.strip())
    if distinct == len(strings) and 2 * spaced <= len(strings):
        return Inferred(
            None, "distinct strings without spaces (an identifier such as a code)", "categorical"
        )
    if distinct > TEXT_DISTINCT_SHARE * len(strings) and 2 * spaced > len(strings):
        return Inferred("text")
    return Inferred("categorical")
