"""Monitor files: what validates, and what each error message names."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from drift.cli.validate import validate_command
from drift.config import MonitorConfig, load_monitor, load_monitors, parse_monitor
from drift.config.durations import format_duration, parse_duration
from drift.config.windows import live_window, reference_window
from drift.errors import ConfigError

EXAMPLE = """\
name: checkout_features
source:
  url_env: SOURCE_DB_URL        # or url: sqlite:///... , or conn_id: my_warehouse (Airflow)
table: events                   # or query: "SELECT ... FROM ..."
timestamp: created_at
window: 1d                      # or schedule: "0 * * * *"
reference:
  previous_windows: 7           # or start: / end:, or season: 7d, or table: / query:
features:
  - name: amount                # kind inferred from the column type when omitted
    kind: numeric
    bins: 10
  - {name: country, kind: categorical, top_k: 50}
  - {name: prompt, kind: text, tokenizer: regex, top_k: 5000}
thresholds: {warn: 0.05, critical: 0.2}
alerts:
  - apprise: "json://127.0.0.1:9000/hook"
"""

MINIMAL: dict[str, Any] = {
    "name": "orders",
    "source": {"url": "sqlite:///orders.db"},
    "table": "orders",
    "timestamp": "created_at",
}


def write(tmp_path: Path, text: str, name: str = "checkout.yaml") -> Path:
    folder = tmp_path / "monitors"
    folder.mkdir(exist_ok=True)
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def error_of(data: dict[str, Any]) -> str:
    with pytest.raises(ConfigError) as info:
        parse_monitor(data, source_name="monitors/m.yaml")
    return str(info.value)


def with_(**changes: Any) -> dict[str, Any]:
    return {**MINIMAL, **changes}


def test_documented_example_validates(tmp_path: Path) -> None:
    monitor = load_monitor(write(tmp_path, EXAMPLE))
    assert monitor.name == "checkout_features"
    assert monitor.source.url_env == "SOURCE_DB_URL"
    assert monitor.table == "events"
    assert monitor.window == timedelta(days=1)
    assert monitor.reference.previous_windows == 7
    assert monitor.features is not None
    assert [f.kind for f in monitor.features] == ["numeric", "categorical", "text"]
    assert monitor.features[0].bins == 10
    assert monitor.features[2].top_k == 5000
    assert monitor.thresholds.warn == 0.05
    assert monitor.alerts[0].apprise == "json://127.0.0.1:9000/hook"


def test_four_keys_make_a_useful_monitor() -> None:
    monitor = parse_monitor(MINIMAL)
    assert monitor.features is None  # every column but the timestamp, kinds inferred
    assert monitor.window_length == timedelta(days=1)
    assert monitor.reference.mode == "previous_windows"
    assert monitor.reference.previous_windows == 7
    assert monitor.metrics[0] == "kl"
    assert monitor.smoothing.method == "lidstone" and monitor.smoothing.alpha == 0.5
    assert monitor.pushdown is True
    assert monitor.alerts == ()


def test_models_are_frozen() -> None:
    monitor = parse_monitor(MINIMAL)
    with pytest.raises(ValueError, match="frozen"):
        monitor.name = "other"  # type: ignore[misc]


def test_every_documented_key_is_accepted() -> None:
    monitor = parse_monitor(
        {
            "name": "full-monitor.v2",
            "description": "all keys",
            "source": {"conn_id": "warehouse"},
            "query": "-- recent\nSELECT * FROM events WHERE amount > 0;",
            "timestamp": "ts",
            "schedule": "0 * * * *",
            "window": "2h",
            "reference": {
                "table": "training",
                "schema": "ml",
                "start": "2024-01-01",
                "end": datetime(2024, 2, 1),
                "timestamp": "loaded_at",
            },
            "features": [
                {"name": "amount", "kind": "numeric", "bins": 20, "strategy": "uniform"},
                {"name": "fee", "edges": [0, 1.5, 10]},
                {"name": "country", "kind": "categorical", "top_k": 10},
                {
                    "name": "prompt",
                    "kind": "text",
                    "tokenizer": "whitespace",
                    "top_k": 100,
                    "ngram": 2,
                    "lowercase": False,
                },
            ],
            "metrics": [
                "kl",
                "reverse_kl",
                "jeffreys",
                "psi",
                "jensen_shannon",
                "hellinger",
                "total_variation",
            ],
            "thresholds": {
                "warn": 0.1,
                "critical": 0.3,
                "metric": "psi",
                "p_value": None,
                "min_rows": 10,
                "consecutive": 2,
                "bias_corrected": True,
            },
            "smoothing": {"method": "epsilon", "alpha": 1.0, "epsilon": 1e-4},
            "alerts": [
                {"apprise": "mailto://ops@example.com", "min_severity": "critical"},
                {"apprise_env": "SLACK_APPRISE_URL"},
                {
                    "airflow_notifier": "airflow.providers.slack.notifications.slack.SlackNotifier",
                    "conn_id": "slack",
                    "options": {"channel": "#drift"},
                },
            ],
            "pushdown": False,
        }
    )
    assert monitor.query == "-- recent\nSELECT * FROM events WHERE amount > 0"
    assert monitor.window_length == timedelta(hours=2)
    assert monitor.reference.mode == "relation"
    assert monitor.reference.db_schema == "ml"
    assert monitor.reference.start == datetime(2024, 1, 1, tzinfo=UTC)
    assert monitor.reference.end == datetime(2024, 2, 1, tzinfo=UTC)
    assert monitor.features is not None
    assert monitor.features[1].edges == (0.0, 1.5, 10.0)
    assert monitor.features[1].kind is None
    assert monitor.features[2].resolved_top_k("categorical") == 10
    assert monitor.thresholds.p_value is None


@pytest.mark.parametrize(
    ("reference", "mode"),
    [
        ({"previous_windows": 3}, "previous_windows"),
        ({"season": "7d"}, "season"),
        ({"start": "2024-01-01T00:00:00Z", "end": "2024-01-08"}, "fixed"),
        ({"query": "SELECT * FROM training"}, "relation"),
    ],
)
def test_each_reference_mode_validates(reference: dict[str, Any], mode: str) -> None:
    assert parse_monitor(with_(reference=reference)).reference.mode == mode


def test_schedule_alone_makes_windows_follow_the_ticks() -> None:
    monitor = parse_monitor(with_(schedule="0 */6 * * *"))
    assert monitor.window_length is None
    end = datetime(2024, 3, 1, 12, tzinfo=UTC)
    assert live_window(monitor, end) == (datetime(2024, 3, 1, 6, tzinfo=UTC), end)


def test_window_length_gives_the_live_window() -> None:
    monitor = parse_monitor(with_(window="30m"))
    end = datetime(2024, 3, 1, 12, tzinfo=UTC)
    assert live_window(monitor, end) == (end - timedelta(minutes=30), end)


START = datetime(2024, 3, 8, tzinfo=UTC)
END = datetime(2024, 3, 9, tzinfo=UTC)


def test_reference_of_previous_windows_is_the_n_windows_before() -> None:
    ref = reference_window(parse_monitor(with_(reference={"previous_windows": 7})), START, END)
    assert (ref.start, ref.end) == (datetime(2024, 3, 1, tzinfo=UTC), START)
    assert not ref.separate


def test_reference_of_a_season_is_the_window_one_season_back() -> None:
    ref = reference_window(parse_monitor(with_(reference={"season": "1w"})), START, END)
    assert (ref.start, ref.end) == (START - timedelta(days=7), END - timedelta(days=7))


def test_fixed_reference_is_that_range() -> None:
    monitor = parse_monitor(with_(reference={"start": "2024-01-01", "end": "2024-02-01"}))
    ref = reference_window(monitor, START, END)
    assert (ref.start, ref.end) == (
        datetime(2024, 1, 1, tzinfo=UTC),
        datetime(2024, 2, 1, tzinfo=UTC),
    )


def test_separate_reference_table_is_read_unbounded() -> None:
    monitor = parse_monitor(with_(reference={"table": "training", "schema": "ml"}))
    ref = reference_window(monitor, START, END)
    assert ref.separate and (ref.table, ref.schema) == ("training", "ml")
    assert (ref.start, ref.end) == (None, None)
    assert ref.timestamp == "created_at"


def test_reference_window_needs_an_aware_window() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        reference_window(parse_monitor(MINIMAL), datetime(2024, 1, 1), END)


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("30m", timedelta(minutes=30)),
        ("1h", timedelta(hours=1)),
        ("1d", timedelta(days=1)),
        ("7d", timedelta(days=7)),
        ("2w", timedelta(weeks=2)),
        ("45s", timedelta(seconds=45)),
    ],
)
def test_durations_parse_and_format_back(text: str, value: timedelta) -> None:
    assert parse_duration(text) == value
    assert parse_duration(format_duration(value)) == value


@pytest.mark.parametrize("text", ["", "1", "d", "0d", "1.5h", "-1d", "1y", "1 day"])
def test_bad_durations_are_rejected(text: str) -> None:
    with pytest.raises(ValueError, match="duration"):
        parse_duration(text)


# --- error messages: file, key path, expectation ---------------------------------


def test_error_names_file_key_path_and_bound(tmp_path: Path) -> None:
    text = EXAMPLE.replace(
        "{name: prompt, kind: text, tokenizer: regex, top_k: 5000}",
        "{name: fee, kind: numeric, bins: 1}",
    )
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_monitor(path)
    assert str(info.value) == f"{path}: features[2].bins: must be >= 2 (got 1)"


def test_yaml_syntax_error_names_line_and_column(tmp_path: Path) -> None:
    path = write(tmp_path, "name: x\nsource: {url: sqlite://\ntable: t\n")
    with pytest.raises(ConfigError, match=rf"^{path}:\d+:\d+: invalid YAML"):
        load_monitor(path)


def test_duplicate_yaml_key_is_an_error(tmp_path: Path) -> None:
    path = write(tmp_path, "name: a\nname: b\n")
    with pytest.raises(
        ConfigError, match=rf"^{path}:2:1: invalid YAML: found duplicate key 'name'"
    ):
        load_monitor(path)


def test_file_that_is_not_a_mapping(tmp_path: Path) -> None:
    path = write(tmp_path, "- just\n- a list\n")
    with pytest.raises(ConfigError, match=rf"^{path}: expected a mapping"):
        load_monitor(path)


def test_missing_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read"):
        load_monitor(tmp_path / "absent.yaml")


def test_unknown_key_suggests_the_closest() -> None:
    message = error_of(with_(features=[{"name": "a", "kind": "numeric", "bnis": 3}]))
    assert message == "monitors/m.yaml: features[0].bnis: unknown key; did you mean 'bins'?"


def test_unknown_top_level_key_suggests_the_closest() -> None:
    assert "timestamp: unknown key" not in error_of(with_(timestmp="x"))
    assert error_of(with_(timestmp="x")) == (
        "monitors/m.yaml: timestmp: unknown key; did you mean 'timestamp'?"
    )


def test_missing_key_is_named() -> None:
    data = dict(MINIMAL)
    del data["timestamp"]
    assert error_of(data) == "monitors/m.yaml: timestamp: required key is missing"


def test_wrong_type_is_named() -> None:
    message = error_of(with_(thresholds={"warn": "high"}))
    assert message.startswith("monitors/m.yaml: thresholds.warn: ")
    assert "'high'" in message


def test_wrong_literal_lists_the_choices() -> None:
    message = error_of(with_(features=[{"name": "a", "kind": "numbers"}]))
    assert message.startswith("monitors/m.yaml: features[0].kind: must be one of ")
    assert "'numeric'" in message and "(got 'numbers')" in message


def test_password_in_url_is_refused_with_the_fix() -> None:
    message = error_of(with_(source={"url": "postgresql://app:s3cret@db/prod"}))
    assert message.startswith("monitors/m.yaml: source.url: a password must not be written")
    assert "url_env" in message and "conn_id" in message
    assert "s3cret" not in message


def test_source_needs_exactly_one_way_in() -> None:
    message = error_of(with_(source={"url": "sqlite://", "conn_id": "x"}))
    assert message == (
        "monitors/m.yaml: source: give exactly one of url, url_env or conn_id (got url, conn_id)"
    )


def test_table_and_query_are_exclusive() -> None:
    assert "give exactly one of table or query" in error_of(with_(query="SELECT 1"))


@pytest.mark.parametrize(
    "query", ["DELETE FROM events", "SELECT 1; DROP TABLE events", "UPDATE t SET x = 1"]
)
def test_query_must_be_one_select(query: str) -> None:
    data = {k: v for k, v in MINIMAL.items() if k != "table"}
    assert error_of({**data, "query": query}).startswith("monitors/m.yaml: query: must be a single")


@pytest.mark.parametrize("name", ["has space", "semi;colon", "slash/name", ""])
def test_monitor_name_must_be_a_dag_id(name: str) -> None:
    assert error_of(with_(name=name)).startswith("monitors/m.yaml: name: must contain only")


def test_bad_cron_is_named() -> None:
    assert error_of(with_(schedule="every hour")).startswith(
        "monitors/m.yaml: schedule: must be a five-field cron expression"
    )


def test_bad_window_is_named() -> None:
    assert error_of(with_(window="1x")).startswith("monitors/m.yaml: window: must be a duration")


def test_option_of_another_kind_is_refused() -> None:
    message = error_of(with_(features=[{"name": "c", "kind": "categorical", "bins": 3}]))
    assert message == (
        "monitors/m.yaml: features[0]: bins applies to numeric features only, not categorical"
    )


def test_edges_must_increase() -> None:
    message = error_of(with_(features=[{"name": "a", "edges": [1, 1, 2]}]))
    assert message == "monitors/m.yaml: features[0].edges: must be strictly increasing"


def test_feature_cannot_be_the_timestamp_or_listed_twice() -> None:
    assert "is the timestamp column" in error_of(with_(features=[{"name": "created_at"}]))
    assert "is listed twice" in error_of(with_(features=[{"name": "a"}, {"name": "a"}]))


def test_reference_modes_are_exclusive() -> None:
    message = error_of(with_(reference={"previous_windows": 2, "season": "7d"}))
    assert message.startswith("monitors/m.yaml: reference: give only one of")


def test_reference_range_must_be_ordered() -> None:
    message = error_of(with_(reference={"start": "2024-02-01", "end": "2024-01-01"}))
    assert "must be before end" in message


def test_thresholds_must_be_ordered() -> None:
    assert "critical (0.1) must be >= warn (0.3)" in error_of(
        with_(thresholds={"warn": 0.3, "critical": 0.1})
    )


def test_alert_shape_is_checked() -> None:
    assert error_of(with_(alerts=[{"conn_id": "x"}])).startswith(
        "monitors/m.yaml: alerts[0]: give exactly one of apprise, apprise_env or airflow_notifier"
    )
    assert error_of(with_(alerts=[{"apprise": "json://h", "slack": 1}])) == (
        "monitors/m.yaml: alerts[0].slack: unknown key (known keys: apprise, apprise_env, "
        "airflow_notifier, conn_id, options, min_severity)"
    )


def test_all_problems_are_reported_one_per_line() -> None:
    message = error_of(
        with_(window="1x", thresholds={"warn": -1}, features=[{"name": "a", "bins": 0}])
    )
    assert message.splitlines() == [
        "monitors/m.yaml: features[0].bins: must be >= 2 (got 0)",
        "monitors/m.yaml: window: must be a duration like 30m, 1h, 1d, 7d or 2w (a whole number "
        "and one of s, m, h, d, w), got '1x'",
        "monitors/m.yaml: thresholds.warn: must be >= 0 (got -1)",
    ]


def test_load_monitors_reads_a_directory_and_refuses_duplicate_names(tmp_path: Path) -> None:
    write(tmp_path, EXAMPLE, "a.yaml")
    write(tmp_path, EXAMPLE.replace("checkout_features", "other"), "b.yml")
    write(tmp_path, "not yaml monitor", "notes.txt")
    assert [m.name for m in load_monitors(tmp_path / "monitors")] == ["checkout_features", "other"]
    write(tmp_path, EXAMPLE, "c.yaml")
    with pytest.raises(ConfigError, match=r"c\.yaml: name: 'checkout_features' is already used"):
        load_monitors(tmp_path / "monitors")


def test_validate_command_reports_each_file(tmp_path: Path) -> None:
    good = write(tmp_path, EXAMPLE, "good.yaml")
    bad = write(tmp_path, EXAMPLE.replace("bins: 10", "bins: 1"), "bad.yaml")
    out, err = io.StringIO(), io.StringIO()
    assert validate_command([good], out=out, err=err) == 0
    assert out.getvalue() == f"{good}: ok (checkout_features)\n"
    assert validate_command([good, bad], out=out, err=err) == 1
    assert f"{bad}: features[0].bins: must be >= 2 (got 1)" in err.getvalue()
    assert validate_command([], out=out, err=err) == 2


def test_model_round_trips_through_json() -> None:
    monitor = parse_monitor(with_(window="7d", reference={"season": "1w"}))
    data = monitor.model_dump(mode="json", by_alias=True, exclude_none=True)
    assert data["window"] == "1w" and data["reference"]["season"] == "1w"
    assert MonitorConfig.model_validate(data) == monitor


@pytest.mark.parametrize("value", [False, True, 0, 3600, 1.5, [], {}])
def test_a_window_that_is_not_a_duration_string_is_refused(value: Any) -> None:
    """Found by test_fuzz: ``window: false`` was read as a zero-second window."""
    message = error_of(with_(window=value))
    assert "window" in message and "must be a duration such as 30m, 1h or 7d" in message


def test_a_window_given_as_a_timedelta_must_be_positive() -> None:
    assert parse_monitor(with_(window=timedelta(hours=2))).window == timedelta(hours=2)
    assert "must be a positive duration" in error_of(with_(window=timedelta(0)))
