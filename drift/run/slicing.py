"""Segments and pairs of a monitor: fitted with the baseline, read and scored as features.

Each feature in each segment is one more entry of a run's binnings, under
the key :func:`member_key` gives it; a pair is one more feature named
``x × y``. Their baseline records carry what is needed to read them again:
a segment record keeps, in its binning spec, the segment columns, the kept
value tuples and its own index (:data:`SEGMENT_SPEC_KEY`), so every later
window counts the segments the reference chose, and the source is told
about them (:func:`segment_members`). Everything downstream, the rolling
reference, dispersions, the one-pass backfill and the accepted baselines,
then treats them as features.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from drift.config import FeatureConfig, MonitorConfig
from drift.config.slices import SegmentConfig
from drift.sources import SqlSource
from drift.sources.segment_reads import SegmentMember
from drift.sources.segmented import SegmentSpec, segment_sizes
from drift.sources.window_reads import window_segments
from drift.stats import FeatureScore, Histogram
from drift.stats.binning import (
    Binning,
    CategoricalBinning,
    NumericBinning,
    PairBinning,
    binning_from_spec,
)
from drift.stats.segments import other_label, segment_label
from drift.store.records import BaselineRecord

__all__ = [
    "SEGMENT_SPEC_KEY",
    "member_key",
    "pair_binnings",
    "record_key",
    "segment_histograms",
    "segment_members",
    "segment_records",
    "slice_binnings",
    "split_key",
    "with_segments",
]

#: Where a segment record's binning spec keeps its segment (columns, kept, index).
SEGMENT_SPEC_KEY = "segment"
_SEP = "\x1f"  # never in a column name read from config (control characters are refused)


def member_key(feature: str, segment: str) -> str:
    """The key of ``feature`` in ``segment`` among a run's binnings (``""``: ``feature``)."""
    return feature if not segment else f"{feature}{_SEP}{segment}"


def split_key(key: str) -> tuple[str, str]:
    """``(feature, segment)`` of a :func:`member_key`."""
    feature, _, segment = key.partition(_SEP)
    return feature, segment


def record_key(record: BaselineRecord) -> str:
    """The key of a baseline record among a run's binnings."""
    return member_key(record.feature, record.segment)


def pair_binnings(monitor: MonitorConfig, binnings: Mapping[str, Binning]) -> dict[str, Binning]:
    """The monitor's pairs whose two features are both fitted (numeric or categorical)."""
    out: dict[str, Binning] = {}
    for pair in monitor.pairs:
        x, y = (binnings.get(c) for c in pair.columns)
        if isinstance(x, NumericBinning | CategoricalBinning) and isinstance(
            y, NumericBinning | CategoricalBinning
        ):
            out[pair.name] = PairBinning(x, y)
    return out


def _labels(columns: Sequence[str], kept: Sequence[tuple[str | None, ...]]) -> list[str]:
    return [segment_label(columns, v) for v in kept] + [other_label(columns)]


def _segmentable(binnings: Mapping[str, Binning], config: SegmentConfig) -> dict[str, Binning]:
    return {
        n: b
        for n, b in binnings.items()
        if isinstance(b, NumericBinning | CategoricalBinning) and n not in config.columns
    }


def segment_histograms(
    source: SqlSource,
    binnings: Mapping[str, Binning],
    config: SegmentConfig,
    span: tuple[datetime | None, datetime | None],
) -> tuple[SegmentSpec, list[dict[str, Histogram]]]:
    """The reference's ``top_k`` largest segments of ``config``, and each one's histograms.

    Text features and the segment columns themselves are not segmented.
    """
    with source.engine.connect() as conn:
        relation = source.relation(conn)
        targets = [source.target(relation, c, "categorical") for c in config.columns]
        where = source.window_filter(relation, *span)
        sizes = segment_sizes(conn, relation.selectable, where, targets, config.top_k)
    spec = SegmentSpec(config.columns, tuple(values for values, _ in sizes))
    features = _segmentable(binnings, config)
    if not features:
        return spec, []
    [(_, parts)] = list(window_segments(source, features, list(span), spec))
    return spec, parts


def segment_records(
    monitor: MonitorConfig,
    source: SqlSource,
    binnings: Mapping[str, Binning],
    span: tuple[datetime | None, datetime | None],
    spec_extra: Mapping[str, Any],
    kinds: Mapping[str, str],
) -> list[BaselineRecord]:
    """One baseline record per feature and segment of every ``segments`` entry."""
    records: list[BaselineRecord] = []
    for config in monitor.segments:
        spec, parts = segment_histograms(source, binnings, config, span)
        if not parts:
            continue
        kept = [list(v) for v in spec.kept]
        for index, (label, part) in enumerate(
            zip(_labels(spec.columns, spec.kept), parts, strict=True)
        ):
            place = {"columns": list(spec.columns), "kept": kept, "index": index}
            records += [
                BaselineRecord(
                    monitor=monitor.name,
                    feature=name,
                    kind=kinds.get(name, binnings[name].kind),
                    binning_spec={
                        **binnings[name].to_spec(), **spec_extra, SEGMENT_SPEC_KEY: place
                    },
                    labels=hist.labels,
                    counts=tuple(int(c) for c in hist.counts),
                    missing=hist.missing,
                    reference_start=span[0],
                    reference_end=span[1],
                    segment=label,
                )
                for name, hist in part.items()
            ]  # fmt: skip
    return records


def segment_members(records: Iterable[BaselineRecord]) -> dict[str, SegmentMember]:
    """The source's segment members, by key, from the segment records of a baseline."""
    members: dict[str, SegmentMember] = {}
    for record in records:
        place = record.binning_spec.get(SEGMENT_SPEC_KEY)
        if not record.segment or not isinstance(place, Mapping):
            continue
        spec = SegmentSpec(
            tuple(place["columns"]),
            tuple(tuple(None if v is None else str(v) for v in values) for values in place["kept"]),
        )
        members[record_key(record)] = SegmentMember(spec, record.feature, int(place["index"]))
    return members


def slice_binnings(
    features: Sequence[FeatureConfig],
    baseline: Mapping[str, BaselineRecord],
    binnings: Mapping[str, Binning],
) -> dict[str, Binning]:
    """``binnings`` (the features'), then the pairs and segment members of ``baseline``."""
    names = {f.name for f in features}
    out = dict(binnings)
    for key, record in baseline.items():
        if key in out:
            continue
        pair = record.kind == "pair" and not record.segment
        if pair or (record.segment and record.feature in names):
            out[key] = binning_from_spec(record.binning_spec)
    return out


def with_segments(scores: Iterable[FeatureScore]) -> list[FeatureScore]:
    """Scores keyed by :func:`member_key`, with ``feature`` and ``segment`` set apart."""
    out = []
    for score in scores:
        feature, segment = split_key(score.feature)
        out.append(
            dataclasses.replace(score, feature=feature, segment=segment) if segment else score
        )
    return out
