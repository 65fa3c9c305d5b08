"""The plugin in Airflow's API server: a browser without a session goes to the login and back."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

HTML = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}


@pytest.fixture(scope="module")
def api_client(airflow_db: Path) -> Any:
    from airflow.api_fastapi.app import create_app
    from fastapi.testclient import TestClient

    return TestClient(create_app(), follow_redirects=False)


@pytest.mark.parametrize(
    "path", ["/drift/", "/drift/monitors/demo_events?start=2024-05-01T00%3A00%3A00"]
)
def test_a_browser_without_a_session_is_sent_to_the_login_and_back(
    api_client: Any, path: str
) -> None:
    response = api_client.get(path, headers=HTML)
    assert response.status_code == 303
    target = urlsplit(response.headers["location"])
    assert target.path == "/api/v2/auth/login"
    (back,) = parse_qs(target.query)["next"]
    assert back == f"http://testserver{path}"
    # Airflow's login route accepts that next (same origin) and sends on to its login page.
    login = api_client.get(response.headers["location"])
    assert login.status_code == 307, login.text
    assert "next=" in login.headers["location"]


def test_api_clients_and_scripts_still_get_a_401(api_client: Any) -> None:
    for path, accept in [
        ("/drift/api/monitors", "application/json"),
        ("/drift/", "*/*"),
        ("/drift/static/dashboard.js", "*/*"),
    ]:
        response = api_client.get(path, headers={"Accept": accept})
        assert response.status_code == 401, path
        assert response.headers["content-type"].startswith("application/json")
    posted = api_client.post("/drift/", headers=HTML)
    assert posted.status_code in (401, 405)
