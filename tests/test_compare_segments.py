"""compare(segments=..., pairs=...): where drift lives, and between what (issue 19).

On real-shaped orders (``tests/shaped_data.py``: eight countries of unequal
size, a log-normal amount by country), on correlated normals, and on real
data shipped offline (statsmodels' ``fair``: 6,366 women's age and years
married, correlation 0.89). The many-trial false-flag rates are bounded in
``tests/stats/test_segment_simulation.py`` with the same statistics; here
each behaviour of ``compare`` is checked once, and its counts against
pandas' own ``groupby``/``crosstab``.
"""

from __future__ import annotations

import importlib.util
import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from shaped_data import COUNTRIES, correlated, orders

from drift import DriftReport, compare
from drift.frames import REPORT_COLUMNS, Segments
from drift.stats import NumericBinning, PairBinning

PAGED = ("warn", "critical")
FIGURE = re.compile(r'id="([^"]+)"></div><script type="text/javascript">.*?var fig = (\{.*?\});')


@pytest.fixture(scope="module")
def br_shift() -> DriftReport:
    rng = np.random.default_rng(19)
    return compare(orders(rng, 20_000), orders(rng, 10_000, shift=0.5), segments="country")


def test_drift_in_one_segment_is_found_and_named(br_shift: DriftReport) -> None:
    assert br_shift["amount"].severity == "ok"  # diluted below warn in the whole population
    assert br_shift["amount", "country=BR"].severity in PAGED
    # The model score follows the amount, so it moves in BR too; nothing moves elsewhere.
    assert br_shift.drifted_segments == (("amount", "country=BR"), ("score", "country=BR"))
    table = br_shift.to_frame()
    flagged = table[table["drifted"] & (table["segment"] != "")]
    assert set(flagged["segment"]) == {"country=BR"}
    assert json.loads(table.to_json(orient="records"))[0]["segment"] == ""


def test_every_kept_segment_is_scored_for_every_column_but_its_own(br_shift: DriftReport) -> None:
    assert br_shift.segments == tuple(f"country={c}" for c in COUNTRIES)
    per_segment = [(s.feature, s.segment) for s in br_shift if s.segment]
    assert per_segment == [
        (feature, segment)
        for segment in br_shift.segments
        for feature in ("device", "amount", "score")
    ]
    assert br_shift.features == ("country", "device", "amount", "score")


def test_segment_counts_equal_a_pandas_groupby() -> None:
    rng = np.random.default_rng(3)
    ref, cur = orders(rng, 5_000), orders(rng, 3_000)
    cur.loc[::50, "amount"] = np.nan
    report = compare(ref, cur, segments="country")
    binning = report.binnings["amount"]
    assert isinstance(binning, NumericBinning)
    edges = [-np.inf, *binning.cuts, np.inf]
    for frame, side in ((ref, "reference"), (cur, "current")):
        bins = pd.cut(frame["amount"], edges, right=False, labels=False)
        expected = bins.groupby(frame["country"]).value_counts().unstack(fill_value=0)
        missing = frame["amount"].isna().groupby(frame["country"]).sum()
        for country in COUNTRIES:
            hist = getattr(report["amount", f"country={country}"], side)
            assert (
                hist.counts.tolist()
                == expected.loc[country].reindex(range(len(edges) - 1), fill_value=0).tolist()
            )
            assert hist.missing == missing[country]


def test_the_report_table_keeps_its_columns_and_adds_the_new_ones_last(
    br_shift: DriftReport,
) -> None:
    table = br_shift.to_frame()
    assert list(table.columns) == list(REPORT_COLUMNS)
    assert list(REPORT_COLUMNS[-3:]) == ["segment", "kl_marginal", "kl_conditional"]
    assert REPORT_COLUMNS[:16] == (
        "feature", "kind", "kl", "kl_corrected", "jensen_shannon", "psi", "hellinger",
        "p_value", "p_adjusted", "n_reference", "n_current", "missing_reference",
        "missing_current", "severity", "drifted", "enough_data",
    )  # fmt: skip
    assert table["kl_marginal"].isna().all()
    assert (table["segment"] == "").sum() == 4


def test_segments_and_features_are_adjusted_together() -> None:
    rng = np.random.default_rng(5)
    ref, cur = orders(rng, 20_000), orders(rng, 10_000, shift=0.5)
    alone = compare(ref, cur)
    together = compare(ref, cur, segments="country")
    # More tests in the family: Benjamini-Hochberg adjusts the same p-value more.
    assert together["score"].p_value == alone["score"].p_value
    assert together["score"].p_adjusted >= alone["score"].p_adjusted
    assert together["score"].p_adjusted > together["score"].p_value


def test_small_autocorrelated_segments_are_reported_not_judged() -> None:
    rng = np.random.default_rng(7)
    ref = orders(rng, 20_000, phi=0.7)
    cur = orders(rng, 300, phi=0.7, shift=0.5)  # a few dozen rows per country
    report = compare(ref, cur, segments={"column": "country", "min_rows": 200})
    per_segment = [s for s in report if s.segment]
    assert per_segment and all(not s.enough_data and not s.drifted for s in per_segment)
    br = report["amount", "country=BR"]
    assert 0 < br.current.rows < 200
    assert (
        f"too few rows to judge: {br.current.rows} live, {br.reference.rows} reference < 200"
        in br.notes
    )
    table = report.to_frame()
    assert not table.loc[table["segment"] != "", "enough_data"].any()


def test_the_rest_is_one_other_segment_and_null_is_a_value() -> None:
    rng = np.random.default_rng(11)
    ref, cur = orders(rng, 6_000), orders(rng, 3_000)
    ref.loc[:299, "country"] = None
    cur.loc[:99, "country"] = "NZ"  # never in the reference: <other>
    report = compare(ref, cur, segments=Segments("country", top_k=3))
    assert report.segments == ("country=US", "country=DE", "country=GB", "country=<other>")
    other = report["amount", "country=<other>"]
    assert other.current.rows == int((~cur["country"].isin(["US", "DE", "GB"])).sum())
    report = compare(ref, cur, segments={"column": "country", "top_k": 20})
    assert "country=<null>" in report.segments
    assert report["amount", "country=<null>"].reference.rows == 300


def test_several_columns_make_one_segmentation_of_value_tuples() -> None:
    rng = np.random.default_rng(13)
    ref, cur = orders(rng, 8_000), orders(rng, 4_000)
    report = compare(ref, cur, segments=["country", "device"], columns=["amount"])
    assert report.segments[0] == "country=US, device=ios"
    assert report.segments[-1] == "country=<other>, device=<other>"
    assert len(report.segments) == 21
    both = compare(ref, cur, segments=[{"column": "country"}, Segments("device")])
    assert "device=web" in both.segments and "country=BR" in both.segments
    assert ("country", "device=web") in [(s.feature, s.segment) for s in both]


def test_reversed_correlation_is_a_critical_pair_carried_by_the_conditional_term() -> None:
    rng = np.random.default_rng(17)
    report = compare(correlated(rng, 10_000, 0.8), correlated(rng, 5_000, -0.8), pairs=[["x", "y"]])
    assert report.drifted == ("x × y",)
    pair = report["x × y"]
    assert pair.kind == "pair" and pair.severity == "critical"
    assert pair.metrics["kl_conditional"] >= 0.9 * pair.metrics["kl"]
    row = report.to_frame().set_index("feature").loc["x × y"]
    assert row["kl_marginal"] + row["kl_conditional"] == pytest.approx(row["kl"])
    binning = report.binnings["x × y"]
    assert isinstance(binning, PairBinning) and binning.shape == (10, 10)


def test_pair_counts_equal_a_pandas_crosstab() -> None:
    rng = np.random.default_rng(23)
    ref, cur = orders(rng, 5_000), orders(rng, 2_000)
    cur.loc[::40, "amount"] = np.nan
    cur.loc[1::40, "country"] = None
    report = compare(ref, cur, pairs=[["amount", "country"]])
    pair = report["amount × country"]
    binning = report.binnings["amount × country"]
    assert isinstance(binning, PairBinning) and isinstance(binning.x, NumericBinning)
    edges = [-np.inf, *binning.x.cuts, np.inf]
    x = pd.cut(cur["amount"], edges, right=False, labels=False)
    table = pd.crosstab(x, cur["country"]).reindex(
        index=range(len(edges) - 1), columns=list(binning.y.labels), fill_value=0
    )
    assert pair.current.counts.tolist() == table.to_numpy().ravel().tolist()
    assert pair.current.missing == int((cur["amount"].isna() | cur["country"].isna()).sum())


def _fair() -> pd.DataFrame:
    # The CSV statsmodels ships, read where it lies: importing statsmodels takes seconds.
    spec = importlib.util.find_spec("statsmodels")
    if spec is None or spec.origin is None:
        pytest.skip("statsmodels is not installed (pip install -e '.[dev]')")
    data = pd.read_csv(Path(spec.origin).parent / "datasets" / "fair" / "fair.csv")
    return data[["age", "yrs_married", "occupation"]].astype({"occupation": "int64"})


def test_a_real_pair_split_in_random_halves_is_not_flagged() -> None:
    data = _fair()
    rng = np.random.default_rng(29)
    flagged = []
    for _ in range(5):
        half = rng.permutation(len(data)) < len(data) // 2
        report = compare(data[half], data[~half], pairs=[["age", "yrs_married"]],
                         kinds={"occupation": "categorical"})  # fmt: skip
        flagged.extend(report.drifted)
    assert flagged == []


def test_a_real_relationship_broken_on_purpose_is_flagged_by_the_conditional_term() -> None:
    data = _fair()
    rng = np.random.default_rng(31)
    half = rng.permutation(len(data)) < len(data) // 2
    live = data[~half].copy()
    live["yrs_married"] = rng.permutation(live["yrs_married"].to_numpy())
    report = compare(data[half], live, pairs=[["age", "yrs_married"]])
    assert report.drifted == ("age × yrs_married",)
    pair = report["age × yrs_married"]
    assert pair.severity in PAGED
    assert pair.metrics["kl_conditional"] >= 0.9 * pair.metrics["kl"]


def test_a_categorical_pair_member_and_a_segment_column_in_a_pair_are_fine() -> None:
    rng = np.random.default_rng(37)
    ref, cur = orders(rng, 6_000), orders(rng, 3_000)
    report = compare(ref, cur, segments="country", pairs=[["country", "device"]])
    assert report["country × device"].kind == "pair"
    assert not [s for s in report if s.segment and s.kind == "pair"]  # pairs: whole population


@pytest.mark.parametrize(
    ("options", "error", "message"),
    [
        ({"segments": "nation"}, KeyError, "'nation' .named by `segments` or `pairs`. is not"),
        ({"pairs": [["amount", "nation"]]}, KeyError, "column 'nation'"),
        ({"pairs": [["amount", "amount"]]}, ValueError, "names the same column twice"),
        ({"pairs": [["amount"]]}, ValueError, "two column names"),
        ({"pairs": "amount"}, TypeError, "list of \\[x, y\\]"),
        ({"pairs": [["note", "amount"]]}, ValueError, "'note' is text; pairs are of numeric or"),
        ({"pairs": [["amount", "score"]], "columns": ["amount"]}, ValueError, "not compared"),
        ({"segments": {"column": "country", "top": 3}}, ValueError, "unknown key.*'top'"),
        ({"segments": {"column": "country", "min_rows": -1}}, ValueError, "min_rows` must be >= 0"),
        ({"segments": {"column": "country", "top_k": 0}}, ValueError, "top_k"),
        ({"segments": ["country", {"column": "device"}]}, TypeError, "mixes column names"),
        ({"segments": ["country", "country"]}, ValueError, "names a column twice"),
        ({"segments": 3}, TypeError, "`segments` must be a column name"),
    ],
)  # fmt: skip
def test_bad_segments_and_pairs_say_what_is_wrong(
    options: dict[str, object], error: type[Exception], message: str
) -> None:
    rng = np.random.default_rng(41)
    ref, cur = orders(rng, 500), orders(rng, 500)
    for frame in (ref, cur):
        frame["note"] = [f"the order number {i} came late" for i in range(len(frame))]
    with pytest.raises(error, match=message):
        compare(ref, cur, **options)  # type: ignore[arg-type]


def test_polars_frames_give_the_pandas_report() -> None:
    pl = pytest.importorskip("polars")
    rng = np.random.default_rng(43)
    ref, cur = orders(rng, 4_000), orders(rng, 2_000, shift=0.5)
    options = {
        "columns": ["amount", "score"],
        "segments": "country",
        "pairs": [["amount", "score"]],
    }
    want = compare(ref, cur, **options)  # type: ignore[arg-type]
    got = compare(pl.from_pandas(ref), pl.from_pandas(cur), **options)  # type: ignore[arg-type]
    pd.testing.assert_frame_equal(got.to_frame(), want.to_frame())


def test_the_notebook_shows_segments_and_pairs(br_shift: DriftReport) -> None:
    rng = np.random.default_rng(47)
    ref, cur = orders(rng, 20_000), orders(rng, 10_000, shift=0.5)
    ref["x"], cur["x"] = correlated(rng, 20_000, 0.8)["x"], correlated(rng, 10_000, -0.8)["x"]
    ref["y"] = 0.8 * ref["x"] + 0.6 * rng.normal(size=20_000)
    cur["y"] = -0.8 * cur["x"] + 0.6 * rng.normal(size=10_000)
    report = compare(ref, cur, segments="country", pairs=[["x", "y"], ["amount", "score"]])
    page = report._repr_html_()
    cells = dict(
        re.findall(
            r'<td data-segment="([^"]*)" data-feature="amount" data-severity="([^"]*)"', page
        )
    )
    assert set(cells) == set(report.segments)
    assert cells["country=BR"] in PAGED
    assert [v for k, v in cells.items() if k != "country=BR"] == ["ok"] * 7
    pairs = re.findall(r'<tr data-pair="([^"]*)" data-severity="([^"]*)">', page)
    assert pairs == [("x × y", "critical"), ("amount × score", report["amount × score"].severity)]
    share = re.search(r'<tr data-pair="x × y".*?<td class="share">(\d+)%</td>', page)
    assert share is not None and int(share.group(1)) >= 90
    assert 'data-segment="country=BR">' in page  # the BR segment's chart
    figures = {element: json.loads(fig) for element, fig in FIGURE.findall(page)}
    heatmaps = [f for f in figures.values() if f["data"][0]["type"] == "heatmap"]
    assert len(heatmaps) == sum(1 for s in report.pairs if s.drifted)
    z = np.array(heatmaps[0]["data"][0]["z"], dtype=float)
    assert z.shape == (10, 10) and np.nansum(z) == pytest.approx(1.0)
    assert f"per segment, {len(report.drifted_segments)} of " in page
