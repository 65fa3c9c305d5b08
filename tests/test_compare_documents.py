"""Text through ``compare``: documents are the rows, and their tokens are not independent.

Topic-clustered documents (as in docs/statistics.md): 12 words each; 6
topics with their own 50 words (Zipf) and 20 shared stop words (30% of the
words); one topic per document, drawn independently. Nothing changes
between 3,000 reference and 300 live documents, yet tokens counted as
independent rows were flagged 14-31% of the time; the design effect of the
reference documents keeps that at most 1%, while a topic moving from 1/6
to 1/2 of the documents is still caught.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pandas as pd
import pytest

from drift.frames import compare

TOPICS, WORDS, STOP, LENGTH = 6, 50, 20, 12
EVEN = np.full(TOPICS, 1 / TOPICS)
MOVED = np.array([0.5] + [0.1] * (TOPICS - 1))

_ZIPF = 1 / np.arange(1, WORDS + 1)
_ZIPF /= _ZIPF.sum()
_WORD = np.array(
    [f"t{t}w{w}" for t in range(TOPICS) for w in range(WORDS)] + [f"s{w}" for w in range(STOP)]
)


def documents(rng: np.random.Generator, n: int, mix: npt.NDArray[np.float64]) -> list[str]:
    """``n`` documents of 12 words; the topic of each drawn from ``mix``."""
    topic = rng.choice(TOPICS, size=(n, 1), p=mix)
    word = topic * WORDS + rng.choice(WORDS, size=(n, LENGTH), p=_ZIPF)
    stop = rng.random((n, LENGTH)) < 0.3
    word[stop] = TOPICS * WORDS + rng.integers(0, STOP, int(stop.sum()))
    return [" ".join(row) for row in _WORD[word]]


def _drifted_share(seed: int, mix: npt.NDArray[np.float64], trials: int) -> float:
    rng = np.random.default_rng(seed)
    hits = 0
    for _ in range(trials):
        ref = pd.DataFrame({"review": documents(rng, 3000, EVEN)})
        cur = pd.DataFrame({"review": documents(rng, 300, mix)})
        hits += compare(ref, cur, kinds={"review": "text"})["review"].drifted
    return hits / trials


def test_text_rows_and_missing_rate_are_documents() -> None:
    rng = np.random.default_rng(3)
    ref = pd.DataFrame({"review": documents(rng, 1000, EVEN)})
    live = documents(rng, 500, EVEN)
    # 52 of 500 documents missing: 10.4%, whatever their tokens would have been.
    cur = pd.DataFrame({"review": [None if i < 52 else d for i, d in enumerate(live)]})
    report = compare(ref, cur, kinds={"review": "text"})
    score = report["review"]
    row = report.to_frame().iloc[0]
    assert (row.n_reference, row.n_current, row.missing_current) == (1000, 448, 52)
    assert (score.reference.n, score.current.n) == (12_000, 448 * 12)
    assert score.current.documents == 448
    assert score.current.missing_rate == pytest.approx(0.104)
    assert score.missing_current_rate == pytest.approx(0.104)
    assert score.dispersion.source == "documents" and score.dispersion.units == 1000
    assert score.dispersion.phi > 1
    assert score.notes[0].startswith("tokens clustered in documents")


def test_an_unchanged_topic_mix_is_not_flagged_smoke() -> None:
    assert _drifted_share(11, EVEN, 10) == 0.0


@pytest.mark.slow
def test_unchanged_topic_clustered_text_is_rarely_flagged() -> None:
    # Before documents were the unit: 14-31% flagged. Measured: 0 of 200.
    assert _drifted_share(2024, EVEN, 200) <= 0.01


@pytest.mark.slow
def test_a_topic_moving_from_a_sixth_to_a_half_is_caught() -> None:
    # Measured: 50 of 50.
    assert _drifted_share(7, MOVED, 50) >= 0.9
