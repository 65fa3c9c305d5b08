"""Scoring a window's histograms and judging the window from its scores."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from datetime import datetime

from drift.config import MonitorConfig, ThresholdsConfig
from drift.run.slicing import SEGMENT_SPEC_KEY, split_key, with_segments
from drift.stats import FeatureScore, Histogram, Thresholds, score_features
from drift.stats.binning import OOV_LABEL, OTHER_LABEL, Binning, PairBinning
from drift.stats.dependence import Dispersion
from drift.store.records import BaselineRecord

__all__ = ["judge_window", "score_histograms", "stats_thresholds"]

log = logging.getLogger(__name__)

#: Share of the reference in the "<other>" / "<oov>" bin above which a run warns.
CROWDED_TAIL = 0.5


def stats_thresholds(t: ThresholdsConfig) -> Thresholds:
    """The statistics layer's rule for a monitor's (or a feature's) ``thresholds``."""
    metric = "kl_corrected" if t.metric == "kl" and t.bias_corrected else t.metric
    return Thresholds(
        warn=t.warn,
        critical=t.critical,
        p_value=t.p_value,
        min_effect=t.min_effect,
        min_rows=t.min_rows,
        few_rows=t.few_rows,
        missing_effect=t.missing_effect,
        metric=metric,
    )


def score_histograms(
    monitor: MonitorConfig,
    baseline: Mapping[str, BaselineRecord],
    binnings: Mapping[str, Binning],
    live: Mapping[str, Histogram],
    reference: Mapping[str, Histogram],
    dispersions: Mapping[str, Dispersion] | None = None,
    missing_dispersions: Mapping[str, Dispersion] | None = None,
) -> list[FeatureScore]:
    """Score every feature of ``binnings`` that has live and reference histograms.

    One call of :func:`drift.stats.score_features`, so the p-values are
    adjusted together, with the monitor's smoothing and thresholds and each
    feature's own thresholds where it has them; ``dispersions`` (from the
    reference's own windows, see :mod:`drift.run.references`) scale each
    feature's test, independent rows where a feature has none. A text
    feature whose histograms know their documents has its missing rate per
    document (``rows``).
    """
    measured = [n for n in binnings if n in live and n in reference]
    pairs = {n: b.shape for n in measured if isinstance(b := binnings[n], PairBinning)}
    rows = {
        n: (reference[n].rows, live[n].rows)
        for n in measured
        if reference[n].documents is not None and live[n].documents is not None
    }
    scores = score_features(
        [(name, baseline[name].kind, reference[name], live[name]) for name in measured],
        smoothing=monitor.smoothing.method,
        eps=monitor.smoothing.epsilon,
        alpha=monitor.smoothing.alpha,
        thresholds=stats_thresholds(monitor.thresholds),
        overrides=slice_thresholds(monitor, measured, baseline),
        dispersions=dispersions,
        missing_dispersions=missing_dispersions,
        rows=rows,
        pairs=pairs,
    )
    return with_segments(scores)


def slice_thresholds(
    monitor: MonitorConfig, keys: Sequence[str], baseline: Mapping[str, BaselineRecord]
) -> dict[str, Thresholds]:
    """The thresholds of every key that has its own: features, pairs, and every segment.

    A feature in a segment keeps its feature's thresholds, except that a
    segment with fewer live or reference rows than its ``min_rows`` is
    reported, not judged.
    """
    min_rows = {s.columns: s.min_rows for s in monitor.segments}
    out: dict[str, Thresholds] = {}
    for key in keys:
        feature, segment = split_key(key)
        rule = monitor.thresholds_for(feature)
        if segment:
            place = baseline[key].binning_spec.get(SEGMENT_SPEC_KEY) or {}
            least = min_rows.get(tuple(place.get("columns", ())), rule.min_rows)
            rule = rule.model_copy(update={"min_rows": max(rule.min_rows, least)})
        if segment or rule is not monitor.thresholds:
            out[key] = stats_thresholds(rule)
    return out


def judge_window(
    monitor: MonitorConfig,
    start: datetime,
    end: datetime,
    scores: Sequence[FeatureScore],
    problems: Sequence[str],
    skipped: Sequence[tuple[str, str]] = (),
) -> tuple[str, str | None]:
    """A window's status and its notes, from its scores and the features not measured.

    ``error`` if a feature could not be measured; ``insufficient_data`` if no
    feature had enough rows to be judged; else ``ok``. The notes name the
    features not measured, the columns skipped (identifiers, timestamps),
    those with too few rows, and those whose reference mostly fell outside
    the kept bins (also logged as a warning).
    """
    status, notes = "ok", []
    parts = [s for s in scores if s.segment]
    scores = [s for s in scores if not s.segment]
    short = [
        f"{s.feature} ({what} {n} < {s.thresholds.min_rows})"
        for s in scores
        for what, n in (("live rows", s.current.n), ("reference rows", s.reference.n))
        if n < s.thresholds.min_rows
    ]
    if short:
        notes.append("too few rows, not judged: " + ", ".join(short))
        if not any(s.enough_data for s in scores):
            status = "insufficient_data"
    few = [
        f"{s.feature} ({s.current.n} live, {s.reference.n} reference)"
        for s in scores
        if s.enough_data and min(s.current.n, s.reference.n) < s.thresholds.few_rows
    ]
    if few:
        notes.append(
            "few rows, judged with an exact test where counts are small: " + ", ".join(few)
        )
    moved = [
        f"{s.feature} ({s.missing_reference_rate:.1%} -> {s.missing_current_rate:.1%})"
        for s in scores
        if s.missing_drifted
    ]
    if moved:
        notes.append("missing rate changed: " + ", ".join(moved))
    crowded = _crowded_tails(scores)
    if crowded:
        notes.append("most values outside the kept bins: " + "; ".join(crowded))
        log.warning(
            "monitor %s [%s, %s): most values outside the kept bins: %s",
            monitor.name, start, end, "; ".join(crowded),
        )  # fmt: skip
    small = sum(not s.enough_data for s in parts)
    if small:
        notes.append(
            f"segments with too few rows, reported, not judged: {small} of {len(parts)} "
            "(feature, segment) scores"
        )
    if skipped:
        notes.append("columns skipped: " + "; ".join(f"{n} ({why})" for n, why in skipped))
    if problems:
        status = "error"
        notes.insert(0, "features not measured: " + "; ".join(problems))
    return status, " | ".join(notes) or None


def _crowded_tails(scores: Sequence[FeatureScore]) -> list[str]:
    """Features whose reference mostly falls outside the kept categories or vocabulary.

    A column with a million distinct values keeps its ``top_k`` most frequent
    (chosen in the database, so memory stays bounded) and lumps the rest into
    one bin; when that bin holds most of the reference, the divergence is
    blind to what happens among the other values, and the user should know.
    """
    out = []
    for s in scores:
        labels, n = s.reference.labels, s.reference.n
        if not labels or labels[-1] not in (OTHER_LABEL, OOV_LABEL) or n == 0:
            continue
        share = float(s.reference.counts[-1]) / n
        if share > CROWDED_TAIL:
            what = "categories" if labels[-1] == OTHER_LABEL else "tokens of the vocabulary"
            out.append(
                f"{s.feature}: {share:.1%} of the reference is outside the top "
                f"{len(labels) - 1} {what} (very high cardinality: raise top_k or bucket "
                "the column)"
            )
    return out
