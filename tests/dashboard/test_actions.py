"""On-call actions in the dashboard (issue 16): confirm pages, form posts, JSON API, CSRF.

Every action goes through the app (TestClient over create_app with a
StandaloneToken) on every backend, and the store rows it leaves are checked
against what the store API records; refused requests leave the store as it was.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from html import unescape
from typing import Any

import pytest
from fastapi.testclient import TestClient
from stored import open_alert, resolve_alert

from drift.dashboard import create_app
from drift.dashboard.access import TOKEN_COOKIE, StandaloneToken
from drift.dashboard.oncall import CROSS_SITE, csrf_token
from drift.store import ResultsStore
from drift.store.records import RunRecord, ScoreRecord

pytestmark = pytest.mark.db

TOKEN = "x" * 20
ACTOR = "standalone:token"
T0 = datetime(2024, 6, 1, tzinfo=UTC)
CONFIG = {
    "name": "orders",
    "window": "1d",
    "features": [{"name": "amount", "kind": "numeric"}, {"name": "country", "kind": "categorical"}],
    "thresholds": {"metric": "kl", "warn": 0.1, "critical": 0.5},
}


def _run(store: ResultsStore, monitor: str, day: int) -> int:
    scores = tuple(
        ScoreRecord(
            feature=f, metric="kl", value=0.3, value_corrected=0.25, p_value=0.001,
            p_adjusted=0.002, n_current=100, n_reference=100, missing_rate=0.0,
            severity="warn", warn_threshold=0.1, critical_threshold=0.5,
            smoothing="lidstone", alpha=0.5,
        )
        for f in ("amount", "country")
    )  # fmt: skip
    start = T0 + timedelta(days=day)
    return store.write_run(
        RunRecord(
            monitor=monitor, window_start=start, window_end=start + timedelta(days=1),
            status="ok", error=None, started_at=None, finished_at=None,
            duration_seconds=None, airflow_run_id=None, scores=scores, histograms=(),
        )
    )  # fmt: skip


@pytest.fixture
def seeded(store: ResultsStore) -> dict[str, Any]:
    """orders: open alerts on amount and country (opened by day 1), a resolved one on amount;
    other: one open alert."""
    for name in ("orders", "other"):
        store.save_monitor(name, {**CONFIG, "name": name})
    first = _run(store, "orders", 0)
    open_alert(store, "orders", "amount", first)
    second = _run(store, "orders", 1)
    resolve_alert(store, "orders", "amount", second)
    (old,) = store.alerts("orders")
    third = _run(store, "orders", 2)
    open_alert(store, "orders", "amount", third)
    open_alert(store, "orders", "country", third)
    other_run = _run(store, "other", 0)
    open_alert(store, "other", "amount", other_run)
    alerts = {a.feature: a for a in store.open_alerts("orders")}
    (other,) = store.open_alerts("other")
    return {"amount": alerts["amount"].id, "country": alerts["country"].id,
            "resolved": old.id, "other": other.id, "run": third}  # fmt: skip


def _client(store: ResultsStore, **kwargs: Any) -> TestClient:
    return TestClient(create_app(store, **kwargs), follow_redirects=False)


def _signed_in(store: ResultsStore) -> TestClient:
    client = _client(store, access=StandaloneToken(TOKEN))
    entered = client.post("/sign-in", data={"token": TOKEN, "next": "/monitors/orders"})
    assert entered.status_code == 303 and entered.headers["location"] == "/monitors/orders"
    return client


def _form(html: str) -> dict[str, str]:
    """The named inputs and textareas of the page's confirm form, as a browser would send them."""
    fields = dict(re.findall(r'<input type="[^"]+" name="(\w+)"[^>]*?value="([^"]*)"', html))
    fields.update(re.findall(r'<textarea name="(\w+)"[^>]*>([^<]*)</textarea>', html))
    return fields


def _summary(html: str) -> str:
    (found,) = re.findall(r'<p class="summary" id="summary">([^<]*)</p>', html)
    return found


def _rows(store: ResultsStore, monitor: str = "orders") -> list[tuple[Any, ...]]:
    """What the store holds of on-call state: actions and every alert's fields."""
    actions = [(a.kind, a.feature, a.alert_id, a.actor, a.note, a.until, a.range_start,
                a.range_end) for a in store.actions(monitor)]  # fmt: skip
    alerts = [(a.id, a.state, a.acknowledged_by, a.acknowledged_note, a.resolved_reason)
              for a in store.alerts(monitor)]  # fmt: skip
    return [*actions, *alerts]


def test_acknowledging_through_the_confirm_page(store: ResultsStore, seeded: Any) -> None:
    client = _signed_in(store)
    page = client.get("/monitors/orders").text
    button = f'href="/monitors/orders/confirm/acknowledge?alert_id={seeded["amount"]}"'
    assert button in page and "Enter the token" not in page
    confirm = client.get(f"/monitors/orders/confirm/acknowledge?alert_id={seeded['amount']}")
    assert confirm.status_code == 200
    created = store.alerts("orders")[-2].created_at.strftime("%Y-%m-%d %H:%M")
    assert _summary(confirm.text) == (  # since the window that opened it, recorded today
        f"Acknowledge alert #{seeded['amount']}: orders.amount, warn, open since "
        f"2024-06-03 00:00 UTC (recorded {created} UTC)"
    )
    fields = {**_form(confirm.text), "note": "launch in BR"}
    assert set(fields) == {"token", "alert_id", "feature", "note"}
    done = client.post("/monitors/orders/confirm/acknowledge", data=fields)
    assert done.status_code == 303 and done.headers["location"] == "/monitors/orders#history"
    (alert,) = [a for a in store.open_alerts("orders") if a.id == seeded["amount"]]
    assert (alert.state, alert.acknowledged_by, alert.acknowledged_note) == (
        "open", ACTOR, "launch in BR",
    )  # fmt: skip
    (action,) = store.actions("orders")
    assert (action.kind, action.alert_id, action.feature, action.actor, action.note) == (
        "acknowledge", seeded["amount"], "amount", ACTOR, "launch in BR",
    )  # fmt: skip
    after = client.get("/monitors/orders").text
    assert f'data-alert="{seeded["amount"]}">acknowledged by <b>{ACTOR}</b>' in after
    assert button not in after and "launch in BR" in after
    run_page = client.get(f"/runs/{seeded['run']}").text
    assert f"acknowledged by <b>{ACTOR}</b>" in run_page and 'data-kind="acknowledge"' in run_page


def test_snoozing_a_feature_through_the_confirm_page(store: ResultsStore, seeded: Any) -> None:
    client = _signed_in(store)
    before = datetime.now(UTC).replace(microsecond=0)
    confirm = client.get("/monitors/orders/confirm/snooze?feature=amount&duration=4h")
    summary = _summary(confirm.text)
    assert summary.startswith("Snooze notifications of orders.amount until ")
    shown = datetime.strptime(summary.rsplit(" until ", 1)[1], "%Y-%m-%d %H:%M UTC")
    assert abs(shown.replace(tzinfo=UTC) - (before + timedelta(hours=4))) <= timedelta(minutes=2)
    fields = {**_form(confirm.text), "note": "deploy in progress"}
    assert fields["duration"] == "4h" and fields["feature"] == "amount"
    done = client.post("/monitors/orders/confirm/snooze", data=fields)
    after = datetime.now(UTC)
    assert done.status_code == 303
    (snooze,) = store.active_snoozes("orders")
    assert (snooze.feature, snooze.actor, snooze.note) == ("amount", ACTOR, "deploy in progress")
    assert snooze.until is not None
    assert before + timedelta(hours=4) <= snooze.until <= after + timedelta(hours=4, seconds=1)
    page = client.get("/monitors/orders").text
    assert 'class="snoozed">snoozed (amount) until' in page
    # The whole monitor: "every feature".
    whole = client.get("/monitors/orders/confirm/snooze")
    assert _summary(whole.text).startswith("Snooze notifications of orders (every feature) until")


def test_accepting_a_baseline_through_the_confirm_page(store: ResultsStore, seeded: Any) -> None:
    client = _signed_in(store)
    confirm = client.get(f"/monitors/orders/confirm/accept-baseline?alert_id={seeded['amount']}")
    fields = _form(confirm.text)
    # Default range: from the opening window's start (day 3) to now.
    assert fields["start"] == "2024-06-03T00:00:00"
    summary = _summary(confirm.text)
    assert summary.startswith("Accept 2024-06-03 → ")
    assert summary.endswith(
        f"as the new baseline of orders.amount; resolves 1 open alert: #{seeded['amount']} "
        "amount (warn)"
    )
    fields.update(start="2024-06-01T00:00:00", end="2024-06-08T00:00:00", note="new market")
    done = client.post("/monitors/orders/confirm/accept-baseline", data=fields)
    assert done.status_code == 303
    (accepted,) = store.accepted_baselines("orders")
    assert (accepted.feature, accepted.range_start, accepted.range_end, accepted.actor) == (
        "amount", T0, T0 + timedelta(days=7), ACTOR,
    )  # fmt: skip
    assert [a.id for a in store.open_alerts("orders")] == [seeded["country"]]
    (resolved,) = [a for a in store.alerts("orders") if a.id == seeded["amount"]]
    assert resolved.state == "resolved" and resolved.resolved_reason is not None
    assert f"accepted by {ACTOR}" in resolved.resolved_reason
    whole = client.get("/monitors/orders/confirm/accept-baseline").text
    assert _summary(whole).endswith(
        f"as the new baseline of orders (every feature); resolves 1 open alert: "
        f"#{seeded['country']} country (warn)"
    )


def test_the_json_api_records_what_the_store_api_records(store: ResultsStore, seeded: Any) -> None:
    client = _client(store, access=StandaloneToken(TOKEN))
    auth = {"Authorization": f"Bearer {TOKEN}"}  # a script: no CSRF token needed
    ack = client.post(f"/api/monitors/orders/alerts/{seeded['amount']}/acknowledge",
                      json={"note": "known"}, headers=auth)  # fmt: skip
    assert ack.status_code == 201, ack.text
    assert ack.json()["kind"] == "acknowledge" and ack.json()["alert_id"] == seeded["amount"]
    until = datetime(2099, 1, 1, tzinfo=UTC)
    snoozed = client.post(
        "/api/monitors/orders/snooze",
        headers=auth,
        json={"feature": "country", "until": until.isoformat(), "note": "q"},
    )
    assert snoozed.status_code == 201, snoozed.text
    for_hours = client.post("/api/monitors/orders/snooze", headers=auth,
                            json={"duration": "2h", "note": "whole monitor"})  # fmt: skip
    assert for_hours.status_code == 201, for_hours.text
    base = client.post("/api/monitors/orders/baseline", headers=auth,
                       json={"start": "2024-06-01T00:00:00Z", "end": "2024-06-05T00:00:00",
                             "note": "accepted"})  # fmt: skip
    assert base.status_code == 201, base.text
    assert store.open_alerts("orders") == []  # every open alert explained and resolved
    listed = client.get("/api/monitors/orders/actions").json()
    stored = store.actions("orders")
    assert [(a["id"], a["kind"], a["feature"], a["actor"], a["note"]) for a in listed] == [
        (a.id, a.kind, a.feature, a.actor, a.note) for a in stored
    ]
    assert [a.kind for a in stored] == ["accept_baseline", "snooze", "snooze", "acknowledge"]
    by_kind = {(a.kind, a.feature): a for a in stored}
    assert by_kind[("snooze", "country")].until == until
    accepted = by_kind[("accept_baseline", None)]
    assert (accepted.range_start, accepted.range_end) == (T0, T0 + timedelta(days=4))
    assert all(a.actor == ACTOR for a in stored)


def test_cross_site_posts_are_refused_and_change_nothing(store: ResultsStore, seeded: Any) -> None:
    client = _signed_in(store)
    confirm = client.get(f"/monitors/orders/confirm/acknowledge?alert_id={seeded['amount']}")
    fields = {**_form(confirm.text), "note": "n"}
    before = _rows(store)
    missing = {k: v for k, v in fields.items() if k != "token"}
    wrong = {**fields, "token": "0" * 64}
    other_kind = {**fields, "token": csrf_token(b"?", TOKEN, "orders", "snooze")}
    for data in (missing, wrong, other_kind):
        refused = client.post("/monitors/orders/confirm/acknowledge", data=data)
        assert refused.status_code == 403 and CROSS_SITE in refused.text
    elsewhere = client.post("/monitors/orders/confirm/acknowledge", data=fields,
                            headers={"Origin": "https://evil.example"})  # fmt: skip
    assert elsewhere.status_code == 403 and CROSS_SITE in elsewhere.text
    # JSON with the cookie: the X-CSRF-Token header is needed.
    path = f"/api/monitors/orders/alerts/{seeded['amount']}/acknowledge"
    bare = client.post(path, json={"note": "n"})
    assert bare.status_code == 403 and bare.json() == {"detail": CROSS_SITE}
    assert _rows(store) == before
    (payload,) = re.findall(r'id="page-data">(.*?)</script>', client.get("/monitors/orders").text)
    header = json.loads(payload)["csrf"]["acknowledge"]
    assert header == fields["token"]
    ok = client.post(
        path, json={"note": "n"}, headers={"X-CSRF-Token": header, "Origin": "http://testserver"}
    )
    assert ok.status_code == 201, ok.text
    # The form's own origin is fine too.
    snooze = client.get("/monitors/orders/confirm/snooze").text
    same = client.post("/monitors/orders/confirm/snooze", headers={"Origin": "http://testserver"},
                       data={**_form(snooze), "note": "n"})  # fmt: skip
    assert same.status_code == 303


def test_read_only_by_default(store: ResultsStore, seeded: Any) -> None:
    client = _client(store)  # ReadEverything
    page = client.get("/monitors/orders").text
    assert "/confirm/" not in page and "Enter the token" not in page
    assert "No acknowledgement, snooze or accepted baseline yet." in page
    before = _rows(store)
    confirm = client.get(f"/monitors/orders/confirm/acknowledge?alert_id={seeded['amount']}")
    assert confirm.status_code == 403 and "may read monitor 'orders' but not act" in unescape(
        confirm.text
    )
    assert "read-only" in confirm.text
    form = client.post("/monitors/orders/confirm/snooze", data={"duration": "1h", "note": "n"})
    assert form.status_code == 403
    api = client.post("/api/monitors/orders/snooze", json={"duration": "1h", "note": "n"})
    assert api.status_code == 403 and "not act on it" in api.json()["detail"]
    assert client.get("/sign-in").status_code == 404
    assert client.post("/sign-in", data={"token": TOKEN}).status_code == 404
    assert _rows(store) == before
    # With a token app, an anonymous reader is offered the token form instead of buttons.
    anonymous = _client(store, access=StandaloneToken(TOKEN)).get("/monitors/orders").text
    assert "/confirm/" not in anonymous
    assert 'href="/sign-in?next=%2Fmonitors%2Forders">Enter the token</a>' in anonymous


def test_unknown_monitors_and_other_monitors_alerts_are_404(
    store: ResultsStore, seeded: Any
) -> None:
    client = _signed_in(store)
    auth = {"Authorization": f"Bearer {TOKEN}"}
    before, other_before = _rows(store), _rows(store, "other")
    for path in ("/monitors/nope/confirm/snooze", "/api/monitors/nope/actions"):
        assert client.get(path).status_code == 404, path
    nope = client.post("/api/monitors/nope/snooze", json={"duration": "1h", "note": "n"},
                       headers=auth)  # fmt: skip
    assert nope.status_code == 404 and nope.json() == {
        "detail": "no monitor named 'nope' in the results store"
    }
    foreign = seeded["other"]
    page = client.get(f"/monitors/orders/confirm/acknowledge?alert_id={foreign}")
    assert (
        page.status_code == 404
        and f"monitor 'orders' has no alert with id {foreign}" in unescape(page.text)
    )
    token = _form(client.get("/monitors/orders/confirm/snooze").text)["token"]
    ack_token = csrf_token(client.app.state.secret, TOKEN, "orders", "acknowledge")  # type: ignore[attr-defined]
    assert token != ack_token
    form = client.post(
        "/monitors/orders/confirm/acknowledge",
        data={"token": ack_token, "alert_id": str(foreign), "note": "n"},
    )
    assert form.status_code == 404
    api = client.post(f"/api/monitors/orders/alerts/{foreign}/acknowledge", json={"note": "n"},
                      headers=auth)  # fmt: skip
    assert api.status_code == 404
    assert api.json() == {"detail": f"monitor 'orders' has no alert with id {foreign}"}
    assert _rows(store) == before and _rows(store, "other") == other_before


def test_refused_actions_are_shown_and_change_nothing(store: ResultsStore, seeded: Any) -> None:
    client = _signed_in(store)
    before = _rows(store)
    confirm = client.get(f"/monitors/orders/confirm/acknowledge?alert_id={seeded['amount']}")
    empty = client.post("/monitors/orders/confirm/acknowledge",
                        data={**_form(confirm.text), "note": "  "})  # fmt: skip
    assert empty.status_code == 422
    assert 'id="error" role="alert">note is empty' in empty.text
    assert _summary(empty.text).startswith(f"Acknowledge alert #{seeded['amount']}")
    accept = client.get("/monitors/orders/confirm/accept-baseline?feature=amount")
    reversed_ = client.post("/monitors/orders/confirm/accept-baseline",
                            data={**_form(accept.text), "start": "2024-06-08T00:00:00",
                                  "end": "2024-06-01T00:00:00", "note": "n"})  # fmt: skip
    assert reversed_.status_code == 422 and "empty or reversed" in reversed_.text
    assert 'value="2024-06-08T00:00:00"' in reversed_.text  # what was sent is shown again
    resolved = client.get(f"/monitors/orders/confirm/acknowledge?alert_id={seeded['resolved']}")
    again = client.post("/monitors/orders/confirm/acknowledge",
                        data={**_form(resolved.text), "note": "late"})  # fmt: skip
    assert again.status_code == 422
    assert f"alert {seeded['resolved']} is already resolved: nothing to acknowledge" in again.text
    bad_duration = client.post("/monitors/orders/confirm/snooze",
                               data={**_form(client.get("/monitors/orders/confirm/snooze").text),
                                     "duration": "soon", "note": "n"})  # fmt: skip
    assert bad_duration.status_code == 422 and "snooze duration" in bad_duration.text
    auth = {"Authorization": f"Bearer {TOKEN}"}
    api = client.post("/api/monitors/orders/baseline", headers=auth,
                      json={"start": "2024-06-08T00:00:00Z", "end": "2024-06-01T00:00:00Z",
                            "note": "n"})  # fmt: skip
    assert api.status_code == 422 and "empty or reversed" in api.json()["detail"]
    ghost = client.post("/api/monitors/orders/snooze", headers=auth,
                        json={"feature": "ghost", "duration": "1h", "note": "n"})  # fmt: skip
    assert ghost.status_code == 422
    assert ghost.json() == {"detail": "monitor 'orders' has no feature 'ghost'"}
    assert _rows(store) == before


def test_the_token_form(store: ResultsStore, seeded: Any) -> None:
    client = _client(store, access=StandaloneToken(TOKEN))
    form = client.get("/sign-in?next=/monitors/orders")
    assert form.status_code == 200 and 'name="next" value="/monitors/orders"' in form.text
    wrong = client.post("/sign-in", data={"token": "y" * 20, "next": "/monitors/orders"})
    assert wrong.status_code == 403 and "wrong token" in wrong.text
    assert TOKEN_COOKIE not in client.cookies
    away = client.post("/sign-in", data={"token": TOKEN, "next": "https://evil.example/"})
    assert away.status_code == 303 and away.headers["location"] == "/"
    cookie = away.headers["set-cookie"]
    assert cookie.startswith(f"{TOKEN_COOKIE}={TOKEN};")
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/" in cookie
    assert "/confirm/acknowledge" in client.get("/monitors/orders").text
    other_site = _client(store, access=StandaloneToken(TOKEN)).post(
        "/sign-in", data={"token": TOKEN}, headers={"Origin": "https://evil.example"}
    )
    assert other_site.status_code == 403 and "set-cookie" not in other_site.headers


def test_the_openapi_schema_documents_the_action_routes(store: ResultsStore) -> None:
    schema = _client(store).get("/openapi.json").json()
    posts = {p for p, ops in schema["paths"].items() if "post" in ops}
    assert posts == {
        "/api/monitors/{name}/alerts/{alert_id}/acknowledge",
        "/api/monitors/{name}/snooze",
        "/api/monitors/{name}/baseline",
    }
    assert list(schema["paths"]["/api/monitors/{name}/actions"]) == ["get"]
    bodies = schema["components"]["schemas"]
    assert {"AcknowledgeIn", "SnoozeIn", "BaselineIn", "ActionOut"} <= set(bodies)
    assert bodies["SnoozeIn"]["required"] == ["note"]
    headers = [
        p["name"] for p in schema["paths"]["/api/monitors/{name}/snooze"]["post"]["parameters"]
    ]
    assert "X-CSRF-Token" in headers
