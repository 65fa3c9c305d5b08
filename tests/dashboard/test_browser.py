"""The dashboard in a real browser: headless Debian chromium driven by Playwright.

The app serves the results the demo monitor stores, standalone and mounted
under a prefix (as in Airflow). The browser opens the overview, clicks to a
monitor and on to a run, checks that every chart was drawn with data, and
saves screenshots. Every request the page makes is checked to stay on
127.0.0.1: plotly.js comes from the app, nothing from the internet.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
from fastapi import FastAPI

from drift.dashboard import create_app

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


@pytest.mark.parametrize("prefix", ["", "/drift"], ids=["standalone", "mounted"])
def test_overview_monitor_and_run_pages_render_their_charts(
    browser: Any, demo_results: str, served: Any, screenshot: Any, prefix: str
) -> None:
    name = "standalone" if not prefix else "mounted"
    visit = Visit(browser)
    page = visit.page
    with served(_app(demo_results, prefix)) as base:
        page.goto(f"{base}{prefix}/")
        assert page.locator("table.monitors tbody tr").count() == 1
        spark = visit.rendered(".spark[data-index='0']")
        assert spark["svg"] >= 1 and spark["points"] == 14  # one per demo window
        screenshot(page, f"{name}-1-overview")

        page.click("a.monitor-link")
        page.wait_for_url(f"{base}{prefix}/monitors/demo_events")
        heat = visit.rendered("#heatmap")
        assert heat["types"] == ["heatmap"] and heat["points"] == 3 * 14  # features x windows
        series = visit.rendered("#series")
        assert series["points"] >= 14  # KL of one feature, plus threshold lines and alerts
        traces = page.eval_on_selector("#series", "el => el.data.map(t => t.name)")
        assert any(t.startswith("warn") for t in traces) and "alert opened" in traces
        visit.rendered("#series-other")
        assert page.locator("table.runs tbody tr").count() == 14
        screenshot(page, f"{name}-2-monitor")

        page.locator("a.run-link").nth(9).click()  # newest first: the tenth is the shift day
        page.wait_for_url(f"{base}{prefix}/runs/*")
        assert "2024-05-19 00:00 → 2024-05-20 00:00" in page.locator("h1").inner_text()
        for i in range(3):
            hist = visit.rendered(f".hist[data-index='{i}']")
            assert hist["types"] == ["bar", "bar", "scatter"] and hist["points"] > 0
        assert page.locator("section.alerts li").count() == 3  # every feature opened an alert
        assert page.locator("table.top-bins").count() == 3
        screenshot(page, f"{name}-3-run")

    assert visit.errors == []
    assert visit.outside == [], f"requests left loopback: {visit.outside}"
    assert any(u.endswith(f"{prefix}/static/plotly.min.js") for u in visit.requests)
    visit.context.close()
