"""Airflow's own SMTP notifier as an alert channel, to a real SMTP server."""

from __future__ import annotations

import json
import socket
from email import message_from_bytes
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from drift.airflow.notifiers import airflow_notifier_sender
from drift.config import AlertConfig
from drift.errors import AlertError


class _Inbox:
    def __init__(self) -> None:
        self.messages: list[bytes] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        self.messages.append(envelope.content)
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_the_smtp_notifier_sends_through_an_airflow_connection(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    inbox, port = _Inbox(), _free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    conn = {
        "conn_type": "smtp",
        "host": "127.0.0.1",
        "port": port,
        "extra": {"disable_tls": True, "disable_ssl": True, "from_email": "drift@example.com"},
    }
    monkeypatch.setenv("AIRFLOW_CONN_DRIFT_SMTP", json.dumps(conn))
    channel = AlertConfig(
        airflow_notifier="airflow.providers.smtp.notifications.smtp.SmtpNotifier",
        conn_id="drift_smtp",
        options={"to": "oncall@example.com", "from_email": "drift@example.com"},
    )
    try:
        airflow_notifier_sender(channel, "[WARN] m.amount: drift detected", "line one\nline two")
    finally:
        controller.stop()
    (raw,) = inbox.messages
    mail = message_from_bytes(raw)
    assert mail["Subject"] == "[WARN] m.amount: drift detected"
    assert mail["To"] == "oncall@example.com"


def test_an_unknown_notifier_is_a_clear_error() -> None:
    channel = AlertConfig(airflow_notifier="no.such.Notifier")
    with pytest.raises(AlertError, match=r"no\.such\.Notifier"):
        airflow_notifier_sender(channel, "t", "b")
