"""Segments and pairs counted in the database: one pass, the same counts as in memory."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import pytest
from source_data import DAY, T0, Events

from drift.config import FeatureConfig
from drift.sources import SqlSource
from drift.sources.segmented import SegmentSpec, segment_sizes
from drift.sources.window_reads import window_segments
from drift.stats.binning import Binning, PairBinning
from drift.stats.counting import histogram

pytestmark = pytest.mark.db

FEATURES = [
    FeatureConfig(name="amount", bins=6),
    FeatureConfig(name="qty", bins=4),
    FeatureConfig(name="country", top_k=4),
]
PAIR = "amount \u00d7 country"
HOUR = timedelta(hours=6)


def _source(events: Events) -> SqlSource:
    return SqlSource(
        events.engine, table=events.table, timestamp="ts", pairs={PAIR: ("amount", "country")}
    )


def _binnings(src: SqlSource) -> dict[str, Binning]:
    fitted = src.fit(FEATURES, T0, T0 + DAY)
    x, y = fitted["amount"], fitted["country"]
    assert not isinstance(x, PairBinning) and not isinstance(y, PairBinning)
    return {**fitted, PAIR: PairBinning(x, y)}  # type: ignore[arg-type]


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def _rows(events: Events, lo: datetime, hi: datetime) -> list[dict[str, Any]]:
    return [r for r in events.rows if lo <= r["ts"] < hi]


def _expected(binnings: dict[str, Binning], rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Counts and missing of every feature over ``rows``, in memory."""
    out: dict[str, Any] = {}
    for name, binning in binnings.items():
        if isinstance(binning, PairBinning):
            cells = np.zeros(len(binning.labels), dtype=np.int64)
            missing = 0
            ky = len(binning.y.labels)
            for r in rows:
                hx = histogram(binning.x, [r["amount"]])
                hy = histogram(binning.y, [_text(r["country"])])
                if hx.missing or hy.missing:
                    missing += 1
                    continue
                cells[int(np.argmax(hx.counts)) * ky + int(np.argmax(hy.counts))] += 1
            out[name] = (cells.tolist(), missing)
        else:
            column = [r[name] if name != "country" else _text(r[name]) for r in rows]
            h = histogram(binning, column)
            out[name] = (h.counts.tolist(), h.missing)
    return out


def _counts(hists: dict[str, Any]) -> dict[str, Any]:
    return {n: (h.counts.tolist(), h.missing) for n, h in hists.items()}


def _spec(src: SqlSource, columns: tuple[str, ...], top_k: int) -> SegmentSpec:
    with src.engine.connect() as conn:
        relation = src.relation(conn)
        targets = [src.target(relation, c, "categorical") for c in columns]
        where = src.window_filter(relation, T0, T0 + DAY)
        sizes = segment_sizes(conn, relation.selectable, where, targets, top_k)
    assert [n for _, n in sizes] == sorted((n for _, n in sizes), reverse=True)
    return SegmentSpec(columns, tuple(v for v, _ in sizes))


def _segment_of(spec: SegmentSpec, row: dict[str, Any]) -> int:
    values = tuple(_text(row[c]) for c in spec.columns)
    return spec.kept.index(values) if values in spec.kept else len(spec.kept)


@pytest.mark.parametrize("columns", [("country",), ("country", "qty")])
def test_each_segment_counts_its_rows_and_the_whole_is_the_unsegmented_read(
    events: Events, columns: tuple[str, ...]
) -> None:
    src = _source(events)
    binnings = _binnings(src)
    spec = _spec(src, columns, 5)
    assert len(spec.kept) == 5
    lo, hi = T0 + DAY, T0 + 2 * DAY
    [(whole, parts)] = list(window_segments(src, binnings, [lo, hi], spec))
    assert whole == src.histograms(binnings, lo, hi)
    rows = _rows(events, lo, hi)
    for i, part in enumerate(parts):
        mine = [r for r in rows if _segment_of(spec, r) == i]
        assert _counts(part) == _expected(binnings, mine), (i, spec.kept[i : i + 1])
    assert sum(p["amount"].total for p in parts) == len(rows)


def test_many_windows_of_segments_in_one_pass_equal_each_window_alone(events: Events) -> None:
    src = _source(events)
    binnings = _binnings(src)
    spec = _spec(src, ("country",), 3)
    bounds = [T0 + DAY + i * HOUR for i in range(9)]
    got = list(window_segments(src, binnings, bounds, spec))
    assert len(got) == 8
    for (lo, hi), (whole, parts) in zip(itertools.pairwise(bounds), got, strict=True):
        [(alone_whole, alone_parts)] = list(window_segments(src, binnings, [lo, hi], spec))
        assert whole == alone_whole == src.histograms(binnings, lo, hi)
        assert [_counts(p) for p in parts] == [_counts(p) for p in alone_parts]


def test_unkept_segments_fall_in_other_and_an_empty_window_counts_zeros(events: Events) -> None:
    src = _source(events)
    binnings = _binnings(src)
    spec = SegmentSpec(("country",), (("no such country",), (None,)))
    lo, hi = T0 + DAY, T0 + 2 * DAY
    [(_, parts)] = list(window_segments(src, binnings, [lo, hi], spec))
    rows = _rows(events, lo, hi)
    assert parts[0]["amount"].total == 0
    assert parts[1]["amount"].total == sum(r["country"] is None for r in rows)
    assert parts[2]["amount"].total == sum(r["country"] is not None for r in rows)
    far = T0 + 400 * DAY
    [(empty, empty_parts)] = list(window_segments(src, binnings, [far, far + DAY], spec))
    assert empty["qty"].total == 0 and all(p["qty"].total == 0 for p in empty_parts)


def test_without_pushdown_segments_are_streamed_with_the_same_counts(events: Events) -> None:
    src = _source(events)
    binnings = _binnings(src)
    spec = _spec(src, ("country",), 4)
    lo, hi = T0 + DAY, T0 + 2 * DAY
    [(pushed, pushed_parts)] = list(window_segments(src, binnings, [lo, hi], spec))
    streamed_src = SqlSource(
        events.engine, table=events.table, timestamp="ts", pushdown=False, pairs=src.pairs
    )
    [(streamed, parts)] = list(window_segments(streamed_src, binnings, [lo, hi], spec))
    assert streamed == pushed
    assert [_counts(p) for p in parts] == [_counts(p) for p in pushed_parts]
