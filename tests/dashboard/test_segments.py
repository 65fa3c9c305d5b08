"""The dashboard by segment and for a pair (issue 19): JSON API and HTML pages.

The store is filled through its own write API (tests/dashboard/conftest.py's
``fill_segments``): monitor ``shop`` scores amount in the whole population
and in country=US, country=BR and country=<other>, where only BR drifts on
the last day; and the pair ``amount × country`` with its per-cell KL.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from segment_data import BR, OTHER, PAIR, PAIR_CELLS, US, fill_segments

from drift.alerts.types import AlertChange
from drift.dashboard import create_app
from drift.dashboard.access import StandaloneToken
from drift.dashboard.pairs import pair_cells
from drift.store import HistogramRecord, ResultsStore, RunRecord, ScoreRecord

SCRIPT = "<script>alert('x')</script>"
TOKEN = "t" * 20


@pytest.fixture
def client(segment_results: tuple[str, dict[str, Any]]) -> TestClient:
    return TestClient(create_app(segment_results[0]), follow_redirects=False)


def _runs(segment_results: tuple[str, dict[str, Any]]) -> list[int]:
    return list(segment_results[1]["runs"])


def _payload(html: str) -> Any:
    (text,) = re.findall(
        r'<script type="application/json" id="page-data">(.*?)</script>', html, re.S
    )
    return json.loads(text)


def test_a_run_is_shown_in_one_segment_at_a_time(client: TestClient, segment_results: Any) -> None:
    last = _runs(segment_results)[-1]
    whole = client.get(f"/api/runs/{last}").json()
    assert whole["segment"] == "" and whole["segments"] == ["", US, BR, OTHER]
    assert [(f["feature"], f["segment"], f["severity"]) for f in whole["features"]] == [
        ("amount", "", "ok"), (PAIR, "", "critical"), ("country", "", "ok"),
    ]  # fmt: skip
    br = client.get(f"/api/runs/{last}", params={"segment": BR}).json()
    (amount,) = br["features"]
    assert (amount["feature"], amount["segment"], amount["severity"]) == ("amount", BR, "critical")
    assert amount["n_current"] == 300 and amount["kind"] == "numeric"
    assert [s["value_corrected"] for s in amount["scores"]] == [0.45]
    assert [a["segment"] for a in br["alerts"]] == [BR]
    missing = client.get(f"/api/runs/{last}", params={"segment": "country=FR"})
    assert missing.status_code == 404
    assert missing.json()["detail"] == f"run {last} has no segment 'country=FR'"


def test_a_pairs_cells_come_as_a_grid_with_the_split_of_its_kl(
    client: TestClient, segment_results: Any
) -> None:
    run = client.get(f"/api/runs/{_runs(segment_results)[-1]}").json()
    (pair,) = [f for f in run["features"] if f["feature"] == PAIR]
    assert pair["kind"] == "pair"
    cells = pair["pair"]
    assert cells["x_labels"] == ["(-inf, 10)", "[10, 20)", "[20, inf]"]
    assert cells["y_labels"] == ["US", "BR", "<other>"]
    # Row-major, x outer: cell (i, j) is stored bin i * k_y + j.
    assert cells["contributions"] == [list(PAIR_CELLS[i * 3 : i * 3 + 3]) for i in range(3)]
    assert cells["contributions"][1][1] == 0.2  # [10, 20) x BR drives it
    assert sum(map(sum, cells["live_shares"])) == pytest.approx(1.0)
    assert cells["kl_marginal"] + cells["kl_conditional"] == pytest.approx(cells["kl"])
    assert all(f["pair"] is None for f in run["features"] if f["feature"] != PAIR)


def test_pair_cells_follow_the_labels_when_the_baseline_no_longer_fits() -> None:
    labels = ["a × u", "a × v", "b × u", "b × v", "c × u", "c × v"]
    refitted = {"kind": "pair", "x": {"kind": "categorical", "categories": ["a"]},
                "y": {"kind": "categorical", "categories": ["u"]}}  # fmt: skip
    grid = pair_cells(refitted, labels, [1] * 6, [1] * 6, [0.1, 0.2, 0.3, 0.4, 0.5, 0.6], {})
    assert grid is not None
    assert (grid.x_labels, grid.y_labels) == (["a", "b", "c"], ["u", "v"])
    assert grid.contributions == [[0.1, 0.2], [0.3, 0.4], [0.5, 0.6]]
    assert pair_cells(None, ["a × u", "b × u", "a × v"], [1] * 3, [1] * 3, [0.0] * 3, {}) is None


def test_the_segment_by_feature_table_and_histories(
    client: TestClient, segment_results: Any
) -> None:
    runs = _runs(segment_results)
    table = client.get("/api/monitors/shop/segments").json()
    assert table["run_id"] == runs[-1] and table["segments"] == ["", US, BR, OTHER]
    assert table["features"] == ["amount", PAIR, "country"]
    br = table["segments"].index(BR)
    assert table["values"][br] == [0.45, None, None]
    assert table["severities"][br] == ["critical", None, None]
    assert table["n_current"][br][0] == 300
    older = client.get("/api/monitors/shop/segments", params={"run_id": runs[0]}).json()
    assert older["values"][br][0] == 0.02
    assert client.get("/api/monitors/shop/segments", params={"run_id": 1}).status_code == 404
    history = client.get("/api/monitors/shop/features/amount/segments").json()
    assert history["names"] == ["", BR, US, OTHER]  # "" first, then by name, the rest last
    assert history["values"][1] == [0.02, 0.03, 0.45]
    series = client.get("/api/monitors/shop/features/amount/series", params={"segment": BR}).json()
    assert series["segment"] == BR and series["values"] == [[0.02, 0.03, 0.45]]
    assert [a["segment"] for a in series["alerts"]] == [BR]
    whole = client.get("/api/monitors/shop/features/amount/series").json()
    assert whole["values"] == [[0.01, 0.01, 0.02]] and whole["alerts"] == []
    detail = client.get("/api/monitors/shop").json()
    assert {"name": PAIR, "kind": "pair"} in detail["features"]
    assert [(a["feature"], a["segment"]) for a in detail["open_alerts"]] == [("amount", BR)]
    pair_series = client.get(f"/api/monitors/shop/features/{PAIR}/series").json()
    assert pair_series["names"] == ["kl", "kl_conditional", "kl_marginal"]


def test_the_monitor_page_shows_segments_by_features(
    client: TestClient, segment_results: Any
) -> None:
    last = _runs(segment_results)[-1]
    page = client.get("/monitors/shop", params={"feature": "amount"}).text
    (section,) = re.findall(r'<section id="segments">(.*?)</section>', page, re.S)
    rows = re.findall(r"<tr><th>(.*?)</th>", section)
    assert rows == ["segment", "<i>whole population</i>", US, BR, "country=&lt;other&gt;"]
    assert f'href="/runs/{last}?segment=country%3DBR"' in section
    assert section.count('class="cell s-critical"') == 2  # amount in BR; the pair, overall
    assert 'amount</b> in <b class="segment">country=BR</b>' in page
    assert 'id="series-segments"' in page
    assert _payload(page)["by_segment"]["names"] == ["", BR, US, OTHER]


def test_the_run_page_picks_a_segment(client: TestClient, segment_results: Any) -> None:
    runs = _runs(segment_results)
    whole = client.get(f"/runs/{runs[-1]}").text
    options = re.findall(r'<option value="([^"]*)"( selected)?>([^<]*)</option>', whole)
    assert options == [("", " selected", "whole population"), (US, "", US), (BR, "", BR),
                       ("country=&lt;other&gt;", "", "country=&lt;other&gt;")]  # fmt: skip
    assert '<div class="chart pair" data-index="1">' in whole
    assert "KL of the joint 0.3000 nats =" in whole and "conditional 0.2500" in whole
    br = client.get(f"/runs/{runs[-1]}", params={"segment": BR}).text
    assert "in country=BR</span></h1>" in br
    assert f'<option value="{BR}" selected>' in br
    assert f'href="/runs/{runs[-2]}?segment=country%3DBR"' in br  # the previous window, in BR
    assert _payload(br)["run"]["segment"] == BR
    assert client.get(f"/runs/{runs[-1]}", params={"segment": "nope"}).status_code == 404
    # An alert's link (the monitor's run address) keeps the segment through the redirect.
    moved = client.get(f"/monitors/shop/runs/{runs[-1]}", params={"segment": BR})
    assert moved.status_code == 307
    assert moved.headers["location"] == f"/runs/{runs[-1]}?segment=country%3DBR"


def test_a_monitor_without_segments_shows_no_picker_or_table(demo_results: str) -> None:
    client = TestClient(create_app(demo_results))
    run_id = client.get("/api/monitors").json()[0]["last_run_id"]
    assert client.get(f"/api/runs/{run_id}").json()["segments"] == [""]
    assert 'id="segment-pick"' not in client.get(f"/runs/{run_id}").text
    page = client.get("/monitors/demo_events").text
    assert 'id="segments"' not in page and 'id="series-segments"' not in page


def test_a_hostile_segment_name_is_text(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'drift.db'}"
    fill_segments(url)
    store = ResultsStore(url)
    (run,) = store.runs("shop")[-1:]
    hostile = f"country={SCRIPT}"
    store.write_run(RunRecord(
        "shop", run.window_start, run.window_end, "ok", None, None, None, None, None,
        (ScoreRecord("amount", "kl", 0.5, 0.4, 0.0, 0.0, 10, 100, 0.0, "critical", 0.05, 0.2,
                     "lidstone", 0.5, segment=hostile),
         ScoreRecord("amount", "kl", 0.01, 0.01, 0.5, 0.5, 10, 100, 0.0, "ok", 0.05, 0.2,
                     "lidstone", 0.5)),
        (HistogramRecord("amount", ("a",), (1,), 0, (1,), (0.1,), segment=hostile),),
    ))  # fmt: skip
    store.close()
    client = TestClient(create_app(url))
    for page in (client.get("/monitors/shop").text,
                 client.get(f"/runs/{run.id}", params={"segment": hostile}).text):  # fmt: skip
        assert SCRIPT not in page
        assert "country=&lt;script&gt;" in page


@pytest.mark.db
def test_the_segment_reads_on_every_backend(db_url: str) -> None:
    filled = fill_segments(db_url)
    client = TestClient(create_app(db_url))
    last = filled["runs"][-1]
    assert client.get(f"/api/runs/{last}").json()["segments"] == ["", US, BR, OTHER]
    br = client.get(f"/api/runs/{last}", params={"segment": BR}).json()
    assert [f["scores"][0]["value_corrected"] for f in br["features"]] == [0.45]
    table = client.get("/api/monitors/shop/segments").json()
    assert table["severities"][table["segments"].index(BR)][0] == "critical"
    (pair,) = [f for f in client.get(f"/api/runs/{last}").json()["features"] if f["pair"]]
    assert pair["pair"]["contributions"][1] == list(PAIR_CELLS[3:6])
    page = client.get(f"/runs/{last}", params={"segment": BR})
    assert page.status_code == 200 and "in country=BR</span></h1>" in page.text


def test_acknowledging_one_segment_through_the_page_covers_the_features_others(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'drift.db'}"
    filled = fill_segments(url)
    store = ResultsStore(url)
    last = filled["runs"][-1]
    whole = store.apply_alert_change(
        AlertChange("shop", "amount", "open", "warn", last, "amount drifted", None)
    )
    store.close()
    client = TestClient(create_app(url, access=StandaloneToken(TOKEN)), follow_redirects=False)
    client.post("/sign-in", data={"token": TOKEN, "next": "/monitors/shop"})
    confirm = client.get("/monitors/shop/confirm/acknowledge", params={"alert_id": filled["alert"]})
    (summary,) = re.findall(r'<p class="summary" id="summary">([^<]*)</p>', confirm.text)
    assert summary.startswith(f"Acknowledge alert #{filled['alert']}: shop.amount in country=BR, ")
    assert summary.endswith(f"; with the other open alert of amount: #{whole} amount (warn)")
    fields = dict(
        re.findall(r'<input type="[^"]+" name="(\w+)"[^>]*?value="([^"]*)"', confirm.text)
    )
    done = client.post("/monitors/shop/confirm/acknowledge", data={**fields, "note": "BR launch"})
    assert done.status_code == 303
    store = ResultsStore(url)
    try:
        assert {(a.segment, a.acknowledged_note) for a in store.open_alerts("shop")} == {
            (BR, "BR launch"), ("", "BR launch"),
        }  # fmt: skip
    finally:
        store.close()
