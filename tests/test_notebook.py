"""A report in a notebook: ``_repr_html_``, ``save_html``, and the file in a real browser.

The HTML is read back (the severity table's rows, each chart's plotly figure
as JSON) and checked against the report; hostile column names and category
values must show as text, never run. The saved page is opened from disk by
Debian's chromium through Playwright: every chart is drawn, the console has
no error, and no request leaves the file (plotly.js is inside it).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from drift import DriftReport, compare
from drift.notebook.html import MAX_BINS, bins

HOSTILE = "<script>alert(1)</script>"
FIGURE = re.compile(r"var fig = (\{.*?\});window\.Plotly\.newPlot", re.S)


@pytest.fixture(scope="module")
def report() -> DriftReport:
    rng = np.random.default_rng(7)
    n, m = 4000, 3000
    ref = pd.DataFrame(
        {
            "amount": rng.normal(50, 10, n),
            HOSTILE: rng.choice(["a", "b", "c"], n),
            "country": rng.choice(["US", "DE", '"><img src=x onerror=alert(2)>'], n),
            "steady": rng.normal(size=n),
        }
    )
    cur = pd.DataFrame(
        {
            "amount": rng.normal(56, 10, m),
            HOSTILE: rng.choice(["a", "b", "c"], m, p=[0.6, 0.2, 0.2]),
            "country": rng.choice(["US", "DE", '"><img src=x onerror=alert(2)>'], m),
            "steady": rng.normal(size=m),
        }
    )
    out = compare(ref, cur)
    assert set(out.drifted) == {"amount", HOSTILE}, out.to_frame()
    return out


def _figures(page: str) -> list[dict[str, Any]]:
    return [json.loads(match) for match in FIGURE.findall(page)]


def test_the_html_has_a_row_per_feature_with_its_severity(report: DriftReport) -> None:
    page = report._repr_html_()
    rows = re.findall(r'<tr data-feature="([^"]*)" data-severity="([^"]*)">', page)
    expected = [(s.feature.replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;"),
                 s.severity) for s in report]  # fmt: skip
    assert rows == expected
    assert "4 features, 2 drifted" in page
    for severity in {s.severity for s in report}:
        assert f'<span class="sev sev-{severity}">{severity}</span>' in page


def test_each_drifted_feature_has_a_plotly_chart_of_its_bins(report: DriftReport) -> None:
    page = report._repr_html_()
    figures = _figures(page)
    assert len(figures) == len(report.drifted) == page.count("Plotly.newPlot(")
    for name, figure in zip(report.drifted, figures, strict=True):
        score = report[name]
        reference, live, share = figure["data"]
        assert (reference["name"], live["name"], share["name"]) == (
            "reference",
            "live",
            "share of KL",
        )
        assert reference["x"] == [
            label.replace("<", "&lt;").replace(">", "&gt;") for label in score.labels
        ]
        counts = score.reference.counts
        assert reference["y"] == pytest.approx((counts / counts.sum()).tolist())
        assert live["y"] == pytest.approx((score.current.counts / score.current.rows).tolist())
        contributions = np.asarray(score.contributions)
        assert share["y"] == pytest.approx((contributions / contributions.sum()).tolist())
        assert share["customdata"] == pytest.approx(contributions.tolist())
        assert sum(share["y"]) == pytest.approx(1.0)
        assert share["yaxis"] == "y2"
    # Undrifted features are in the table only.
    assert 'class="feature" data-feature="steady"' not in page


def test_plotly_js_is_inline_once_and_nothing_comes_from_a_cdn(report: DriftReport) -> None:
    page = report._repr_html_()
    assert "<script src" not in page.lower()
    assert not re.search(r"<script[^>]*\bsrc=", page, re.I)
    from plotly.offline import get_plotlyjs

    # Beside the bundle (whose defaults name plotly's CDN, for maps), no address at all.
    assert "http" not in page.replace(get_plotlyjs(), "")
    assert page.count("window.Plotly = Plotly") == 1  # the bundle, once for both charts
    assert page.index("window.Plotly = Plotly") < page.index("Plotly.newPlot(")


def test_a_report_without_drift_carries_no_plotly_js() -> None:
    frame = pd.DataFrame({"x": np.arange(1000.0)})
    page = compare(frame, frame)._repr_html_()
    assert "Plotly" not in page and "<table" in page
    assert len(page) < 20_000


def test_hostile_names_and_labels_are_escaped(report: DriftReport) -> None:
    page = report._repr_html_()
    assert HOSTILE not in page
    assert "<img" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    # Inside the figures' JSON no tag can close the script either.
    for match in FIGURE.findall(page):
        assert "<" not in match and ">" not in match


def test_many_bins_draw_those_with_the_largest_share_of_kl() -> None:
    rng = np.random.default_rng(1)
    ref = pd.DataFrame({"c": rng.choice([f"v{i}" for i in range(200)], 20_000)})
    cur = pd.DataFrame({"c": rng.choice([f"v{i}" for i in range(100)], 20_000)})
    score = compare(ref, cur, top_k=100)["c"]
    drawn = bins(score)
    assert len(drawn["labels"]) == MAX_BINS < len(score.labels)
    contributions = np.abs(np.asarray(score.contributions))
    kept = {score.labels.index(label) for label in drawn["labels"]}
    assert contributions[list(kept)].min() >= np.sort(contributions)[-MAX_BINS]
    assert "of 101 bins with the largest share of KL" in compare(ref, cur, top_k=100)._repr_html_()


def test_save_html_writes_one_whole_page(report: DriftReport, tmp_path: Path) -> None:
    path = report.save_html(tmp_path / "report.html", title="Payments <today>")
    text = path.read_text(encoding="utf-8")
    assert text.startswith("<!DOCTYPE html>") and text.rstrip().endswith("</html>")
    assert "<title>Payments &lt;today&gt;</title>" in text
    assert "Content-Security-Policy" in text and "default-src 'none'" in text
    assert text.count("window.Plotly = Plotly") == 1


def test_importing_drift_or_comparing_does_not_import_plotly() -> None:
    code = (
        "import sys, drift, pandas as pd; assert 'plotly' not in sys.modules, 'import drift'; "
        "drift.compare(pd.DataFrame({'x': [1.0, 2.0]}), pd.DataFrame({'x': [1.0, 3.0]})); "
        "assert 'plotly' not in sys.modules, 'compare'; print('ok')"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.stdout.strip() == "ok", done.stderr


# --- In a real browser ---------------------------------------------------------


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:  # pragma: no cover
        found = None
    if found is None:
        message = "needs Debian's chromium and the playwright package (pip install -e '.[dev]')"
        if os.environ.get("DRIFT_REQUIRE_BROWSER"):
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=found, headless=True)
        yield b
        b.close()


@pytest.mark.slow
def test_the_saved_page_renders_offline_in_chromium(
    report: DriftReport, tmp_path: Path, browser: Any
) -> None:
    path = report.save_html(tmp_path / "report.html")
    context = browser.new_context(viewport={"width": 1200, "height": 900})
    page = context.new_page()
    requests: list[str] = []
    errors: list[str] = []
    dialogs: list[str] = []

    def route(r: Any) -> None:
        requests.append(r.request.url)
        if r.request.url == path.as_uri():
            r.continue_()
        else:
            r.abort()

    page.route("**/*", route)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    try:
        page.goto(path.as_uri())
        page.wait_for_function(
            "document.querySelectorAll('.chart').length > 0 && "
            "[...document.querySelectorAll('.chart')].every(e => e.dataset.rendered === '1')",
            timeout=20_000,
        )
        drawn = page.evaluate(
            """() => [...document.querySelectorAll('.chart')].map(e => ({
                bars: e.querySelectorAll('.barlayer .point').length,
                markers: e.querySelectorAll('.scatterlayer .point').length,
                ticks: [...e.querySelectorAll('.xtick text')].map(t => t.textContent),
            }))"""
        )
        headings = page.locator(".feature h4").all_inner_texts()
        page.screenshot(path=str(tmp_path / "report.png"), full_page=True)
    finally:
        context.close()
    assert requests == [path.as_uri()], requests  # the page itself, nothing else
    assert errors == [] and dialogs == []
    assert len(drawn) == len(report.drifted)
    for name, chart in zip(report.drifted, drawn, strict=True):
        k = len(report[name].labels)
        assert chart["markers"] == k and chart["bars"] >= k  # empty bins draw no bar
        assert chart["ticks"] == list(report[name].labels)  # shown as written, not as markup
    assert any(h.startswith(HOSTILE) for h in headings)
