"""Scoring one feature: every divergence, its significance, and a verdict.

The verdict needs both evidence and an effect (see :class:`Thresholds`):

- ``drifted`` is True when the G-test p-value (Benjamini-Hochberg adjusted
  across the features of one run) is below ``thresholds.p_value`` **and**
  the bias-corrected KL is at least ``thresholds.min_effect``. Significance
  does most of the work: a 0.1-sd shift of a normal on 10 bins is only
  about 0.005 nats, yet it is real and, on 10,000 rows, certain.
- ``severity`` grades drifted features by size: ``critical`` when the
  bias-corrected KL is at least ``thresholds.critical``, ``warn`` at least
  ``thresholds.warn``, else ``ok`` (a detectable but small change).

Raw KL against a fixed threshold is noise on small windows: its bias alone,
about ``(k - 1) / (2 n)``, is 0.245 nats for 50 categories and 100 rows.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from types import MappingProxyType
from typing import Literal

import numpy as np

from drift.stats.binning import OOV_LABEL, OTHER_LABEL
from drift.stats.divergence import (
    conditional_kl,
    hellinger,
    jeffreys,
    jensen_shannon,
    kl_contributions,
    reverse_kl,
    total_variation,
)
from drift.stats.histogram import Histogram
from drift.stats.significance import benjamini_hochberg, g_test, kl_corrected
from drift.stats.smoothing import check_method

Severity = Literal["ok", "warn", "critical"]

#: Keys of ``FeatureScore.metrics`` (text features with n-grams add "conditional_kl").
METRICS = ("kl", "kl_corrected", "reverse_kl", "psi", "js", "hellinger", "tv")

#: Other names accepted by :meth:`FeatureScore.metric` and ``Thresholds.metric``.
ALIASES = {"jeffreys": "psi", "jensen_shannon": "js", "total_variation": "tv"}


@dataclass(frozen=True, slots=True)
class Thresholds:
    """When a feature counts as drifted, and how badly.

    A feature is ``drifted`` when ``p_adjusted < p_value`` and
    ``score >= min_effect``; its severity is ``critical`` when also
    ``score >= critical``, ``warn`` when ``score >= warn``, else ``ok``.
    ``score`` is the metric named by ``metric`` (the bias-corrected KL, in
    nats, by default). Windows with fewer than ``min_rows`` values on either
    side are never drifted.

    The defaults were chosen by simulation (``tests/stats/test_simulation.py``):
    with them, fewer than 1% of unchanged windows (100 to 10,000 rows, a
    10,000-row reference, 10 quantile bins or 50 Zipf categories) are
    flagged, while a 0.25-sd mean shift on 1,000 rows and a 0.1-sd shift on
    10,000 rows are flagged in over 90% of windows.

    Parameters
    ----------
    warn, critical : float
        Effect sizes (units of ``metric``) for the two severities;
        ``0 <= min_effect <= warn <= critical``.
    p_value : float or None
        Significance gate on the adjusted G-test p-value, in ``(0, 1]``;
        None turns the gate off (then the effect alone decides).
    min_effect : float
        Smallest effect ever flagged, so that huge windows do not flag
        changes too small to matter.
    min_rows : int
        Fewest non-missing values, live and reference, worth judging.
    metric : str
        Key of ``FeatureScore.metrics`` the effect thresholds apply to.
    """

    warn: float = 0.05
    critical: float = 0.2
    p_value: float | None = 0.001
    min_effect: float = 0.001
    min_rows: int = 100
    metric: str = "kl_corrected"

    def __post_init__(self) -> None:
        for name in ("warn", "critical", "min_effect"):
            value = getattr(self, name)
            if not isinstance(value, int | float) or math.isnan(value) or value < 0:
                raise ValueError(f"`{name}` must be a number >= 0, got {value!r}.")
        if not self.min_effect <= self.warn <= self.critical:
            raise ValueError(
                f"thresholds must satisfy min_effect <= warn <= critical, got "
                f"{self.min_effect}, {self.warn}, {self.critical}."
            )
        if self.p_value is not None and not 0 < self.p_value <= 1:
            raise ValueError(f"`p_value` must be in (0, 1] or None, got {self.p_value!r}.")
        if isinstance(self.min_rows, bool) or not isinstance(self.min_rows, int):
            raise TypeError(f"`min_rows` must be an integer, got {self.min_rows!r}.")
        if self.min_rows < 0:
            raise ValueError(f"`min_rows` must be >= 0, got {self.min_rows}.")
        known = (*METRICS, "conditional_kl", *ALIASES)
        if self.metric not in known:
            raise ValueError(f"`metric` must be one of {known}, got {self.metric!r}.")
        object.__setattr__(self, "metric", ALIASES.get(self.metric, self.metric))


@dataclass(frozen=True, slots=True)
class FeatureScore:
    """Everything computed for one feature in one window.

    Attributes
    ----------
    feature, kind : str
        The feature's name and kind (numeric, categorical, text).
    reference, current : Histogram
        Reference and live counts over the same bins.
    metrics : mapping of str to float
        ``kl`` (live || reference), ``kl_corrected`` (minus the no-change
        bias, clipped at 0), ``reverse_kl``, ``psi`` (Jeffreys, in nats),
        ``js``, ``hellinger``, ``tv``; ``conditional_kl`` for n-grams. May
        hold ``inf`` with ``smoothing="none"``.
    p_value, p_adjusted : float
        G-test p-value, and the same after Benjamini-Hochberg across the run.
    g_statistic : float
        The G statistic; ``dof`` its degrees of freedom.
    contributions : tuple of float
        Each bin's term of ``kl``, in bin order.
    smoothing, alpha : str, float
        The smoothing in force.
    thresholds : Thresholds
        The rule that decided ``drifted`` and ``severity``.
    severity : {"ok", "warn", "critical"}
    drifted : bool
    enough_data : bool
        Both sides held at least ``thresholds.min_rows`` values.
    unseen : tuple of (str, int)
        Live values absent from the reference, most frequent first.
    """

    feature: str
    kind: str
    reference: Histogram
    current: Histogram
    metrics: Mapping[str, float]
    p_value: float
    p_adjusted: float
    g_statistic: float
    dof: int
    contributions: tuple[float, ...]
    smoothing: str
    alpha: float
    thresholds: Thresholds
    severity: Severity
    drifted: bool
    enough_data: bool
    unseen: tuple[tuple[str, int], ...]

    @property
    def labels(self) -> tuple[str, ...]:
        """The bin labels."""
        return self.current.labels

    def metric(self, name: str) -> float:
        """One metric by its key or an alias (``jeffreys``, ``jensen_shannon``, ...)."""
        key = ALIASES.get(name, name)
        if key not in self.metrics:
            raise KeyError(f"no metric {name!r}; have {sorted(self.metrics)}")
        return self.metrics[key]

    def top_contributions(self, n: int = 5) -> tuple[tuple[str, float], ...]:
        """The ``n`` bins that add most to ``kl``, largest first."""
        order = np.argsort(-np.asarray(self.contributions), kind="stable")[:n]
        return tuple((self.labels[i], self.contributions[i]) for i in order)


def score_feature(
    reference: Histogram,
    current: Histogram,
    *,
    feature: str,
    kind: str,
    smoothing: str | None = "lidstone",
    alpha: float = 0.5,
    eps: float = 1e-6,
    thresholds: Thresholds | None = None,
) -> FeatureScore:
    """Score one feature: divergences, G-test, bias correction and verdict.

    ``kl_corrected = max(kl - (k' - 1) / 2 * (1/n + 1/m), 0)`` with ``k'`` the
    bins holding data; ``p_value`` from :func:`drift.stats.significance.g_test`
    on the raw counts, with Williams' correction (it keeps sparse categories
    from making unchanged windows look significant); the verdict as described in :class:`Thresholds`
    (``p_adjusted`` equals ``p_value`` here; :func:`score_features` adjusts
    across features). If either side has no value at all, the metrics are 0,
    the p-value 1 and ``enough_data`` False: there is nothing to compare.

    Parameters
    ----------
    reference, current : Histogram
        Counts of one binning (same labels).
    feature, kind : str
        Name and kind, kept on the score.
    smoothing, alpha, eps
        As :func:`drift.stats.divergence.kl_divergence`.
    thresholds : Thresholds, optional
        Default ``Thresholds()``.

    Returns
    -------
    FeatureScore

    Examples
    --------
    >>> import numpy as np
    >>> from drift.stats.histogram import Histogram
    >>> labels = ("a", "b", "<other>")
    >>> ref = Histogram(labels, np.array([5000, 5000, 0]))
    >>> cur = Histogram(labels, np.array([700, 300, 0]))
    >>> s = score_feature(ref, cur, feature="color", kind="categorical")
    >>> round(s.metrics["kl"], 4), s.p_value < 1e-9, s.severity, s.drifted
    (0.0828, True, 'warn', True)
    """
    rule = thresholds if thresholds is not None else Thresholds()
    method = check_method(smoothing)
    if reference.labels != current.labels:
        raise ValueError(
            f"`reference` and `current` of feature {feature!r} must have the same bins "
            f"(labels differ: {len(reference.labels)} vs {len(current.labels)} bins)."
        )
    n, m = current.n, reference.n
    options = {"smoothing": method, "alpha": alpha, "eps": eps}
    if n == 0 or m == 0:
        metrics = dict.fromkeys(METRICS, 0.0)
        contributions = (0.0,) * len(current.labels)
        g, dof, p = 0.0, 0, 1.0
    else:
        p_counts, q_counts = current.counts, reference.counts
        terms = kl_contributions(p_counts, q_counts, **options)  # type: ignore[arg-type]
        kl = max(float(terms.sum()), 0.0)
        g, dof, p = g_test(q_counts, p_counts, williams=True)
        metrics = {
            "kl": kl,
            "kl_corrected": kl_corrected(kl, max(dof + 1, 1), n, m),
            "reverse_kl": reverse_kl(p_counts, q_counts, **options),  # type: ignore[arg-type]
            "psi": jeffreys(p_counts, q_counts, **options),  # type: ignore[arg-type]
            "js": jensen_shannon(p_counts, q_counts, **options),  # type: ignore[arg-type]
            "hellinger": hellinger(p_counts, q_counts, **options),  # type: ignore[arg-type]
            "tv": total_variation(p_counts, q_counts, **options),  # type: ignore[arg-type]
        }
        if kind == "text" and _is_ngram(current.labels):
            metrics["conditional_kl"] = conditional_kl(
                p_counts,
                q_counts,
                current.labels,
                **options,  # type: ignore[arg-type]
            )
        contributions = tuple(float(t) for t in terms)
    enough = n >= rule.min_rows and m >= rule.min_rows and n > 0 and m > 0
    severity, drifted = _verdict(metrics, p, enough, rule)
    return FeatureScore(
        feature=feature,
        kind=kind,
        reference=reference,
        current=current,
        metrics=MappingProxyType(metrics),
        p_value=p,
        p_adjusted=p,
        g_statistic=g,
        dof=dof,
        contributions=contributions,
        smoothing=method,
        alpha=float(alpha),
        thresholds=rule,
        severity=severity,
        drifted=drifted,
        enough_data=enough,
        unseen=tuple(current.unseen.items()),
    )


def score_features(
    items: Iterable[tuple[str, str, Histogram, Histogram]],
    *,
    smoothing: str | None = "lidstone",
    alpha: float = 0.5,
    eps: float = 1e-6,
    thresholds: Thresholds | None = None,
    overrides: Mapping[str, Thresholds] | None = None,
) -> tuple[FeatureScore, ...]:
    """Score the features of one run, adjusting p-values across them.

    Each item is ``(feature, kind, reference, current)``; each is scored by
    :func:`score_feature`, then the p-values of the features with enough
    data are adjusted together by Benjamini-Hochberg and the verdicts
    decided on the adjusted values. That keeps the share of false alarms
    among a run's alarms near ``thresholds.p_value`` however many features a
    monitor has. Features without enough data keep ``p_adjusted = p_value``
    and are never drifted.

    Parameters
    ----------
    items : iterable of (str, str, Histogram, Histogram)
        ``(feature, kind, reference, current)`` per feature.
    smoothing, alpha, eps
        As :func:`score_feature`, for every feature.
    thresholds : Thresholds, optional
        Default ``Thresholds()``.
    overrides : mapping of str to Thresholds, optional
        Thresholds of single features, in place of ``thresholds``; their
        p-values are still adjusted together with all the others.

    Returns
    -------
    tuple of FeatureScore
        In the order of ``items``.

    Examples
    --------
    >>> import numpy as np
    >>> from drift.stats.histogram import Histogram
    >>> labels = ("lo", "hi")
    >>> ref = Histogram(labels, np.array([5000, 5000]))
    >>> moved = Histogram(labels, np.array([400, 600]))
    >>> same = Histogram(labels, np.array([500, 500]))
    >>> scores = score_features([("a", "numeric", ref, moved), ("b", "numeric", ref, same)])
    >>> [(s.feature, s.drifted, s.p_adjusted >= s.p_value) for s in scores]
    [('a', True, True), ('b', False, True)]
    """
    default = thresholds if thresholds is not None else Thresholds()
    special = dict(overrides or {})
    scores = [
        score_feature(
            ref,
            cur,
            feature=name,
            kind=kind,
            smoothing=smoothing,
            alpha=alpha,
            eps=eps,
            thresholds=special.get(name, default),
        )
        for name, kind, ref, cur in items
    ]
    judged = [i for i, s in enumerate(scores) if s.enough_data]
    adjusted = benjamini_hochberg([scores[i].p_value for i in judged])
    for i, p_adj in zip(judged, adjusted, strict=True):
        rule = scores[i].thresholds
        severity, drifted = _verdict(scores[i].metrics, float(p_adj), True, rule)
        scores[i] = replace(scores[i], p_adjusted=float(p_adj), severity=severity, drifted=drifted)
    return tuple(scores)


def _verdict(
    metrics: Mapping[str, float], p_adjusted: float, enough: bool, rule: Thresholds
) -> tuple[Severity, bool]:
    if not enough or rule.metric not in metrics:
        return "ok", False
    effect = metrics[rule.metric]
    significant = rule.p_value is None or p_adjusted < rule.p_value
    drifted = significant and effect >= rule.min_effect and effect > 0
    if not drifted:
        return "ok", False
    if effect >= rule.critical:
        return "critical", True
    if effect >= rule.warn:
        return "warn", True
    return "ok", True


def _is_ngram(labels: tuple[str, ...]) -> bool:
    vocabulary = [label for label in labels if label not in (OOV_LABEL, OTHER_LABEL)]
    return bool(vocabulary) and all(" " in label for label in vocabulary)
