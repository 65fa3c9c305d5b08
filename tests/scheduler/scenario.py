"""The monitored data and the monitor of the scheduler tests: 48 hourly windows that drift.

The source is a PostgreSQL table ``raw_events`` behind a view ``events``
whose every statement first sleeps :data:`SOURCE_SLEEP` seconds, so that a
source read lasts long enough for a watcher to see it in
``pg_stat_activity`` and kill the task process doing it.

The data: a fixed reference day, then 48 live hours. ``amount`` moves a
little in live hours 20-24 (the alert opens at warn), a lot in 25-30 (it
escalates to critical) and comes back (it resolves after three clean
windows); ``country`` gains a new value in hours 38-40 (open, resolve). Two
alert channels, so each incident event is two notifications.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import sqlalchemy as sa
import yaml

HOUR = timedelta(hours=1)
REFERENCE_START = datetime(2024, 6, 2, tzinfo=UTC)
LIVE_START = REFERENCE_START + 24 * HOUR
WINDOWS = 48
LIVE_END = LIVE_START + WINDOWS * HOUR
ROWS_PER_HOUR = 160
#: Seconds every statement on the ``events`` view sleeps before it reads.
SOURCE_SLEEP = 0.3
SOURCE_URL_ENV = "SCHED_SOURCE_URL"


def windows() -> list[tuple[datetime, datetime]]:
    """The 48 live windows, oldest first."""
    return [(LIVE_START + i * HOUR, LIVE_START + (i + 1) * HOUR) for i in range(WINDOWS)]


def _amount_shift(live_hour: int) -> float:
    if 20 <= live_hour <= 24:
        return 4.0
    if 25 <= live_hour <= 30:
        return 14.0
    return 0.0


def rows(seed: int = 20) -> list[dict[str, object]]:
    """The reference day and the 48 live hours, spread evenly over each hour."""
    rng = np.random.default_rng(seed)
    out: list[dict[str, object]] = []
    for hour in range(24 + WINDOWS):
        live_hour = hour - 24
        countries = ["US", "DE", "FR"] + (["BR", "BR"] if 38 <= live_hour <= 40 else [])
        start = REFERENCE_START + hour * HOUR
        for i in range(ROWS_PER_HOUR):
            out.append(
                {
                    "created_at": (start + i * HOUR / ROWS_PER_HOUR).replace(tzinfo=None),
                    "amount": float(rng.normal(50 + _amount_shift(live_hour), 10)),
                    "country": str(rng.choice(countries)),
                }
            )
    return out


def make_source(url: str) -> None:
    """Create ``raw_events`` (filled) and the slow view ``events`` over it."""
    engine = sa.create_engine(url)
    table = sa.Table(
        "raw_events",
        sa.MetaData(),
        sa.Column("created_at", sa.DateTime, nullable=False, index=True),
        sa.Column("amount", sa.Double),
        sa.Column("country", sa.String(8)),
    )
    table.create(engine)
    with engine.begin() as conn:
        conn.execute(table.insert(), rows())
        conn.execute(
            sa.text(
                "CREATE VIEW events AS SELECT created_at, amount, country FROM raw_events "
                f"WHERE EXISTS (SELECT 1 FROM pg_sleep({SOURCE_SLEEP}))"
            )
        )
    engine.dispose()


def write_monitor(folder: Path, name: str, hook_base: str) -> Path:
    """The monitor YAML ``<folder>/<name>.yaml``, alerting to ``<hook_base>/a`` and ``/b``."""
    monitor = {
        "name": name,
        "description": "issue 20: 48 hourly windows under a real scheduler, with crashes",
        "source": {"url_env": SOURCE_URL_ENV},
        "table": "events",
        "timestamp": "created_at",
        "window": "1h",
        "reference": {"start": REFERENCE_START.isoformat(), "end": LIVE_START.isoformat()},
        "features": [
            {"name": "amount", "kind": "numeric", "bins": 8},
            {"name": "country", "kind": "categorical"},
        ],
        "alerts": [{"apprise": f"{hook_base}/a"}, {"apprise": f"{hook_base}/b"}],
    }
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.yaml"
    path.write_text(yaml.safe_dump(monitor, sort_keys=False))
    return path


#: The live hour whose rows the ``sched_gap`` monitor cannot read.
BROKEN_HOUR = 1


def write_gap_monitor(folder: Path, name: str = "sched_gap") -> Path:
    """A monitor of the same rows whose query fails (division by zero) in one live hour.

    Its baseline (the reference day) reads fine; measuring live hour
    :data:`BROKEN_HOUR` fails on every try.
    """
    lo = (LIVE_START + BROKEN_HOUR * HOUR).replace(tzinfo=None).isoformat(sep=" ")
    hi = (LIVE_START + (BROKEN_HOUR + 1) * HOUR).replace(tzinfo=None).isoformat(sep=" ")
    monitor = {
        "name": name,
        "source": {"url_env": SOURCE_URL_ENV},
        "query": (
            "SELECT created_at, amount / (CASE WHEN created_at >= TIMESTAMP "
            f"'{lo}' AND created_at < TIMESTAMP '{hi}' THEN 0 ELSE 1 END) AS amount, "
            "country FROM raw_events"
        ),
        "timestamp": "created_at",
        "window": "1h",
        "reference": {"start": REFERENCE_START.isoformat(), "end": LIVE_START.isoformat()},
        # One feature: a read that fails then fails the run (with several, only that feature).
        "features": [{"name": "amount", "kind": "numeric", "bins": 8}],
    }
    path = folder / f"{name}.yaml"
    path.write_text(yaml.safe_dump(monitor, sort_keys=False))
    return path
