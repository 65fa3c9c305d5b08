"""Issue 16's access rules in Airflow's real API server: each user sees only their monitors.

alice may read and edit ``drift_alpha_orders`` and read ``drift_beta_orders``;
bob may read ``drift_beta_orders`` only (see per_dag_auth.py). Every route of
the dashboard is enumerated from the app itself, so a route added later is
checked too.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

# The helpers (and the auth manager Airflow imports by name) live beside this file.
sys.path.insert(0, str(Path(__file__).resolve().parent))
from oncall_fixtures import (
    MONITORS,
    airflow_client,
    as_cookie,
    bearer,
    fill_two_monitors,
    on_call_state,
    open_alert_id,
)

ALPHA, BETA = MONITORS


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> str:
    return fill_two_monitors(tmp_path_factory.mktemp("two-monitors"))


@pytest.fixture(scope="module")
def client(airflow_db: Path, results: str) -> Iterator[Any]:
    yield from airflow_client(results)


@pytest.fixture(scope="module")
def ids(results: str) -> dict[str, Any]:
    """A run, a feature and an alert of each monitor."""
    from drift.store import ResultsStore

    store = ResultsStore(results)
    try:
        out = {}
        for name in MONITORS:
            (run, *_) = store.runs(name)
            alerts = store.alerts(name)
            assert alerts, f"the demo opens alerts on {name}"
            out[name] = {"run_id": run.id, "feature": alerts[0].feature, "alert_id": alerts[0].id,
                         "all_runs": {r.id for r in store.runs(name)},
                         "kind": "acknowledge"}  # fmt: skip
        return out
    finally:
        store.close()


def _routes(results: str) -> list[tuple[str, str]]:
    """(method, path template) of every route of the dashboard, mounts included."""
    from fastapi.routing import APIRoute
    from starlette.routing import Mount, Route

    from drift.dashboard import create_app

    found = []
    for route in create_app(results).routes:
        if isinstance(route, Mount):
            found.append(("GET", route.path + "/dashboard.js"))
        elif isinstance(route, APIRoute | Route):
            found.extend((m, route.path) for m in sorted(route.methods or ()) if m != "HEAD")
    return found


def _fill(path: str, monitor: str, ids: dict[str, Any]) -> str:
    given = {**ids[monitor], "name": monitor}
    return re.sub(r"\{(\w+)(:\w+)?\}", lambda m: str(given[m.group(1)]), path)


def test_every_route_of_a_monitor_bob_may_not_read_is_a_404_like_a_missing_one(
    client: Any, results: str, ids: dict[str, Any]
) -> None:
    bob = bearer("bob")
    checked = 0
    for method, template in _routes(results):
        if "{" not in template:
            continue
        path = f"/drift{_fill(template, ALPHA, ids)}"
        hidden = client.request(method, path, headers=bob)
        assert hidden.status_code == 404, (method, path, hidden.text)
        # A monitor (or run) that does not exist answers the same, in the same shape.
        run_id = ids[ALPHA]["run_id"]
        absent = {**ids, "no_such_monitor": {**ids[ALPHA], "run_id": 987654321}}
        missing = client.request(
            method, f"/drift{_fill(template, 'no_such_monitor', absent)}", headers=bob
        )
        assert missing.status_code == 404, (method, template)
        expected = missing.text.replace("no_such_monitor", ALPHA).replace("987654321", str(run_id))
        assert hidden.text == expected, (method, template)
        readable = client.request(method, f"/drift{_fill(template, BETA, ids)}", headers=bob)
        assert readable.status_code != 404 or method != "GET", (method, template, readable.text)
        checked += 1
    assert checked >= 8


def test_alpha_appears_nowhere_in_bobs_overview_lists_and_counts(
    client: Any, results: str, ids: dict[str, Any]
) -> None:
    bob = bearer("bob")
    for method, template in _routes(results):
        if "{" in template or method != "GET":
            continue
        if template == "/sign-in":  # the standalone token's form: none inside Airflow
            assert client.get(f"/drift{template}", headers=bob).status_code == 404
            continue
        answer = client.get(f"/drift{template}", headers=bob)
        assert answer.status_code == 200, (template, answer.text)
        assert ALPHA not in answer.text, template
        linked = {int(i) for i in re.findall(r"/runs/(\d+)", answer.text)}
        assert not linked & ids[ALPHA]["all_runs"], template
    monitors = client.get("/drift/api/monitors", headers=bob).json()
    assert [m["name"] for m in monitors] == [BETA]
    page = client.get("/drift/", headers=bob).text
    assert re.findall(r'data-monitor="([^"]+)"', page) == [BETA]
    linked = {int(i) for i in re.findall(r"/runs/(\d+)", page)}
    assert linked and linked <= ids[BETA]["all_runs"]


def test_alice_reads_both_monitors(client: Any, ids: dict[str, Any]) -> None:
    alice = bearer("alice")
    names = [m["name"] for m in client.get("/drift/api/monitors", headers=alice).json()]
    assert sorted(names) == sorted(MONITORS)
    for name in MONITORS:
        assert client.get(f"/drift/monitors/{name}", headers=alice).status_code == 200
        run = client.get(f"/drift/api/runs/{ids[name]['run_id']}", headers=alice)
        assert run.status_code == 200
        assert run.json()["monitor"] == name


def test_a_user_who_may_read_no_dag_sees_no_monitor(client: Any, ids: dict[str, Any]) -> None:
    carol = bearer("carol")
    assert client.get("/drift/api/monitors", headers=carol).json() == []
    for name in MONITORS:
        assert client.get(f"/drift/api/monitors/{name}", headers=carol).status_code == 404


def test_the_session_cookie_is_the_same_user_as_the_bearer_token(client: Any) -> None:
    token = bearer("bob")["Authorization"].removeprefix("Bearer ")
    client.cookies.set("_token", token)
    try:
        names = [m["name"] for m in client.get("/drift/api/monitors").json()]
    finally:
        client.cookies.clear()
    assert names == [BETA]


def _acts(method: str, template: str) -> bool:
    """Whether the route acts on a monitor (a post, or the confirm page of one)."""
    return method == "POST" or "/confirm/" in template


def test_every_route_answers_each_user_as_their_rights_say(
    client: Any, results: str, ids: dict[str, Any]
) -> None:
    """alice edits alpha and reads beta, bob reads beta, carol reads nothing."""
    before = {m: on_call_state(results, m) for m in MONITORS}
    checked = 0
    for method, template in _routes(results):
        if "{" not in template:
            continue
        for user, monitor, expected in (
            ("carol", ALPHA, {404}), ("carol", BETA, {404}), ("bob", ALPHA, {404}),
            ("bob", BETA, {403} if _acts(method, template) else None),
            ("alice", BETA, {403} if _acts(method, template) else None),
            # alice may act on alpha: an empty post is refused for what it lacks, not for who.
            ("alice", ALPHA, ({422} if method == "POST" else {200}) if _acts(method, template)
             else None),
        ):  # fmt: skip
            path = f"/drift{_fill(template, monitor, ids)}"
            if "/confirm/" in template and method == "GET":
                path += f"?alert_id={open_alert_id(results, monitor)}"
            answer = client.request(method, path, headers=bearer(user))
            if expected is None:
                assert answer.status_code < 400, (user, method, path, answer.text)
            else:
                assert answer.status_code in expected, (user, method, path, answer.text)
            checked += 1
    assert checked >= 6 * 12
    assert {m: on_call_state(results, m) for m in MONITORS} == before


def test_alice_acknowledges_through_the_form_with_her_csrf_token(client: Any, results: str) -> None:
    from drift.dashboard.oncall import CROSS_SITE

    alert_id = open_alert_id(results, ALPHA)
    confirm_path = f"/drift/monitors/{ALPHA}/confirm/acknowledge"
    with as_cookie(client, "alice"):
        page = client.get(f"{confirm_path}?alert_id={alert_id}")
        assert page.status_code == 200, page.text
        assert f"Acknowledge alert #{alert_id}: {ALPHA}." in page.text
        (token,) = re.findall(r'name="token" value="([0-9a-f]{64})"', page.text)
        form = {"alert_id": str(alert_id), "note": "seen, a new market"}
        before = on_call_state(results, ALPHA)
        for refused in ({}, {"token": "0" * 64}):
            answer = client.post(confirm_path, data={**form, **refused})
            assert answer.status_code == 403 and CROSS_SITE in answer.text
        other_site = client.post(
            confirm_path, data={**form, "token": token}, headers={"Origin": "https://evil.example"}
        )
        assert other_site.status_code == 403
        json_without = client.post(
            f"/drift/api/monitors/{ALPHA}/alerts/{alert_id}/acknowledge", json={"note": "x"}
        )
        assert json_without.status_code == 403
        assert on_call_state(results, ALPHA) == before
        done = client.post(confirm_path, data={**form, "token": token})
        assert done.status_code == 303, done.text
        assert done.headers["location"] == f"/drift/monitors/{ALPHA}#history"
        shown = client.get(f"/drift/monitors/{ALPHA}").text
        assert "acknowledged by <b>alice</b>" in shown
    from drift.store import ResultsStore

    store = ResultsStore(results)
    try:
        (alert,) = [a for a in store.open_alerts(ALPHA) if a.id == alert_id]
        assert (alert.acknowledged_by, alert.acknowledged_note) == ("alice", "seen, a new market")
        assert next((a.kind, a.actor, a.alert_id) for a in store.actions(ALPHA)) == (
            "acknowledge", "alice", alert_id,
        )  # fmt: skip
    finally:
        store.close()


def test_a_user_who_may_only_read_cannot_act_and_changes_nothing(client: Any, results: str) -> None:
    alert_id = open_alert_id(results, BETA)
    before = on_call_state(results, BETA)
    for user in ("bob", "alice"):  # both read beta; neither may edit it
        with as_cookie(client, user):
            page = client.get(f"/drift/monitors/{BETA}")
            assert page.status_code == 200 and "/confirm/" not in page.text
            confirm = client.get(f"/drift/monitors/{BETA}/confirm/acknowledge?alert_id={alert_id}")
            assert confirm.status_code == 403 and "but not act on it" in confirm.text
        form = client.post(f"/drift/monitors/{BETA}/confirm/acknowledge", headers=bearer(user),
                           data={"alert_id": str(alert_id), "note": "n"})  # fmt: skip
        assert form.status_code == 403, form.text
        api = client.post(f"/drift/api/monitors/{BETA}/alerts/{alert_id}/acknowledge",
                          headers=bearer(user), json={"note": "n"})  # fmt: skip
        assert api.status_code == 403 and "but not act on it" in api.json()["detail"]
    assert on_call_state(results, BETA) == before


def test_a_user_who_may_not_read_gets_404_for_every_action(client: Any, results: str) -> None:
    alert_id = open_alert_id(results, ALPHA)
    before = on_call_state(results, ALPHA)
    carol = bearer("carol")
    for method, path, body in (
        ("GET", f"/monitors/{ALPHA}/confirm/snooze", None),
        ("POST", f"/monitors/{ALPHA}/confirm/snooze", {"data": {"duration": "1h", "note": "n"}}),
        ("POST", f"/api/monitors/{ALPHA}/snooze", {"json": {"duration": "1h", "note": "n"}}),
        ("POST", f"/api/monitors/{ALPHA}/alerts/{alert_id}/acknowledge", {"json": {"note": "n"}}),
        ("GET", f"/api/monitors/{ALPHA}/actions", None),
    ):
        answer = client.request(method, f"/drift{path}", headers=carol, **(body or {}))
        assert answer.status_code == 404, (method, path, answer.text)
    assert on_call_state(results, ALPHA) == before
