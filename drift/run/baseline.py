"""The baseline: the bins a monitor's windows are counted on, fitted once and kept.

The baseline binning is fitted once, on the reference of the first window a
monitor measures, and kept in the results store; it is fitted again only
when the monitor's features, reference or binning options change. Keeping
the bins fixed keeps every window's histograms comparable on the dashboard.
Reference *counts* follow the reference mode: a fixed range or a separate
table is counted once with the baseline, a rolling (``previous_windows``) or
seasonal reference is counted again for every window over the same bins.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

import numpy as np

from drift.config import FeatureConfig, MonitorConfig
from drift.config.windows import utc
from drift.errors import SourceError
from drift.run.accepted import (
    ACCEPTED_SPEC_KEY,
    accepted_groups,
    accepted_in_force,
    accepted_key,
)
from drift.run.baseline_state import record_from_dict, record_to_dict
from drift.run.reading import EngineFactory, FeatureList, Sources
from drift.run.references import (
    WindowedReference,
    dispersion_from_spec,
    dispersion_spec,
    document_dispersions,
    from_windows,
    read_windows,
    whole_windows,
)
from drift.run.slicing import (
    pair_binnings,
    record_key,
    segment_members,
    segment_records,
    slice_binnings,
)
from drift.sources import SqlSource
from drift.stats import Histogram
from drift.stats.binning import Binning, binning_from_spec
from drift.store import ResultsStore
from drift.store.records import BaselineRecord

__all__ = [
    "Baseline",
    "baseline_binnings",
    "describe_range",
    "prepare_baseline",
    "stored_reference",
]

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Baseline:
    """The baseline in force for a monitor, and the features it was checked against.

    Attributes
    ----------
    monitor : str
    fitted : bool
        Fitted by this call (else found in the store).
    version : int
    records : mapping of str to BaselineRecord
        Per feature: binning spec, reference counts, reference range.
    features : FeatureList
        The monitor's features as the source resolved them (kinds filled in),
        with the columns missing or skipped.
    """

    monitor: str
    fitted: bool
    version: int
    records: Mapping[str, BaselineRecord]
    features: FeatureList

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: monitor, fitted, version, features, segments, skipped and state.

        ``state`` holds everything else (the records, the resolved features),
        so that :meth:`from_dict` gives this baseline back, e.g. in the next
        Airflow task through XCom, without reading the store or the source.
        """
        return {
            "monitor": self.monitor,
            "fitted": self.fitted,
            "version": self.version,
            "features": {
                name: {"kind": r.kind, "bins": len(r.labels), "n_reference": int(sum(r.counts))}
                for name, r in self.records.items()
                if not r.segment
            },
            "segments": sorted({r.segment for r in self.records.values() if r.segment}),
            "skipped": dict(self.features.skipped),
            "state": {
                "records": [record_to_dict(r) for r in self.records.values()],
                "features": [
                    f.model_dump(mode="json", exclude_unset=True) for f in self.features.features
                ],
                "problems": list(self.features.problems),
                "skipped": [list(pair) for pair in self.features.skipped],
            },
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Baseline:
        """The baseline :meth:`to_dict` described.

        Raises
        ------
        ValueError
            If ``data`` lacks the ``state`` that :meth:`to_dict` writes.
        """
        state = data.get("state")
        if not isinstance(state, Mapping):
            raise ValueError("baseline: no 'state' to rebuild it from (made by Baseline.to_dict)")
        records = [record_from_dict(r) for r in state["records"]]
        found = FeatureList(
            tuple(FeatureConfig.model_validate(f) for f in state["features"]),
            tuple(state["problems"]),
            tuple((str(a), str(b)) for a, b in state["skipped"]),
        )
        return cls(
            str(data["monitor"]),
            bool(data["fitted"]),
            int(data["version"]),
            {record_key(r): r for r in records},
            found,
        )


def _fit_key(monitor: MonitorConfig, accepted: Mapping[str, int] | None = None) -> str:
    """What a baseline depends on: feature options, the reference, accepted ranges."""
    features = monitor.features or ()
    payload: dict[str, Any] = {
        "features": [f.model_dump(mode="json") for f in features],
        "reference": monitor.reference.model_dump(mode="json", by_alias=True),
        "relation": [monitor.table, monitor.db_schema, monitor.query, monitor.timestamp],
    }
    if accepted:
        payload["accepted"] = dict(accepted)
    if monitor.segments or monitor.pairs:  # absent otherwise: older baselines keep their key
        payload["slices"] = [
            [s.model_dump(mode="json") for s in monitor.segments],
            [list(p.columns) for p in monitor.pairs],
        ]
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:16]


def _stored_baseline(
    store: ResultsStore, monitor: str, key: str, features: Sequence[FeatureConfig]
) -> dict[str, BaselineRecord] | None:
    """The baseline in force, if it was fitted for this config and covers ``features``."""
    records = {record_key(r): r for r in store.baseline_in_force(monitor, segment=None)}
    if not records or any(r.binning_spec.get("fit_key") != key for r in records.values()):
        return None
    if any(f.name not in records for f in features):
        return None
    return records


def prepare_baseline(
    monitor: MonitorConfig,
    window_start: datetime,
    window_end: datetime,
    *,
    store: ResultsStore,
    engine_factory: EngineFactory | None = None,
) -> Baseline:
    """Make sure the monitor has a baseline binning in force, fitting it if needed.

    Parameters
    ----------
    monitor : MonitorConfig
        The monitor definition.
    window_start, window_end : datetime
        The live window about to be measured; its reference is what a new
        baseline is fitted on.
    store : ResultsStore
        Where the baseline is kept.
    engine_factory : callable, optional
        Builds the source engine (the Airflow layer resolves ``conn_id`` here).

    Returns
    -------
    Baseline

    Raises
    ------
    drift.errors.SourceError
        If the reference has no rows to fit bins on, or the source cannot be read.
    """
    start, end = utc(window_start, "window_start"), utc(window_end, "window_end")
    store.save_monitor(monitor.name, monitor.model_dump(mode="json", by_alias=True))
    with Sources(monitor, engine_factory) as sources:
        found = sources.features()
        if not found.features:
            raise SourceError(
                f"monitor {monitor.name!r}: no feature can be read: {list(found.problems)}"
                + (f"; skipped: {dict(found.skipped)}" if found.skipped else "")
            )
        accepted = accepted_in_force(store, monitor.name, [f.name for f in found.features])
        key = _fit_key(monitor, accepted_key(accepted))
        existing = _stored_baseline(store, monitor.name, key, found.features)
        if existing is not None:
            version = max(r.version for r in existing.values())
            return Baseline(monitor.name, False, version, existing, found)
        records: list[BaselineRecord] = []
        usual = [f for f in found.features if f.name not in accepted]
        if usual:
            source, ref_start, ref_end = sources.reference(start, end)
            if source.row_count(ref_start, ref_end) == 0:
                raise SourceError(
                    f"monitor {monitor.name!r}: the reference {describe_range(ref_start, ref_end)}"
                    " has no rows to fit bins on; measure a later window or set reference: "
                    "start/end"
                )
            frozen = monitor.reference.mode in ("fixed", "relation")
            records += _fit(monitor, source, usual, (ref_start, ref_end), frozen, {"fit_key": key})
        for action, names in accepted_groups(accepted):
            span = (action.range_start, action.range_end)
            if sources.live.row_count(*span) == 0:
                raise SourceError(
                    f"monitor {monitor.name!r}: the baseline accepted by {action.actor} "
                    f"(action {action.id}), {describe_range(*span)}, has no rows to fit bins "
                    "on; accept a range that holds data"
                )
            chosen = [f for f in found.features if f.name in names]
            spec = {"fit_key": key, ACCEPTED_SPEC_KEY: action.id}
            records += _fit(monitor, sources.live, chosen, span, True, spec)
    version = store.save_baseline(monitor.name, records)
    log.info("monitor %s: fitted baseline version %s", monitor.name, version)
    saved = {record_key(r): r for r in store.baseline_in_force(monitor.name, segment=None)}
    return Baseline(monitor.name, True, version, saved, found)


def _fit(
    monitor: MonitorConfig,
    source: SqlSource,
    features: Sequence[FeatureConfig],
    span: tuple[datetime | None, datetime | None],
    frozen: bool,
    spec: Mapping[str, Any],
) -> list[BaselineRecord]:
    """Bins fitted on ``span`` of ``source`` for ``features``, with their counts there.

    ``frozen``: the reference is counted once with the baseline (a fixed
    range, a separate table, an accepted range), so its dispersions between
    whole windows and across documents are measured now too.
    """
    ref_start, ref_end = span
    binnings: dict[str, Binning] = source.fit(features, ref_start, ref_end)
    binnings.update(pair_binnings(monitor, binnings))
    kinds = {f.name: f.kind or binnings[f.name].kind for f in features}
    counts = source.histograms(binnings, ref_start, ref_end)
    segmented = segment_records(monitor, source, binnings, span, spec, kinds)
    source.segments.update(segment_members(segmented))
    keyed = {**binnings, **{record_key(r): binning_from_spec(r.binning_spec) for r in segmented}}
    spread: dict[str, dict[str, Any]] = {}
    if frozen:
        spread = _fixed_dispersions(monitor, source, keyed, ref_start, ref_end)
        found_docs = document_dispersions(source, binnings, ref_start, ref_end, spread)
        spread = {n: {**spread.get(n, {}), **found_docs.get(n, {})} for n in keyed}
    for name, hist in counts.items():
        if hist.documents is not None:
            spread.setdefault(name, {})["documents"] = hist.documents
    whole = [
        BaselineRecord(
            monitor=monitor.name,
            feature=name,
            kind=kinds.get(name, binning.kind),
            binning_spec={**binning.to_spec(), **spec, **spread.get(name, {})},
            labels=counts[name].labels,
            counts=tuple(int(c) for c in counts[name].counts),
            missing=counts[name].missing,
            reference_start=ref_start,
            reference_end=ref_end,
        )
        for name, binning in binnings.items()
    ]
    return whole + [
        replace(r, binning_spec={**r.binning_spec, **spread.get(record_key(r), {})})
        for r in segmented
    ]


def _fixed_dispersions(
    monitor: MonitorConfig,
    source: SqlSource,
    binnings: Mapping[str, Binning],
    start: datetime | None,
    end: datetime | None,
) -> dict[str, dict[str, Any]]:
    """Per feature, the dispersions of a reference counted once, cut into whole windows (JSON).

    Rolling references are cut with every window instead.
    """
    bounds = whole_windows(start, end, monitor.window_length)
    if bounds is None:
        return {}
    windowed = from_windows(binnings, read_windows(source, binnings, bounds))
    return {
        name: {
            "dispersion": dispersion_spec(windowed.dispersions[name]),
            "missing_dispersion": dispersion_spec(windowed.missing[name]),
        }
        for name in windowed.dispersions
    }


def describe_range(start: datetime | None, end: datetime | None) -> str:
    """``[start, end)`` in ISO-8601, with open ends written as infinities."""
    if start is None and end is None:
        return "(all rows)"
    left = start.isoformat() if start else "-inf"
    right = end.isoformat() if end else "+inf"
    return f"[{left}, {right})"


def baseline_binnings(
    features: Sequence[FeatureConfig], baseline: Mapping[str, BaselineRecord]
) -> dict[str, Binning]:
    """The frozen binning of each feature that has a baseline, in feature order.

    Then the monitor's pairs and each feature's segments (keyed by
    :func:`drift.run.slicing.member_key`) that the baseline holds.
    """
    binnings = {
        f.name: binning_from_spec(baseline[f.name].binning_spec)
        for f in features
        if f.name in baseline
    }
    return slice_binnings(features, baseline, binnings)


def stored_reference(baseline: Mapping[str, BaselineRecord]) -> WindowedReference:
    """The reference frozen with the baseline (fixed or separate references), with dispersions.

    A fixed range cut into whole windows when the baseline was fitted keeps
    each feature's dispersion in its binning spec (a text feature: its
    documents' design effect, and their number); otherwise independent
    rows are assumed.
    """
    return WindowedReference(
        {
            n: Histogram(
                r.labels,
                np.asarray(r.counts, dtype=np.int64),
                r.missing,
                documents=r.binning_spec.get("documents"),
            )
            for n, r in baseline.items()
        },
        {n: dispersion_from_spec(r.binning_spec.get("dispersion")) for n, r in baseline.items()},
        {
            n: dispersion_from_spec(r.binning_spec.get("missing_dispersion"))
            for n, r in baseline.items()
        },
    )
