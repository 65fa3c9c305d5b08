"""Alert channels: Apprise URLs (Slack, e-mail, webhooks, Teams, PagerDuty, ...).

A notification row stores a *reference* to its channel (``apprise[0]``,
``apprise_env:SLACK_URL``), never the URL, so secrets in channel URLs stay
out of the results database; the URL is resolved when sending.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping

from drift.config import AlertConfig, MonitorConfig
from drift.errors import AlertError

__all__ = ["Sender", "channel_refs", "send"]

#: Sends (title, body) to a channel reference; raises on failure.
Sender = Callable[[AlertConfig, str, str], None]


def channel_refs(monitor: MonitorConfig) -> list[tuple[str, AlertConfig]]:
    """Each configured channel with the reference stored in notification rows."""
    refs = []
    for i, channel in enumerate(monitor.alerts):
        if channel.apprise_env:
            refs.append((f"apprise_env:{channel.apprise_env}", channel))
        elif channel.airflow_notifier:
            refs.append((f"airflow_notifier[{i}]:{channel.airflow_notifier}", channel))
        else:
            refs.append((f"apprise[{i}]", channel))
    return refs


def _apprise(channel: AlertConfig, title: str, body: str) -> None:
    import apprise

    url = channel.apprise
    if channel.apprise_env:
        url = os.environ.get(channel.apprise_env)
        if not url:
            raise AlertError(f"environment variable {channel.apprise_env} (apprise_env) is not set")
    assert url is not None
    notifier = apprise.Apprise()
    if not notifier.add(url):
        raise AlertError("the Apprise URL is not valid (see Apprise's documentation for its form)")
    if not notifier.notify(title=title, body=body):
        raise AlertError("the channel did not accept the notification (see the log for why)")


def send(
    channel: AlertConfig,
    title: str,
    body: str,
    *,
    senders: Mapping[str, Sender] | None = None,
) -> None:
    """Deliver one notification; raises :class:`drift.errors.AlertError` when it fails.

    ``senders`` may provide ``airflow_notifier`` (the Airflow layer does);
    Apprise channels are sent here.
    """
    if channel.airflow_notifier:
        sender = (senders or {}).get("airflow_notifier")
        if sender is None:
            raise AlertError(
                f"channel airflow_notifier {channel.airflow_notifier!r} can only be used inside "
                "Airflow; use an apprise URL to send from the command line"
            )
        sender(channel, title, body)
        return
    _apprise(channel, title, body)
