"""What a new user met on the dashboard (issue 15), each fixed and kept fixed."""

from __future__ import annotations

import re
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from drift.dashboard import create_app
from drift.store import BaselineRecord, ResultsStore, RunRecord, ScoreRecord, upgrade

TODAY = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)


def _score(feature: str, severity: str, n: int = 100, value: float = 0.01) -> ScoreRecord:
    return ScoreRecord(
        feature=feature, metric="kl", value=value, value_corrected=value, p_value=0.5,
        p_adjusted=0.5, n_current=n, n_reference=100, missing_rate=0.0, severity=severity,
        warn_threshold=0.05, critical_threshold=0.2, smoothing="lidstone", alpha=0.5,
    )  # fmt: skip


def _run(monitor: str, end: datetime, *scores: ScoreRecord, status: str = "ok") -> RunRecord:
    return RunRecord(
        monitor=monitor, window_start=end - timedelta(days=1), window_end=end, status=status,
        error=None, started_at=None, finished_at=None, duration_seconds=None,
        airflow_run_id=None, scores=scores, histograms=(),
    )  # fmt: skip


@pytest.fixture
def inferred(tmp_path: Path) -> str:
    """A monitor without a features list (kinds inferred), up to date, and an empty last window."""
    url = f"sqlite:///{tmp_path / 'drift.db'}"
    upgrade(url)
    store = ResultsStore(url)
    store.save_monitor("inferred", {"name": "inferred", "window": "1d", "features": None})
    store.save_baseline(
        "inferred",
        [
            BaselineRecord(
                monitor="inferred", feature=f, kind=k, binning_spec={}, labels=("a",),
                counts=(1,), missing=0, reference_start=None, reference_end=None, version=1,
            )
            for f, k in (("amount", "numeric"), ("country", "categorical"))
        ],
    )  # fmt: skip
    for days in range(10, 1, -1):
        end = TODAY - timedelta(days=days)
        store.write_run(_run("inferred", end, _score("amount", "ok"), _score("country", "ok")))
    # Yesterday's window, today's empty window (as unpausing a DAG makes), and a
    # future window stored before `drift run` refused them.
    store.write_run(_run("inferred", TODAY - timedelta(days=1), _score("amount", "ok")))
    store.write_run(_run("inferred", TODAY, _score("amount", "insufficient_data", n=0)))
    store.write_run(_run("inferred", datetime(2030, 1, 1, tzinfo=UTC), status="error"))
    store.close()
    return url


def test_inferred_features_come_from_the_baseline(inferred: str) -> None:
    client = TestClient(create_app(inferred))
    detail = client.get("/api/monitors/inferred").json()
    assert detail["features"] == [
        {"name": "amount", "kind": "numeric"}, {"name": "country", "kind": "categorical"},
    ]  # fmt: skip
    page = client.get("/monitors/inferred").text
    assert "2 features" in page
    assert re.findall(r'<option value="(\w+)"', page.split('id="feature-pick"')[1])[:2] == [
        "amount", "country",
    ]  # fmt: skip


def test_the_default_range_ends_at_the_latest_window_with_data(inferred: str) -> None:
    client = TestClient(create_app(inferred))
    detail = client.get("/api/monitors/inferred").json()
    # Not 2030, not today's empty window: yesterday's window, the last with rows.
    assert detail["default_range"]["end"].startswith((TODAY - timedelta(days=1)).date().isoformat())
    assert detail["last_window_end"].startswith(TODAY.date().isoformat())  # 2030 is not "last"
    (monitor,) = client.get("/api/monitors").json()
    assert monitor["last_window_end"].startswith(TODAY.date().isoformat())
    assert monitor["freshness"]["state"] == "on_time"  # today's window is the latest closed
    heat = client.get("/api/monitors/inferred/heatmap").json()
    assert len(heat["ends"]) == 10  # up to yesterday: the empty today is not in it


def test_drift_ok_never_stands_beside_open_alerts(demo_results: str, tmp_path: Path) -> None:
    """A later window at ok leaves the demo's 3 alerts open: the overview says critical."""
    path = tmp_path / "drift.db"
    shutil.copy(demo_results.removeprefix("sqlite:///"), path)
    store = ResultsStore(f"sqlite:///{path}")
    end = datetime(2024, 5, 30, tzinfo=UTC)
    store.write_run(_run("demo_events", end, *(_score(f, "ok") for f in ("amount", "country"))))
    client = TestClient(create_app(store))
    (monitor,) = client.get("/api/monitors").json()
    assert monitor["last_severity"] == "ok" and monitor["open_alerts"] == 3
    assert monitor["state"] == "critical"
    assert [a["severity"] for a in monitor["alerts"]] == ["critical"] * 3
    assert all(a["opened_window_start"].startswith("2024-05-19") for a in monitor["alerts"])
    assert all(a["age_seconds"] >= 0 for a in monitor["alerts"])
    html = client.get("/").text
    assert 'drift-state">critical<' in html and "latest window: ok" in html
    assert monitor["freshness"]["state"] == "late"
    store.close()


def test_windows_are_named_by_their_start_in_charts_tables_and_titles(demo_results: str) -> None:
    client = TestClient(create_app(demo_results))
    grid = client.get("/api/monitors/demo_events/heatmap").json()
    assert grid["starts"][0].startswith("2024-05-15") and grid["ends"][0].startswith("2024-05-16")
    series = client.get("/api/monitors/demo_events/features/amount/series").json()
    (alert,) = series["alerts"]
    assert alert["window_start"].startswith("2024-05-19")  # the shift, as the tables say
    (spark,) = client.get("/api/monitors").json()
    assert spark["sparkline"][0]["window_start"].startswith("2024-05-15")
    run = next(r for r in client.get("/api/monitors/demo_events/runs").json()
               if r["window_start"].startswith("2024-05-19"))  # fmt: skip
    page = client.get(f"/runs/{run['id']}").text
    title = re.search(r"<title>(.*?)</title>", page, re.S)
    heading = re.search(r"<h1>(.*?)</h1>", page, re.S)
    assert title and heading
    assert "2024-05-19 00:00 → 2024-05-20 00:00" in title.group(1)
    assert heading.group(1).removeprefix("demo_events: ") in title.group(1)


def test_bins_driving_the_drift_show_only_for_drifted_features(demo_results: str) -> None:
    client = TestClient(create_app(demo_results))
    runs = client.get("/api/monitors/demo_events/runs").json()
    first = min(runs, key=lambda r: r["window_start"])  # before the shift: nothing drifted
    assert first["severity"] == "ok"
    assert "Bins driving the drift" not in client.get(f"/runs/{first['id']}").text


def test_every_page_has_a_favicon_served_by_the_app(demo_results: str) -> None:
    client = TestClient(create_app(demo_results))
    for path in ("/", "/monitors/demo_events"):
        icon = re.search(
            r'<link rel="icon" type="image/svg\+xml" href="([^"]+)"', client.get(path).text
        )
        assert icon, path
        response = client.get(icon.group(1))
        assert response.status_code == 200 and response.text.startswith("<svg")
    assert client.get("/favicon.ico").status_code == 200


def test_the_runs_list_pages(demo_results: str) -> None:
    client = TestClient(create_app(demo_results))
    every = client.get("/api/monitors/demo_events/runs").json()
    page = client.get("/api/monitors/demo_events/runs", params={"limit": 5, "offset": 10}).json()
    assert [r["id"] for r in page] == [r["id"] for r in every[10:14]]
    html = client.get("/monitors/demo_events", params={"per_page": 5, "page": 3}).text
    assert html.count('class="run-link"') == 4 and "11–14 of 14" in html
    newer = re.search(r'class="newer" href="([^"]+)"', html)
    assert newer and "page=2" in newer.group(1) and "per_page=5" in newer.group(1)
    assert 'class="older"' not in html
    second = client.get(newer.group(1).replace("&amp;", "&")).text
    assert second.count('class="run-link"') == 5 and 'class="older"' in second
