"""The verdict on a feature: the rule (:class:`Thresholds`) and the record (:class:`FeatureScore`).

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

:func:`verdict` and :func:`missing_verdict` apply the rule and
:func:`score_notes` explains it; computing the metrics and tests a score
holds is :mod:`drift.stats.scoring`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

import numpy as np

from drift.stats.dependence import INDEPENDENT, Dispersion
from drift.stats.histogram import Histogram
from drift.stats.homogeneity import HomogeneityTest
from drift.stats.metrics import ALIASES
from drift.stats.metrics import METRICS as ALL_METRICS
from drift.stats.missingness import MissingTest

Severity = Literal["ok", "warn", "critical"]

#: Keys of ``FeatureScore.metrics`` (text features with n-grams add "conditional_kl").
METRICS = tuple(m for m in ALL_METRICS if m != "conditional_kl")


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
        The feature's name and kind (numeric, categorical, text, or pair:
        two features binned jointly, named :func:`drift.stats.pairs.pair_name`).
    reference, current : Histogram
        Reference and live counts over the same bins.
    metrics : mapping of str to float
        ``kl`` (live || reference), ``kl_corrected`` (minus the no-change
        bias, clipped at 0), ``reverse_kl``, ``psi`` (Jeffreys, in nats),
        ``js``, ``hellinger``, ``tv``; ``conditional_kl`` for n-grams;
        ``kl_marginal`` and ``kl_conditional`` for a pair (the chain-rule
        split of its ``kl``, :func:`drift.stats.pairs.chain_rule_kl`). May
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
        (:func:`~drift.stats.missingness.missing_test`), raw and adjusted
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
    segment : str
        The segment scored (:mod:`drift.stats.segments`): ``""`` for the
        whole population, else e.g. ``"country=BR"``. Scoring leaves it
        ``""``; whoever scored a segment sets it (``dataclasses.replace``).
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
    segment: str = ""

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


def missing_verdict(test: MissingTest, p_adjusted: float, rule: Thresholds) -> bool:
    """``missing_drifted``: a tested table, a significant change, at least ``missing_effect``."""
    if test.test == "none":
        return False
    change = abs(test.current_rate - test.reference_rate)
    significant = rule.p_value is None or p_adjusted < rule.p_value
    return significant and change >= rule.missing_effect and change > 0


def verdict(
    metrics: Mapping[str, float], p_adjusted: float, enough: bool, rule: Thresholds
) -> tuple[Severity, bool]:
    """``(severity, drifted)`` of a feature's metrics and adjusted p-value under ``rule``."""
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


def score_notes(
    n: int,
    m: int,
    disp: Dispersion,
    result: HomogeneityTest,
    rule: Thresholds,
    missing: MissingTest,
    missing_drifted: bool,
) -> tuple[str, ...]:
    """A score's notes: the dispersion assumed, few rows, Monte Carlo, a moved missing rate."""
    notes: list[str] = []
    if disp.source == "independent" and disp.units:
        notes.append(
            f"independent rows: the {disp.units} reference windows vary no more than "
            "independent rows would"
        )
    elif disp.source == "independent":
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
