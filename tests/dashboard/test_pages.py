"""The dashboard's HTML pages: links under a prefix, escaping, and hostile or broken requests."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from drift.dashboard import create_app
from drift.store import HistogramRecord, ResultsStore, RunRecord, ScoreRecord, upgrade

SCRIPT = "<script>alert('x')</script>"
END = datetime(2024, 1, 2, tzinfo=UTC)


class _Opaque:
    """A plain ASGI wrapper (as Airflow's auth guard is)."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await self.app(scope, receive, send)


def _mounted(results: str, prefix: str = "/drift") -> TestClient:
    outer = FastAPI()
    outer.mount(prefix, _Opaque(create_app(results)))
    return TestClient(outer)


def _links(html: str) -> list[str]:
    return re.findall(r'(?:href|src|action)="([^"]*)"', html)


def test_every_link_of_every_page_works_under_a_prefix(demo_results: str) -> None:
    client = _mounted(demo_results)
    seen: set[str] = set()
    todo = ["/drift/"]
    while todo:  # crawl every page, script and stylesheet the pages link to
        path = todo.pop()
        if path in seen:
            continue
        seen.add(path)
        response = client.get(path)
        assert response.status_code == 200, path
        if response.headers["content-type"].startswith("text/html"):
            for href in _links(response.text):
                assert href.startswith("/drift/"), (path, href)
                if "?" not in href:
                    todo.append(href.replace("&amp;", "&"))
    assert any(p.startswith("/drift/runs/") for p in seen)
    assert "/drift/static/plotly.min.js" in seen and "/drift/openapi.json" in seen
    assert len([p for p in seen if p.startswith("/drift/runs/")]) == 14


def test_the_range_picker_and_presets_keep_the_prefix_and_the_range(demo_results: str) -> None:
    client = _mounted(demo_results)
    page = client.get(
        "/drift/monitors/demo_events",
        params={"start": "2024-05-18T00:00:00Z", "end": "2024-05-22T00:00:00Z"},
    ).text
    assert 'action="/drift/monitors/demo_events"' in page
    assert 'value="2024-05-18T00:00:00"' in page and 'value="2024-05-22T00:00:00"' in page
    assert page.count('class="run-link"') == 4  # windows ending 19th to 22nd
    presets = [h for h in _links(page) if "start=" in h]
    assert len(presets) == 5 and all(h.startswith("/drift/monitors/demo_events?") for h in presets)
    # The datetime-local form sends naive times: they are UTC.
    naive = client.get(
        "/drift/monitors/demo_events",
        params={"start": "2024-05-18T00:00", "end": "2024-05-22T00:00"},
    )
    assert naive.status_code == 200 and naive.text.count('class="run-link"') == 4


def test_an_alert_link_to_a_monitor_run_redirects_to_the_run(demo_results: str) -> None:
    client = _mounted(demo_results)
    run_id = client.get("/drift/api/monitors").json()[0]["last_run_id"]
    moved = client.get(f"/drift/monitors/demo_events/runs/{run_id}", follow_redirects=False)
    assert moved.status_code == 307 and moved.headers["location"] == f"/drift/runs/{run_id}"
    wrong = client.get(f"/drift/monitors/other/runs/{run_id}")
    assert wrong.status_code == 404


@pytest.fixture
def hostile_store(tmp_path: Path) -> str:
    """A store whose names, labels, messages and errors are HTML and script."""
    url = f"sqlite:///{tmp_path / 'drift.db'}"
    upgrade(url)
    store = ResultsStore(url)
    name = "evil"
    store.save_monitor(
        name,
        {
            "name": name, "description": SCRIPT, "window": "1d",
            "features": [{"name": f"f{SCRIPT}", "kind": "categorical"}],
            "thresholds": {"warn": 0.05, "critical": 0.2, "metric": "kl"}, "metrics": ["kl"],
        },
    )  # fmt: skip
    score = ScoreRecord(
        feature=f"f{SCRIPT}", metric="kl", value=0.5, value_corrected=0.4, p_value=0.0,
        p_adjusted=0.0, n_current=10, n_reference=10, missing_rate=0.0, severity="critical",
        warn_threshold=0.05, critical_threshold=0.2, smoothing="additive", alpha=0.5,
    )  # fmt: skip
    hist = HistogramRecord(
        feature=f"f{SCRIPT}", labels=(SCRIPT, "</script><b>x"), counts=(9, 1), missing=0,
        reference_counts=(1, 9), contributions=(0.3, 0.1),
    )  # fmt: skip
    store.write_run(
        RunRecord(
            monitor=name, window_start=END - timedelta(days=1), window_end=END, status="error",
            error=f"failed: {SCRIPT}", started_at=None, finished_at=None, duration_seconds=None,
            airflow_run_id=SCRIPT, scores=(score,), histograms=(hist,),
        )
    )  # fmt: skip
    store.close()
    return url


def test_values_from_the_store_are_escaped_on_every_page(hostile_store: str) -> None:
    client = TestClient(create_app(hostile_store))
    run_id = client.get("/api/monitors").json()[0]["last_run_id"]
    for path in ("/", "/monitors/evil", f"/runs/{run_id}"):
        page = client.get(path)
        assert page.status_code == 200, path
        body = page.text
        assert SCRIPT not in body and "<b>x" not in body, path
        embedded = body.split('id="page-data">', 1)[1].split("</script>", 1)[0]
        assert "<" not in embedded, path  # the page data cannot close its <script> element
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in client.get(f"/runs/{run_id}").text


@pytest.mark.parametrize(
    ("path", "status", "says"),
    [
        ("/monitors/%3Cscript%3Ealert(1)%3C%2Fscript%3E", 404, "nothing at /monitors/&lt;script"),
        ("/monitors/%3Cscript%3Ealert(1)", 404, "no monitor named &#x27;&lt;script&gt;"),
        ("/monitors/x'%20OR%201=1;--", 404, "no monitor named"),
        ("/monitors/demo_events?start=%3Cscript%3E", 422, "start"),
        ("/monitors/demo_events?metric=kl%27%20OR%201=1--", 422, "metric"),
        ("/monitors/demo_events?start=0001-01-01&end=9999-12-31", 422, "too long"),
        ("/monitors/demo_events?feature=%3Cimg%20src=x%20onerror=alert(1)%3E", 404, "no feature"),
        ("/runs/1;DROP%20TABLE%20drift_run", 422, "run_id"),
        ("/static/../../../../etc/passwd", 404, "Not Found"),
        ("/static/%2e%2e/%2e%2e/app.py", 404, "Not Found"),
        ("/static/..%2F..%2Fapp.py", 404, "Not Found"),
    ],
)
def test_hostile_requests_get_an_escaped_error_page(
    demo_results: str, path: str, status: int, says: str
) -> None:
    response = TestClient(create_app(demo_results)).get(path)
    assert response.status_code == status, response.text
    assert says in response.text
    assert "Traceback" not in response.text and "<script>" not in response.text
    assert "<img" not in response.text and "root:" not in response.text
    assert "sqlalchemy" not in response.text.lower()


def test_the_victim_table_survives_sql_in_every_parameter(demo_results: str) -> None:
    client = TestClient(create_app(demo_results))
    for attack in ("x'; DROP TABLE drift_run; --", 'x"; DROP TABLE drift_run; --'):
        client.get(f"/monitors/{attack}")
        client.get("/monitors/demo_events", params={"feature": attack})
        client.get(f"/api/monitors/{attack}/alerts")
    assert len(client.get("/api/monitors/demo_events/runs").json()) == 14


def test_a_store_that_is_not_migrated_is_a_503_that_says_how_to_fix_it(tmp_path: Path) -> None:
    response = TestClient(create_app(f"sqlite:///{tmp_path / 'empty.db'}")).get("/api/monitors")
    assert response.status_code == 503
    assert "drift db upgrade" in response.json()["detail"]


def test_an_empty_store_shows_how_to_get_results(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'drift.db'}"
    upgrade(url)
    page = TestClient(create_app(url)).get("/")
    assert page.status_code == 200 and "No monitor has stored results yet" in page.text
