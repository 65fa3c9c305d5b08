"""The one vocabulary of metric names, used by scores, config, the store and the dashboard.

Canonical names are what :class:`drift.stats.FeatureScore` keys its
``metrics`` by, what a monitor's ``metrics:`` and ``thresholds.metric``
hold after validation, and what the results store and the dashboard show.
Short or historical names are accepted as aliases and mean the same metric.
"""

from __future__ import annotations

from collections.abc import Mapping

__all__ = ["ALIASES", "METRICS", "canonical_metric", "metric_value"]

#: Canonical metric names, in report order (``conditional_kl`` only for n-gram text).
METRICS = (
    "kl",
    "kl_corrected",
    "reverse_kl",
    "psi",
    "jensen_shannon",
    "hellinger",
    "total_variation",
    "conditional_kl",
)

#: Other accepted names: Jeffreys is PSI in nats, ``js``/``tv`` are abbreviations.
ALIASES: Mapping[str, str] = {"jeffreys": "psi", "js": "jensen_shannon", "tv": "total_variation"}


def canonical_metric(name: str) -> str:
    """The canonical name of metric ``name``.

    Raises
    ------
    ValueError
        If ``name`` is neither a metric nor an alias.

    Examples
    --------
    >>> canonical_metric("jeffreys"), canonical_metric("js"), canonical_metric("kl")
    ('psi', 'jensen_shannon', 'kl')
    """
    if name in METRICS:
        return name
    if name in ALIASES:
        return ALIASES[name]
    raise ValueError(
        f"unknown metric {name!r}; expected one of {', '.join(METRICS)} (or {', '.join(ALIASES)})"
    )


def metric_value(metrics: Mapping[str, float], name: str) -> float | None:
    """The value of metric ``name`` (or an alias) in ``metrics``, or ``None`` if absent."""
    try:
        key = canonical_metric(name)
    except ValueError:
        return None
    value = metrics.get(key)
    return None if value is None else float(value)
