"""Accepting a new normal (issue 16): the next windows are judged against the accepted range.

On the demo's data (its shift on 2024-05-19) and its real monitor file, on
every results backend: after ``drift baseline accept`` over the shifted days
the next window is no longer drifted, the incidents it explains resolve with
the reason, and the old baseline stays in the store's history.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from drift.cli.main import main
from drift.config import MonitorConfig, load_monitor
from drift.config.models import ReferenceConfig
from drift.errors import SourceError
from drift.run import WindowResult, backfill, run_window
from drift.run.accepted import ACCEPTED_SPEC_KEY
from drift.sources.demo_data import make_demo_source
from drift.store import ResultsStore
from drift.store import tables as t

pytestmark = pytest.mark.db

DEMO = Path(__file__).resolve().parents[1] / "dags" / "monitors" / "demo_events.yaml"
DAY = timedelta(days=1)


def _at(day: str) -> datetime:
    return datetime.fromisoformat(day).replace(tzinfo=UTC)


@pytest.fixture
def demo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> MonitorConfig:
    source = f"sqlite:///{tmp_path / 'demo_source.db'}"
    make_demo_source(source, days=28, shift_day=18, rows_per_day=300)
    monkeypatch.setenv("DRIFT_DEMO_SOURCE_URL", source)
    return load_monitor(DEMO)


def _drifted(store: ResultsStore, monitor: MonitorConfig, day: str) -> tuple[str, ...]:
    result = run_window(monitor, _at(day) - DAY, _at(day), store=store, notify=False)
    assert result.status == "ok", result.error
    return result.summary().drifted


def test_after_accepting_the_shifted_days_the_demo_is_no_longer_drifted(
    store: ResultsStore, db_url: str, demo: MonitorConfig, capsys: pytest.CaptureFixture[str]
) -> None:
    backfill(demo, _at("2024-05-15"), _at("2024-05-25"), store=store)
    assert set(_drifted(store, demo, "2024-05-26")) == {"amount", "country", "prompt"}
    opened = {a.feature for a in store.open_alerts("demo_events")}
    assert opened == {"amount", "country", "prompt"}

    code = main([
        "baseline", "accept", "demo_events", "--start", "2024-05-19", "--end", "2024-05-26",
        "--note", "the new checkout flow launched on the 19th", "--actor", "oncall",
        "--url", db_url,
    ])  # fmt: skip
    assert code == 0, capsys.readouterr().err
    assert store.open_alerts("demo_events") == []
    reasons = {a.resolved_reason for a in store.alerts("demo_events")}
    assert all("new baseline accepted by oncall" in (r or "") for r in reasons)

    assert _drifted(store, demo, "2024-05-27") == ()
    assert _drifted(store, demo, "2024-05-28") == ()
    records = {r.feature: r for r in store.baseline_in_force("demo_events")}
    assert {r.reference_start for r in records.values()} == {_at("2024-05-19")}
    assert {r.reference_end for r in records.values()} == {_at("2024-05-26")}
    assert len({r.binning_spec[ACCEPTED_SPEC_KEY] for r in records.values()}) == 1
    b = t.baseline
    with store.engine.connect() as conn:
        versions = conn.execute(
            sa.select(b.c.version, sa.func.min(b.c.reference_start))
            .where(b.c.monitor == "demo_events").group_by(b.c.version).order_by(b.c.version)
        ).all()  # fmt: skip
    assert [v for v, _ in versions] == [1, 2]  # the old baseline stays in history


def test_accepting_one_feature_leaves_the_others_judged_as_before(
    store: ResultsStore, demo: MonitorConfig
) -> None:
    assert set(_drifted(store, demo, "2024-05-25")) == {"amount", "country", "prompt"}
    store.accept_baseline(
        "demo_events", feature="amount", start=_at("2024-05-19"), end=_at("2024-05-25"),
        actor="oncall", note="larger baskets are the new normal",
    )  # fmt: skip
    assert set(_drifted(store, demo, "2024-05-26")) == {"country", "prompt"}
    records = {r.feature: r for r in store.baseline_in_force("demo_events")}
    assert records["amount"].reference_start == _at("2024-05-19")
    assert records["country"].reference_start == _at("2024-05-01")
    assert ACCEPTED_SPEC_KEY not in records["country"].binning_spec


def test_a_rolling_monitor_judges_an_accepted_feature_on_the_frozen_range(
    store: ResultsStore, demo: MonitorConfig
) -> None:
    """The one-pass backfill and a single run agree on the accepted feature's reference."""
    rolling = demo.model_copy(update={"reference": ReferenceConfig(previous_windows=7)})
    run_window(rolling, _at("2024-05-14"), _at("2024-05-15"), store=store, notify=False)
    store.accept_baseline(
        "demo_events", feature="amount", start=_at("2024-05-01"), end=_at("2024-05-08"),
        actor="oncall", note="the first week is what the model was trained on",
    )  # fmt: skip
    filled = backfill(rolling, _at("2024-05-20"), _at("2024-05-22"), store=store)
    single = run_window(rolling, _at("2024-05-21"), _at("2024-05-22"), store=store, notify=False)
    by_window = {r.window_end: r for r in filled}
    assert _score(by_window[_at("2024-05-22")], "amount") == pytest.approx(
        _score(single, "amount"), rel=1e-9
    )
    assert "amount" in single.summary().drifted  # judged against the unshifted first week
    week = ReferenceConfig(start=_at("2024-05-01"), end=_at("2024-05-08"))
    fixed = demo.model_copy(update={"name": "first_week", "reference": week})
    same = run_window(fixed, _at("2024-05-21"), _at("2024-05-22"), store=store, notify=False)
    assert _score(single, "amount") == pytest.approx(_score(same, "amount"), rel=1e-9)
    record = {r.feature: r for r in store.baseline_in_force("demo_events")}["amount"]
    assert (record.reference_start, record.reference_end) == (_at("2024-05-01"), _at("2024-05-08"))


def test_an_accepted_range_without_rows_is_a_clear_error(
    store: ResultsStore, demo: MonitorConfig
) -> None:
    run_window(demo, _at("2024-05-15"), _at("2024-05-16"), store=store, notify=False)
    action = store.accept_baseline(
        "demo_events", feature=None, start=_at("2023-01-01"), end=_at("2023-01-08"),
        actor="oncall", note="typo in the year",
    )  # fmt: skip
    with pytest.raises(SourceError, match=f"accepted by oncall \\(action {action.id}\\)"):
        run_window(demo, _at("2024-05-16"), _at("2024-05-17"), store=store, notify=False)


def _score(result: WindowResult, feature: str) -> float:
    (score,) = [s for s in result.scores if s.feature == feature]
    return float(score.metrics["kl_corrected"])
