"""A text feature through a monitor on every backend: documents are its rows.

A live table of reviews against a separate reference table (no timestamp,
no key). The window's rows are its documents, with the tokens beside them;
the missing rate is per document (52 of 500 missing is 10.4%, not 52 of
tokens + 52); the reference, read once, carries its documents' design
effect. The same numbers on SQLite, DuckDB, PostgreSQL and MariaDB, with
the text counted in SQL (where it can be) or streamed.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
import sqlalchemy as sa
from stored import stored_scores

from drift.alerts.messages import alert_message
from drift.config import parse_monitor
from drift.run import measure_window
from drift.stats.binning import TokenBinning
from drift.stats.document_counts import token_documents
from drift.stats.documents import document_dispersion
from drift.store import ResultsStore

pytestmark = pytest.mark.db

DAY0 = datetime(2024, 5, 1, tzinfo=UTC)
LIVE, LIVE_MISSING = 500, 52
REFERENCE, REFERENCE_MISSING = 1000, 40
TOPICS, WORDS, LENGTH = 6, 40, 12


def _documents(rng: np.random.Generator, n: int, missing: int) -> list[str | None]:
    """Topic-clustered documents of 12 words; ``missing`` of them None, spread out."""
    topic = rng.integers(0, TOPICS, size=(n, 1))
    words = topic * WORDS + rng.integers(0, WORDS, size=(n, LENGTH))
    docs: list[str | None] = [" ".join(f"w{w}" for w in row) for row in words]
    for i in rng.choice(n, size=missing, replace=False):
        docs[int(i)] = None
    return docs


@pytest.fixture
def texts(db_url: str) -> tuple[list[str | None], list[str | None]]:
    rng = np.random.default_rng(14)
    live, reference = (
        _documents(rng, LIVE, LIVE_MISSING),
        _documents(rng, REFERENCE, REFERENCE_MISSING),
    )
    engine = sa.create_engine(db_url)
    meta = sa.MetaData()
    reviews = sa.Table(
        "reviews", meta, sa.Column("created_at", sa.DateTime), sa.Column("body", sa.Text)
    )
    training = sa.Table("training_reviews", meta, sa.Column("body", sa.Text))
    meta.create_all(engine)
    step = 86_400 // LIVE
    with engine.begin() as conn:
        conn.execute(
            reviews.insert(),
            [
                {"created_at": (DAY0 + timedelta(seconds=i * step)).replace(tzinfo=None), "body": b}
                for i, b in enumerate(live)
            ],
        )
        conn.execute(training.insert(), [{"body": b} for b in reference])
    engine.dispose()
    return live, reference


@pytest.mark.parametrize("pushdown", [True, False], ids=["pushdown", "streamed"])
def test_text_rows_are_documents_with_tokens_beside_them(
    db_url: str,
    store: ResultsStore,
    texts: tuple[list[str | None], list[str | None]],
    pushdown: bool,
) -> None:
    _, reference = texts
    monitor = parse_monitor(
        {
            "name": "reviews_monitor",
            "source": {"url": db_url},
            "table": "reviews",
            "timestamp": "created_at",
            "window": "1d",
            "reference": {"table": "training_reviews"},
            "features": [{"name": "body", "kind": "text", "top_k": 500}],
            "pushdown": pushdown,
        }
    )
    result = measure_window(monitor, DAY0, DAY0 + timedelta(days=1), store=store)
    score = result.scores[0]
    feature = result.summary().features[0]
    present, ref_present = LIVE - LIVE_MISSING, REFERENCE - REFERENCE_MISSING
    assert (feature.n_current, feature.n_reference) == (present, ref_present)
    assert (feature.tokens_current, feature.tokens_reference) == (
        present * LENGTH,
        ref_present * LENGTH,
    )
    assert feature.missing_rate == pytest.approx(0.104)
    assert score.missing_current_rate == pytest.approx(0.104)
    assert score.missing_reference_rate == pytest.approx(0.04)
    _, body = alert_message("open", "warn", result.summary(), feature, {"warn": 0.05})
    assert "rows: 448 live vs 960 reference (5376 vs 11520 tokens); missing 10.4%" in body

    # The reference's design effect, exactly that of drift.stats on the same documents.
    binning = score.reference.labels
    oracle = document_dispersion(token_documents(TokenBinning(binning[:-1]), reference)[1])
    assert score.dispersion.source == "documents"
    assert score.dispersion.units == ref_present
    assert score.dispersion.phi == pytest.approx(oracle.phi, rel=1e-9)
    assert score.dispersion.phi > 1 and score.dispersion.spread > 1  # words share a topic
    assert score.dispersion.spread == pytest.approx(oracle.spread, rel=1e-9)
    assert not score.drifted
    assert score.notes[0].startswith("tokens clustered in documents")

    rows = stored_scores(store, "reviews_monitor", "kl", DAY0, DAY0 + timedelta(days=2))
    assert [(r.n_current, r.n_reference) for r in rows] == [(present, ref_present)]
    assert rows[0].missing_rate == pytest.approx(0.104)
