"""The segmented monitor ``shop`` the dashboard's segment tests read (issue 19)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

DAY = timedelta(days=1)
#: The segmented monitor of :func:`fill_segments`: its segments and its pair.
BR, US, OTHER = "country=BR", "country=US", "country=<other>"
PAIR = "amount × country"
SEGMENT_DAY0 = datetime(2024, 6, 1, tzinfo=UTC)
#: Headline KL of amount per segment, per day: drift in BR on the last day only.
AMOUNT_KL = {"": (0.01, 0.01, 0.02), US: (0.01, 0.02, 0.01), BR: (0.02, 0.03, 0.45),
             OTHER: (0.02, 0.01, 0.03)}  # fmt: skip
#: The pair's per-cell contributions on every day (amount's 3 bins x country's 3), row-major.
PAIR_CELLS = (0.02, -0.01, 0.0, 0.05, 0.2, -0.03, 0.01, 0.0, 0.06)


def _severity(kl: float) -> str:
    return "critical" if kl >= 0.2 else "warn" if kl >= 0.05 else "ok"


def fill_segments(url: str) -> dict[str, Any]:
    """Fill ``url`` with monitor ``shop``: amount and country by segment of country, a pair.

    Written through the store's own API: a baseline per segment (and the pair's
    with its ``{"kind": "pair", ...}`` spec), three daily runs with scores and
    histograms per segment, and an open alert of amount in country=BR opened
    by the last run. Returns the run ids (oldest first) and the alert's id.
    """
    from drift.alerts.types import AlertChange
    from drift.stats.binning import CategoricalBinning, NumericBinning
    from drift.store import (
        BaselineRecord,
        HistogramRecord,
        ResultsStore,
        RunRecord,
        ScoreRecord,
        upgrade,
    )

    amount, country = NumericBinning((10.0, 20.0)), CategoricalBinning(("US", "BR"))
    cells = tuple(f"{a} × {c}" for a in amount.labels for c in country.labels)
    specs = {
        "amount": (amount.to_spec(), amount.labels),
        "country": (country.to_spec(), country.labels),
        PAIR: ({"kind": "pair", "x": amount.to_spec(), "y": country.to_spec()}, cells),
    }
    kinds = {"amount": "numeric", "country": "categorical", PAIR: "pair"}
    upgrade(url)
    store = ResultsStore(url)
    store.save_monitor("shop", {
        "name": "shop", "window": "1d", "metrics": ["kl"],
        "features": [{"name": "amount", "kind": "numeric"},
                     {"name": "country", "kind": "categorical"}],
        "segments": [{"columns": ["country"], "top_k": 2, "min_rows": 50}],
        "pairs": [{"columns": ["amount", "country"], "thresholds": None}],
        "thresholds": {"warn": 0.05, "critical": 0.2, "metric": "kl"},
    })  # fmt: skip
    baselines = [
        BaselineRecord("shop", f, kinds[f], specs[f][0], specs[f][1], (100,) * len(specs[f][1]),
                       0, SEGMENT_DAY0 - 7 * DAY, SEGMENT_DAY0, segment=s)
        for f, s in [("amount", ""), ("country", ""), (PAIR, ""), ("amount", US), ("amount", BR),
                     ("amount", OTHER)]
    ]  # fmt: skip
    store.save_baseline("shop", baselines)
    sizes = {"": 2000, US: 1200, BR: 300, OTHER: 500}

    def score(feature: str, segment: str, metric: str, value: float, kl: float) -> ScoreRecord:
        n, on = sizes[segment], metric == "kl"
        return ScoreRecord(feature, metric, value * 1.2 if on else value, value if on else None,
                           1e-4, 1e-3, n, 10 * n, 0.0, _severity(kl), 0.05 if on else None,
                           0.2 if on else None, "lidstone", 0.5, segment=segment)  # fmt: skip

    def hist(feature: str, segment: str, shift: int) -> HistogramRecord:
        labels = specs[feature][1]
        contributions = PAIR_CELLS if feature == PAIR else tuple(
            0.01 * (i + 1) for i in range(len(labels)))  # fmt: skip
        return HistogramRecord(feature, labels, tuple(10 + shift * i for i in range(len(labels))),
                               0, (10,) * len(labels), contributions, segment=segment)  # fmt: skip

    runs = []
    for day in range(3):
        start = SEGMENT_DAY0 + day * DAY
        scores = [score("amount", s, "kl", AMOUNT_KL[s][day], AMOUNT_KL[s][day]) for s in AMOUNT_KL]
        scores += [score("country", "", "kl", 0.01, 0.01)]
        scores += [score(PAIR, "", m, v, 0.25) for m, v in
                   (("kl", 0.25), ("kl_marginal", 0.05), ("kl_conditional", 0.25))]  # fmt: skip
        histograms = [hist("amount", s, day) for s in AMOUNT_KL]
        histograms += [hist("country", "", day), hist(PAIR, "", day)]
        runs.append(store.write_run(RunRecord(
            "shop", start, start + DAY, "ok", None, start, start, 0.2, None,
            tuple(scores), tuple(histograms),
        )))  # fmt: skip
    alert = store.apply_alert_change(AlertChange(
        "shop", "amount", "open", "critical", runs[-1], "amount drifted in country=BR", None,
        segment=BR,
    ))  # fmt: skip
    store.close()
    return {"runs": runs, "alert": alert}
