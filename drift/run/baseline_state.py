"""A baseline record as JSON and back: how a baseline travels between Airflow tasks."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from drift.store.records import BaselineRecord

__all__ = ["record_from_dict", "record_to_dict"]


def record_to_dict(record: BaselineRecord) -> dict[str, Any]:
    """``record`` as JSON (for XCom, between Airflow tasks)."""

    def iso(at: datetime | None) -> str | None:
        return None if at is None else at.isoformat()

    return {
        "monitor": record.monitor,
        "feature": record.feature,
        "kind": record.kind,
        "binning_spec": dict(record.binning_spec),
        "labels": list(record.labels),
        "counts": [int(c) for c in record.counts],
        "missing": int(record.missing),
        "reference_start": iso(record.reference_start),
        "reference_end": iso(record.reference_end),
        "version": record.version,
        "segment": record.segment,
    }


def record_from_dict(data: Mapping[str, Any]) -> BaselineRecord:
    """The record :func:`record_to_dict` described."""

    def at(value: str | None) -> datetime | None:
        return None if value is None else datetime.fromisoformat(value)

    return BaselineRecord(
        monitor=data["monitor"],
        feature=data["feature"],
        kind=data["kind"],
        binning_spec=data["binning_spec"],
        labels=tuple(data["labels"]),
        counts=tuple(int(c) for c in data["counts"]),
        missing=int(data["missing"]),
        reference_start=at(data["reference_start"]),
        reference_end=at(data["reference_end"]),
        version=int(data["version"]),
        segment=str(data.get("segment", "")),
    )
