"""Alerts per segment (issue 19), on every backend, with a real HTTP receiver.

An incident is per monitor, feature and segment: drift in ``country=BR``
opens its own, named in the message ("amount drifted in country=BR"), with
its own history; the whole population's messages read as before. On-call
actions on a feature cover all its segments.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from alert_support import T0, alert_monitor, posts, segment_window
from pytest_httpserver import HTTPServer

from drift.alerts import dispatch_alerts
from drift.alerts.messages import alert_message
from drift.alerts.types import FeatureSummary, WindowSummary
from drift.store import ResultsStore

BR, DE = "country=BR", "country=DE"


def _hook(receiver: HTTPServer) -> str:
    return f"json://127.0.0.1:{receiver.port}/hook"


@pytest.mark.db
def test_drift_in_one_segment_opens_an_incident_that_names_it(
    store: ResultsStore, receiver: HTTPServer
) -> None:
    monitor = alert_monitor(_hook(receiver))
    summary = segment_window(store, 0, {"": ("ok", 0.01), BR: ("warn", 0.09), DE: ("ok", 0.02)})
    result = dispatch_alerts(monitor, summary, store=store)
    assert result["events"] == [
        {"feature": "amount", "segment": BR, "event": "open", "severity": "warn"}
    ]
    (alert,) = store.open_alerts("checkout")
    assert (alert.feature, alert.segment, alert.severity) == ("amount", BR, "warn")
    (post,) = posts(receiver)
    assert post["title"] == "[WARN] checkout.amount in country=BR: drift detected"
    body = post["message"]
    assert body.splitlines()[0] == "amount drifted in country=BR"
    assert "segment: country=BR" in body and "feature: amount (numeric)" in body
    assert body.rstrip().endswith(f"/monitors/checkout/runs/{summary.run_id}?segment=country%3DBR")
    assert alert.message == body
    # The notification's key names the segment (the alert's id before it).
    (note,) = store.notifications("checkout")
    assert note.key == f"{alert.id}:open:warn:0:{BR}"


@pytest.mark.db
def test_each_segment_keeps_its_own_history_and_incident(
    store: ResultsStore, receiver: HTTPServer
) -> None:
    monitor = alert_monitor(_hook(receiver), consecutive=2, resolve_after=1)
    days = [
        {"": ("ok", 0.01), BR: ("warn", 0.09), DE: ("ok", 0.0)},
        {"": ("ok", 0.01), BR: ("ok", 0.0), DE: ("warn", 0.08)},  # no segment twice in a row
        {"": ("warn", 0.07), BR: ("ok", 0.0), DE: ("warn", 0.08)},  # DE's second: it opens
        {"": ("warn", 0.07), BR: ("ok", 0.0), DE: ("critical", 0.4)},  # the whole's second
        {"": ("warn", 0.07), BR: ("ok", 0.0), DE: ("ok", 0.0)},
    ]
    events = [
        sorted((e["segment"], e["event"]) for e in dispatch_alerts(
            monitor, segment_window(store, d, cells), store=store)["events"])
        for d, cells in enumerate(days)
    ]  # fmt: skip
    assert events == [
        [], [], [(DE, "open")], [("", "open"), (DE, "escalate")], [("", "update"), (DE, "resolve")],
    ]  # fmt: skip
    assert [p["title"] for p in posts(receiver)] == [
        "[WARN] checkout.amount in country=DE: drift detected",
        "[WARN] checkout.amount: drift detected",  # the whole population: as before segments
        "[CRITICAL] checkout.amount in country=DE: drift got worse",
        "[OK] checkout.amount in country=DE: drift resolved",
    ]
    assert posts(receiver)[1]["message"].startswith("monitor: checkout\n")
    assert posts(receiver)[2]["message"].startswith("amount drifted further in country=DE\n")
    assert posts(receiver)[3]["message"].startswith("amount no longer drifts in country=DE\n")
    assert [(a.segment, a.state) for a in store.alerts("checkout")] == [
        (DE, "resolved"), ("", "open"),
    ]  # fmt: skip


@pytest.mark.db
def test_a_backfill_of_one_segment_does_not_move_anothers_incident(
    store: ResultsStore, receiver: HTTPServer
) -> None:
    monitor = alert_monitor(_hook(receiver), resolve_after=1)
    dispatch_alerts(monitor, segment_window(store, 5, {BR: ("warn", 0.09)}), store=store)
    # An older window is behind BR's watermark, not DE's: DE opens, BR is left alone.
    older = segment_window(store, 2, {BR: ("ok", 0.0), DE: ("warn", 0.09)})
    assert [(e["segment"], e["event"]) for e in dispatch_alerts(monitor, older, store=store)[
        "events"]] == [(DE, "open")]  # fmt: skip
    assert sorted(a.segment for a in store.open_alerts("checkout")) == [BR, DE]


@pytest.mark.db
def test_acknowledging_a_feature_covers_its_segments_and_a_snooze_holds_them(
    store: ResultsStore, receiver: HTTPServer
) -> None:
    monitor = alert_monitor(_hook(receiver), resolve_after=1)
    dispatch_alerts(monitor, segment_window(store, 0, {"": ("warn", 0.06), BR: ("warn", 0.09)}),
                    store=store)  # fmt: skip
    whole = next(a for a in store.open_alerts("checkout") if a.segment == "")
    store.acknowledge(whole.id, actor="alice", note="price change")
    dispatch_alerts(monitor, segment_window(store, 1, {"": ("warn", 0.06), BR: ("critical", 0.5)}),
                    store=store)  # fmt: skip
    escalated = posts(receiver)[-1]
    assert escalated["title"] == "[CRITICAL] checkout.amount in country=BR: drift got worse"
    assert "acknowledged by alice at " in escalated["message"]
    sent = len(posts(receiver))
    store.snooze("checkout", feature="amount", until=datetime.now(UTC) + timedelta(hours=1),
                 actor="bob", note="migration")  # fmt: skip
    result = dispatch_alerts(
        monitor, segment_window(store, 2, {"": ("ok", 0.0), BR: ("ok", 0.0)}), store=store
    )
    assert sorted((e["segment"], e["event"]) for e in result["events"]) == [
        ("", "resolve"), (BR, "resolve"),
    ]  # fmt: skip
    assert len(posts(receiver)) == sent and result["sent"] == 0
    held = [n for n in store.notifications("checkout") if n.event == "resolve"]
    assert len(held) == 2 and all(n.suppressed_by is not None for n in held)


def _pair_summary(segment: str = "") -> tuple[WindowSummary, FeatureSummary]:
    pair = FeatureSummary(
        feature="x × y", kind="pair", severity="critical", drifted=True, enough_data=True,
        metrics={"kl": 0.41, "kl_corrected": 0.4, "kl_marginal": 0.01, "kl_conditional": 0.4},
        p_value=0.0, p_adjusted=0.0, n_current=2000, n_reference=20000, missing_rate=0.0,
        segment=segment,
    )  # fmt: skip
    start = T0
    summary = WindowSummary("checkout", start, start + timedelta(days=1), "ok", 7, None,
                            ("x × y",), "critical", (pair,))  # fmt: skip
    return summary, pair


def test_a_pairs_message_splits_its_kl_by_the_chain_rule() -> None:
    summary, pair = _pair_summary()
    title, body = alert_message("open", "critical", summary, pair, {"warn": 0.05, "critical": 0.2})
    assert title == "[CRITICAL] checkout.x × y: drift detected"
    assert "feature: x × y (pair)" in body
    assert "split: kl_marginal 0.01 (the first feature's own shift) + kl_conditional 0.4" in body


def test_a_feature_summary_keeps_its_segment_through_json() -> None:
    _summary, pair = _pair_summary(BR)
    again = FeatureSummary.from_dict(pair.to_dict())
    assert again == pair and again.to_dict()["segment"] == BR
    legacy = {k: v for k, v in pair.to_dict().items() if k != "segment"}
    assert FeatureSummary.from_dict(legacy).segment == ""
