"""A source table grows by millions of rows while a window is being read (PostgreSQL).

The guarantee: **a window's histograms are counted from one snapshot of the
source, bounded by the window** (``start <= timestamp < end``). Rows
committed while the window is being read are either all counted or not at
all (here: not, since the read's snapshot was taken before they committed),
never half; every feature of the window agrees on the row count; and rows
after the window's end never count, whenever they arrive. The retry (or the
next read) counts them all.

The read is held deterministically: the query source waits on an advisory
lock the test holds, *after* its statement has started; the test inserts
1,000,000 rows inside the live window and 1,000,000 after it, commits, and
only then lets the read go on.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
import sqlalchemy as sa
from fault_support import LIVE, POSTGRES_URL, StatementHook, make_events, monitor, reads_live_window

from drift.config import SourceConfig
from drift.run import run_window
from drift.store import ResultsStore, upgrade

pytestmark = pytest.mark.db

LOCK_KEY = 912_345
#: The events, waiting (once the statement runs) on a shared advisory lock when
#: ``drift_test.lock`` is set for the transaction; key 0 (free) otherwise.
HELD_QUERY = (
    "SELECT * FROM events WHERE EXISTS (SELECT 1 FROM pg_advisory_xact_lock_shared(COALESCE("
    "NULLIF(current_setting('drift_test.lock', true), ''), '0')::bigint))"
)
GROW = (
    "INSERT INTO events (created_at, amount, country) "
    "SELECT timestamp '2024-03-09' + g * interval '86 milliseconds', 1000 + g % 977, 'ZZ' "
    "FROM generate_series(0, 999999) AS g; "
    "INSERT INTO events (created_at, amount, country) "
    "SELECT timestamp '2024-03-10' + g * interval '1 second', -1000, 'AFTER' "
    "FROM generate_series(0, 999999) AS g"
)
BEFORE = 300  # rows of the live window before it grows


def _n_current(store: ResultsStore, run_id: int) -> dict[str, int]:
    return {s.feature: s.n_current for s in store.run_scores(run_id) if s.metric == "kl"}


def test_rows_committed_during_the_read_are_not_half_counted(pg_url: str) -> None:
    make_events(pg_url)
    upgrade(pg_url)
    store = ResultsStore(pg_url)
    mon = monitor(pg_url, table=None, query=HELD_QUERY)
    admin = sa.create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    grower = sa.create_engine(pg_url)
    holder = admin.connect()
    holder.execute(sa.text("SELECT pg_advisory_lock(:k)"), {"k": LOCK_KEY})
    grown = threading.Event()

    def grow_while_blocked(pid: int) -> None:
        # Wait until the window's statement is running and blocked on the lock ...
        deadline = time.monotonic() + 30
        waiting = sa.text(
            "SELECT count(*) FROM pg_stat_activity WHERE pid = :pid AND wait_event_type = 'Lock'"
        )
        with admin.connect() as conn:
            while not conn.execute(waiting, {"pid": pid}).scalar_one():
                assert time.monotonic() < deadline, "the read never blocked"
                time.sleep(0.02)
        # ... then grow the table by two million rows and commit ...
        with grower.begin() as conn:
            for statement in GROW.split("; "):
                conn.execute(sa.text(statement))
        grown.set()
        # ... and only then let the read go on.
        holder.execute(sa.text("SELECT pg_advisory_unlock(:k)"), {"k": LOCK_KEY})

    def hold(cursor: Any) -> None:
        cursor.execute("SELECT set_config('drift_test.lock', %s, true)", (str(LOCK_KEY),))
        pid = cursor.connection.info.backend_pid
        threading.Thread(target=grow_while_blocked, args=(pid,), daemon=True).start()

    hook = StatementHook(reads_live_window, hold)

    def engines(source: SourceConfig) -> sa.Engine:
        assert source.url is not None
        return hook.attach(sa.create_engine(source.url))

    try:
        first = run_window(mon, *LIVE, store=store, engine_factory=engines)
    finally:
        holder.close()
    assert hook.fired.is_set() and grown.is_set()
    # The read's snapshot predates the commit: the window as it was, in every feature.
    assert _n_current(store, first.run_id) == {"amount": BEFORE, "country": BEFORE}
    (country,) = [f for f in first.summary().features if f.feature == "country"]
    assert "ZZ" not in country.unseen, f"another statement saw the new rows: {country}"
    # The retry reads the grown window: the million inside it, none of those after it.
    again = run_window(mon, *LIVE, store=store)
    grown_by = 1_000_000
    assert _n_current(store, again.run_id) == {
        "amount": BEFORE + grown_by,
        "country": BEFORE + grown_by,
    }
    with grower.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM events")).scalar_one() > 2_000_000
    store.close()
    grower.dispose()
    admin.dispose()
