"""The result of ``compare``: :class:`DriftReport`, its table and its HTML."""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from drift.notebook import html as notebook_html
from drift.stats.binning import Binning
from drift.stats.pairs import PAIR_KIND
from drift.stats.verdicts import FeatureScore, Thresholds

__all__ = ["REPORT_COLUMNS", "DriftReport"]

#: Columns of :meth:`DriftReport.to_frame`, in order.
REPORT_COLUMNS = (
    "feature",
    "kind",
    "kl",
    "kl_corrected",
    "jensen_shannon",
    "psi",
    "hellinger",
    "p_value",
    "p_adjusted",
    "n_reference",
    "n_current",
    "missing_reference",
    "missing_current",
    "severity",
    "drifted",
    "enough_data",
    "segment",
    "kl_marginal",
    "kl_conditional",
)


@dataclass(frozen=True, slots=True)
class DriftReport:
    """The scores of one comparison: each column, each pair, and each column per segment.

    ``scores`` holds the whole population first (``segment == ""``: every
    compared column in order, then every pair, kind ``"pair"``), then, with
    segments, every compared column (but the segment's own columns) in each
    segment, segment by segment. All p-values were adjusted together.

    Attributes
    ----------
    scores : tuple of FeatureScore
        As above.
    binnings : mapping of str to Binning
        The binning fitted on the reference for each column, and each pair's
        :class:`~drift.stats.binning.PairBinning` (by its name, ``"x × y"``).
    thresholds : Thresholds
        The rule that decided ``drifted`` and ``severity``.
    skipped : mapping of str to str
        Columns left out because they are no feature (identifiers such as a
        running id or UUIDs), with the reason.
    segments : tuple of str
        The segments scored, in order (``"country=BR"``, ...,
        ``"country=<other>"``); empty without ``segments=``.
    """

    scores: tuple[FeatureScore, ...]
    binnings: Mapping[str, Binning]
    thresholds: Thresholds
    skipped: Mapping[str, str] = field(default_factory=dict)
    segments: tuple[str, ...] = ()

    def __getitem__(self, key: str | tuple[str, str]) -> FeatureScore:
        """A score: ``report["amount"]`` (whole population; a pair by its name) or
        ``report["amount", "country=BR"]`` (one segment's)."""
        feature, segment = (key, "") if isinstance(key, str) else key
        for score in self.scores:
            if score.feature == feature and score.segment == segment:
                return score
        if segment and segment not in self.segments:
            raise KeyError(f"no segment {segment!r} in this report; have {list(self.segments)}")
        raise KeyError(f"no feature {feature!r} in this report; have {list(self.features)}")

    def __iter__(self) -> Iterator[FeatureScore]:
        return iter(self.scores)

    def __len__(self) -> int:
        return len(self.scores)

    def _repr_html_(self) -> str:
        """Jupyter's view: the tables and each drifted feature's chart."""
        return notebook_html.report_html(self)

    def save_html(self, path: str | Path, title: str = "Drift report") -> Path:
        """Write the report as one self-contained HTML page (plotly.js inside) to ``path``."""
        return notebook_html.save_html(self, path, title)

    @property
    def features(self) -> tuple[str, ...]:
        """The compared columns, then the pairs, in order."""
        return tuple(s.feature for s in self.scores if not s.segment)

    @property
    def drifted(self) -> tuple[str, ...]:
        """The columns and pairs flagged as drifted in the whole population."""
        return tuple(s.feature for s in self.scores if s.drifted and not s.segment)

    @property
    def drifted_segments(self) -> tuple[tuple[str, str], ...]:
        """``(feature, segment)`` of every drifted per-segment score, in report order."""
        return tuple((s.feature, s.segment) for s in self.scores if s.drifted and s.segment)

    def to_frame(self) -> pd.DataFrame:
        """One row per score: metrics, p-values, sizes, missing counts, verdict, segment, split.

        Columns are ``REPORT_COLUMNS``: ``feature, kind, kl, kl_corrected,
        jensen_shannon, psi, hellinger, p_value, p_adjusted, n_reference, n_current,
        missing_reference, missing_current, severity, drifted, enough_data,
        segment, kl_marginal, kl_conditional``. Divergences are in nats;
        ``n_*`` count non-missing rows (documents for text, whose tokens the
        bins count), ``missing_*`` missing rows (for a pair: rows missing
        either value); ``enough_data`` is False when either side has fewer
        than ``thresholds.min_rows`` values (a segment's ``min_rows``, for a
        segment): such a row is never drifted, and its metrics are 0 when a
        side is empty. ``segment`` is ``""`` for the whole population;
        ``kl_marginal`` and ``kl_conditional`` split a pair's ``kl`` (NaN on
        other rows).
        """
        rows = [
            {
                "feature": s.feature,
                "kind": s.kind,
                "kl": s.metrics["kl"],
                "kl_corrected": s.metrics["kl_corrected"],
                "jensen_shannon": s.metrics["jensen_shannon"],
                "psi": s.metrics["psi"],
                "hellinger": s.metrics["hellinger"],
                "p_value": s.p_value,
                "p_adjusted": s.p_adjusted,
                "n_reference": s.reference.rows,
                "n_current": s.current.rows,
                "missing_reference": s.reference.missing,
                "missing_current": s.current.missing,
                "severity": s.severity,
                "drifted": s.drifted,
                "enough_data": s.enough_data,
                "segment": s.segment,
                "kl_marginal": s.metrics.get("kl_marginal", math.nan),
                "kl_conditional": s.metrics.get("kl_conditional", math.nan),
            }
            for s in self.scores
        ]
        return pd.DataFrame(rows, columns=list(REPORT_COLUMNS))

    @property
    def pairs(self) -> tuple[FeatureScore, ...]:
        """The scores of the pairs (whole population)."""
        return tuple(s for s in self.scores if s.kind == PAIR_KIND and not s.segment)
