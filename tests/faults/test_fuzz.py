"""Fuzzing with hypothesis: the monitor loader and the binning/compare path.

The loader (``parse_monitor``, ``load_monitor`` on YAML text, ``drift
validate``) gets random nested structures, huge numbers, unicode, NaN/inf
and empty strings, both as whole documents and as values planted at real
key paths of a valid monitor: the answer is always a ``MonitorConfig`` or a
``ConfigError`` that starts with the file name and names the key at fault,
never another exception. The stats path (``fit_numeric``/``histogram``/
``score_feature`` and ``drift.compare``) gets random arrays with NaN, inf,
constants and empties: a result with finite-or-inf scores, or a clear
``ValueError``.
"""

from __future__ import annotations

import io
import math
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from drift.cli.validate import validate_command
from drift.config import MonitorConfig, load_monitor, parse_monitor
from drift.errors import ConfigError, DriftError
from drift.frames import compare
from drift.stats import fit_categorical, fit_numeric, histogram, score_feature

FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

KEYS = [
    "name", "description", "source", "url", "url_env", "conn_id", "table", "schema", "query",
    "timestamp", "features", "kind", "bins", "strategy", "edges", "top_k", "tokenizer", "ngram",
    "lowercase", "thresholds", "warn", "critical", "metric", "p_value", "min_effect",
    "min_rows", "consecutive", "resolve_after", "bias_corrected", "window", "schedule",
    "reference", "previous_windows", "season", "start", "end", "metrics", "smoothing",
    "method", "alpha", "epsilon", "alerts", "apprise", "apprise_env", "airflow_notifier",
    "options", "min_severity", "pushdown",
]  # fmt: skip

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=-(10**400), max_value=10**400),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(),
    st.sampled_from(["", " ", "1d", "0s", "-1d", "* * * * *", "kl", "nan", "inf", "1e999"]),
    st.dates(),
    st.datetimes(),
)
keys = st.one_of(st.sampled_from(KEYS), st.text(max_size=12))
values = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(keys, inner, max_size=5)),
    max_leaves=20,
)

VALID: dict[str, Any] = {
    "name": "fuzz",
    "source": {"url": "sqlite:///x.db"},
    "table": "events",
    "timestamp": "ts",
    "window": "1d",
    "reference": {"previous_windows": 3},
    "features": [{"name": "amount", "kind": "numeric"}, {"name": "c", "kind": "categorical"}],
    "thresholds": {"warn": 0.05, "critical": 0.2},
    "smoothing": {"method": "additive"},
    "alerts": [{"apprise": "json://127.0.0.1/hook"}],
}
PATHS = [
    ("name",), ("source",), ("source", "url"), ("table",), ("timestamp",), ("window",),
    ("schedule",), ("reference",), ("reference", "previous_windows"), ("reference", "start"),
    ("features",), ("features", 0), ("features", 0, "bins"), ("features", 0, "edges"),
    ("features", 1, "top_k"), ("thresholds",), ("thresholds", "warn"),
    ("thresholds", "p_value"), ("smoothing", "alpha"), ("metrics",), ("alerts",),
    ("alerts", 0, "min_severity"), ("query",), ("pushdown",),
]  # fmt: skip


def _planted(path: tuple[str | int, ...], value: Any) -> dict[str, Any]:
    doc: Any = yaml.safe_load(yaml.safe_dump(VALID))
    node = doc
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = value
    return doc  # type: ignore[no-any-return]


def _check_error(exc: ConfigError, source_name: str) -> None:
    text = str(exc)
    assert text, "empty error"
    for line in text.splitlines():
        assert line.startswith(source_name), line
        assert len(line) > len(source_name) + 2, line


def _parse(data: Any) -> MonitorConfig | None:
    try:
        return parse_monitor(data, source_name="fuzz.yaml")
    except ConfigError as exc:
        _check_error(exc, "fuzz.yaml")
        return None


@FUZZ
@given(values)
def test_random_documents(data: Any) -> None:
    _parse(data)


@FUZZ
@given(st.sampled_from(PATHS), values)
def test_random_values_at_real_keys(path: tuple[str | int, ...], value: Any) -> None:
    result = _parse(_planted(path, value))
    if result is None:
        return
    # A value that validated gives a monitor that dumps (for the store) and loads again.
    again = parse_monitor(result.model_dump(mode="json", by_alias=True, exclude_unset=True))
    assert again == result


@FUZZ
@given(st.one_of(st.text(), st.binary().map(lambda b: b.decode("latin-1"))))
def test_random_yaml_text(text: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "m.yaml"
        path.write_text(text, encoding="utf-8")
        try:
            load_monitor(path)
        except ConfigError as exc:
            _check_error(exc, str(path))
        out, err = io.StringIO(), io.StringIO()
        assert validate_command([path], out=out, err=err) in (0, 1)


@FUZZ
@given(st.sampled_from(PATHS), values)
def test_dumped_yaml_through_drift_validate(path: tuple[str | int, ...], value: Any) -> None:
    try:
        text = yaml.safe_dump(_planted(path, value), allow_unicode=True)
    except (yaml.YAMLError, ValueError):
        return  # not representable as YAML (e.g. huge dates); nothing to load
    with tempfile.TemporaryDirectory() as tmp:
        path_ = Path(tmp) / "m.yaml"
        path_.write_text(text, encoding="utf-8")
        out, err = io.StringIO(), io.StringIO()
        code = validate_command([path_], out=out, err=err)
        assert code in (0, 1)
        if code == 1:
            assert err.getvalue().startswith(str(path_))


# --- the binning / compare path -----------------------------------------------------------

floats = st.floats(allow_nan=True, allow_infinity=True, width=64)
arrays = st.one_of(
    st.lists(floats, max_size=60),
    st.lists(st.sampled_from([0.0, 1.0, math.nan, math.inf, -math.inf, 1e308, -1e308, 5e-324])),
    st.integers(0, 50).map(lambda n: [7.5] * n),  # constant (or empty)
)


def _finite_or_inf(x: float | None) -> bool:
    return x is None or not math.isnan(x)


SMOOTHING = st.sampled_from(["lidstone", "epsilon", None])


def _score(ref: Any, cur: Any, kind: str, smoothing: str | None) -> None:
    try:
        score = score_feature(ref, cur, feature="f", kind=kind, smoothing=smoothing)
    except (ValueError, DriftError) as exc:
        assert str(exc)
        return
    assert all(_finite_or_inf(v) for v in score.metrics.values()), score.metrics
    assert 0.0 <= score.p_value <= 1.0, score.p_value


@FUZZ
@given(arrays, arrays, st.integers(1, 20), st.sampled_from(["quantile", "uniform"]), SMOOTHING)
def test_numeric_fit_count_score(
    reference: list[float], live: list[float], bins: int, strategy: str, smoothing: str | None
) -> None:
    try:
        binning = fit_numeric(np.asarray(reference, dtype=float), bins=bins, strategy=strategy)
    except (ValueError, DriftError) as exc:
        assert str(exc)
        return
    ref, cur = histogram(binning, reference), histogram(binning, live)
    assert ref.total == len(reference) and cur.total == len(live)
    _score(ref, cur, "numeric", smoothing)


@FUZZ
@given(
    st.lists(st.one_of(st.text(max_size=5), st.none(), floats), max_size=40),
    st.lists(st.one_of(st.text(max_size=5), st.none(), floats), max_size=40),
    st.integers(1, 10),
    SMOOTHING,
)
def test_categorical_fit_count_score(
    reference: list[Any], live: list[Any], top_k: int, smoothing: str | None
) -> None:
    try:
        binning = fit_categorical(np.asarray(reference, dtype=object), top_k=top_k)
    except (ValueError, DriftError) as exc:
        assert str(exc)
        return
    ref, cur = histogram(binning, reference), histogram(binning, live)
    _score(ref, cur, "categorical", smoothing)


@FUZZ
@given(arrays, arrays, st.lists(st.text(max_size=8), max_size=30))
def test_compare_frames(reference: list[float], live: list[float], words: list[str]) -> None:
    ref = pd.DataFrame({"x": pd.Series(reference, dtype=float)})
    cur = pd.DataFrame({"x": pd.Series(live, dtype=float)})
    ref["w"] = pd.Series([words[i % len(words)] if words else None for i in range(len(ref))],
                         dtype=object)  # fmt: skip
    cur["w"] = pd.Series([None] * len(cur), dtype=object)
    try:
        report = compare(ref, cur)
    except (ValueError, DriftError) as exc:
        assert str(exc)
        return
    assert report is not None


def test_the_fuzzers_reach_results_as_well_as_errors() -> None:
    """Sanity: the valid base document validates, so planted values exercise real keys."""
    assert isinstance(parse_monitor(VALID), MonitorConfig)
    with pytest.raises(ConfigError, match=r"^fuzz.yaml: features\[0\].bins: "):
        parse_monitor(_planted(("features", 0, "bins"), 1), source_name="fuzz.yaml")
