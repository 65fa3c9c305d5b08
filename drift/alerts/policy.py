"""The alert policy: from one window's severity and the recent past to an incident event."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["RANK", "Decision", "decide"]

#: Order of severities.
RANK = {"ok": 0, "warn": 1, "critical": 2}


@dataclass(frozen=True, slots=True)
class Decision:
    """What happens to a feature's incident after one window.

    ``event``: ``open`` (notify), ``escalate`` (notify), ``update`` (quiet:
    the alert stays as it is) or ``resolve`` (notify).
    """

    event: str
    severity: str


def decide(
    level: str | None,
    open_severity: str | None,
    recent: Sequence[str],
    *,
    consecutive: int = 1,
    resolve_after: int = 1,
    values: Sequence[float | None] | None = None,
    resolve_below: float | None = None,
) -> Decision | None:
    """The incident event for one feature after one window, or ``None`` for nothing.

    An alert opens after ``consecutive`` windows in a row at warn or worse,
    escalates at once when a window is worse than it, and resolves after
    ``resolve_after`` *clean* windows in a row. With ``resolve_below`` the
    policy has two thresholds (hysteresis): a window is clean only when its
    severity is ``ok`` **and** its score is below ``resolve_below``, so a
    shift that hovers around the warn threshold keeps its one incident open
    instead of opening and resolving it again and again.

    The monitor defaults (``thresholds`` in the YAML) are ``consecutive: 1``,
    ``resolve_after: 3`` and ``resolve_ratio: 0.5`` (``resolve_below`` is half
    of ``warn``). Measured on a true shift sitting at the warn threshold
    (bias-corrected KL about 0.05, 10 quantile bins, 60 windows of 500 rows
    against 10,000 reference rows, ``tests/alerts/test_flapping.py``): the old
    defaults ``consecutive: 1, resolve_after: 1`` opened 13 to 16 incidents
    in each of five series; these open 1. A shift of twice the size still
    opens in its first window, and once the data return to the reference the
    incident resolves ``resolve_after`` windows later.

    Parameters
    ----------
    level : {"ok", "warn", "critical"} or None
        The feature's severity in this window; ``None`` when it was not
        judged (too few rows): then nothing changes.
    open_severity : str or None
        Severity of the feature's open alert, ``None`` when none is open.
    recent : sequence of str
        Severities of the latest windows, newest (this one, at ``level``) first.
    consecutive : int
        Windows in a row at warn or worse before an alert opens.
    resolve_after : int
        Clean windows in a row before an open alert resolves.
    values : sequence of float or None, optional
        The scores (the thresholds' metric) of the windows of ``recent``, in
        the same order; ``None`` where unknown (then the severity alone says
        whether that window is clean).
    resolve_below : float, optional
        A window is clean only below this score; ``None``: every ``ok``
        window is clean (one threshold).

    Examples
    --------
    >>> decide("warn", None, ["warn"])
    Decision(event='open', severity='warn')
    >>> decide("warn", None, ["warn", "ok"], consecutive=2) is None
    True
    >>> decide("critical", "warn", ["critical", "warn"])
    Decision(event='escalate', severity='critical')
    >>> decide("warn", "critical", ["warn", "critical"])
    Decision(event='update', severity='critical')
    >>> decide("ok", "warn", ["ok", "warn"], resolve_after=2)
    Decision(event='update', severity='warn')
    >>> decide("ok", "warn", ["ok", "ok"], resolve_after=2)
    Decision(event='resolve', severity='ok')
    >>> decide("ok", "warn", ["ok", "ok"], resolve_after=2,
    ...        values=[0.01, 0.04], resolve_below=0.025)
    Decision(event='update', severity='warn')
    >>> decide("ok", "warn", ["ok", "ok"], resolve_after=2,
    ...        values=[0.01, 0.02], resolve_below=0.025)
    Decision(event='resolve', severity='ok')
    >>> decide(None, "warn", ["warn"]) is None
    True
    """
    if level is None:
        return None
    if open_severity is None:
        streak = list(recent[:consecutive])
        if RANK[level] >= 1 and len(streak) == consecutive and all(RANK[s] >= 1 for s in streak):
            return Decision("open", level)
        return None
    if RANK[level] > RANK[open_severity]:
        return Decision("escalate", level)
    if RANK[level] >= 1:
        return Decision("update", open_severity)
    scores = list(values or ())
    clean = [
        s == "ok"
        and (resolve_below is None or i >= len(scores) or _below(scores[i], resolve_below))
        for i, s in enumerate(recent[:resolve_after])
    ]
    if len(clean) == resolve_after and all(clean):
        return Decision("resolve", "ok")
    return Decision("update", open_severity)


def _below(value: float | None, bound: float) -> bool:
    return value is None or value < bound
