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
) -> Decision | None:
    """The incident event for one feature after one window, or ``None`` for nothing.

    Parameters
    ----------
    level : {"ok", "warn", "critical"} or None
        The feature's severity in this window; ``None`` when it was not
        judged (too few rows): then nothing changes.
    open_severity : str or None
        Severity of the feature's open alert, ``None`` when none is open.
    recent : sequence of str
        Severities of the latest windows, newest (this one) first.
    consecutive : int
        Windows in a row at warn or worse before an alert opens.
    resolve_after : int
        Clean windows in a row before an open alert resolves.

    Examples
    --------
    >>> decide("warn", None, ["warn"])
    Decision(event='open', severity='warn')
    >>> decide("critical", "warn", ["critical", "warn"])
    Decision(event='escalate', severity='critical')
    >>> decide("warn", "critical", ["warn", "critical"])
    Decision(event='update', severity='critical')
    >>> decide("ok", "warn", ["ok", "warn"], resolve_after=2)
    Decision(event='update', severity='warn')
    >>> decide("ok", "warn", ["ok", "ok"], resolve_after=2)
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
    clean = list(recent[:resolve_after])
    if len(clean) == resolve_after and all(s == "ok" for s in clean):
        return Decision("resolve", "ok")
    return Decision("update", open_severity)
