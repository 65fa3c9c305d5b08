"""Alerts that mean something: the defaults of compare(), checked by simulation.

Each cell draws a fresh 10,000-row reference and live windows from the same
(or a shifted) distribution, with fixed seeds, and counts how often the
feature is flagged ``drifted``. Unchanged windows must be flagged at most 1%
of the time at every window size; modest real shifts at least 90% of the time.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from drift import compare

REFERENCE_ROWS = 10_000
WINDOWS = (100, 300, 1_000, 10_000)
NO_DRIFT_REPS = 400
POWER_REPS = 200
CATEGORIES = np.array([f"c{i}" for i in range(50)])
ZIPF = (1 / np.arange(1, 51)) / (1 / np.arange(1, 51)).sum()


def _draw(kind: str, n: int, rng: np.random.Generator, shift: float = 0.0) -> pd.DataFrame:
    if kind == "numeric":
        return pd.DataFrame({"x": rng.normal(shift, 1.0, n)})
    return pd.DataFrame({"x": pd.Series(CATEGORIES[rng.choice(50, n, p=ZIPF)], dtype="str")})


def _no_drift_rates(kind: str, seed: int) -> dict[int, float]:
    rng = np.random.default_rng(seed)
    flagged = dict.fromkeys(WINDOWS, 0)
    for _ in range(NO_DRIFT_REPS):
        reference = _draw(kind, REFERENCE_ROWS, rng)
        for n in WINDOWS:
            flagged[n] += compare(reference, _draw(kind, n, rng))["x"].drifted
    return {n: flagged[n] / NO_DRIFT_REPS for n in WINDOWS}


@pytest.mark.slow
@pytest.mark.parametrize(("kind", "seed"), [("numeric", 20240501), ("categorical", 20240502)])
def test_unchanged_windows_are_flagged_at_most_one_percent_of_the_time(
    kind: str, seed: int
) -> None:
    rates = _no_drift_rates(kind, seed)
    print(f"no-drift flag rates ({kind}, {NO_DRIFT_REPS} windows per size): {rates}")
    assert all(rate <= 0.01 for rate in rates.values()), rates


@pytest.mark.slow
@pytest.mark.parametrize(("shift", "n", "seed"), [(0.25, 1_000, 7), (0.1, 10_000, 8)])
def test_a_real_mean_shift_is_flagged_at_least_ninety_percent_of_the_time(
    shift: float, n: int, seed: int
) -> None:
    rng = np.random.default_rng(seed)
    hits = sum(
        compare(_draw("numeric", REFERENCE_ROWS, rng), _draw("numeric", n, rng, shift))["x"].drifted
        for _ in range(POWER_REPS)
    )
    print(f"{shift}-sd shift on {n} rows: flagged {hits}/{POWER_REPS}")
    assert hits / POWER_REPS >= 0.9
