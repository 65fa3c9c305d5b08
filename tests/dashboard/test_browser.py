"""The dashboard in a real browser: headless Debian chromium driven by Playwright.

The app serves the results the demo monitor stores, standalone and mounted
under a prefix (as in Airflow). The browser opens the overview, clicks to a
monitor and on to a run, checks that every chart was drawn with data, and
saves screenshots. Every request the page makes is checked to stay on
127.0.0.1: plotly.js comes from the app, nothing from the internet.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from fastapi import FastAPI

from drift.dashboard import create_app
from drift.dashboard.access import StandaloneToken
from drift.store import ResultsStore

pytestmark = pytest.mark.slow

LOOPBACK = {"127.0.0.1", "localhost"}


class _Opaque:
    """A plain ASGI wrapper, as Airflow's auth guard is: the outer app cannot see its routes."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await self.app(scope, receive, send)


def _app(results: str, prefix: str) -> Any:
    app = create_app(results)
    if not prefix:
        return app
    outer = FastAPI()
    outer.mount(prefix, _Opaque(app))
    return outer


@pytest.fixture(scope="module")
def browser(chromium_path: str) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=chromium_path, headless=True)
        yield b
        b.close()


class Visit:
    """A page that records every request and script error."""

    def __init__(self, browser: Any) -> None:
        self.context = browser.new_context(viewport={"width": 1300, "height": 900})
        self.page = self.context.new_page()
        self.requests: list[str] = []
        self.outside: list[str] = []
        self.errors: list[str] = []
        self.page.route("**/*", self._route)
        self.page.on("pageerror", lambda exc: self.errors.append(str(exc)))
        self.page.on(
            "console", lambda msg: self.errors.append(msg.text) if msg.type == "error" else None
        )

    def _route(self, route: Any) -> None:
        url = route.request.url
        self.requests.append(url)
        if urlsplit(url).hostname in LOOPBACK:
            route.continue_()
        else:
            self.outside.append(url)
            route.abort()

    def rendered(self, selector: str) -> dict[str, Any]:
        """Wait for the chart at ``selector`` and describe what plotly drew."""
        self.page.wait_for_selector(f"{selector}[data-rendered='1']", timeout=20_000)
        info: dict[str, Any] = self.page.eval_on_selector(
            selector,
            """el => ({
                traces: (el.data || []).length,
                points: (el.data || []).reduce((n, t) =>
                    n + (t.z ? t.z.flat().filter(v => v !== null).length
                             : (t.y || []).filter(v => v !== null).length), 0),
                svg: el.querySelectorAll('.main-svg').length,
                types: (el.data || []).map(t => t.type || 'scatter'),
            })""",
        )
        return info


def _point(visit: Visit, selector: str, trace: int, i: int | None, j: int) -> tuple[float, float]:
    """Where on the page plotly drew point ``j`` of ``trace`` (row ``i`` of a heatmap).

    The chart is scrolled into view first, as a user would: the coordinates are
    the viewport's, and a click outside the viewport reaches nothing.
    """
    visit.page.locator(selector).scroll_into_view_if_needed()
    xy: list[float] = visit.page.eval_on_selector(
        selector,
        """(el, [k, i, j]) => {
            const xa = el._fullLayout.xaxis, ya = el._fullLayout.yaxis, t = el.data[k];
            const box = el.getBoundingClientRect();
            const y = i === null ? t.y[j] : t.y[i];
            return [box.left + xa._offset + xa.d2p(t.x[j]), box.top + ya._offset + ya.d2p(y)];
        }""",
        [trace, i, j],
    )
    return xy[0], xy[1]


SHIFT = "2024-05-19 00:00 → 2024-05-20 00:00"  # the first window of shifted data


@pytest.mark.parametrize("prefix", ["", "/drift"], ids=["standalone", "mounted"])
def test_overview_monitor_and_run_pages_render_their_charts(
    browser: Any, demo_results: str, served: Any, screenshot: Any, prefix: str
) -> None:
    name = "standalone" if not prefix else "mounted"
    visit = Visit(browser)
    page = visit.page
    with served(_app(demo_results, prefix)) as base:
        page.goto(f"{base}{prefix}/")
        assert page.locator("table.monitors > tbody > tr").count() == 1
        spark = visit.rendered(".spark[data-index='0']")
        assert spark["svg"] >= 1 and spark["points"] == 14  # one per demo window
        assert page.locator(".spark .modebar").count() == 0  # a sparkline has no toolbar
        # The morning page: a feature x window strip, open alerts with age, freshness.
        assert page.locator("table.strip tr").count() == 3
        assert page.locator("table.strip td a").count() == 3 * 14
        assert page.locator("ul.open-alerts li").count() == 3
        assert page.locator(".freshness[data-state='late']").count() == 1  # the demo is of 2024
        assert page.locator(".drift-state").inner_text() == "critical"
        screenshot(page, f"{name}-1-overview")
        if not prefix:
            screenshot(page, "overview-after")

        page.click("a.monitor-link")
        page.wait_for_url(f"{base}{prefix}/monitors/demo_events")
        heat = visit.rendered("#heatmap")
        assert heat["types"] == ["heatmap"] and heat["points"] == 3 * 14  # features x windows
        series = visit.rendered("#series")
        assert series["points"] >= 14  # KL of one feature, plus threshold lines and alerts
        traces = page.eval_on_selector("#series", "el => el.data.map(t => t.name)")
        assert any(t.startswith("warn") for t in traces) and "alert opened" in traces
        visit.rendered("#series-other")
        # The two series charts share their x axis: same range, same place on the page.
        axes = [
            page.eval_on_selector(
                sel, "el => [el._fullLayout.xaxis.range, el._fullLayout.xaxis._offset, "
                "el._fullLayout.xaxis._length, el.getBoundingClientRect().left]",
            )
            for sel in ("#series", "#series-other")
        ]  # fmt: skip
        assert axes[0] == axes[1]
        assert page.locator("table.runs tbody tr").count() == 14
        screenshot(page, f"{name}-2-monitor")
        if not prefix:
            screenshot(page, "monitor-after")

        # A heatmap cell opens its run: amount (row 0) in the shift window, placed at its start.
        starts = page.eval_on_selector("#heatmap", "el => el.data[0].x")
        shift = next(j for j, x in enumerate(starts) if x.startswith("2024-05-19"))
        page.mouse.click(*_point(visit, "#heatmap", 0, 0, shift))
        page.wait_for_url(f"{base}{prefix}/runs/*")
        assert SHIFT in page.locator("h1").inner_text()
        assert SHIFT in page.title()  # the tab says what the heading says
        for i in range(3):
            hist = visit.rendered(f".hist[data-index='{i}']")
            assert hist["types"] == ["bar", "bar", "scatter"] and hist["points"] > 0
        assert page.locator("section.alerts li").count() == 3  # every feature opened an alert
        assert page.locator("table.top-bins").count() == 3
        right = page.eval_on_selector(
            ".hist[data-index='0']",
            "el => [el._fullLayout.yaxis2.zeroline, el._fullLayout.yaxis2.automargin]",
        )
        assert right == [False, True]
        screenshot(page, f"{name}-3-run")
        if not prefix:
            screenshot(page, "run-after")

        # A point of the feature series opens its run too.
        page.go_back()
        visit.rendered("#series")
        page.mouse.click(*_point(visit, "#series", 0, None, shift))
        page.wait_for_url(f"{base}{prefix}/runs/*")
        assert SHIFT in page.locator("h1").inner_text()

        # The range presets: the last 7 days of data are 7 windows.
        page.go_back()
        page.click("form.range .presets a:text('7 days')")
        page.wait_for_url("**start=*")
        assert visit.rendered("#heatmap")["points"] == 3 * 7
        assert page.locator("table.runs tbody tr").count() == 7

    assert visit.errors == []
    assert visit.outside == [], f"requests left loopback: {visit.outside}"
    assert any(u.endswith(f"{prefix}/static/plotly.min.js") for u in visit.requests)
    assert any(u.endswith(f"{prefix}/static/favicon.svg") for u in visit.requests)
    visit.context.close()


def test_signing_in_and_acknowledging_an_alert_through_the_confirm_page(
    browser: Any, demo_results: str, served: Any, screenshot: Any, tmp_path: Path
) -> None:
    copy = tmp_path / "drift.db"  # the demo's results are shared: act on a copy
    shutil.copyfile(demo_results.removeprefix("sqlite:///"), copy)
    results = f"sqlite:///{copy}"
    token = "browser-test-token-0123"
    visit = Visit(browser)
    page = visit.page
    with served(create_app(results, access=StandaloneToken(token))) as base:
        page.goto(f"{base}/monitors/demo_events")
        assert page.locator("a[id^='ack-']").count() == 0  # anonymous: read only
        page.click("text=Enter the token")
        page.wait_for_url(f"{base}/sign-in?*")
        page.fill("input[name='token']", "not-the-token-at-all")
        page.click("#sign-in")
        assert "wrong token" in page.locator("#error").inner_text()
        page.fill("input[name='token']", token)
        page.click("#sign-in")
        page.wait_for_url(f"{base}/monitors/demo_events")
        button = page.locator("section.alerts a[id^='ack-']").first
        alert_id = int((button.get_attribute("id") or "").removeprefix("ack-"))
        button.click()
        page.wait_for_url(f"{base}/monitors/demo_events/confirm/acknowledge?alert_id={alert_id}")
        summary = page.locator("#summary").inner_text()
        assert summary.startswith(f"Acknowledge alert #{alert_id}: demo_events.")
        assert ", open since " in summary
        screenshot(page, "oncall-1-confirm")
        page.fill("textarea[name='note']", "looked at it: a new market")
        page.click("#confirm")
        page.wait_for_url(f"{base}/monitors/demo_events#history")
        mark = page.locator(f".acknowledged[data-alert='{alert_id}']").inner_text()
        assert mark.startswith("acknowledged by standalone:token")
        assert "looked at it: a new market" in mark
        assert page.locator("ul.history li[data-kind='acknowledge']").count() == 1
        assert page.locator(f"#ack-{alert_id}").count() == 0
        screenshot(page, "oncall-2-acknowledged")
    store = ResultsStore(results)
    try:
        (alert,) = [a for a in store.open_alerts("demo_events") if a.id == alert_id]
        assert alert.acknowledged_by == "standalone:token"
        assert alert.acknowledged_note == "looked at it: a new market"
    finally:
        store.close()
    # The only failed load is the form answering the wrong token with its 403.
    assert visit.errors == [
        "Failed to load resource: the server responded with a status of 403 (Forbidden)"
    ]
    assert visit.outside == [], f"requests left loopback: {visit.outside}"
    visit.context.close()


def test_segments_and_a_pair_in_the_browser(
    browser: Any, segment_results: tuple[str, Any], served: Any, screenshot: Any
) -> None:
    """Issue 19: the monitor's segment x feature table, the run page's picker, a pair's heatmap."""
    url, filled = segment_results
    last = filled["runs"][-1]
    visit = Visit(browser)
    page = visit.page
    with served(_app(url, "/drift")) as base:
        page.goto(f"{base}/drift/monitors/shop?feature=amount")
        table = page.locator("#segments table.segments")
        assert table.locator("tbody tr").count() == 4  # the whole population and 3 segments
        assert table.locator("td.s-critical").count() == 2  # amount in BR; the pair, overall
        by_segment = visit.rendered("#series-segments")
        assert by_segment["traces"] == 4 and by_segment["points"] == 4 * 3
        screenshot(page, "segments-1-monitor")

        # The critical cell of amount in BR opens the run in that segment.
        table.locator("tbody tr", has_text="country=BR").locator("td.s-critical a").click()
        page.wait_for_url(f"{base}/drift/runs/{last}?segment=country%3DBR")
        assert "in country=BR" in page.locator("h1").inner_text()
        assert page.locator("#segment-pick").input_value() == "country=BR"
        hist = visit.rendered(".hist[data-index='0']")
        assert hist["types"] == ["bar", "bar", "scatter"] and hist["points"] > 0
        assert page.locator("section.feature").count() == 1  # only amount is scored in BR
        screenshot(page, "segments-2-run-br")

        # The picker: the whole population, with every feature and the pair's heatmap.
        page.select_option("#segment-pick", "")
        page.wait_for_url(f"{base}/drift/runs/{last}?segment=")
        assert "in country=" not in page.locator("h1").inner_text()
        assert page.locator("section.feature").count() == 3
        pair = visit.rendered(".pair[data-index='1']")
        assert pair["types"] == ["heatmap"] and pair["points"] == 9  # 3 amount bins x 3 countries
        axes = page.eval_on_selector(
            ".pair[data-index='1']",
            "el => [el._fullLayout.xaxis.title.text, el._fullLayout.yaxis.title.text]",
        )
        assert axes == ["amount", "country"]
        assert "conditional 0.2500" in page.locator("section.feature p.split").inner_text()
        screenshot(page, "segments-3-run-pair")

        page.select_option("#segment-pick", "country=US")
        page.wait_for_url(f"{base}/drift/runs/{last}?segment=country%3DUS")
        assert page.locator("#segment-pick").input_value() == "country=US"
    assert visit.errors == []
    assert visit.outside == [], f"requests left loopback: {visit.outside}"
    visit.context.close()
