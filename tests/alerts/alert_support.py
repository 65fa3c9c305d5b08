"""Helpers of the alert tests: a monitor alerting to a URL, stored windows, received posts."""

from __future__ import annotations

import json
import socket
from datetime import UTC, datetime, timedelta
from typing import Any

from pytest_httpserver import HTTPServer

from drift.alerts.types import BinShare, FeatureSummary, WindowSummary
from drift.config import MonitorConfig, parse_monitor
from drift.store import ResultsStore
from drift.store.records import RunRecord, ScoreRecord

T0 = datetime(2024, 7, 1, tzinfo=UTC)
DAY = timedelta(days=1)


def free_port() -> int:
    """A TCP port free on 127.0.0.1 now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def alert_monitor(url: str, **thresholds: Any) -> MonitorConfig:
    """Monitor ``checkout`` alerting to ``url``, with warn 0.05 and critical 0.2 unless given."""
    return parse_monitor(
        {
            "name": "checkout",
            "source": {"url": "sqlite://"},
            "table": "events",
            "timestamp": "ts",
            "thresholds": {"warn": 0.05, "critical": 0.2, **thresholds},
            "alerts": [{"apprise": url}],
        }
    )


def window_summary(
    store: ResultsStore,
    day: int,
    severity: str,
    value: float,
    monitor: str = "checkout",
    feature: str = "amount",
) -> WindowSummary:
    """Store one window's run with ``feature`` at ``severity``; return its summary."""
    start = T0 + day * DAY
    run_id = store.write_run(
        RunRecord(
            monitor=monitor, window_start=start, window_end=start + DAY, status="ok",
            error=None, started_at=start, finished_at=start, duration_seconds=0.1,
            airflow_run_id=None,
            scores=(
                ScoreRecord(feature, "kl", value * 1.1, value, 1e-9, 1e-8, 1000, 10000, 0.0,
                            severity, 0.05, 0.2, "lidstone", 0.5),
            ),
        )
    )  # fmt: skip
    return WindowSummary(
        monitor=monitor, window_start=start, window_end=start + DAY, status="ok",
        run_id=run_id, error=None, drifted=(feature,) if severity != "ok" else (),
        max_severity=severity,
        features=(FeatureSummary(
            feature=feature, kind="numeric", severity=severity,
            drifted=severity != "ok", enough_data=True,
            metrics={"kl": value * 1.1, "kl_corrected": value}, p_value=1e-9,
            p_adjusted=1e-8, n_current=1000, n_reference=10000, missing_rate=0.01,
            top_bins=(BinShare("[69.28, inf]", value / 2),),
        ),),
    )  # fmt: skip


def segment_window(
    store: ResultsStore,
    day: int,
    cells: dict[str, tuple[str, float]],
    feature: str = "amount",
    monitor: str = "checkout",
) -> WindowSummary:
    """Store one window with ``feature`` in each segment at ``{segment: (severity, value)}``.

    ``""`` is the whole population; every segment is its own summary entry, as
    the run layer hands them to alerts.
    """
    start = T0 + day * DAY
    run_id = store.write_run(
        RunRecord(
            monitor=monitor, window_start=start, window_end=start + DAY, status="ok",
            error=None, started_at=start, finished_at=start, duration_seconds=0.1,
            airflow_run_id=None,
            scores=tuple(
                ScoreRecord(feature, "kl", value * 1.1, value, 1e-9, 1e-8, 300, 3000, 0.0,
                            severity, 0.05, 0.2, "lidstone", 0.5, segment=segment)
                for segment, (severity, value) in cells.items()
            ),
        )
    )  # fmt: skip
    features = tuple(
        FeatureSummary(
            feature=feature, kind="numeric", severity=severity, drifted=severity != "ok",
            enough_data=True, metrics={"kl": value * 1.1, "kl_corrected": value},
            p_value=1e-9, p_adjusted=1e-8, n_current=300, n_reference=3000, missing_rate=0.0,
            segment=segment,
        )
        for segment, (severity, value) in cells.items()
    )  # fmt: skip
    worst = max((f.severity for f in features), key=("ok", "warn", "critical").index)
    return WindowSummary(
        monitor=monitor, window_start=start, window_end=start + DAY, status="ok",
        run_id=run_id, error=None, drifted=tuple(f.feature for f in features if f.drifted),
        max_severity=worst, features=features,
    )  # fmt: skip


def posts(server: HTTPServer) -> list[dict[str, Any]]:
    """The JSON bodies ``server`` received, oldest first."""
    return [json.loads(request.get_data()) for request, _ in server.log]
