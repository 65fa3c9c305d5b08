"""Reference histograms and how much their bin shares vary between windows (dispersion).

Rows in time order are not independent: consecutive rows are alike, so the
bin shares of a window vary more between windows than independent rows
would let them. Wherever the reference is made of several windows of the
live window's length, each is counted on its own (one grouped query), the
reference is their sum, and :func:`drift.stats.window_dispersion` measures
how much more than independent rows their shares vary; the test and the KL
bias term are then scaled by it (see :mod:`drift.stats.dependence`).

- ``previous_windows: N`` (fixed window length): the N windows, counted
  with every live window;
- a fixed ``start``/``end`` range spanning at least two windows: the range
  cut into whole windows once, when the baseline is fitted, and the
  dispersion kept with the baseline;
- ``season``, a reference table or query, or a cron schedule: one read, and
  independent rows are assumed (the result says so).

Text is the exception to the last two cases: its tokens are clustered in
documents whatever the time structure, so a reference counted once with the
baseline (a fixed range or a separate table) whose windows give no
dispersion keeps the design effect of its documents instead
(:func:`document_dispersions`, :func:`drift.stats.document_dispersion`), and
the number of its documents (``binning_spec["documents"]``, the rows of the
reference). A rolling reference keeps its window dispersion, which covers
the clustering too; a seasonal one, read in one block per window, assumes
independent tokens.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from drift.config import MonitorConfig
from drift.sources import SqlSource
from drift.stats import Histogram
from drift.stats.binning import Binning, TokenBinning
from drift.stats.dependence import INDEPENDENT, Dispersion, window_dispersion
from drift.stats.documents import document_dispersion

__all__ = [
    "WindowedReference",
    "dispersion_from_spec",
    "dispersion_spec",
    "document_dispersions",
    "from_windows",
    "rolling_bounds",
    "whole_windows",
]


class WindowedReference:
    """A reference summed from windows, with each feature's dispersions."""

    def __init__(
        self,
        histograms: dict[str, Histogram],
        dispersions: dict[str, Dispersion],
        missing: dict[str, Dispersion],
    ) -> None:
        self.histograms = histograms
        self.dispersions = dispersions
        self.missing = missing


def from_windows(
    binnings: Mapping[str, Binning], windows: Sequence[Mapping[str, Histogram]]
) -> WindowedReference:
    """The sum of ``windows`` and, per feature, the dispersion of bin shares and missingness."""
    histograms: dict[str, Histogram] = {}
    dispersions: dict[str, Dispersion] = {}
    missing: dict[str, Dispersion] = {}
    for name in binnings:
        parts = [w[name] for w in windows if name in w]
        if not parts:
            continue
        total = parts[0]
        for h in parts[1:]:
            total = total + h
        histograms[name] = total
        dispersions[name] = window_dispersion(parts) if len(parts) >= 2 else INDEPENDENT
        rates = [[h.missing, h.rows] for h in parts]  # documents for text
        missing[name] = window_dispersion(rates) if len(parts) >= 2 else INDEPENDENT
    return WindowedReference(histograms, dispersions, missing)


def rolling_bounds(monitor: MonitorConfig, start: datetime, end: datetime) -> list[datetime] | None:
    """The bounds of the N reference windows of a rolling reference, or ``None``.

    ``None`` when the reference is not ``previous_windows`` or has only one
    window (nothing to compare between).
    """
    ref = monitor.reference
    if ref.mode != "previous_windows" or ref.previous_windows is None:
        return None
    if monitor.window_length is None:  # cron windows differ in length: not comparable
        return None
    n, length = ref.previous_windows, end - start
    if n < 2:
        return None
    return [start - k * length for k in range(n, 0, -1)] + [start]


def whole_windows(
    start: datetime | None, end: datetime | None, length: timedelta | None
) -> list[datetime] | None:
    """Bounds cutting a fixed reference range into whole windows of ``length``, or ``None``.

    ``None`` unless the range holds at least two whole windows; the part of
    the range after the last whole window is left out of the dispersion
    estimate (not of the reference counts).
    """
    if start is None or end is None or length is None:
        return None
    count = (end - start) // length
    if count < 2:
        return None
    return [start + k * length for k in range(count + 1)]


def dispersion_spec(dispersion: Dispersion) -> dict[str, Any]:
    """``dispersion`` as JSON, to keep with a baseline."""
    return {
        "phi": dispersion.phi,
        "df": None if dispersion.df == float("inf") else dispersion.df,
        "source": dispersion.source,
        "units": dispersion.units,
        "spread": dispersion.spread,
    }


def dispersion_from_spec(spec: Mapping[str, Any] | None) -> Dispersion:
    """The inverse of :func:`dispersion_spec`; ``None`` is independent rows."""
    if not spec:
        return INDEPENDENT
    df = spec.get("df")
    return Dispersion(
        phi=float(spec["phi"]),
        df=float("inf") if df is None else float(df),
        source=spec["source"],
        units=int(spec["units"]),
        spread=float(spec.get("spread", 1.0)),
    )


def document_dispersions(
    source: SqlSource,
    binnings: Mapping[str, Binning],
    start: datetime | None,
    end: datetime | None,
    windowed: Mapping[str, Mapping[str, Any]],
) -> dict[str, dict[str, Any]]:
    """Per text feature of a reference read once, its documents' design effect (JSON).

    Features whose ``windowed`` spec (from :func:`from_windows` of the
    reference cut into whole windows) already holds a dispersion keep it.
    """
    texts = {
        name: binning
        for name, binning in binnings.items()
        if isinstance(binning, TokenBinning)
        and dispersion_from_spec(windowed.get(name, {}).get("dispersion")).source == "independent"
    }
    if not texts:
        return {}
    moments = source.document_moments(texts, start, end)
    return {
        name: {"dispersion": dispersion_spec(document_dispersion(m))} for name, m in moments.items()
    }


def read_windows(
    source: SqlSource, binnings: Mapping[str, Binning], bounds: Sequence[datetime]
) -> list[dict[str, Histogram]]:
    """Each window's histograms (one grouped query for numbers and categories)."""
    return list(source.window_histograms(binnings, bounds))
