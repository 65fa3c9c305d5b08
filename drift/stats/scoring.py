"""Scoring one feature: every divergence, its significance, and a verdict.

The verdict needs both evidence and an effect (see :class:`Thresholds`):

- ``drifted`` is True when the homogeneity test's p-value (Benjamini-Hochberg
  adjusted across the features of one run) is below ``thresholds.p_value``
  **and** the bias-corrected KL is at least ``thresholds.min_effect``. Significance
  does most of the work: a 0.1-sd shift of a normal on 10 bins is only
  about 0.005 nats, yet it is real and, on 10,000 rows, certain.
- ``severity`` grades drifted features by size: ``critical`` when the
  bias-corrected KL is at least ``thresholds.critical``, ``warn`` at least
  ``thresholds.warn``, else ``ok`` (a detectable but small change).

Raw KL against a fixed threshold is noise on small windows: its bias alone,
about ``(k - 1) / (2 n)``, is 0.245 nats for 50 categories and 100 rows.

The test is chosen by :func:`drift.stats.significance.g_homogeneity`:
Williams' G-test for independent rows, the quasi F test when a
:class:`~drift.stats.dependence.Dispersion` says rows are not independent
(autocorrelated windows, tokens in documents), and a Monte Carlo p-value
when expected counts are small. Small windows are judged (down to
``thresholds.min_rows``, a handful) and carry a "few rows" note instead.
A change in the missing rate is tested on its own
(:func:`drift.stats.significance.missing_test`, ``missing_drifted``).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from types import MappingProxyType
from typing import Literal

import numpy as np

from drift.stats.binning import OOV_LABEL, OTHER_LABEL
from drift.stats.dependence import INDEPENDENT, Dispersion
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
from drift.stats.significance import (
    HomogeneityTest,
    MissingTest,
    benjamini_hochberg,
    g_homogeneity,
    kl_corrected,
    missing_test,
)
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
    side are never drifted; windows with fewer than ``few_rows`` are judged
    and say so in a note. ``missing_drifted`` is decided alike, on the
    missing-rate test's adjusted p-value and a change of at least
    ``missing_effect`` in the missing rate.

    The defaults were chosen by simulation (``tests/stats/test_simulation.py``):
    with them, fewer than 1% of unchanged windows (100 to 10,000 rows, a
    10,000-row reference, 10 quantile bins or 50 Zipf categories) are
    flagged, while a 0.25-sd mean shift on 1,000 rows and a 0.1-sd shift on
    10,000 rows are flagged in over 90% of windows; with a dispersion from
    the reference windows the same holds for autocorrelated series, and
    30 rows against 30 are judged by a Monte Carlo p-value (see
    ``docs/statistics.md``).

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
        Fewest non-missing values, live and reference, worth judging
        (default 5: small windows are judged by an exact-size Monte Carlo
        test, not silenced).
    few_rows : int
        Below this many values on either side (default 100), the score
        carries a "few rows" note; it changes no verdict.
    missing_effect : float
        Smallest change in the missing rate (absolute, default 0.05: five
        percentage points) that ``missing_drifted`` flags.
    metric : str
        Key of ``FeatureScore.metrics`` the effect thresholds apply to.
    """

    warn: float = 0.05
    critical: float = 0.2
    p_value: float | None = 0.001
    min_effect: float = 0.001
    min_rows: int = 5
    metric: str = "kl_corrected"
    few_rows: int = 100
    missing_effect: float = 0.05

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
        for name in ("min_rows", "few_rows"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int):
                raise TypeError(f"`{name}` must be an integer, got {value!r}.")
            if value < 0:
                raise ValueError(f"`{name}` must be >= 0, got {value}.")
        effect = self.missing_effect
        if not isinstance(effect, int | float) or math.isnan(effect) or not 0 <= effect <= 1:
            raise ValueError(f"`missing_effect` must be a number in [0, 1], got {effect!r}.")
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
        The homogeneity test's p-value (see ``test``), and the same after
        Benjamini-Hochberg across the run.
    g_statistic : float
        The G statistic (Williams-corrected, except for the Monte Carlo
        tests); ``dof`` its degrees of freedom ``k' - 1``.
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
    dispersion : Dispersion
        The dispersion the test and the bias term used
        (:data:`~drift.stats.dependence.INDEPENDENT` unless one was given).
    test : {"g", "quasi_f", "monte_carlo", "quasi_monte_carlo", "none"}
        Williams' G-test (chi-square), the quasi F test (G / phi against
        F), a Monte Carlo p-value for independent rows, the Monte Carlo
        p-value with a dispersion (the larger of it and the quasi F one),
        or nothing to test (an empty side or a single bin).
    notes : tuple of str
        Human notes: the independence assumption or the dispersion used,
        few rows, Monte Carlo, a changed missing rate.
    missing_p_value, missing_p_adjusted : float
        Test of a change in the missing rate
        (:func:`~drift.stats.significance.missing_test`), raw and adjusted
        together with the run's other tests; 1.0 when there is nothing to
        test (no value missing on either side).
    missing_reference_rate, missing_current_rate : float
        Missing rows over all rows (documents, for text, when ``rows`` was given).
    missing_method : str
        The missing-rate test used (``"g"``, ``"exact"``, ``"quasi_f"``,
        ``"quasi_exact"`` or ``"none"``).
    missing_drifted : bool
        ``missing_p_adjusted < thresholds.p_value`` and the rate moved by at
        least ``thresholds.missing_effect``.
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
    dispersion: Dispersion = INDEPENDENT
    test: str = "g"
    notes: tuple[str, ...] = ()
    missing_p_value: float = 1.0
    missing_p_adjusted: float = 1.0
    missing_reference_rate: float = 0.0
    missing_current_rate: float = 0.0
    missing_method: str = "none"
    missing_drifted: bool = False

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
    dispersion: Dispersion | None = None,
    missing_dispersion: Dispersion | None = None,
    rows: tuple[int, int] | None = None,
) -> FeatureScore:
    """Score one feature: divergences, homogeneity test, bias correction and verdict.

    With ``phi`` the dispersion (1 for independent rows) and ``k'`` the
    bins holding data,

        kl_corrected = max(kl - phi * (k' - 1) / 2 * (1/n + 1/m), 0);

    ``p_value`` from :func:`drift.stats.significance.g_homogeneity` on the
    raw counts: a Monte Carlo p-value where expected counts are small (see
    :func:`~drift.stats.significance.needs_monte_carlo`), else Williams'
    G-test, or with a dispersion the quasi F test ``G / (k' - 1) / phi``
    against ``F((k' - 1) / c, df)``. The verdict is as described in
    :class:`Thresholds` (``p_adjusted`` equals ``p_value`` here;
    :func:`score_features` adjusts across features). If either side has no
    value at all, the metrics are 0, the p-value 1 and ``enough_data``
    False: there is nothing to compare. The missing rate is tested on its
    own (:func:`~drift.stats.significance.missing_test`).

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
    dispersion : Dispersion, optional
        Of the bin shares, from the reference's own structure
        (:func:`~drift.stats.dependence.window_dispersion`,
        :func:`~drift.stats.dependence.document_dispersion`); default
        independent rows, which the score's notes say.
    missing_dispersion : Dispersion, optional
        Of the missing indicator (for example ``window_dispersion`` of the
        reference windows' ``[missing, present]`` counts); default independent.
    rows : (int, int), optional
        Non-missing rows ``(reference, current)`` when they are not the
        histograms' ``n``: documents, for text (the histograms count
        tokens). The missing rate is ``missing / (rows + missing)``.

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
    >>> round(s.metrics["kl"], 4), s.p_value < 1e-9, s.severity, s.drifted, s.test
    (0.0828, True, 'warn', True, 'g')
    >>> s.notes
    ('independent rows assumed: the reference has no time or document structure',)

    Thirty rows against thirty are judged, by a Monte Carlo p-value:

    >>> labels = ("q1", "q2", "q3", "q4")
    >>> small = score_feature(
    ...     Histogram(labels, np.array([8, 8, 7, 7])),
    ...     Histogram(labels, np.array([0, 0, 2, 28])),
    ...     feature="x",
    ...     kind="numeric",
    ... )
    >>> small.test, small.drifted, small.notes[1]
    ('monte_carlo', True, 'few rows: 30 live, 30 reference < 100; p-value by Monte Carlo')
    """
    rule = thresholds if thresholds is not None else Thresholds()
    disp = dispersion if dispersion is not None else INDEPENDENT
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
        result = HomogeneityTest(0.0, 0, 1.0, "none", 0.0, 0.0, math.inf, 0)
    else:
        p_counts, q_counts = current.counts, reference.counts
        terms = kl_contributions(p_counts, q_counts, **options)  # type: ignore[arg-type]
        kl = max(float(terms.sum()), 0.0)
        result = g_homogeneity(q_counts, p_counts, disp)
        bins = max(int(np.count_nonzero((p_counts + q_counts) > 0)), 1)
        metrics = {
            "kl": kl,
            "kl_corrected": kl_corrected(kl, bins, n, m, phi=disp.phi),
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
    ref_rows, cur_rows = rows if rows is not None else (m, n)
    missing = missing_test(
        reference.missing,
        int(ref_rows) + reference.missing,
        current.missing,
        int(cur_rows) + current.missing,
        missing_dispersion if missing_dispersion is not None else INDEPENDENT,
    )
    enough = n >= rule.min_rows and m >= rule.min_rows and n > 0 and m > 0
    severity, drifted = _verdict(metrics, result.p_value, enough, rule)
    missing_drifted = _missing_verdict(missing, missing.p_value, rule)
    return FeatureScore(
        feature=feature,
        kind=kind,
        reference=reference,
        current=current,
        metrics=MappingProxyType(metrics),
        p_value=result.p_value,
        p_adjusted=result.p_value,
        g_statistic=result.statistic,
        dof=result.dof,
        contributions=contributions,
        smoothing=method,
        alpha=float(alpha),
        thresholds=rule,
        severity=severity,
        drifted=drifted,
        enough_data=enough,
        unseen=tuple(current.unseen.items()),
        dispersion=disp,
        test=result.test,
        notes=_notes(n, m, disp, result, rule, missing, missing_drifted),
        missing_p_value=missing.p_value,
        missing_p_adjusted=missing.p_value,
        missing_reference_rate=missing.reference_rate,
        missing_current_rate=missing.current_rate,
        missing_method=missing.test,
        missing_drifted=missing_drifted,
    )


def _notes(
    n: int,
    m: int,
    disp: Dispersion,
    result: HomogeneityTest,
    rule: Thresholds,
    missing: MissingTest,
    missing_drifted: bool,
) -> tuple[str, ...]:
    notes: list[str] = []
    if disp.source == "independent":
        notes.append("independent rows assumed: the reference has no time or document structure")
    elif disp.source == "reference_windows":
        notes.append(
            f"rows not independent: dispersion {disp.phi:.3g} from {disp.units} reference "
            f"windows; G / phi against F({result.df1:.3g}, {disp.df:.3g})"
        )
    else:
        notes.append(
            f"tokens clustered in documents: design effect {disp.phi:.3g} from "
            f"{disp.units:,} documents; G / phi against F({result.df1:.3g}, {disp.df:.3g})"
        )
    if n == 0 or m == 0:
        side = "live" if n == 0 else "reference"
        notes.append(f"no {side} values: nothing to compare")
    elif n < rule.min_rows or m < rule.min_rows:
        notes.append(f"too few rows to judge: {n} live, {m} reference < {rule.min_rows}")
    elif n < rule.few_rows or m < rule.few_rows:
        tail = "; p-value by Monte Carlo" if "monte_carlo" in result.test else ""
        notes.append(f"few rows: {n} live, {m} reference < {rule.few_rows}{tail}")
    if "monte_carlo" in result.test and not notes[-1].endswith("Monte Carlo"):
        notes.append(f"p-value by Monte Carlo ({result.draws:,} draws): expected counts below 5")
    if missing_drifted:
        notes.append(
            f"missing rate changed: {missing.reference_rate:.1%} -> {missing.current_rate:.1%}"
        )
    return tuple(notes)


def score_features(
    items: Iterable[tuple[str, str, Histogram, Histogram]],
    *,
    smoothing: str | None = "lidstone",
    alpha: float = 0.5,
    eps: float = 1e-6,
    thresholds: Thresholds | None = None,
    overrides: Mapping[str, Thresholds] | None = None,
    dispersions: Mapping[str, Dispersion] | None = None,
    missing_dispersions: Mapping[str, Dispersion] | None = None,
    rows: Mapping[str, tuple[int, int]] | None = None,
) -> tuple[FeatureScore, ...]:
    """Score the features of one run, adjusting p-values across them.

    Each item is ``(feature, kind, reference, current)``; each is scored by
    :func:`score_feature`, then the p-values are adjusted together by
    Benjamini-Hochberg and the verdicts decided on the adjusted values. The
    family holds the distribution test of every feature with enough data
    and the missing-rate test of every feature with a missing value on
    either side (a table with no missing value cannot reject, so it is left
    out rather than diluting the others). That keeps the share of false
    alarms among a run's alarms near ``thresholds.p_value`` however many
    features a monitor has. Features without enough data keep
    ``p_adjusted = p_value`` and are never drifted.

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
    dispersions, missing_dispersions : mapping of str to Dispersion, optional
        Per feature, as :func:`score_feature`'s ``dispersion`` and
        ``missing_dispersion``; absent features assume independent rows.
    rows : mapping of str to (int, int), optional
        Per feature, as :func:`score_feature`'s ``rows``.

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
    spread = dict(dispersions or {})
    missing_spread = dict(missing_dispersions or {})
    row_counts = dict(rows or {})
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
            dispersion=spread.get(name),
            missing_dispersion=missing_spread.get(name),
            rows=row_counts.get(name),
        )
        for name, kind, ref, cur in items
    ]
    judged = [i for i, s in enumerate(scores) if s.enough_data]
    tested = [i for i, s in enumerate(scores) if s.missing_method != "none"]
    family = [scores[i].p_value for i in judged] + [scores[i].missing_p_value for i in tested]
    adjusted = benjamini_hochberg(family)
    for i, p_adj in zip(judged, adjusted[: len(judged)], strict=True):
        rule = scores[i].thresholds
        severity, drifted = _verdict(scores[i].metrics, float(p_adj), True, rule)
        scores[i] = replace(scores[i], p_adjusted=float(p_adj), severity=severity, drifted=drifted)
    for i, p_adj in zip(tested, adjusted[len(judged) :], strict=True):
        s = scores[i]
        verdict = _missing_verdict(
            MissingTest(
                s.missing_p_value, s.missing_reference_rate, s.missing_current_rate, 0.0, "g"
            ),
            float(p_adj),
            s.thresholds,
        )
        if verdict != s.missing_drifted:
            notes = tuple(x for x in s.notes if not x.startswith("missing rate changed"))
            if verdict:
                notes += (
                    f"missing rate changed: {s.missing_reference_rate:.1%} -> "
                    f"{s.missing_current_rate:.1%}",
                )
            s = replace(s, notes=notes)
        scores[i] = replace(s, missing_p_adjusted=float(p_adj), missing_drifted=verdict)
    return tuple(scores)


def _missing_verdict(test: MissingTest, p_adjusted: float, rule: Thresholds) -> bool:
    if test.test == "none":
        return False
    change = abs(test.current_rate - test.reference_rate)
    significant = rule.p_value is None or p_adjusted < rule.p_value
    return significant and change >= rule.missing_effect and change > 0


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
