"""Alert channels through Airflow's own notifiers (SMTP, Slack, ...) from a connection."""

from __future__ import annotations

import importlib
import inspect
from typing import Any

from drift.config import AlertConfig
from drift.errors import AlertError

__all__ = ["airflow_notifier_sender", "senders"]

_TITLE = ("subject", "title")
_BODY = ("html_content", "text", "message", "body")


def airflow_notifier_sender(channel: AlertConfig, title: str, body: str) -> None:
    """Send through the notifier class named by ``channel.airflow_notifier``.

    The class is built with ``channel.options``; ``conn_id`` goes to its
    ``*_conn_id`` parameter (``smtp_conn_id``, ``slack_conn_id``, ...), the
    title to ``subject``/``title`` and the body to
    ``html_content``/``text``/``message``/``body``, whichever it takes. For
    example ``{airflow_notifier: airflow.providers.smtp.notifications.smtp.SmtpNotifier,
    conn_id: smtp_default, options: {to: oncall@example.com}}``.
    """
    assert channel.airflow_notifier is not None
    module, _, name = channel.airflow_notifier.rpartition(".")
    try:
        cls = getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError, ValueError) as exc:
        raise AlertError(f"airflow_notifier {channel.airflow_notifier!r}: {exc}") from None
    params = inspect.signature(cls.__init__).parameters
    kwargs: dict[str, Any] = dict(channel.options)
    if channel.conn_id is not None:
        conn_params = [p for p in params if p.endswith("_conn_id")]
        if not conn_params:
            raise AlertError(f"{channel.airflow_notifier} takes no connection id")
        kwargs[conn_params[0]] = channel.conn_id
    for names, value in ((_TITLE, title), (_BODY, body.replace("\n", "<br>\n"))):
        param = next((n for n in names if n in params), None)
        if param is not None and param not in kwargs:
            kwargs[param] = value if param == "html_content" else value.replace("<br>\n", "\n")
    try:
        cls(**kwargs)({})
    except Exception as exc:  # a notifier may raise anything; the outbox keeps it pending
        raise AlertError(f"{channel.airflow_notifier} failed: {exc}") from exc


#: The extra senders the Airflow tasks give to drift.alerts.
senders = {"airflow_notifier": airflow_notifier_sender}
