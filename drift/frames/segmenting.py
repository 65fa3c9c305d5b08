"""``compare(segments=..., pairs=...)``: the options, and the counts per segment and per pair.

A segmentation splits the rows of both frames by the values of one or more
columns (compared as strings, NULL as ``<null>``) into the reference's
``top_k`` largest segments and one ``<other>`` segment for the rest
(:func:`drift.stats.segments.choose_segments`); every compared column is
then counted in each segment over its whole-population bins. A pair counts
two columns jointly over their own bins (:mod:`drift.stats.pairs`).

Rows are sorted by segment once per frame, so each column is read once per
segmentation, whatever the number of segments.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from drift.frames.columns import bin_codes, count, string_codes
from drift.stats.binning import Binning, CategoricalBinning, NumericBinning, PairBinning
from drift.stats.checks import positive_int
from drift.stats.dependence import Dispersion
from drift.stats.histogram import Histogram
from drift.stats.pairs import joint_counts, joint_histogram
from drift.stats.segments import choose_segments, other_label, segment_label

__all__ = [
    "SegmentSplit",
    "Segments",
    "pair_histograms",
    "pair_specs",
    "pairable",
    "segment_histograms",
    "segment_specs",
    "split",
]

IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True, slots=True)
class Segments:
    """One segmentation of ``compare``: the columns, how many segments, how small is judged.

    Parameters
    ----------
    columns : str or tuple of str
        The segment column, or several (their value tuples are the segments,
        named ``"country=BR, device=ios"`` in this order).
    top_k : int
        Segments kept: the reference's largest; every other value (tuple),
        and every live one the reference lacks, is one ``"<other>"`` segment.
        Default 20.
    min_rows : int
        A segment with fewer values than this on either side is reported,
        not judged (``enough_data=False``, never drifted). Default 200.

    Examples
    --------
    >>> Segments("country")
    Segments(columns=('country',), top_k=20, min_rows=200)
    """

    columns: tuple[str, ...]
    top_k: int = 20
    min_rows: int = 200

    def __post_init__(self) -> None:
        names = (self.columns,) if isinstance(self.columns, str) else tuple(self.columns)
        if not names or not all(isinstance(n, str) and n for n in names):
            raise ValueError(f"`segments` must name one column or several, got {self.columns!r}.")
        if len(set(names)) != len(names):
            raise ValueError(f"`segments` names a column twice: {list(names)}.")
        object.__setattr__(self, "columns", names)
        positive_int(self.top_k, "segments.top_k")
        if isinstance(self.min_rows, bool) or not isinstance(self.min_rows, int):
            raise TypeError(f"`segments.min_rows` must be an integer, got {self.min_rows!r}.")
        if self.min_rows < 0:
            raise ValueError(f"`segments.min_rows` must be >= 0, got {self.min_rows}.")


def segment_specs(segments: object) -> tuple[Segments, ...]:
    """``segments=`` as :class:`Segments`: a name, a list of names, a mapping, or a list of those.

    A list of names is ONE segmentation by those columns together; a list of
    mappings or :class:`Segments` is several segmentations, each scored.
    A mapping holds ``column`` or ``columns``, and optionally ``top_k`` and
    ``min_rows``, as a monitor's YAML does.

    Examples
    --------
    >>> segment_specs(["country", "device"])
    (Segments(columns=('country', 'device'), top_k=20, min_rows=200),)
    >>> [s.columns for s in segment_specs([{"column": "country"}, Segments("device", top_k=5)])]
    [('country',), ('device',)]
    """
    if segments is None:
        return ()
    if isinstance(segments, str | Segments | Mapping):
        return (_one(segments),)
    if not isinstance(segments, Sequence):
        raise TypeError(
            "`segments` must be a column name, a list of column names, a mapping with "
            "`column(s)`, a Segments, or a list of mappings/Segments; got "
            f"{type(segments).__name__}."
        )
    if all(isinstance(s, str) for s in segments):
        return (Segments(tuple(segments)),)
    if any(isinstance(s, str) for s in segments):
        raise TypeError(
            "`segments` mixes column names and segmentations: give a list of names (one "
            "segmentation by those columns) or a list of mappings/Segments."
        )
    specs = tuple(_one(s) for s in segments)
    if len({s.columns for s in specs}) != len(specs):
        raise ValueError("`segments` lists the same columns twice.")
    return specs


def _one(spec: object) -> Segments:
    if isinstance(spec, Segments):
        return spec
    if isinstance(spec, str):
        return Segments((spec,))
    if not isinstance(spec, Mapping):
        raise TypeError(f"a segmentation must be a mapping or a Segments, got {spec!r}.")
    unknown = set(spec) - {"column", "columns", "top_k", "min_rows"}
    if unknown:
        raise ValueError(
            f"`segments` has unknown key(s) {sorted(unknown)}; expected column or columns, "
            "top_k, min_rows."
        )
    if ("column" in spec) == ("columns" in spec):
        raise ValueError("a segmentation gives `column` or `columns` (one of them).")
    names = spec.get("column", spec.get("columns"))
    options = {k: spec[k] for k in ("top_k", "min_rows") if k in spec}
    return Segments((names,) if isinstance(names, str) else tuple(names), **options)


def pair_specs(pairs: object) -> tuple[tuple[str, str], ...]:
    """``pairs=`` as ``(x, y)`` tuples; a pair naming one column twice is refused.

    Examples
    --------
    >>> pair_specs([["amount", "country"], ("score", "label")])
    (('amount', 'country'), ('score', 'label'))
    """
    if pairs is None:
        return ()
    if isinstance(pairs, str) or not isinstance(pairs, Sequence):
        raise TypeError("`pairs` must be a list of [x, y] column-name pairs.")
    out: list[tuple[str, str]] = []
    for pair in pairs:
        if isinstance(pair, str) or not isinstance(pair, Sequence) or len(pair) != 2:
            raise ValueError(f"each of `pairs` must be two column names [x, y], got {pair!r}.")
        x, y = pair
        if not (isinstance(x, str) and isinstance(y, str)):
            raise TypeError(f"a pair names two columns (strings), got {pair!r}.")
        if x == y:
            raise ValueError(f"pair [{x!r}, {y!r}] names the same column twice.")
        if (x, y) in out:
            raise ValueError(f"pair [{x!r}, {y!r}] is listed twice.")
        out.append((x, y))
    return tuple(out)


@dataclass(frozen=True, slots=True)
class SegmentSplit:
    """The rows of both frames by segment: names, and each frame's rows sorted by segment.

    ``reference_order[reference_bounds[s]:reference_bounds[s + 1]]`` are the
    reference rows of segment ``s`` (``names[s]``), likewise for the current
    frame. The last segment is ``<other>`` when it holds rows on either side.
    """

    spec: Segments
    names: tuple[str, ...]
    reference_order: IntArray
    reference_bounds: IntArray
    current_order: IntArray
    current_bounds: IntArray

    def slices(self, frame: str, series: pd.Series[Any]) -> list[pd.Series[Any]]:
        """``series`` (of ``frame``, "reference" or "current") cut into its segments' rows."""
        order, bounds = (
            (self.reference_order, self.reference_bounds)
            if frame == "reference"
            else (self.current_order, self.current_bounds)
        )
        ordered = series.iloc[order]
        return [ordered.iloc[bounds[s] : bounds[s + 1]] for s in range(len(self.names))]


def split(spec: Segments, reference: pd.DataFrame, current: pd.DataFrame) -> SegmentSplit:
    """Assign every row of both frames to a segment of ``spec``."""
    ref_key, cur_key, tuples = _keys(spec.columns, reference, current)
    sizes = np.bincount(ref_key, minlength=len(tuples))
    kept = choose_segments({t: int(n) for t, n in zip(tuples, sizes, strict=True) if n}, spec.top_k)
    position = {t: i for i, t in enumerate(kept)}
    segment_of = np.array([position.get(t, len(kept)) for t in tuples], dtype=np.int64)
    names = [segment_label(spec.columns, t) for t in kept]
    ref_seg = segment_of[ref_key] if ref_key.size else ref_key
    cur_seg = segment_of[cur_key] if cur_key.size else cur_key
    if np.any(ref_seg == len(kept)) or np.any(cur_seg == len(kept)):
        names.append(other_label(spec.columns))
    k = len(names)
    return SegmentSplit(
        spec,
        tuple(names),
        np.argsort(ref_seg, kind="stable"),
        np.concatenate([[0], np.cumsum(np.bincount(ref_seg, minlength=k))]),
        np.argsort(cur_seg, kind="stable"),
        np.concatenate([[0], np.cumsum(np.bincount(cur_seg, minlength=k))]),
    )


def _keys(
    columns: Sequence[str], reference: pd.DataFrame, current: pd.DataFrame
) -> tuple[IntArray, IntArray, list[tuple[str | None, ...]]]:
    """Each row's value tuple as one code, for both frames, and the tuple of every code."""
    n = len(reference)
    key = np.zeros(n + len(current), dtype=np.int64)
    tuples: list[tuple[str | None, ...]] = [()]
    for column in columns:
        both = pd.concat([reference[column], current[column]], ignore_index=True)
        codes, values = string_codes(both)
        options: list[str | None] = [*values, None]
        width = len(options)
        combined = key * width + np.where(codes < 0, width - 1, codes)
        # Only the tuples that occur are numbered, so codes stay below the row count.
        used, inverse = np.unique(combined, return_inverse=True)
        tuples = [(*tuples[int(u) // width], options[int(u) % width]) for u in used]
        key = inverse.astype(np.int64).reshape(-1)
    return key[:n], key[n:], tuples


def segment_histograms(
    split_rows: SegmentSplit, binning: Binning, reference: pd.Series[Any], current: pd.Series[Any]
) -> list[tuple[str, Histogram, Histogram, Dispersion | None]]:
    """``(segment, reference, current, dispersion)`` of one column in every segment."""
    ref_parts = split_rows.slices("reference", reference)
    cur_parts = split_rows.slices("current", current)
    out = []
    for name, ref, cur in zip(split_rows.names, ref_parts, cur_parts, strict=True):
        ref_hist, spread = count(binning, ref)
        cur_hist, _ = count(binning, cur)
        out.append((name, ref_hist, cur_hist, spread))
    return out


def pair_histograms(
    pair: PairBinning,
    reference: tuple[pd.Series[Any], pd.Series[Any]],
    current: tuple[pd.Series[Any], pd.Series[Any]],
) -> tuple[Histogram, Histogram]:
    """The joint histograms of a pair, reference and current."""
    kx, ky = pair.shape
    out = []
    for x, y in (reference, current):
        counts, missing = joint_counts(bin_codes(pair.x, x), bin_codes(pair.y, y), kx, ky)
        out.append(joint_histogram(pair.x.labels, pair.y.labels, counts, missing))
    return out[0], out[1]


def pairable(binning: Binning) -> NumericBinning | CategoricalBinning | None:
    """``binning`` if it can be one side of a pair (numeric or categorical), else None."""
    return binning if isinstance(binning, NumericBinning | CategoricalBinning) else None
