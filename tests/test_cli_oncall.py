"""The on-call commands of `drift` (issue 16): the store changes as its API would, every backend.

Each command runs through ``drift.cli.main.main`` against the ``store``
fixture's database; what it changed is read back through the store API, and a
refused action leaves the store as it was.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from stored import open_alert, resolve_alert

from drift.cli.main import main
from drift.store import ResultsStore
from drift.store.records import RunRecord, ScoreRecord

pytestmark = pytest.mark.db

T0 = datetime(2024, 6, 1, tzinfo=UTC)


def _run(store: ResultsStore, features: tuple[str, ...] = ("amount", "country")) -> int:
    scores = tuple(
        ScoreRecord(
            feature=f, metric="kl", value=0.3, value_corrected=0.25, p_value=0.001,
            p_adjusted=0.002, n_current=100, n_reference=100, missing_rate=0.0,
            severity="warn", warn_threshold=0.1, critical_threshold=0.5,
            smoothing="lidstone", alpha=0.5,
        )
        for f in features
    )  # fmt: skip
    store.save_monitor("orders", {"name": "orders"})
    return store.write_run(
        RunRecord(
            monitor="orders", window_start=T0, window_end=T0 + timedelta(days=1), status="ok",
            error=None, started_at=None, finished_at=None, duration_seconds=None,
            airflow_run_id=None, scores=scores, histograms=(),
        )
    )  # fmt: skip


def _seeded(store: ResultsStore) -> dict[str, int]:
    """Open alerts on orders.amount and orders.country; their ids by feature."""
    run_id = _run(store)
    open_alert(store, "orders", "amount", run_id)
    open_alert(store, "orders", "country", run_id, severity="critical")
    return {a.feature: a.id for a in store.open_alerts("orders")}


def _state(store: ResultsStore) -> tuple[Any, ...]:
    """Everything an on-call command may change, to check that a refused one changed nothing."""
    return (store.alerts("orders"), store.actions("orders"), store.active_snoozes("orders"))


def _drift(capsys: pytest.CaptureFixture[str], url: str, *args: str) -> tuple[int, str, str]:
    code = main([*args, "--url", url])
    out, err = capsys.readouterr()
    return code, out, err


def test_ack_marks_the_alert_and_says_so(
    store: ResultsStore, db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    ids = _seeded(store)
    code, out, err = _drift(
        capsys, db_url, "alerts", "ack", str(ids["amount"]), "--note", "looking", "--actor", "alice"
    )
    assert (code, err) == (0, "")
    assert out == f'acknowledged alert {ids["amount"]} (orders.amount, warn) as alice: "looking"\n'
    alert = {a.feature: a for a in store.open_alerts("orders")}["amount"]
    assert (alert.state, alert.acknowledged_by, alert.acknowledged_note) == (
        "open", "alice", "looking",
    )  # fmt: skip
    assert [(x.kind, x.alert_id) for x in store.actions("orders")] == [
        ("acknowledge", ids["amount"])
    ]

    code, out, _ = _drift(capsys, db_url, "alerts", "list", "orders")
    assert code == 0
    lines = out.splitlines()
    assert len(lines) == 2
    assert lines[0].startswith(f"alert {ids['amount']}  orders.amount  warn  open  opened ")
    assert "acknowledged by alice at " in lines[0] and lines[0].endswith(': "looking"')
    assert lines[1].startswith(f"alert {ids['country']}  orders.country  critical  open")
    assert "acknowledged" not in lines[1]


def test_the_actor_defaults_to_drift_actor(
    store: ResultsStore, db_url: str, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    ids = _seeded(store)
    monkeypatch.setenv("DRIFT_ACTOR", "oncall-bot")
    code, out, _ = _drift(capsys, db_url, "alerts", "ack", str(ids["country"]), "--note", "seen")
    assert code == 0 and "as oncall-bot:" in out
    assert {a.feature: a for a in store.open_alerts()}["country"].acknowledged_by == "oncall-bot"
    monkeypatch.delenv("DRIFT_ACTOR")
    monkeypatch.setenv("USER", "carol")
    code, out, _ = _drift(
        capsys, db_url, "alerts", "snooze", "orders", "--for", "1h", "--note", "deploy"
    )
    assert code == 0
    (snooze,) = store.active_snoozes("orders")
    assert snooze.actor.startswith("carol@") and f"as {snooze.actor}:" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("alerts", "ack", "424242", "--note", "x"), "no alert with id 424242"),
        (("alerts", "ack", "{amount}", "--note", "  "), "note is empty"),
        (("alerts", "snooze", "nope", "--for", "2h", "--note", "x"), "unknown monitor 'nope'"),
        (("alerts", "snooze", "orders", "--feature", "ghost", "--for", "2h", "--note", "x"),
         "has no feature 'ghost'"),
        (("alerts", "snooze", "orders", "--for", "2 hours", "--note", "x"),
         "--for must be a duration like 30m"),
        (("alerts", "snooze", "orders", "--for", "0m", "--note", "x"), "positive duration"),
        (("baseline", "accept", "orders", "--start", "2024-06-02", "--end", "2024-06-01",
          "--note", "x"), "empty or reversed"),
        (("baseline", "accept", "nope", "--start", "2024-06-01", "--end", "2024-06-02",
          "--note", "x"), "unknown monitor 'nope'"),
        (("baseline", "accept", "orders", "--feature", "ghost", "--start", "2024-06-01",
          "--end", "2024-06-02", "--note", "x"), "has no feature 'ghost'"),
        (("baseline", "accept", "orders", "--start", "2024-06-01", "--end", "2024-06-02",
          "--note", ""), "note is empty"),
    ],
)  # fmt: skip
def test_a_refused_action_is_one_error_line_and_changes_nothing(
    store: ResultsStore, db_url: str, capsys: pytest.CaptureFixture[str],
    args: tuple[str, ...], message: str,
) -> None:  # fmt: skip
    ids = _seeded(store)
    before = _state(store)
    code, out, err = _drift(capsys, db_url, *(a.format(**ids) for a in args), "--actor", "ana")
    assert code == 1 and out == ""
    assert err.startswith("drift: error: ") and message in err and err.count("\n") == 1
    assert _state(store) == before


def test_an_already_resolved_alert_cannot_be_acknowledged(
    store: ResultsStore, db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    ids = _seeded(store)
    resolve_alert(store, "orders", "amount", _run(store))
    before = _state(store)
    code, _, err = _drift(capsys, db_url, "alerts", "ack", str(ids["amount"]), "--note", "late")
    assert code == 1
    assert f"alert {ids['amount']} is already resolved" in err
    assert _state(store) == before


def test_snooze_is_in_force_and_listed(
    store: ResultsStore, db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    _seeded(store)
    before = datetime.now(UTC)
    code, out, err = _drift(
        capsys, db_url, "alerts", "snooze", "orders", "--feature", "country", "--for", "2d",
        "--note", "migration", "--actor", "bo",
    )  # fmt: skip
    after = datetime.now(UTC)
    assert (code, err) == (0, "")
    (snooze,) = store.active_snoozes("orders")
    assert (snooze.feature, snooze.actor, snooze.note) == ("country", "bo", "migration")
    assert snooze.until is not None
    assert before + timedelta(days=2) <= snooze.until <= after + timedelta(days=2)
    assert out.startswith("snoozed orders.country for 2d, until ")
    assert out.endswith(' as bo: "migration"\n')
    assert store.active_snoozes("orders", at=after + timedelta(days=3)) == []

    code, out, _ = _drift(capsys, db_url, "alerts", "list")
    assert code == 0
    assert out.splitlines()[-1].startswith("snoozed orders.country until ")
    assert out.splitlines()[-1].endswith(' by bo: "migration"')

    code, out, _ = _drift(capsys, db_url, "alerts", "list", "orders", "--format", "json")
    body = json.loads(out)
    assert [a["feature"] for a in body["alerts"]] == ["amount", "country"]
    assert [(s["feature"], s["actor"]) for s in body["snoozes"]] == [("country", "bo")]


def test_accepting_a_baseline_resolves_what_it_explains(
    store: ResultsStore, db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    ids = _seeded(store)
    code, out, err = _drift(
        capsys, db_url, "baseline", "accept", "orders", "--feature", "amount",
        "--start", "2024-06-01", "--end", "2024-06-02T00:00:00+00:00", "--note", "new market",
        "--actor", "ana",
    )  # fmt: skip
    assert (code, err) == (0, "")
    assert out == (
        "accepted 2024-06-01 00:00 .. 2024-06-02 00:00 UTC as the baseline of orders.amount "
        f'as ana: "new market"; resolved 1 open alert(s): {ids["amount"]}\n'
    )
    (accepted,) = store.accepted_baselines("orders")
    assert (accepted.feature, accepted.range_start, accepted.range_end) == (
        "amount", T0, T0 + timedelta(days=1),
    )  # fmt: skip
    assert [a.feature for a in store.open_alerts("orders")] == ["country"]
    resolved = {a.feature: a for a in store.alerts("orders")}["amount"]
    assert resolved.state == "resolved"
    assert resolved.resolved_reason and "accepted by ana" in resolved.resolved_reason

    code, out, _ = _drift(capsys, db_url, "alerts", "list", "orders")
    assert code == 0 and [line.split()[1] for line in out.splitlines()] == [str(ids["country"])]
    code, out, _ = _drift(capsys, db_url, "alerts", "list", "orders", "--all")
    lines = out.splitlines()
    assert [line.split()[1] for line in lines] == [str(ids["amount"]), str(ids["country"])]
    assert "  resolved  " in lines[0] and "resolved: new baseline accepted by ana" in lines[0]

    code, out, _ = _drift(
        capsys, db_url, "baseline", "accept", "orders", "--start", "2024-06-01",
        "--end", "2024-06-02", "--note", "all of it",
    )  # fmt: skip
    assert code == 0 and out.endswith(f"resolved 1 open alert(s): {ids['country']}\n")
    assert "orders (every feature)" in out
    assert store.open_alerts("orders") == []


def test_no_open_alerts_is_said_plainly(
    store: ResultsStore, db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    _run(store)
    assert _drift(capsys, db_url, "alerts", "list") == (0, "no open alerts\n", "")
    assert _drift(capsys, db_url, "alerts", "list", "orders", "--all") == (
        0, "no alerts for orders\n", "",
    )  # fmt: skip
    code, out, _ = _drift(capsys, db_url, "alerts", "list", "--format", "json")
    assert code == 0 and json.loads(out) == {"alerts": [], "snoozes": []}


def test_dashboard_actions_need_the_token_in_the_environment(
    store: ResultsStore, db_url: str, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    monkeypatch.delenv("DRIFT_DASHBOARD_TOKEN", raising=False)
    code, out, err = _drift(capsys, db_url, "dashboard", "--allow-actions", "--port", "1")
    assert (code, out) == (1, "")
    assert "DRIFT_DASHBOARD_TOKEN" in err and "never taken on the command line" in err
    monkeypatch.setenv("DRIFT_DASHBOARD_TOKEN", "short")
    code, out, err = _drift(capsys, db_url, "dashboard", "--allow-actions", "--port", "1")
    assert (code, out) == (1, "")
    assert "DRIFT_DASHBOARD_TOKEN" in err and "at least 16 characters" in err


def test_the_installed_command_acknowledges(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'r.db'}"
    from drift.store import upgrade

    upgrade(url)
    store = ResultsStore(url)
    try:
        ids = _seeded(store)
    finally:
        store.close()
    drift = Path(sys.executable).with_name("drift")
    assert drift.exists(), f"{drift}: the package's `drift` entry point is not installed"
    done = subprocess.run(
        [str(drift), "alerts", "ack", str(ids["amount"]), "--note", "on it", "--url", url],
        capture_output=True, text=True, timeout=120,
        env={**os.environ, "DRIFT_ACTOR": "dana"},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert (
        done.stdout
        == f'acknowledged alert {ids["amount"]} (orders.amount, warn) as dana: "on it"\n'
    )
    store = ResultsStore(url)
    try:
        assert {a.feature: a for a in store.open_alerts()}["amount"].acknowledged_by == "dana"
    finally:
        store.close()
