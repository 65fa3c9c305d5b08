"""A pair's stored joint histogram as the grid the run page draws (issue 19).

A pair ``x × y`` is stored as one more feature whose bins are the ``k_x * k_y``
cells of the two features' own bins, row-major with ``x`` outer, each
labelled ``f"{x label} × {y label}"``
(:class:`drift.stats.binning.PairBinning`). The grid's shape comes from the
baseline's binning spec, ``{"kind": "pair", "x": ..., "y": ...}``; when that
is missing or does not match the stored cells (a baseline refitted since),
from the cell labels themselves.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from drift.dashboard.schemas import PairCells
from drift.stats.binning import binning_from_spec

__all__ = ["SEPARATOR", "pair_cells", "pair_labels", "pair_names"]

#: Joins the labels of a cell, as it joins the names of a pair (U+00D7 with spaces).
SEPARATOR = " × "


def pair_names(config: Mapping[str, Any]) -> list[str]:
    """The feature names of a stored monitor definition's ``pairs``: ``"x × y"``.

    Each pair is stored as ``{"columns": [x, y], ...}`` (or given as ``[x, y]``).

    >>> pair_names({"pairs": [["amount", "country"], {"columns": ["score", "label"]}]})
    ['amount × country', 'score × label']
    """
    names = []
    for pair in config.get("pairs") or ():
        columns = pair.get("columns") if isinstance(pair, Mapping) else pair
        if isinstance(columns, list | tuple) and len(columns) == 2:
            names.append(f"{columns[0]}{SEPARATOR}{columns[1]}")
    return names


def _from_spec(spec: Mapping[str, Any] | None) -> tuple[list[str], list[str]] | None:
    if not spec or spec.get("kind") != "pair":
        return None
    try:
        x, y = binning_from_spec(spec["x"]), binning_from_spec(spec["y"])
    except (KeyError, TypeError, ValueError):
        return None
    return list(x.labels), list(y.labels)


def _from_labels(labels: Sequence[str]) -> tuple[list[str], list[str]] | None:
    """The x and y labels of row-major cells ``"lx × ly"``, if the labels say so unambiguously."""
    parts = [label.split(SEPARATOR) for label in labels]
    if not parts or any(len(p) != 2 for p in parts):
        return None
    k_y = next((i for i, p in enumerate(parts) if p[0] != parts[0][0]), len(parts))
    if len(parts) % k_y:
        return None
    xs = [parts[i][0] for i in range(0, len(parts), k_y)]
    ys = [p[1] for p in parts[:k_y]]
    if [f"{x}{SEPARATOR}{y}" for x in xs for y in ys] != list(labels):
        return None
    return xs, ys


def pair_labels(
    spec: Mapping[str, Any] | None, labels: Sequence[str]
) -> tuple[list[str], list[str]] | None:
    """The labels of ``x`` and of ``y`` of a pair's stored cells, or ``None`` if unknown.

    Parameters
    ----------
    spec : mapping or None
        The baseline's binning spec of the pair.
    labels : sequence of str
        The cells' labels as stored in the histogram row.

    Examples
    --------
    >>> spec = {"kind": "pair", "x": {"kind": "numeric", "cuts": [0.0]},
    ...         "y": {"kind": "categorical", "categories": ["a"]}}
    >>> cells = ["(-inf, 0) × a", "(-inf, 0) × <other>", "[0, inf] × a", "[0, inf] × <other>"]
    >>> pair_labels(spec, cells)
    (['(-inf, 0)', '[0, inf]'], ['a', '<other>'])
    >>> pair_labels(None, cells)
    (['(-inf, 0)', '[0, inf]'], ['a', '<other>'])
    >>> pair_labels(None, ["a × b", "c"]) is None
    True
    """
    found = _from_spec(spec)
    if found is not None and len(found[0]) * len(found[1]) == len(labels):
        return found
    return _from_labels(labels)


def _shares(counts: Sequence[int]) -> list[float]:
    total = sum(counts)
    return [c / total if total else 0.0 for c in counts]


def _rows(values: Sequence[Any], k_y: int) -> list[list[Any]]:
    return [list(values[i : i + k_y]) for i in range(0, len(values), k_y)]


def pair_cells(
    spec: Mapping[str, Any] | None,
    labels: Sequence[str],
    counts: Sequence[int],
    reference_counts: Sequence[int],
    contributions: Sequence[float | None],
    metrics: Mapping[str, float | None],
) -> PairCells | None:
    """The grid of a pair's cells: per-cell KL contributions and shares, and the KL's split.

    Parameters
    ----------
    spec : mapping or None
        The baseline's binning spec of the pair (``{"kind": "pair", ...}``).
    labels, counts, reference_counts, contributions : sequence
        The stored histogram row: one entry per cell, row-major, ``x`` outer.
    metrics : mapping
        The pair's stored metric values (``kl``, ``kl_marginal``, ``kl_conditional``).

    Returns
    -------
    PairCells or None
        ``None`` when the cells' shape cannot be known.
    """
    axes = pair_labels(spec, labels)
    if axes is None or not (len(counts) == len(reference_counts) == len(labels)):
        return None
    x_labels, y_labels = axes
    k_y = len(y_labels)
    shares = list(contributions) if len(contributions) == len(labels) else [None] * len(labels)
    return PairCells(
        x_labels=x_labels,
        y_labels=y_labels,
        contributions=_rows(shares, k_y),
        live_shares=_rows(_shares(counts), k_y),
        reference_shares=_rows(_shares(reference_counts), k_y),
        kl=metrics.get("kl"),
        kl_marginal=metrics.get("kl_marginal"),
        kl_conditional=metrics.get("kl_conditional"),
    )
