"""``drift backfill`` and ``drift run`` on Spark give DuckDB's numbers on the same Parquet files.

The end-to-end backend check of issue 17: one set of Parquet files (NaN,
infinities, NULLs, a category that appears only after the reference, a
shift, free text), read by a monitor on the session's Spark Thrift server
and by the same monitor on DuckDB; both go through the real CLI into their
own results store, and every stored score must agree.
"""

from __future__ import annotations

import json
import math
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import sqlalchemy as sa
from spark_server import load_parquet

from drift.cli.main import main
from drift.store import ResultsStore

pytestmark = [pytest.mark.spark, pytest.mark.slow]

DAY0 = datetime(2024, 3, 1, tzinfo=UTC)
DAYS, PER_DAY = 10, 150
#: Per window end, the share of ``amount`` that is NULL or NaN in the generated rows.
MISSING: dict[datetime, float] = {}


def _parquet(folder: Path) -> list[float | None]:
    rng = random.Random(17)
    stamps, amounts, countries, prompts = [], [], [], []
    for day in range(DAYS):
        shifted = day >= 7
        for i in range(PER_DAY):
            stamps.append((DAY0 + timedelta(days=day, seconds=i * 86_400 // PER_DAY))
                          .replace(tzinfo=None))  # fmt: skip
            roll = rng.random()
            amounts.append(
                None if roll < 0.04 else math.nan if roll < 0.07
                else (math.inf if roll < 0.085 else -math.inf) if roll < 0.10
                else rng.gauss(60 if shifted else 50, 10)
            )  # fmt: skip
            pool = ["US", "DE", "FR", "MX"] if shifted else ["US", "DE", "FR"]
            countries.append(None if rng.random() < 0.05 else rng.choice(pool))
            words = ["refund", "card", "declined"] if shifted else ["hello", "order", "late"]
            prompts.append(" ".join(rng.choice(words) for _ in range(rng.randint(1, 6))))
    folder.mkdir(parents=True)
    pq.write_table(
        pa.table({
            "created_at": pa.array(stamps, pa.timestamp("us")),
            "amount": pa.array(amounts, pa.float64()),
            "country": pa.array(countries, pa.string()),
            "prompt": pa.array(prompts, pa.string()),
        }),
        folder / "part-0.parquet",
    )  # fmt: skip
    return amounts


def _monitor(path: Path, url: str) -> Path:
    path.write_text(
        "name: lake\n"
        f"source: {{url: {json.dumps(url)}}}\n"
        "table: events\ntimestamp: created_at\nwindow: 1d\n"
        "reference: {start: 2024-03-01, end: 2024-03-06}\n"
        "features:\n"
        "  - {name: amount, kind: numeric, bins: 8}\n"
        "  - {name: country, kind: categorical}\n"
        "  - {name: prompt, kind: text, tokenizer: regex, top_k: 20}\n"
    )
    return path


@pytest.fixture(scope="module")
def monitors(spark_server: Any, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("spark_run")
    amounts = _parquet(base / "events")
    MISSING.update({
        DAY0 + timedelta(days=d + 1): sum(
            v is None or math.isnan(v) for v in amounts[d * PER_DAY:(d + 1) * PER_DAY]
        ) / PER_DAY
        for d in range(DAYS)
    })  # fmt: skip
    spark = spark_server.engine()
    load_parquet(spark, "events", base / "events")
    spark.dispose()
    duck_url = f"duckdb:///{base / 'lake.duckdb'}"
    duck = sa.create_engine(duck_url)
    with duck.begin() as conn:
        conn.execute(sa.text(
            f"CREATE VIEW events AS SELECT * FROM read_parquet('{base / 'events'}/*.parquet')"
        ))  # fmt: skip
    duck.dispose()
    return {
        "spark": _monitor(base / "spark.yaml", spark_server.url),
        "duckdb": _monitor(base / "duckdb.yaml", duck_url),
    }


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 9)


def _scores(url: str) -> list[tuple[Any, ...]]:
    store = ResultsStore(url)
    try:
        return sorted(
            (s.window_end, s.feature, s.metric, s.n_current, s.n_reference, s.severity,
             _round(s.value), _round(s.p_value), _round(s.missing_rate))
            for r in store.runs("lake") for s in store.run_scores(r.id)
        )  # fmt: skip
    finally:
        store.close()


def test_backfill_and_run_on_spark_store_what_duckdb_stores(
    monitors: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    results = {}
    summaries = {}
    for backend, monitor in monitors.items():
        url = results[backend] = f"sqlite:///{tmp_path / f'{backend}.db'}"
        assert main(["db", "upgrade", "--url", url]) == 0
        assert main(["backfill", str(monitor), "--start", "2024-03-06", "--end", "2024-03-10",
                     "--url", url]) == 0, capsys.readouterr().err  # fmt: skip
        capsys.readouterr()
        code = main(["run", str(monitor), "--window-end", "2024-03-11", "--format", "json",
                     "--url", url])  # fmt: skip
        out = capsys.readouterr()
        assert code == 0, out.err
        summaries[backend] = json.loads(out.out)
    spark, duck = _scores(results["spark"]), _scores(results["duckdb"])
    assert len(spark) >= 5 * 3 and spark == duck
    assert summaries["spark"]["drifted"] == summaries["duckdb"]["drifted"]
    assert set(summaries["spark"]["drifted"]) == {"amount", "country", "prompt"}
    # NaN counts as missing, like NULL; infinities are values (in the outer bins).
    amount = {s[0]: s[8] for s in spark if s[1] == "amount" and s[2] == "kl"}
    assert amount == {end: pytest.approx(MISSING[end], abs=1e-9) for end in amount}
