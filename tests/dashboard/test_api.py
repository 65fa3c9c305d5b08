"""The dashboard's JSON API over stores filled by the real pipeline, on every backend."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from stored import stored_scores

from drift.dashboard import create_app
from drift.store import ResultsStore

pytestmark = pytest.mark.db

SHIFT_END = datetime(2024, 5, 20, tzinfo=UTC)  # the first window with the shifted data
LAST_END = datetime(2024, 5, 29, tzinfo=UTC)


def _iso(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _check_overview(client: TestClient, store: ResultsStore) -> dict[str, Any]:
    (monitor,) = client.get("/api/monitors").json()
    assert monitor["name"] == "demo_events"
    assert _iso(monitor["last_window_end"]) == LAST_END
    assert monitor["last_status"] == "ok" and monitor["last_severity"] == "critical"
    assert monitor["open_alerts"] == 3  # amount, country and prompt drifted and stay drifted
    spark = monitor["sparkline"]
    assert len(spark) == 14
    # Each point is the worst bias-corrected KL over the window's features.
    for point in spark:
        end = _iso(point["window_end"])
        (run,) = store.runs("demo_events", end - timedelta(days=1), end)
        kl = [s.value_corrected for s in store.run_scores(run.id) if s.metric == "kl"]
        assert point["value"] == pytest.approx(max(kl))
    assert max(p["value"] for p in spark if _iso(p["window_end"]) < SHIFT_END) < 0.05
    return dict(monitor)


def _check_heatmap(client: TestClient, store: ResultsStore) -> None:
    grid = client.get("/api/monitors/demo_events/heatmap").json()
    assert grid["names"] == ["amount", "country", "prompt"]
    assert len(grid["ends"]) == 14 and grid["bucket_seconds"] is None
    cells = stored_scores(store, "demo_events", "kl", LAST_END - timedelta(days=30), LAST_END)
    assert len(cells) == 3 * 14
    for cell in cells:
        i, j = (
            grid["names"].index(cell.feature),
            [_iso(e) for e in grid["ends"]].index(cell.window_end),
        )
        assert grid["values"][i][j] == pytest.approx(cell.value_corrected)
        assert grid["severities"][i][j] == cell.severity
        assert grid["run_ids"][i][j] == cell.run_id


def _check_buckets(store: ResultsStore) -> None:
    """Windows grouped in SQL (dialect-specific epoch arithmetic) keep each bucket's maximum."""
    start, end = LAST_END - timedelta(days=14), LAST_END
    exact = store.heatmap_grid("demo_events", "kl", start, end)
    grid = store.heatmap_grid("demo_events", "kl", start, end, limit=5)
    assert grid.width == timedelta(hours=68)  # 336 h / 5 buckets, rounded up to whole hours
    expected: dict[tuple[str, int], list[float]] = defaultdict(list)
    for i, name in enumerate(exact.names):
        for j, window_end in enumerate(exact.ends):
            bucket = int(((window_end - start).total_seconds() - 1) // grid.width.total_seconds())
            value = exact.values[i][j]
            assert value is not None
            expected[(name, bucket)].append(value)
    assert len(grid.ends) == 5
    for i, name in enumerate(grid.names):
        for j, bucket_end in enumerate(grid.ends):
            bucket = int(((bucket_end - start).total_seconds() - 1) // grid.width.total_seconds())
            assert grid.values[i][j] == pytest.approx(max(expected[(name, bucket)]))
            assert grid.run_ids[i][j] is None
    # A bucket's end is the last window end in it, and a window ending on an edge
    # belongs to the bucket it closes.
    assert grid.ends[-1] == LAST_END


def _check_series(client: TestClient) -> None:
    series = client.get("/api/monitors/demo_events/features/amount/series").json()
    assert series["names"] == ["jensen_shannon", "kl", "psi"]
    assert series["thresholds"]["kl"] == [0.05, 0.2]
    kl = series["values"][series["names"].index("kl")]
    assert len(kl) == 14
    (alert,) = series["alerts"]
    assert alert["feature"] == "amount" and _iso(alert["window_end"]) == SHIFT_END
    j = [_iso(e) for e in series["ends"]].index(SHIFT_END)
    assert kl[j] > 0.2 and series["severities"][series["names"].index("kl")][j] == "critical"


def _check_run(client: TestClient, store: ResultsStore) -> None:
    (shift,) = store.runs("demo_events", SHIFT_END - timedelta(days=1), SHIFT_END)
    run = client.get(f"/api/runs/{shift.id}").json()
    assert run["monitor"] == "demo_events" and run["status"] == "ok"
    assert [f["feature"] for f in run["features"]] == ["amount", "country", "prompt"]
    stored = {h.feature: h for h in store.run_histograms(shift.id)}
    for feature in run["features"]:
        h = stored[feature["feature"]]
        assert feature["labels"] == list(h.labels) and feature["counts"] == list(h.counts)
        assert feature["reference_counts"] == list(h.reference_counts)
        top = feature["top_bins"]
        assert top and [b["contribution"] for b in top] == sorted(
            (b["contribution"] for b in top), reverse=True
        )
        assert feature["severity"] == "critical" and feature["p_adjusted"] < 1e-6
    country = next(f for f in run["features"] if f["feature"] == "country")
    assert country["top_bins"][0]["label"] == "<other>"  # MX, unseen in the reference
    assert sorted(a["feature"] for a in run["alerts"]) == ["amount", "country", "prompt"]
    assert all(a["opened_run_id"] == shift.id for a in run["alerts"])
    assert run["previous_run_id"] is not None and run["next_run_id"] is not None
    runs = client.get("/api/monitors/demo_events/runs", params={"limit": 3}).json()
    assert [_iso(r["window_end"]) for r in runs] == [LAST_END - timedelta(days=d) for d in range(3)]


def test_the_api_over_a_store_filled_by_the_pipeline(
    db_url: str, tmp_path: Path, fill_demo: Any
) -> None:
    fill_demo(db_url, tmp_path / "source.db")
    store = ResultsStore(db_url)
    try:
        client = TestClient(create_app(store))
        _check_overview(client, store)
        _check_heatmap(client, store)
        _check_buckets(store)
        _check_series(client)
        _check_run(client, store)
    finally:
        store.close()


def test_a_long_range_is_bucketed_and_a_cell_has_the_bucket_maximum(demo_results: str) -> None:
    client = TestClient(create_app(demo_results))
    grid = client.get(
        "/api/monitors/demo_events/heatmap",
        params={"start": "2024-05-15T00:00:00Z", "end": "2024-05-29T00:00:00Z"},
    ).json()
    assert grid["bucket_seconds"] is None  # 14 windows fit as they are
    month = client.get(
        "/api/monitors/demo_events/heatmap", params={"start": "2021-06-01", "end": "2024-05-29"}
    ).json()
    assert month["bucket_seconds"] is None  # still only 14 windows in the range
    assert len(month["ends"]) == 14


@pytest.mark.parametrize(
    ("path", "status", "says"),
    [
        ("/api/monitors/nope", 404, "no monitor named 'nope'"),
        ("/api/monitors/nope/heatmap", 404, "no monitor named 'nope'"),
        ("/api/monitors/demo_events/features/nope/series", 404, "has no feature 'nope'"),
        ("/api/monitors/demo_events/heatmap?metric=hellinger", 404, "stores no metric"),
        ("/api/monitors/demo_events/heatmap?metric=x%27%3B--", 422, "metric"),
        ("/api/runs/123", 404, "no run with id 123"),
        ("/api/runs/-1", 422, "run_id"),
        ("/api/runs/99999999999999999999", 422, "run_id"),
        ("/api/runs/abc", 422, "run_id"),
        ("/api/monitors/demo_events/runs?start=yesterday", 422, "start"),
        ("/api/monitors/demo_events/runs?start=2024-05-10&end=2024-05-01", 422, "must be before"),
        ("/api/monitors/demo_events/runs?start=1990-01-01&end=2024-05-01", 422, "too long"),
        ("/api/monitors/demo_events/runs?limit=0", 422, "limit"),
        ("/api/monitors/demo_events/alerts?state=all", 422, "state"),
    ],
)
def test_bad_requests_get_a_status_and_a_message(
    demo_results: str, path: str, status: int, says: str
) -> None:
    response = TestClient(create_app(demo_results)).get(path)
    assert response.status_code == status, response.text
    assert says in response.json()["detail"]
    assert "Traceback" not in response.text


def test_alerts_filter_by_state(demo_results: str) -> None:
    client = TestClient(create_app(demo_results))
    every = client.get("/api/monitors/demo_events/alerts").json()
    opened = client.get("/api/monitors/demo_events/alerts", params={"state": "open"}).json()
    resolved = client.get("/api/monitors/demo_events/alerts", params={"state": "resolved"}).json()
    assert len(opened) == 3 and all(a["state"] == "open" for a in opened)
    assert resolved == [a for a in every if a["state"] == "resolved"]
    assert len(every) == len(opened) + len(resolved)


def test_the_openapi_schema_documents_every_api_route(demo_results: str) -> None:
    schema = TestClient(create_app(demo_results)).get("/openapi.json").json()
    assert set(schema["paths"]) == {
        "/api/health",
        "/api/monitors",
        "/api/monitors/{name}",
        "/api/monitors/{name}/runs",
        "/api/monitors/{name}/heatmap",
        "/api/monitors/{name}/features/{feature}/series",
        "/api/monitors/{name}/features/{feature}/segments",
        "/api/monitors/{name}/segments",
        "/api/monitors/{name}/alerts",
        "/api/monitors/{name}/actions",
        "/api/monitors/{name}/alerts/{alert_id}/acknowledge",
        "/api/monitors/{name}/snooze",
        "/api/monitors/{name}/baseline",
        "/api/runs/{run_id}",
    }
    assert "Grid" in schema["components"]["schemas"]
    # Reads are GETs; the three on-call actions are the only writes, each a POST.
    writes = {path for path, ops in schema["paths"].items() if list(ops) != ["get"]}
    assert writes == {
        "/api/monitors/{name}/alerts/{alert_id}/acknowledge",
        "/api/monitors/{name}/snooze",
        "/api/monitors/{name}/baseline",
    }
    assert all(list(schema["paths"][p]) == ["post"] for p in writes)
