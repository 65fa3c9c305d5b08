"""Segment features among a source's features: the keys a run reads like any other.

A run scores feature ``amount`` in segment ``country=BR`` as one more entry
of its binnings, under its own key. The source is told which keys are such
segment members (:class:`SegmentMember`: the segment spec, the feature and
the segment's index); :meth:`SqlSource.histograms` and
:meth:`SqlSource.window_histograms` then count every member of one spec
with one grouped pass (:func:`drift.sources.window_reads.window_segments`),
and take the whole population of those features from the same pass (the
sum of its segments), so a segmented window costs one statement more than
its features' unseen values, not one per segment.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from drift.sources.segmented import SegmentSpec
from drift.sources.window_reads import SqlSource, window_segments
from drift.stats.binning import Binning
from drift.stats.histogram import Histogram

__all__ = ["SegmentMember", "rest_of", "segmented_histograms", "segmented_window_histograms"]


@dataclass(frozen=True, slots=True)
class SegmentMember:
    """The key of ``feature`` in segment ``index`` of ``spec`` (``len(spec.kept)``: ``<other>``)."""

    spec: SegmentSpec
    feature: str
    index: int


def _plan(
    binnings: Mapping[str, Binning], members: Mapping[str, SegmentMember]
) -> tuple[dict[str, Binning], dict[SegmentSpec, dict[str, Binning]]]:
    """The keys that are no segment members, and per spec the features its members need."""
    base = {k: b for k, b in binnings.items() if k not in members}
    groups: dict[SegmentSpec, dict[str, Binning]] = {}
    for key, member in members.items():
        if key in binnings:
            groups.setdefault(member.spec, {})[member.feature] = binnings[key]
    return base, groups


def _fill(
    out: dict[str, Histogram],
    spec: SegmentSpec,
    whole: Mapping[str, Histogram],
    parts: Sequence[Mapping[str, Histogram]],
    binnings: Mapping[str, Binning],
    members: Mapping[str, SegmentMember],
    base: Mapping[str, Binning],
) -> None:
    for key, member in members.items():
        if member.spec == spec and key in binnings:
            out[key] = parts[member.index][member.feature]
    for name, hist in whole.items():
        if name in base and name not in out:
            out[name] = hist


def segmented_histograms(
    source: SqlSource,
    binnings: Mapping[str, Binning],
    start: datetime | None,
    end: datetime | None,
    members: Mapping[str, SegmentMember],
    *,
    pushdown: bool | None = None,
) -> dict[str, Histogram]:
    """:meth:`SqlSource.histograms` of ``binnings``, some of whose keys are segment members."""
    base, groups = _plan(binnings, members)
    out: dict[str, Histogram] = {}
    for spec, features in groups.items():
        [(whole, parts)] = list(window_segments(source, features, [start, end], spec))
        _fill(out, spec, whole, parts, binnings, members, base)
    rest = {k: b for k, b in base.items() if k not in out}
    if rest:
        out.update(source.histograms(rest, start, end, pushdown=pushdown))
    return {k: out[k] for k in binnings}


def segmented_window_histograms(
    source: SqlSource,
    binnings: Mapping[str, Binning],
    bounds: Sequence[datetime],
    members: Mapping[str, SegmentMember],
    plain: Iterator[dict[str, Histogram]] | None,
    *,
    pushdown: bool | None = None,
) -> Iterator[dict[str, Histogram]]:
    """:meth:`SqlSource.window_histograms` of ``binnings`` with segment members among them.

    ``plain`` yields the windows of the keys the segmented passes do not give
    (made by the caller from :func:`rest_of`), or is ``None`` when there are none.
    """
    base, groups = _plan(binnings, members)
    passes = {spec: window_segments(source, f, bounds, spec) for spec, f in groups.items()}
    for _ in range(len(bounds) - 1):
        out: dict[str, Histogram] = {}
        for spec, windows in passes.items():
            whole, parts = next(windows)
            _fill(out, spec, whole, parts, binnings, members, base)
        if plain is not None:
            out.update(next(plain))
        yield {k: out[k] for k in binnings}


def rest_of(
    binnings: Mapping[str, Binning], members: Mapping[str, SegmentMember]
) -> dict[str, Binning]:
    """The keys of ``binnings`` that no segmented pass counts (their whole populations aside)."""
    base, groups = _plan(binnings, members)
    counted = {name for features in groups.values() for name in features}
    return {k: b for k, b in base.items() if k not in counted}
