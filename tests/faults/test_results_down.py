"""The results database is down when a run starts, then comes back.

Down means nothing listens on the port, or the server is up but the database
does not exist yet. The run fails before it reads the source or notifies
anyone, with an error naming the database (password masked) and the cause;
once the database is there and migrated, the retry succeeds (with the same
store object: nothing is cached from the failure).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from fault_support import LIVE, MARIADB_URL, POSTGRES_URL, free_port, make_events, monitor, posts
from pytest_httpserver import HTTPServer

from drift.errors import StoreError
from drift.run import run_window
from drift.store import ResultsStore, upgrade

pytestmark = pytest.mark.db


@pytest.fixture
def source(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'source.db'}"
    make_events(url)
    return url


@pytest.mark.parametrize("server", ["postgresql", "mariadb"])
def test_nothing_listening(source: str, receiver: HTTPServer, server: str) -> None:
    base = POSTGRES_URL if server == "postgresql" else MARIADB_URL
    url = sa.make_url(base).set(port=free_port(), password="s3cret-XYZ")
    store = ResultsStore(url)
    mon = monitor(source, hook=f"json://127.0.0.1:{receiver.port}/hook")
    with pytest.raises(StoreError) as caught:
        run_window(mon, *LIVE, store=store)
    message = str(caught.value)
    assert message.startswith(f"could not connect to the results database at {store.url}: ")
    assert "refused" in message.lower()
    assert "s3cret-XYZ" not in message and "***" in message
    assert posts(receiver) == []
    store.close()


@pytest.fixture(params=["postgresql", "mariadb"])
def missing_database(request: pytest.FixtureRequest) -> Iterator[tuple[str, str]]:
    """(URL of a database that does not exist yet, its server's admin URL); dropped after."""
    name = f"drift_{uuid.uuid4().hex[:10]}"
    base = POSTGRES_URL if request.param == "postgresql" else MARIADB_URL
    admin = sa.create_engine(base, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect():
            pass
    except sa.exc.OperationalError as exc:
        pytest.skip(f"{request.param} is not reachable: {exc}")
    yield sa.make_url(base).set(database=name).render_as_string(hide_password=False), name
    quote = '"' if request.param == "postgresql" else "`"
    with admin.connect() as conn:
        conn.execute(sa.text(f"DROP DATABASE IF EXISTS {quote}{name}{quote}"))
    admin.dispose()


def test_database_missing_then_created(
    source: str, receiver: HTTPServer, missing_database: tuple[str, str]
) -> None:
    url, name = missing_database
    store = ResultsStore(url)
    mon = monitor(source, hook=f"json://127.0.0.1:{receiver.port}/hook")
    with pytest.raises(StoreError) as caught:
        run_window(mon, *LIVE, store=store)
    message = str(caught.value)
    # The database is missing, not just our tables: the error says so and does not
    # send the user to `drift db upgrade` (which could not connect either).
    assert message.startswith("could not connect to the results database at ")
    assert name in message and ("does not exist" in message or "Unknown database" in message)
    assert "drift db upgrade" not in message
    assert posts(receiver) == []
    # The database comes back (created and migrated); the retry succeeds.
    quote = '"' if url.startswith("postgresql") else "`"
    admin = sa.create_engine(sa.make_url(url).set(database="test"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f"CREATE DATABASE {quote}{name}{quote}"))
    admin.dispose()
    upgrade(url)
    result = run_window(mon, *LIVE, store=store)
    assert result.status == "ok" and result.run_id is not None
    assert [r.status for r in store.runs(mon.name)] == ["ok"]
    assert len(posts(receiver)) == 2  # one per drifted feature
    store.close()


def test_tables_missing_says_run_db_upgrade(source: str, tmp_path: Path) -> None:
    """The other case, kept distinct: the database is there but has no drift tables."""
    store = ResultsStore(f"sqlite:///{tmp_path / 'empty.db'}")
    with pytest.raises(StoreError, match="drift db upgrade"):
        run_window(monitor(source), *LIVE, store=store)
    store.close()
