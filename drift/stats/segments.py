"""Segments: where drift lives (one market, device or model version).

Drift in one segment is diluted to nothing in the whole population: 10% of
rows shifted by half a standard deviation moves the whole by a twentieth. A
monitor (or :func:`drift.compare`) names segment columns; every feature is
then also scored in each of the reference's ``top_k`` largest segments and
in one ``"<other>"`` segment for the rest, over the feature's own
(whole-population) bins, and the p-values of all features and segments of a
run are adjusted together.

A segment is named by a string: ``""`` is the whole population,
``"country=BR"`` one value, ``"country=BR, device=ios"`` several columns
(in the configured order), ``"country=<other>"`` the lumped rest and
``"country=<null>"`` the rows where the value is NULL (a segment like any
other).

Pure Python, no I/O: the sources count the segments (a ``GROUP BY``) and
this module names and chooses them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

__all__ = [
    "NULL_SEGMENT",
    "OTHER_SEGMENT",
    "WHOLE",
    "choose_segments",
    "other_label",
    "segment_label",
]

#: The lumped rest: every value (tuple) not among the reference's ``top_k``.
OTHER_SEGMENT = "<other>"
#: A NULL segment value.
NULL_SEGMENT = "<null>"
#: The segment name of the whole population.
WHOLE = ""

SegmentKey = tuple[str | None, ...]


def segment_label(columns: Sequence[str], values: Sequence[str | None]) -> str:
    """The name of a segment: ``"col=value"`` per column, joined by ``", "``.

    A ``None`` value is ``NULL_SEGMENT``; pass ``OTHER_SEGMENT`` for the rest.

    Parameters
    ----------
    columns : sequence of str
        The segment columns, in configured order (at least one).
    values : sequence of str or None
        One value per column.

    Returns
    -------
    str

    Examples
    --------
    >>> segment_label(["country"], ["BR"])
    'country=BR'
    >>> segment_label(["country", "device"], ["BR", None])
    'country=BR, device=<null>'
    """
    if isinstance(columns, str) or not columns:
        raise ValueError("`columns` must be a non-empty sequence of column names.")
    if isinstance(values, str) or len(values) != len(columns):
        raise ValueError(
            f"`values` must hold one value per column ({len(columns)}), got {values!r}."
        )
    return ", ".join(
        f"{column}={NULL_SEGMENT if value is None else value}"
        for column, value in zip(columns, values, strict=True)
    )


def other_label(columns: Sequence[str]) -> str:
    """The name of the ``"<other>"`` segment of ``columns``.

    Examples
    --------
    >>> other_label(["country", "device"])
    'country=<other>, device=<other>'
    """
    return segment_label(columns, [OTHER_SEGMENT] * len(columns))


def choose_segments(
    reference_sizes: Mapping[SegmentKey, int], top_k: int
) -> tuple[SegmentKey, ...]:
    """The segments kept: the ``top_k`` largest value tuples of the reference.

    Largest first; ties are broken by value, in Python string order with
    ``None`` (NULL) before any string. Every other tuple, and every live
    tuple the reference lacks, belongs to the ``"<other>"`` segment. Tuples
    with no reference row are never kept.

    Parameters
    ----------
    reference_sizes : mapping of tuple of (str or None) to int
        Reference rows per value tuple (one value per segment column).
    top_k : int
        Segments kept, >= 1.

    Returns
    -------
    tuple of tuple of (str or None)

    Examples
    --------
    >>> sizes = {("US",): 500, ("BR",): 100, (None,): 100, ("DE",): 300, ("FR",): 2}
    >>> choose_segments(sizes, top_k=3)
    (('US',), ('DE',), (None,))
    """
    if isinstance(top_k, bool) or not isinstance(top_k, int) or top_k < 1:
        raise ValueError(f"`top_k` must be an integer >= 1, got {top_k!r}.")
    for key, size in reference_sizes.items():
        if isinstance(size, bool) or not isinstance(size, int) or size < 0:
            raise ValueError(f"`reference_sizes` must map to counts >= 0; {key!r}: {size!r}.")
    present = [(key, size) for key, size in reference_sizes.items() if size > 0]
    present.sort(key=lambda item: (-item[1], _order(item[0])))
    return tuple(key for key, _ in present[:top_k])


def _order(key: SegmentKey) -> tuple[tuple[bool, str], ...]:
    return tuple((value is not None, "" if value is None else value) for value in key)
