"""The ``segments`` and ``pairs`` keys: where drift lives, and between what.

A segment key names one or more columns; every feature is then also scored
in each of the reference's ``top_k`` largest segments (value tuples of those
columns) and in one ``<other>`` segment for the rest. A pair names two
features whose joint distribution is scored, split by the chain rule into
the change of the first and the change of the relationship.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field, model_validator

from drift.config.options import ConfigModel, ThresholdsConfig
from drift.stats.pairs import pair_name

__all__ = ["PairConfig", "SegmentConfig"]


def _names(value: Any, key: str) -> tuple[str, ...]:
    names = (value,) if isinstance(value, str) else tuple(value)
    if not names or not all(isinstance(n, str) and n for n in names):
        raise ValueError(f"{key}: give one column name or a list of column names")
    if len(set(names)) != len(names):
        raise ValueError(f"{key}: a column is listed twice")
    return names


class SegmentConfig(ConfigModel):
    """Score every feature per segment of one or more columns."""

    columns: tuple[str, ...] = Field(min_length=1, max_length=4)
    """The segment column, or several (``column: country`` or ``columns: [country, device]``)."""
    top_k: int = Field(20, ge=1, le=1000)
    """Segments kept, the reference's largest; all other value tuples are one ``<other>``."""
    min_rows: int = Field(200, ge=0)
    """A segment with fewer live or reference rows than this is reported, not judged."""

    @model_validator(mode="before")
    @classmethod
    def _column_or_columns(cls, data: Any) -> Any:
        if isinstance(data, str | list | tuple):
            data = {"columns": data}
        if not isinstance(data, dict):
            return data
        data = dict(data)
        if "column" in data:
            if "columns" in data:
                raise ValueError("give column or columns, not both")
            data["columns"] = _names(data.pop("column"), "column")
        elif "columns" in data:
            data["columns"] = _names(data["columns"], "columns")
        return data

    @property
    def label(self) -> str:
        """The columns as one name, for messages: ``country`` or ``country, device``."""
        return ", ".join(self.columns)


class PairConfig(ConfigModel):
    """Score the joint distribution of two features (``[x, y]``, or a mapping with thresholds)."""

    columns: tuple[str, str]
    """The two features, ``x`` then ``y``: the split is ``KL(x) + E_x KL(y | x)``."""
    thresholds: ThresholdsConfig | None = None
    """This pair's own thresholds, in place of the monitor's."""

    @model_validator(mode="before")
    @classmethod
    def _list_form(cls, data: Any) -> Any:
        if isinstance(data, list | tuple):
            data = {"columns": data}
        if isinstance(data, dict) and "columns" in data:
            names = data["columns"]
            if isinstance(names, str) or len(names) != 2:
                raise ValueError("a pair names exactly two features: [x, y]")
            data = {**data, "columns": _names(names, "columns")}
        return data

    @property
    def name(self) -> str:
        """The pair's feature name in results: ``x × y``."""
        return pair_name(*self.columns)
