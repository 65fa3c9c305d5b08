"""Secrets: a password in a connection or channel URL never shows up anywhere.

PostgreSQL here trusts local connections, so any password is accepted: the
source and results URLs carry ``s3cret-XYZ`` for real, as does the alert
channel's URL. After successful and failing runs, in-process and through the
``drift`` CLI, the password is searched for in the log, the CLI's output, the
run's result, every text column of every results table (stored monitor
config, run errors, alert messages, notification bodies) and the bodies the
receiver got.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from fault_support import LIVE, free_port, make_events, posts
from pytest_httpserver import HTTPServer

from drift.config import parse_monitor
from drift.errors import ConfigError, DriftError
from drift.run import measure_window, run_window
from drift.store import ResultsStore, upgrade
from drift.store import tables as t

pytestmark = pytest.mark.db

SECRET = "s3cret-XYZ"


def _with_password(url: str) -> str:
    return sa.make_url(url).set(password=SECRET).render_as_string(hide_password=False)


def _stored_text(store: ResultsStore) -> str:
    """Every row of every results table, as text."""
    out = []
    with store.engine.connect() as conn:
        for table in (t.monitor, t.baseline, t.run, t.score, t.histogram, t.alert, t.notification):
            out.extend(repr(tuple(row)) for row in conn.execute(sa.select(table)))
    return "\n".join(out)


def _dashboard_text(store: ResultsStore) -> str:
    """Every page and API answer of the dashboard over ``store``: overview, monitors, runs."""
    from fastapi.testclient import TestClient

    from drift.dashboard import create_app

    client = TestClient(create_app(store))
    texts = [client.get("/").text, client.get("/api/monitors").text]
    for monitor in client.get("/api/monitors").json():
        name = monitor["name"]
        texts += [client.get(f"/monitors/{name}").text, client.get(f"/api/monitors/{name}").text]
        texts.append(client.get(f"/api/monitors/{name}/alerts").text)
        for run in client.get(f"/api/monitors/{name}/runs").json():
            texts += [
                client.get(f"/runs/{run['id']}").text,
                client.get(f"/api/runs/{run['id']}").text,
            ]
    assert len(texts) > 6, "the dashboard showed no runs to scan"
    return "\n".join(texts)


def _monitor(hook: str, **extra: Any) -> Any:
    return parse_monitor(
        {
            "name": "secretive",
            "source": {"url_env": "DRIFT_TEST_SOURCE_URL"},
            "table": "events",
            "timestamp": "created_at",
            "window": "1d",
            "reference": {"start": "2024-03-01", "end": "2024-03-08"},
            "features": [
                {"name": "amount", "kind": "numeric"},
                {"name": "country", "kind": "categorical"},
            ],
            "alerts": [
                {"apprise": hook},
                {
                    "apprise": f"{hook.split('@')[0].split(':')[0]}://"
                    f"{hook.split('@')[1]}?token={SECRET}"
                },
            ],
            **extra,
        }
    )


def test_no_password_in_logs_store_alerts_or_results(
    pg_url: str,
    receiver: HTTPServer,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    caplog.set_level(logging.DEBUG)
    make_events(pg_url)
    secret_url = _with_password(pg_url)
    upgrade(secret_url)
    store = ResultsStore(secret_url)
    monkeypatch.setenv("DRIFT_TEST_SOURCE_URL", secret_url)
    hook = f"json://drift:{SECRET}@127.0.0.1:{receiver.port}/hook"
    seen: list[str] = [repr(store), store.url]
    # A good run: alerts open and are sent.
    result = run_window(_monitor(hook), *LIVE, store=store)
    assert result.status == "ok" and result.drifted
    seen.append(json.dumps(result.summary().to_dict()))
    # Failing runs: a bad column in a query source, then an unreachable source.
    broken = _monitor(
        hook, table=None, query="SELECT created_at, amount, nope AS country FROM events"
    )
    with pytest.raises(DriftError):
        run_window(broken, *LIVE, store=store)
    monkeypatch.setenv(
        "DRIFT_TEST_SOURCE_URL",
        sa.make_url(secret_url).set(port=free_port()).render_as_string(hide_password=False),
    )
    # An unreachable source is a one-line SourceError naming it without the password
    # (issue 15), with the driver's error kept as its cause.
    with pytest.raises(DriftError, match="cannot connect to the source") as caught:
        measure_window(_monitor(hook), LIVE[0], LIVE[1], store=store)
    assert isinstance(caught.value.__cause__, sa.exc.OperationalError)
    seen.extend([str(caught.value), str(caught.value.__cause__)])
    # A channel that refuses, whose URL has the password.
    monkeypatch.setenv("DRIFT_TEST_SOURCE_URL", secret_url)
    dead = f"json://drift:{SECRET}@127.0.0.1:{free_port()}/hook"
    run_window(_monitor(dead, name="secretive2"), *LIVE, store=store)
    stored = _stored_text(store)
    dashboard = _dashboard_text(store)
    posted = json.dumps(posts(receiver))
    assert len(posts(receiver)) == 4  # two alerts on two channels (password, token)
    captured = capsys.readouterr()
    for where, text in {
        "log": caplog.text,
        "stdout/stderr": captured.out + captured.err,
        "results tables": stored,
        "dashboard": dashboard,
        "notification bodies": posted,
        "results and errors": "\n".join(seen),
    }.items():
        assert SECRET not in text, f"the password shows in the {where}"
    store.close()


def test_no_password_in_the_cli_output(pg_url: str, tmp_path: Path) -> None:
    make_events(pg_url)
    secret_url = _with_password(pg_url)
    (tmp_path / "m.yaml").write_text(
        json.dumps(
            {
                "name": "cli-secret",
                "source": {"url_env": "DRIFT_TEST_SOURCE_URL"},
                "table": "events",
                "timestamp": "created_at",
                "window": "1d",
                "reference": {"start": "2024-03-01", "end": "2024-03-08"},
            }
        )
    )
    drift = [sys.executable, "-m", "drift.cli", "-v"]
    env = {**os.environ, "DRIFT_TEST_SOURCE_URL": secret_url}
    outputs = []
    for args in (
        ["db", "upgrade", "--url", secret_url],
        ["run", str(tmp_path / "m.yaml"), "--window-end", "2024-03-10", "--url", secret_url],
        ["run", str(tmp_path / "m.yaml"), "--window-end", "2024-03-10", "--url", secret_url,
         "--format", "json"],
        # Failing: results database unreachable, then the source unreachable.
        ["run", str(tmp_path / "m.yaml"), "--window-end", "2024-03-10", "--url",
         sa.make_url(secret_url).set(port=free_port()).render_as_string(hide_password=False)],
    ):  # fmt: skip
        done = subprocess.run([*drift, *args], capture_output=True, text=True, env=env, timeout=120)
        outputs.append((args[0], done.returncode, done.stdout + done.stderr))
    bad_source = sa.make_url(secret_url).set(port=free_port()).render_as_string(hide_password=False)
    run = [*drift, "run", str(tmp_path / "m.yaml"), "--window-end", "2024-03-10"]
    done = subprocess.run(
        [*run, "--url", secret_url], capture_output=True, text=True, timeout=120,
        env={**env, "DRIFT_TEST_SOURCE_URL": bad_source},
    )  # fmt: skip
    outputs.append(("run-bad-source", done.returncode, done.stdout + done.stderr))
    assert [code for _, code, _ in outputs] == [0, 0, 0, 1, 1], outputs
    assert "could not connect to the results database" in outputs[3][2]
    for what, _, text in outputs:
        assert SECRET not in text, f"the password shows in the output of `drift {what}`: {text}"


def test_a_password_in_the_monitor_file_is_refused_without_echoing_it(tmp_path: Path) -> None:
    url = f"postgresql://postgres:{SECRET}@127.0.0.1/test"
    cases = [
        {"source": {"url": url}},  # the documented refusal
        {"source": url},  # a common slip: the URL where a mapping belongs
        {"source": {"url": url, "url_env": "X"}},
        {"table": {"url": url}},
    ]
    for extra in cases:
        data = {"name": "m", "source": {"url": "sqlite://"}, "table": "e", "timestamp": "ts"}
        data.update(extra)
        with pytest.raises(ConfigError) as caught:
            parse_monitor(data, source_name="m.yaml")
        assert SECRET not in str(caught.value), str(caught.value)
