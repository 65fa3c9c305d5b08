"""Huge cardinality: a million distinct categories and a million distinct tokens.

One PostgreSQL table, 1,000,000 rows over nine days, every row with its own
category and its own token (every other row adds a common one). A monitor of both columns is
run in a subprocess that reports the rise of its peak RSS over the run:
the top-k categories and the vocabulary are chosen in SQL (``GROUP BY ...
ORDER BY count DESC LIMIT k``), so memory stays bounded whatever the
cardinality; the run gives a result; and the result and the log warn that
nearly every row fell outside the kept categories/vocabulary.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

pytestmark = [pytest.mark.db, pytest.mark.slow]

ROWS = 1_000_000
LIVE_ROWS = 111_111  # of them in the live window, 2024-03-09
#: Peak RSS may rise by this much over the run (1M Python strings alone take ~60 MB,
#: a dict of them ~150 MB).
BUDGET_MB = 60

CREATE = """
CREATE TABLE wide AS
SELECT timestamp '2024-03-01' + (g * interval '1 second') * 0.7776 AS created_at,
       'cat-' || g AS category,
       'tok' || g || CASE WHEN g % 2 = 0 THEN ' common' ELSE '' END AS note
FROM generate_series(0, {rows} - 1) AS g
"""

CHILD = textwrap.dedent(
    """
    import json, logging, sys, threading, time
    from datetime import UTC, datetime
    import psutil
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    from drift.config import parse_monitor
    from drift.run import run_window
    from drift.store import ResultsStore, upgrade
    source, results, pushdown = sys.argv[1], sys.argv[2], sys.argv[3] == "1"
    upgrade(results)
    store = ResultsStore(results)
    monitor = parse_monitor({
        "name": "wide", "source": {"url": source}, "table": "wide",
        "timestamp": "created_at", "window": "1d", "pushdown": pushdown,
        "reference": {"start": "2024-03-01", "end": "2024-03-08"},
        "features": [{"name": "category", "kind": "categorical"},
                     {"name": "note", "kind": "text", "tokenizer": "whitespace"}],
    })
    window = datetime(2024, 3, 9, tzinfo=UTC), datetime(2024, 3, 10, tzinfo=UTC)
    me = psutil.Process()
    # Warm up (imports, first connections) on an empty window, then measure the real one.
    run_window(monitor, datetime(2024, 2, 1, tzinfo=UTC), datetime(2024, 2, 2, tzinfo=UTC),
               store=store, notify=False)
    before = peak = me.memory_info().rss
    done = threading.Event()
    def sample():
        global peak
        while not done.is_set():
            peak = max(peak, me.memory_info().rss)
            time.sleep(0.005)
    sampler = threading.Thread(target=sample)
    sampler.start()
    result = run_window(monitor, *window, store=store)
    done.set()
    sampler.join()
    print(json.dumps({"rise_mb": (peak - before) / 2**20, "summary": result.summary().to_dict()}))
    """
)


def _run_child(source: str, results: str, pushdown: bool) -> tuple[dict[str, Any], str]:
    done = subprocess.run(
        [sys.executable, "-c", CHILD, source, results, "1" if pushdown else "0"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1]), done.stderr


@pytest.fixture
def wide(pg_url: str) -> str:
    engine = sa.create_engine(pg_url)
    with engine.begin() as conn:
        conn.execute(sa.text(CREATE.format(rows=ROWS)))
    engine.dispose()
    return pg_url


def _check(report: dict[str, Any], log: str) -> None:
    summary = report["summary"]
    print(f"peak RSS rise {report['rise_mb']:.1f} MB")
    assert report["rise_mb"] < BUDGET_MB, report["rise_mb"]
    assert summary["status"] == "ok"
    features = {f["feature"]: f for f in summary["features"]}
    assert features["category"]["n_current"] == LIVE_ROWS
    # Text counts documents as its rows, tokens beside them (1.5 tokens a row).
    assert features["note"]["n_current"] == LIVE_ROWS
    assert features["note"]["tokens_current"] == LIVE_ROWS + LIVE_ROWS // 2
    # The warning, in the result (the run's note) and in the log.
    for text in (summary["error"], log):
        assert "most values outside the kept bins" in text
        assert "category: 100.0% of the reference is outside the top 50 categories" in text
        assert "note: " in text and "outside the top 1000 tokens of the vocabulary" in text


def test_a_million_categories_and_tokens_in_bounded_memory(wide: str, tmp_path: Path) -> None:
    """Categories and tokens counted in the database (pushdown)."""
    report, log = _run_child(wide, f"sqlite:///{tmp_path / 'results.db'}", pushdown=True)
    _check(report, log)


def test_a_million_categories_and_tokens_streamed(wide: str, tmp_path: Path) -> None:
    """The same, with rows streamed to Python in chunks (``pushdown: false``)."""
    report, log = _run_child(wide, f"sqlite:///{tmp_path / 'results.db'}", pushdown=False)
    _check(report, log)
