"""Honest verdicts on dependent data, checked by simulation the way a monitor works.

- Time series: the baseline binning (10 quantile bins) is fitted once on the
  first reference; each live window is scored against the sum of the 7
  windows of the same length before it, with the dispersion estimated from
  those 7 windows' histograms (:func:`window_dispersion`).
- Text: documents of 12 words, each from one of 6 topics (each topic its
  own words plus a few shared ones), topics drawn independently per
  document. 300-document windows against 3,000 reference documents, either
  as 10 rolling windows (window dispersion) or as one separate reference
  (document dispersion from :class:`DocumentMoments`).
- Small windows: 30 rows against 30 (Monte Carlo p-values).
- Real data shipped offline: statsmodels' Nile, vega_datasets' Seattle weather.

Fixed seeds; every cell prints its rates (``pytest -s``), which
``docs/statistics.md`` tabulates.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pytest
import scipy.signal

from drift.stats import (
    DocumentMoments,
    Histogram,
    document_dispersion,
    fit_numeric,
    histogram,
    score_feature,
    window_dispersion,
)
from drift.stats.significance import g_test

REFERENCE_WINDOWS = 7
PAGED = ("warn", "critical")


def _ar1(rng: np.random.Generator, phi: float, size: int) -> npt.NDArray[np.float64]:
    """A stationary AR(1) series with unit marginal variance."""
    noise = rng.normal(size=size) * np.sqrt(1 - phi**2)
    start = rng.normal()
    out, _ = scipy.signal.lfilter([1.0], [1.0, -phi], noise, zi=[phi * start])
    return np.asarray(out, dtype=np.float64)


def _rolling_rates(
    phi: float, n: int, windows: int, seed: int, shift: float = 0.0
) -> tuple[float, float]:
    """Share of live windows drifted and paged, against the previous 7 windows."""
    rng = np.random.default_rng(seed)
    series = _ar1(rng, phi, n * (windows + REFERENCE_WINDOWS))
    binning = fit_numeric(series[: REFERENCE_WINDOWS * n], bins=10)
    hists = [histogram(binning, series[i * n : (i + 1) * n]) for i in range(len(series) // n)]
    drifted = paged = 0
    for t in range(REFERENCE_WINDOWS, REFERENCE_WINDOWS + windows):
        past = hists[t - REFERENCE_WINDOWS : t]
        reference = past[0]
        for h in past[1:]:
            reference = reference + h
        live = hists[t]
        if shift:
            live = histogram(binning, series[t * n : (t + 1) * n] + shift)
        s = score_feature(
            reference,
            live,
            feature="x",
            kind="numeric",
            dispersion=window_dispersion(past),
        )
        drifted += s.drifted
        paged += s.severity in PAGED
    return drifted / windows, paged / windows


AR_CELLS = [
    (phi, n, 1500 if n < 10_000 else 800, 1000 + 10 * i + j)
    for i, phi in enumerate((0.0, 0.5, 0.9))
    for j, n in enumerate((100, 1_000, 10_000))
]


@pytest.mark.slow
@pytest.mark.parametrize(("phi", "n", "windows", "seed"), AR_CELLS)
def test_stationary_autocorrelated_windows_rarely_alarm(
    phi: float, n: int, windows: int, seed: int
) -> None:
    drifted, paged = _rolling_rates(phi, n, windows, seed)
    print(f"AR(1) phi={phi} windows of {n}: drifted {drifted:.2%}, paged {paged:.2%} ({windows})")
    assert drifted <= 0.01 and paged <= 0.01


@pytest.mark.slow
def test_a_one_sd_shift_of_an_autocorrelated_series_pages() -> None:
    _, paged = _rolling_rates(0.9, 1_000, 300, 77, shift=1.0)
    print(f"AR(1) phi=0.9 windows of 1000, +1 sd: paged {paged:.2%} (300)")
    assert paged >= 0.9


# --- topic-clustered text ------------------------------------------------------------

TOPICS, WORDS_PER_DOC, OWN_WORDS, SHARED_WORDS, SHARED_MASS = 6, 12, 50, 20, 0.3
VOCABULARY = SHARED_WORDS + TOPICS * OWN_WORDS
WINDOW_DOCS, REFERENCE_DOCS = 300, 3_000
UNIFORM = np.full(TOPICS, 1 / TOPICS)
SKEWED = np.array([0.5] + [0.1] * 5)  # one topic from 1/6 to 1/2 of documents


def _topic_words() -> npt.NDArray[np.float64]:
    """Cumulative word distribution per topic: its own Zipf words and shared stop words."""
    dist = np.zeros((TOPICS, VOCABULARY))
    own = 1 / np.arange(1, OWN_WORDS + 1)
    shared = 1 / np.arange(1, SHARED_WORDS + 1)
    for z in range(TOPICS):
        start = SHARED_WORDS + z * OWN_WORDS
        dist[z, start : start + OWN_WORDS] = (1 - SHARED_MASS) * own / own.sum()
        dist[z, :SHARED_WORDS] = SHARED_MASS * shared / shared.sum()
    return np.cumsum(dist, axis=1)


CUMULATIVE = _topic_words()


def _documents(
    rng: np.random.Generator, docs: int, mix: npt.NDArray[np.float64]
) -> npt.NDArray[np.int64]:
    """Word ids, ``docs x 12``: a topic per document drawn from ``mix``, words from the topic."""
    topic = rng.choice(TOPICS, size=docs, p=mix)
    u = rng.random((docs, WORDS_PER_DOC))
    words = np.empty((docs, WORDS_PER_DOC), dtype=np.int64)
    for z in range(TOPICS):
        rows = topic == z
        words[rows] = np.searchsorted(CUMULATIVE[z], u[rows], side="right")
    return np.minimum(words, VOCABULARY - 1)


class Vocabulary:
    """The reference's tokens by frequency plus an out-of-vocabulary bin (as fit_tokens)."""

    def __init__(self, words: npt.NDArray[np.int64]) -> None:
        ids, counts = np.unique(words, return_counts=True)
        order = ids[np.lexsort((ids, -counts))]
        self.size = order.size + 1
        self.index = np.full(VOCABULARY, self.size - 1)
        self.index[order] = np.arange(order.size)
        self.labels = (*tuple(f"w{i}" for i in order), "<oov>")

    def bins(self, words: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
        return np.asarray(self.index[words], dtype=np.int64)

    def hist(self, words: npt.NDArray[np.int64]) -> Histogram:
        return Histogram(self.labels, np.bincount(self.bins(words).ravel(), minlength=self.size))


def _text_rates(mode: str, reps: int, seed: int, mix: npt.NDArray[np.float64]) -> dict[str, float]:
    rng = np.random.default_rng(seed)
    vocabulary = Vocabulary(_documents(rng, REFERENCE_DOCS, UNIFORM))
    drifted = plain = 0
    windows = REFERENCE_DOCS // WINDOW_DOCS
    for _ in range(reps):
        reference_words = _documents(rng, REFERENCE_DOCS, UNIFORM)
        live = vocabulary.hist(_documents(rng, WINDOW_DOCS, mix))
        reference = vocabulary.hist(reference_words)
        if mode == "windows":
            past = [
                vocabulary.hist(reference_words[j * WINDOW_DOCS : (j + 1) * WINDOW_DOCS])
                for j in range(windows)
            ]
            dispersion = window_dispersion(past)
        else:
            bins = vocabulary.bins(reference_words)
            doc = np.repeat(np.arange(REFERENCE_DOCS), WORDS_PER_DOC)
            moments = DocumentMoments.from_indices(doc, bins.ravel(), n_bins=vocabulary.size)
            dispersion = document_dispersion(moments)
        s = score_feature(reference, live, feature="t", kind="text", dispersion=dispersion)
        drifted += s.drifted
        plain += g_test(reference.counts, live.counts, williams=True).p_value < 0.001
    return {"drifted": drifted / reps, "tokens as rows (G-test)": plain / reps}


@pytest.mark.slow
@pytest.mark.parametrize(("mode", "seed"), [("windows", 31), ("documents", 32)])
def test_topic_clustered_text_rarely_alarms_and_a_topic_shift_does(mode: str, seed: int) -> None:
    null = _text_rates(mode, 500, seed, UNIFORM)
    power = _text_rates(mode, 100, seed + 100, SKEWED)
    print(f"text, {mode} dispersion: unchanged {null} (500); one topic 1/6 -> 1/2 {power} (100)")
    assert null["drifted"] <= 0.01
    assert power["drifted"] >= 0.9


# --- small windows ---------------------------------------------------------------------


def _small_rates(shift: float, reps: int, seed: int) -> float:
    rng = np.random.default_rng(seed)
    flagged = 0
    for _ in range(reps):
        reference = rng.normal(0, 1, 30)
        binning = fit_numeric(reference, bins=10)
        s = score_feature(
            histogram(binning, reference),
            histogram(binning, rng.normal(shift, 1, 30)),
            feature="x",
            kind="numeric",
        )
        assert s.enough_data and s.test == "monte_carlo"
        flagged += s.drifted
    return flagged / reps


@pytest.mark.slow
def test_thirty_rows_against_thirty_are_judged() -> None:
    same = _small_rates(0.0, 400, 41)
    apart = _small_rates(2.0, 200, 42)
    print(f"30 vs 30 rows: unchanged flagged {same:.2%} (400), 2 sd apart {apart:.2%} (200)")
    assert same <= 0.01
    assert apart >= 0.9


# --- real data shipped offline ---------------------------------------------------------


def _judge(
    reference: npt.ArrayLike, current: npt.ArrayLike
) -> tuple[bool, float, str, tuple[str, ...]]:
    binning = fit_numeric(reference, bins=10)
    s = score_feature(
        histogram(binning, reference), histogram(binning, current), feature="x", kind="numeric"
    )
    assert s.enough_data
    return s.drifted, s.p_value, s.severity, s.notes


def test_the_nile_before_and_after_1899_is_judged_and_flagged() -> None:
    nile = pytest.importorskip("statsmodels.datasets.nile").load_pandas().data
    before = nile.loc[nile.year < 1898, "volume"].to_numpy()
    after = nile.loc[nile.year >= 1899, "volume"].to_numpy()
    assert (before.size, after.size) == (27, 72)
    drifted, p, severity, notes = _judge(before, after)
    print(f"Nile 1871-1897 vs 1899-1970: drifted {drifted}, p {p:.2g}, {severity}, {notes}")
    assert drifted


def test_seattle_summer_against_winter_is_judged_and_flagged() -> None:
    data = pytest.importorskip("vega_datasets").data
    weather = data.seattle_weather()
    summer = weather[(weather.date >= "2012-06-01") & (weather.date <= "2012-08-31")]
    winter = weather[weather.date >= "2012-12-01"].head(92)
    assert (len(summer), len(winter)) == (92, 92)
    drifted, p, severity, _notes = _judge(summer.temp_max.to_numpy(), winter.temp_max.to_numpy())
    print(
        f"Seattle temp_max summer 2012 vs winter 2012-13: drifted {drifted}, p {p:.2g}, {severity}"
    )
    assert drifted and severity == "critical"
