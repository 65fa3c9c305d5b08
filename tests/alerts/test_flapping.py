"""Hysteresis that does not flap: a true shift at the warn threshold keeps one incident.

Each series draws a 10,000-row normal reference (10 quantile bins) and 60
live windows of 500 rows, scores them with :func:`drift.stats.score_feature`
(the default thresholds: warn at a bias-corrected KL of 0.05) and feeds the
severities and scores to :func:`drift.alerts.policy.decide` as dispatch
does. A 0.335-sd mean shift puts the bias-corrected KL at about 0.05, so
windows fall on either side of warn. Measured (10 series): the old defaults
(``consecutive: 1, resolve_after: 1``) open 12-17 incidents per series; the
defaults (``resolve_after: 3, resolve_ratio: 0.5``) open 1.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from drift.alerts import dispatch_alerts
from drift.alerts.policy import decide
from drift.alerts.types import FeatureSummary, WindowSummary
from drift.config import ThresholdsConfig, parse_monitor
from drift.stats import Histogram, score_feature
from drift.store import ResultsStore
from drift.store.records import RunRecord, ScoreRecord

REFERENCE_ROWS = 10_000
WINDOW_ROWS = 500
WINDOWS = 60
AT_WARN = 0.335  # sd of mean shift that puts kl_corrected near 0.05
SERIES = 10


@dataclass(frozen=True)
class Window:
    severity: str
    value: float


def _hist(x: np.typing.NDArray[np.float64], edges: np.typing.NDArray[np.float64]) -> Histogram:
    counts = np.bincount(np.searchsorted(edges, x, side="right"), minlength=len(edges) + 1)
    return Histogram(tuple(f"b{i}" for i in range(len(edges) + 1)), counts)


def _series(shift: Callable[[int], float], seed: int, windows: int = WINDOWS) -> list[Window]:
    rng = np.random.default_rng(seed)
    reference = rng.normal(0.0, 1.0, REFERENCE_ROWS)
    edges = np.quantile(reference, np.linspace(0, 1, 11)[1:-1])
    ref = _hist(reference, edges)
    out = []
    for w in range(windows):
        live = _hist(rng.normal(shift(w), 1.0, WINDOW_ROWS), edges)
        score = score_feature(ref, live, feature="x", kind="numeric")
        out.append(Window(score.severity, score.metrics["kl_corrected"]))
    return out


def _events(windows: list[Window], t: ThresholdsConfig) -> list[tuple[int, str]]:
    """(window index, event) of every open and resolve, as dispatch decides them."""
    open_severity: str | None = None
    past: list[Window] = []
    events = []
    for i, w in enumerate(windows):
        past.insert(0, w)
        d = decide(
            w.severity, open_severity, [p.severity for p in past],
            consecutive=t.consecutive, resolve_after=t.resolve_after,
            values=[p.value for p in past], resolve_below=t.resolve_ratio * t.warn,
        )  # fmt: skip
        if d is None:
            continue
        if d.event in ("open", "resolve"):
            events.append((i, d.event))
        open_severity = None if d.event == "resolve" else d.severity
    return events


def _opened(events: list[tuple[int, str]]) -> int:
    return sum(e == "open" for _, e in events)


OLD = ThresholdsConfig(consecutive=1, resolve_after=1, resolve_ratio=1.0)
NEW = ThresholdsConfig()


@pytest.fixture(scope="module")
def at_warn() -> list[list[Window]]:
    return [_series(lambda _: AT_WARN, seed) for seed in range(SERIES)]


def test_the_simulated_shift_sits_at_the_warn_threshold(at_warn: list[list[Window]]) -> None:
    values = [w.value for s in at_warn for w in s]
    warned = np.mean([w.severity != "ok" for s in at_warn for w in s])
    assert 0.045 < np.mean(values) < 0.055
    assert 0.3 < warned < 0.7


def test_old_defaults_flap_on_a_shift_at_the_warn_threshold(at_warn: list[list[Window]]) -> None:
    counts = [_opened(_events(s, OLD)) for s in at_warn]
    print(f"incidents per 60 windows, consecutive 1 resolve_after 1: {counts}")
    assert min(counts) >= 10


def test_the_defaults_open_at_most_two_incidents(at_warn: list[list[Window]]) -> None:
    assert (NEW.consecutive, NEW.resolve_after, NEW.resolve_ratio) == (1, 3, 0.5)
    counts = [_opened(_events(s, NEW)) for s in at_warn]
    print(f"incidents per 60 windows, defaults: {counts}")
    assert max(counts) <= 2
    assert min(counts) >= 1


def test_a_clear_shift_opens_in_its_first_window() -> None:
    for seed in range(5):
        events = _events(_series(lambda _: 0.6, 100 + seed, windows=10), NEW)
        assert events == [(0, "open")]


def test_an_incident_resolves_soon_after_the_drift_ends() -> None:
    for seed in range(5):
        events = _events(_series(lambda w: AT_WARN if w < 30 else 0.0, 200 + seed), NEW)
        assert _opened(events) == 1
        (resolved,) = [i for i, e in events if e == "resolve"]
        assert 30 + NEW.resolve_after - 1 <= resolved <= 30 + NEW.resolve_after + 2


def test_no_shift_opens_nothing() -> None:
    for seed in range(3):
        assert _events(_series(lambda _: 0.0, 300 + seed), NEW) == []


# End to end: the same simulated windows stored and dispatched window by window.

T0 = datetime(2024, 1, 1, tzinfo=UTC)
DAY = timedelta(days=1)


def _dispatched(store: ResultsStore, windows: list[Window], **thresholds: float) -> list[str]:
    monitor = parse_monitor(
        {
            "name": "sim", "source": {"url": "sqlite://"}, "table": "t", "timestamp": "ts",
            "thresholds": thresholds,
        }
    )  # fmt: skip
    events = []
    for day, w in enumerate(windows):
        start = T0 + day * DAY
        run_id = store.write_run(
            RunRecord(
                monitor="sim", window_start=start, window_end=start + DAY, status="ok",
                error=None, started_at=start, finished_at=start, duration_seconds=0.1,
                airflow_run_id=None,
                scores=(ScoreRecord("x", "kl", w.value, w.value, 1e-6, 1e-6, WINDOW_ROWS,
                                    REFERENCE_ROWS, 0.0, w.severity, 0.05, 0.2, "lidstone", 0.5),),
            )
        )  # fmt: skip
        summary = WindowSummary(
            monitor="sim", window_start=start, window_end=start + DAY, status="ok",
            run_id=run_id, error=None, drifted=(), max_severity=w.severity,
            features=(FeatureSummary("x", "numeric", w.severity, w.severity != "ok", True,
                                     {"kl": w.value, "kl_corrected": w.value}, 1e-6, 1e-6,
                                     WINDOW_ROWS, REFERENCE_ROWS, 0.0),),
        )  # fmt: skip
        result = dispatch_alerts(monitor, summary, store=store, notify=False)
        events += [e["event"] for e in result["events"] if e["event"] != "update"]
    return events


@pytest.mark.db
def test_dispatch_with_a_store_keeps_one_incident(
    store: ResultsStore, at_warn: list[list[Window]]
) -> None:
    windows = at_warn[0][:30]
    assert _dispatched(store, windows) == [e for _, e in _events(windows, NEW)] == ["open"]
    assert len(store.alerts("sim")) == 1


@pytest.mark.db
def test_dispatch_with_the_old_defaults_flaps(
    store: ResultsStore, at_warn: list[list[Window]]
) -> None:
    windows = at_warn[0][:30]
    events = _dispatched(store, windows, resolve_after=1, resolve_ratio=1.0)
    assert events == [e for _, e in _events(windows, OLD)]
    assert events.count("open") >= 4
