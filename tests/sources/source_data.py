"""The events table of the source tests: rows with awkward values, on every backend.

A plain module (not conftest.py) so test modules can import it under
``--import-mode=importlib``; tests/sources/conftest.py puts this folder on
``sys.path``.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa

T0 = datetime(2024, 1, 1, tzinfo=UTC)
DAY = timedelta(days=1)
COUNTRIES = ["US", "DE", "FR", "us", "GB", "JP", "BR", "IN", "DE ", "Åland"]
WORDS = ["the", "cat", "sat", "on", "a", "mat", "dog", "ran", "far", "away", "Cat"]


@dataclass
class Events:
    """An ``events`` table and the Python rows it holds."""

    engine: sa.Engine
    table: str
    rows: list[dict[str, Any]]
    backend: str

    def values(
        self, column: str, start: datetime | None = None, end: datetime | None = None
    ) -> list[Any]:
        return [
            r[column]
            for r in self.rows
            if (start is None or r["ts"] >= start) and (end is None or r["ts"] < end)
        ]


def has_nan(backend: str) -> bool:
    return backend in ("postgresql", "duckdb", "spark")


def has_inf(backend: str) -> bool:
    return backend in ("postgresql", "duckdb", "sqlite", "spark")


def make_rows(backend: str, n: int = 600, seed: int = 7) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        ts = T0 + timedelta(minutes=(i * 37) % (3 * 24 * 60))
        amount: float | None = round(rng.gauss(50, 20), 2)
        roll = rng.random()
        if roll < 0.05:
            amount = None
        elif roll < 0.08 and has_nan(backend):
            amount = math.nan
        elif roll < 0.10 and has_inf(backend):
            amount = math.inf if rng.random() < 0.5 else -math.inf
        country = rng.choice(COUNTRIES) if rng.random() > 0.05 else None
        words = [rng.choice(WORDS) for _ in range(rng.randint(0, 6))]
        rows.append(
            {
                "id": i,
                "ts": ts,
                "amount": amount,
                "qty": rng.choice([1, 1, 1, 2, 2, 3, 5, 8, 13]),
                "const": 4.5,
                "country": country,
                "prompt": " ".join(words) if rng.random() > 0.03 else None,
            }
        )
    return rows


def events_table(name: str, *, quote_ts: str = "ts") -> sa.Table:
    return sa.Table(
        name,
        sa.MetaData(),
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column(quote_ts, sa.DateTime()),
        sa.Column("amount", sa.Double()),
        sa.Column("qty", sa.Integer),
        sa.Column("const", sa.Double()),
        sa.Column("country", sa.String(20)),
        sa.Column("prompt", sa.Text),
    )


def load(engine: sa.Engine, table: sa.Table, rows: list[dict[str, Any]]) -> None:
    table.create(engine)
    naive = [{**r, "ts": r["ts"].astimezone(UTC).replace(tzinfo=None)} for r in rows]
    with engine.begin() as conn:
        conn.execute(table.insert(), naive)
