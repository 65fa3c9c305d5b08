"""Synthetic demo data: a few weeks of events whose distribution shifts part way.

Used by ``make demo`` and the tests. Deterministic for a given seed, so a
second demo run gives the same numbers.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import sqlalchemy as sa

__all__ = ["DEMO_START", "make_demo_source"]

#: Midnight UTC of the first demo day.
DEMO_START = datetime(2024, 5, 1, tzinfo=UTC)

_COUNTRIES = np.array(["US", "DE", "FR", "GB", "IN", "BR", "JP", "CA"])
_BEFORE = np.array([0.35, 0.15, 0.12, 0.12, 0.1, 0.06, 0.05, 0.05])
_AFTER = np.array([0.22, 0.12, 0.1, 0.1, 0.2, 0.16, 0.05, 0.05])
_PROMPTS_BEFORE = (
    "where is my order",
    "cancel my subscription please",
    "how do I reset my password",
    "the app crashes when I pay",
    "refund for a damaged item",
)
_PROMPTS_AFTER = (
    "where is my order",
    "why was my card declined twice",
    "pix payment failed at checkout",
    "upi payment pending for hours",
    "refund for a damaged item",
)


def make_demo_source(
    url: str,
    *,
    days: int = 28,
    shift_day: int = 18,
    rows_per_day: int = 600,
    seed: int = 0,
    start: datetime = DEMO_START,
) -> int:
    """Write the demo ``events`` table (replacing it) and return its row count.

    Columns: ``created_at`` (timestamp), ``amount`` (numeric; from
    ``shift_day`` on its mean and spread grow), ``country`` (categorical; from
    ``shift_day`` on, India and Brazil grow and a new value ``MX`` appears) and
    ``prompt`` (text; new payment-failure topics appear). About 2% of
    ``amount`` values are NULL.

    Parameters
    ----------
    url : str
        SQLAlchemy URL of the database to write to.
    days, shift_day, rows_per_day : int, optional
        Length of the history, the first shifted day, rows per day.
    seed : int, optional
        Random seed; the same seed gives the same table.
    start : datetime, optional
        Midnight (UTC) of the first day.
    """
    if not 0 <= shift_day <= days:
        raise ValueError(f"`shift_day` must be within [0, days={days}], got {shift_day}.")
    rng = np.random.default_rng(seed)
    rows: list[dict[str, object]] = []
    for day in range(days):
        shifted = day >= shift_day
        seconds = np.sort(rng.integers(0, 86_400, rows_per_day))
        amount = rng.lognormal(3.6 + (0.35 if shifted else 0.0), 0.5, rows_per_day)
        countries = rng.choice(_COUNTRIES, rows_per_day, p=_AFTER if shifted else _BEFORE)
        if shifted:
            countries[rng.random(rows_per_day) < 0.04] = "MX"
        prompts = _PROMPTS_AFTER if shifted else _PROMPTS_BEFORE
        picks = rng.integers(0, len(prompts), rows_per_day)
        for i in range(rows_per_day):
            ts = start + timedelta(days=day, seconds=int(seconds[i]))
            rows.append(
                {
                    "created_at": ts.replace(tzinfo=None),
                    "amount": None if rng.random() < 0.02 else round(float(amount[i]), 2),
                    "country": str(countries[i]),
                    "prompt": prompts[int(picks[i])],
                }
            )
    meta = sa.MetaData()
    table = sa.Table(
        "events",
        meta,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("created_at", sa.DateTime, nullable=False, index=True),
        sa.Column("amount", sa.Float),
        sa.Column("country", sa.String(8)),
        sa.Column("prompt", sa.Text),
    )
    for i, row in enumerate(rows):
        row["id"] = i + 1
    engine = sa.create_engine(url)
    try:
        meta.drop_all(engine)
        meta.create_all(engine)
        with engine.begin() as conn:
            conn.execute(table.insert(), rows)
    finally:
        engine.dispose()
    return len(rows)
