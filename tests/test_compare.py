"""compare(): the pandas front door."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from drift import DriftReport, Thresholds, compare, infer_kind
from drift.frames import REPORT_COLUMNS

WORDS = np.array(
    [
        "great",
        "product",
        "works",
        "well",
        "arrived",
        "late",
        "and",
        "broken",
        "would",
        "buy",
        "again",
    ]
)


@pytest.fixture
def frames() -> tuple[pd.DataFrame, pd.DataFrame]:
    # Free text: nearly every review differs from the others.
    rng = np.random.default_rng(0)

    def frame(n: int, shift: float) -> pd.DataFrame:
        return pd.DataFrame(
            {
                "age": rng.normal(40 + shift, 10, n),
                "city": pd.Series(rng.choice(["Paris", "Lyon", "Nice"], n), dtype="str"),
                "clicks": rng.poisson(3, n),
                "review": [" ".join(rng.choice(WORDS, 6)) for _ in range(n)],
            }
        )

    return frame(5000, 0.0), frame(2000, 10.0)


def test_report_has_one_row_per_column_with_the_documented_columns(frames) -> None:  # type: ignore[no-untyped-def]
    table = compare(*frames).to_frame()
    assert list(table.columns) == list(REPORT_COLUMNS)
    assert table["feature"].tolist() == ["age", "city", "clicks", "review"]


def test_kinds_are_inferred_from_dtypes_and_text_from_cardinality(frames) -> None:  # type: ignore[no-untyped-def]
    assert compare(*frames).to_frame()["kind"].tolist() == [
        "numeric",
        "categorical",
        "numeric",
        "text",
    ]


def test_a_shifted_column_is_flagged_and_unchanged_ones_are_not(frames) -> None:  # type: ignore[no-untyped-def]
    report = compare(*frames)
    assert report.drifted == ("age",)
    assert report["age"].severity == "critical"


def test_sizes_and_missing_counts_are_reported() -> None:
    ref = pd.DataFrame({"x": [1.0, 2.0, np.nan, 4.0] * 50})
    cur = pd.DataFrame({"x": [1.0, np.nan, np.nan, 4.0] * 30})
    row = compare(ref, cur).to_frame().iloc[0]
    assert (row.n_reference, row.missing_reference, row.n_current, row.missing_current) == (
        150,
        50,
        60,
        60,
    )


def test_columns_selects_and_orders_features(frames) -> None:  # type: ignore[no-untyped-def]
    assert compare(*frames, columns=["clicks", "age"]).features == ("clicks", "age")


def test_a_missing_column_is_named() -> None:
    with pytest.raises(KeyError, match="column 'y' is not in `current_df`"):
        compare(pd.DataFrame({"x": [1.0], "y": [2.0]}), pd.DataFrame({"x": [1.0]}))


def test_kinds_override_inference() -> None:
    ref = pd.DataFrame({"code": [1, 2, 3] * 100})
    report = compare(ref, ref, kinds={"code": "categorical"})
    assert report["code"].kind == "categorical"
    assert report.binnings["code"].labels == ("1", "2", "3", "<other>")


def test_a_bad_kind_is_named() -> None:
    frame = pd.DataFrame({"x": [1.0]})
    with pytest.raises(ValueError, match=r"`kinds\['x'\]` must be one of"):
        compare(frame, frame, kinds={"x": "ordinal"})


def test_pandas_string_and_nullable_dtypes_work() -> None:
    ref = pd.DataFrame(
        {
            "s": pd.Series(["a", "b", None] * 100, dtype="str"),
            "i": pd.Series([1, 2, None] * 100, dtype="Int64"),
            "f": pd.Series([0.5, None, 1.5] * 100, dtype="Float64"),
            "b": pd.Series([True, False, True] * 100),
            "c": pd.Series(["x", "y", "x"] * 100, dtype="category"),
        }
    )
    table = compare(ref, ref).to_frame().set_index("feature")
    assert table.loc[["s", "i", "f"], "missing_reference"].tolist() == [100, 100, 100]
    assert table["kind"].tolist() == [
        "categorical",
        "numeric",
        "numeric",
        "categorical",
        "categorical",
    ]
    assert not table["drifted"].any()
    assert (table["kl"] == 0).all()


def test_a_constant_reference_column_detects_any_change() -> None:
    ref = pd.DataFrame({"x": np.zeros(1000)})
    cur = pd.DataFrame({"x": np.r_[np.zeros(800), np.ones(200)]})
    assert compare(ref, cur)["x"].drifted


def test_an_all_missing_numeric_reference_column_is_named() -> None:
    ref = pd.DataFrame({"x": [np.nan] * 10})
    with pytest.raises(ValueError, match="column 'x' \\(numeric\\): `values` has no finite value"):
        compare(ref, ref)


def test_datetime_columns_ask_for_conversion() -> None:
    ref = pd.DataFrame({"t": pd.date_range("2024-01-01", periods=3)})
    with pytest.raises(TypeError, match="column 't' has dtype datetime64"):
        compare(ref, ref)


def test_mixed_types_in_a_categorical_column_are_compared_as_strings() -> None:
    ref = pd.DataFrame({"m": pd.Series([1, "1", 2.5, True, 1.0, None] * 50, dtype=object)})
    report = compare(ref, ref)
    assert report.binnings["m"].labels == ("1", "1.0", "2.5", "True", "<other>")
    assert report["m"].reference.counts.tolist() == [100, 50, 50, 50, 0]
    assert report["m"].current.missing == 50


def test_non_frames_are_refused() -> None:
    with pytest.raises(TypeError, match="`reference_df` must be a pandas DataFrame"):
        compare({"x": [1]}, pd.DataFrame({"x": [1]}))  # type: ignore[arg-type]


def test_thresholds_are_kept_on_the_report() -> None:
    frame = pd.DataFrame({"x": np.arange(200.0)})
    rule = Thresholds(warn=0.1, critical=0.3)
    report = compare(frame, frame, thresholds=rule)
    assert isinstance(report, DriftReport) and report.thresholds is rule
    assert report["x"].thresholds is rule


def test_infer_kind_calls_short_strings_categorical() -> None:
    assert infer_kind(pd.Series(["New York", "Paris"])) == "categorical"


def test_repeated_multi_word_labels_are_categories_not_text() -> None:
    bands = pd.Series(["0 - 20K €", "20K - 40K €", "40K - 60K €", "60K+ €"] * 50)
    cities = pd.Series(["San Luis Obispo", "San Jose", "Los Angeles"] * 50)
    assert infer_kind(bands) == "categorical" and infer_kind(cities) == "categorical"


def test_identifier_columns_are_skipped_and_reported() -> None:
    rng = np.random.default_rng(1)
    ref = pd.DataFrame({"id": np.arange(500), "x": rng.normal(size=500)})
    cur = pd.DataFrame({"id": np.arange(500, 700), "x": rng.normal(size=200)})
    report = compare(ref, cur)
    assert report.features == ("x",)
    assert "identifier" in report.skipped["id"]
    assert compare(ref, cur, columns=["id", "x"]).features == ("id", "x")  # named: compared


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"bins": 0}, "`bins` must be >= 1"),
        ({"top_k": 0}, "`top_k` must be >= 1"),
        ({"smoothing": "laplace"}, "`smoothing` must be one of"),
        ({"alpha": -1.0}, "`alpha` must be a finite number > 0"),
    ],
)
def test_bad_options_are_named_before_any_work(kwargs: dict, message: str) -> None:  # type: ignore[type-arg]
    frame = pd.DataFrame({"x": [1.0, 2.0]})
    with pytest.raises(ValueError, match=message):
        compare(frame, frame, **kwargs)


def test_an_empty_current_frame_is_reported_as_not_enough_data() -> None:
    ref = pd.DataFrame({"x": np.arange(500.0)})
    row = compare(ref, ref.iloc[:0]).to_frame().iloc[0]
    assert (row.n_current, row.enough_data, row.drifted, row.p_value) == (0, False, False, 1.0)


def test_importing_drift_does_not_import_pandas_until_compare_is_used() -> None:
    """Airflow imports ``drift`` in every process (the provider); pandas costs seconds there."""
    import subprocess
    import sys

    code = (
        "import sys, drift; assert 'pandas' not in sys.modules, 'eager pandas'; "
        "drift.compare; assert 'pandas' in sys.modules; print('ok')"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.stdout.strip() == "ok", done.stderr


# --- Polars and pyarrow ----------------------------------------------------------


def _mixed_frames() -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(3)

    def frame(n: int, shift: float, p: list[float]) -> pd.DataFrame:
        amount = rng.normal(shift, 1.0, n)
        amount[rng.random(n) < 0.05] = np.nan
        words = ["red fox jumps", "lazy dog sleeps", "quick brown cat"]
        return pd.DataFrame(
            {
                "amount": amount,
                "count": rng.integers(0, 20, n),
                "flag": rng.random(n) < 0.3,
                "country": pd.Series(rng.choice(["US", "DE", "FR"], n, p=p)).where(
                    rng.random(n) > 0.02
                ),
                "plan": pd.Categorical(rng.choice(["free", "pro"], n)),
                "note": [f"{words[i % 3]} {i % 7}" for i in rng.integers(0, 1000, n)],
                "id": np.arange(n),
            }
        )

    return frame(3000, 0.0, [0.5, 0.3, 0.2]), frame(2000, 0.4, [0.3, 0.3, 0.4])


def _same_report(got: DriftReport, want: DriftReport) -> None:
    pd.testing.assert_frame_equal(got.to_frame(), want.to_frame())
    assert dict(got.skipped) == dict(want.skipped)
    for a, b in zip(got, want, strict=True):
        assert a.labels == b.labels and a.contributions == pytest.approx(b.contributions)
        assert a.reference.counts.tolist() == b.reference.counts.tolist()
        assert a.current.counts.tolist() == b.current.counts.tolist()


@pytest.mark.parametrize("library", ["polars", "pyarrow"])
def test_polars_and_pyarrow_tables_give_the_pandas_report(library: str) -> None:
    pytest.importorskip(library)
    import polars as pl
    import pyarrow as pa

    convert = pl.from_pandas if library == "polars" else pa.Table.from_pandas
    ref, cur = _mixed_frames()
    want = compare(ref, cur)
    assert set(want.drifted) >= {"amount", "country"} and "id" in want.skipped
    _same_report(compare(convert(ref), convert(cur)), want)
    picked = compare(convert(ref), convert(cur), columns=["country", "amount"])
    _same_report(picked, compare(ref, cur, columns=["country", "amount"]))


def test_a_pyarrow_column_is_read_in_place() -> None:
    pa = pytest.importorskip("pyarrow")
    from drift.notebook.tables import as_pandas

    table = pa.concat_tables([pa.table({"x": np.arange(5.0)}), pa.table({"x": np.arange(3.0)})])
    column = as_pandas(table, "reference_df")["x"].array
    shared = column._pa_array  # type: ignore[attr-defined]
    assert shared.num_chunks == 2  # not joined into a new buffer
    assert [c.buffers()[1].address for c in shared.chunks] == [
        c.buffers()[1].address for c in table.column("x").chunks
    ]


def test_a_polars_lazy_frame_or_datetime_column_is_named() -> None:
    pl = pytest.importorskip("polars")
    frame = pl.DataFrame({"x": [1.0, 2.0]})
    with pytest.raises(TypeError, match=r"`reference_df` must be a pandas DataFrame.*collect"):
        compare(frame.lazy(), frame)
    dates = pl.DataFrame({"t": pl.datetime_range(
        pl.datetime(2024, 1, 1), pl.datetime(2024, 1, 2), "1h", eager=True)})  # fmt: skip
    with pytest.raises(TypeError, match=r"column 't' has dtype .*convert it"):
        compare(dates, dates)
