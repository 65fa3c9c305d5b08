"""Scoring features: every divergence, its significance, and the verdict.

:func:`score_feature` computes one feature's divergences, homogeneity test,
bias-corrected KL and missing-rate test; :func:`score_features` scores the
features of one run and adjusts their p-values together. The verdict rule
and the :class:`~drift.stats.verdicts.FeatureScore` it fills are in
:mod:`drift.stats.verdicts`.

The test is chosen by :func:`drift.stats.homogeneity.g_homogeneity`:
Williams' G-test for independent rows, the quasi F test when a
:class:`~drift.stats.dependence.Dispersion` says rows are not independent
(autocorrelated windows, tokens in documents), and a Monte Carlo p-value
when expected counts are small. Small windows are judged (down to
``thresholds.min_rows``, a handful) and carry a "few rows" note instead.
A change in the missing rate is tested on its own
(:func:`drift.stats.missingness.missing_test`, ``missing_drifted``).

A pair of features (kind ``"pair"``, :mod:`drift.stats.pairs`) is scored
as a histogram of its ``k_x * k_y`` cells: the same KL, bias correction and
test (the G-test on the ``k_x * k_y`` table), plus the chain-rule split of
its KL into ``kl_marginal`` and ``kl_conditional``; the scorer learns
``(k_x, k_y)`` from ``shape`` (``pairs`` in :func:`score_features`).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import replace
from types import MappingProxyType

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
from drift.stats.homogeneity import HomogeneityTest, g_homogeneity
from drift.stats.missingness import MissingTest, missing_test
from drift.stats.pairs import PAIR_KIND, chain_rule_kl
from drift.stats.significance import benjamini_hochberg, kl_corrected
from drift.stats.smoothing import check_method
from drift.stats.verdicts import (
    METRICS,
    FeatureScore,
    Thresholds,
    missing_verdict,
    score_notes,
    verdict,
)


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
    shape: tuple[int, int] | None = None,
) -> FeatureScore:
    """Score one feature: divergences, homogeneity test, bias correction and verdict.

    With ``phi`` the dispersion (1 for independent rows) and ``k'`` the
    bins holding data,

        kl_corrected = max(kl - phi * (k' - 1) / 2 * (1/n + 1/m), 0);

    ``p_value`` from :func:`drift.stats.homogeneity.g_homogeneity` on the
    raw counts: a Monte Carlo p-value where expected counts are small (see
    :func:`~drift.stats.homogeneity.needs_monte_carlo`), else Williams'
    G-test, or with a dispersion the quasi F test ``G / (k' - 1) / phi``
    against ``F((k' - 1) / c, df)``. The verdict is as described in
    :class:`~drift.stats.verdicts.Thresholds` (``p_adjusted`` equals
    ``p_value`` here;
    :func:`score_features` adjusts across features). If either side has no
    value at all, the metrics are 0, the p-value 1 and ``enough_data``
    False: there is nothing to compare. The missing rate is tested on its
    own (:func:`~drift.stats.missingness.missing_test`).

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
    shape : (int, int), optional
        ``(k_x, k_y)`` of a pair (``kind="pair"``, and only then): the
        histogram holds its cells row-major, ``x`` outer. The metrics then
        also hold ``kl_marginal = KL(P(x) || Q(x))`` and ``kl_conditional =
        sum_x P(x) KL(P(y|x) || Q(y|x))``, from the smoothed joint, so that
        ``kl_marginal + kl_conditional == kl``
        (:func:`drift.stats.pairs.chain_rule_kl`).

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

    A pair whose marginals stayed while the relationship reversed:

    >>> cells = ("lo × lo", "lo × hi", "hi × lo", "hi × hi")
    >>> pair = score_feature(
    ...     Histogram(cells, np.array([400, 100, 100, 400])),
    ...     Histogram(cells, np.array([100, 400, 400, 100])),
    ...     feature="x × y",
    ...     kind="pair",
    ...     shape=(2, 2),
    ... )
    >>> round(pair.metrics["kl_marginal"], 6), round(pair.metrics["kl_conditional"], 4)
    (0.0, 0.8279)
    """
    rule = thresholds if thresholds is not None else Thresholds()
    disp = dispersion if dispersion is not None else INDEPENDENT
    method = check_method(smoothing)
    if reference.labels != current.labels:
        raise ValueError(
            f"`reference` and `current` of feature {feature!r} must have the same bins "
            f"(labels differ: {len(reference.labels)} vs {len(current.labels)} bins)."
        )
    _check_shape(feature, kind, shape, len(current.labels))
    n, m = current.n, reference.n
    options = {"smoothing": method, "alpha": alpha, "eps": eps}
    if n == 0 or m == 0:
        metrics = dict.fromkeys(METRICS, 0.0)
        if shape is not None:
            metrics.update(kl_marginal=0.0, kl_conditional=0.0)
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
            "jensen_shannon": jensen_shannon(p_counts, q_counts, **options),  # type: ignore[arg-type]
            "hellinger": hellinger(p_counts, q_counts, **options),  # type: ignore[arg-type]
            "total_variation": total_variation(p_counts, q_counts, **options),  # type: ignore[arg-type]
        }
        if kind == "text" and _is_ngram(current.labels):
            metrics["conditional_kl"] = conditional_kl(
                p_counts,
                q_counts,
                current.labels,
                **options,  # type: ignore[arg-type]
            )
        if shape is not None:
            split = chain_rule_kl(p_counts, q_counts, shape, **options)  # type: ignore[arg-type]
            metrics.update(kl_marginal=split.marginal, kl_conditional=split.conditional)
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
    severity, drifted = verdict(metrics, result.p_value, enough, rule)
    missing_drifted = missing_verdict(missing, missing.p_value, rule)
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
        notes=score_notes(n, m, disp, result, rule, missing, missing_drifted),
        missing_p_value=missing.p_value,
        missing_p_adjusted=missing.p_value,
        missing_reference_rate=missing.reference_rate,
        missing_current_rate=missing.current_rate,
        missing_method=missing.test,
        missing_drifted=missing_drifted,
    )


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
    pairs: Mapping[str, tuple[int, int]] | None = None,
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
    pairs : mapping of str to (int, int), optional
        ``(k_x, k_y)`` of every item of kind ``"pair"``, by its name, as
        :func:`score_feature`'s ``shape``.

    Returns
    -------
    tuple of FeatureScore
        In the order of ``items``.

    Notes
    -----
    Items are keyed by their (unique) names. To adjust across segments too,
    score every ``(feature, segment)`` in one call under a unique name each
    (with ``overrides`` for the segments' ``min_rows``), then set
    ``feature`` and ``segment`` back with ``dataclasses.replace``.

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
    shapes = dict(pairs or {})
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
            shape=shapes.get(name),
        )
        for name, kind, ref, cur in items
    ]
    judged = [i for i, s in enumerate(scores) if s.enough_data]
    tested = [i for i, s in enumerate(scores) if s.missing_method != "none"]
    family = [scores[i].p_value for i in judged] + [scores[i].missing_p_value for i in tested]
    adjusted = benjamini_hochberg(family)
    for i, p_adj in zip(judged, adjusted[: len(judged)], strict=True):
        rule = scores[i].thresholds
        severity, drifted = verdict(scores[i].metrics, float(p_adj), True, rule)
        scores[i] = replace(scores[i], p_adjusted=float(p_adj), severity=severity, drifted=drifted)
    for i, p_adj in zip(tested, adjusted[len(judged) :], strict=True):
        s = scores[i]
        flagged = missing_verdict(
            MissingTest(
                s.missing_p_value, s.missing_reference_rate, s.missing_current_rate, 0.0, "g"
            ),
            float(p_adj),
            s.thresholds,
        )
        if flagged != s.missing_drifted:
            notes = tuple(x for x in s.notes if not x.startswith("missing rate changed"))
            if flagged:
                notes += (
                    f"missing rate changed: {s.missing_reference_rate:.1%} -> "
                    f"{s.missing_current_rate:.1%}",
                )
            s = replace(s, notes=notes)
        scores[i] = replace(s, missing_p_adjusted=float(p_adj), missing_drifted=flagged)
    return tuple(scores)


def _check_shape(feature: str, kind: str, shape: tuple[int, int] | None, bins: int) -> None:
    if kind == PAIR_KIND and shape is None:
        raise ValueError(
            f"pair {feature!r} needs its `shape` (k_x, k_y) (`pairs` of score_features)."
        )
    if shape is None:
        return
    if kind != PAIR_KIND:
        raise ValueError(f"`shape` is for pairs only; {feature!r} is of kind {kind!r}.")
    kx, ky = shape
    if kx < 1 or ky < 1 or kx * ky != bins:
        raise ValueError(
            f"pair {feature!r}: shape {tuple(shape)} does not match its {bins} cells "
            "(k_x * k_y, row-major, x outer)."
        )


def _is_ngram(labels: tuple[str, ...]) -> bool:
    vocabulary = [label for label in labels if label not in (OOV_LABEL, OTHER_LABEL)]
    return bool(vocabulary) and all(" " in label for label in vocabulary)
