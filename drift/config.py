"""Monitor definitions: YAML files validated into frozen pydantic models.

A monitor names where its data lives (``source`` and ``table`` or ``query``),
which column orders rows in time (``timestamp``), what to compare
(``features``), against what (``reference``), how often (``window`` or
``schedule``), and what to do about it (``metrics``, ``thresholds``,
``smoothing``, ``alerts``). Every key and its default is documented in
``docs/config.md``; the three keys ``name``, ``source`` and ``table`` plus
``timestamp`` make a working monitor.

A file that does not validate raises :class:`drift.errors.ConfigError` with
the file name, the key path and what was expected, one problem per line::

    monitors/checkout.yaml: features[2].bins: must be >= 2 (got 1)
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any, Literal

import sqlalchemy as sa
import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from drift._config_errors import format_validation_error
from drift._tokenizer_files import load_tokenizer
from drift.durations import check_cron, format_duration, parse_duration
from drift.errors import ConfigError

__all__ = [
    "AlertConfig",
    "FeatureConfig",
    "MonitorConfig",
    "ReferenceConfig",
    "SmoothingConfig",
    "SourceConfig",
    "ThresholdsConfig",
    "load_monitor",
    "load_monitors",
    "parse_monitor",
]

FeatureKind = Literal["numeric", "categorical", "text"]
Metric = Literal[
    "kl", "reverse_kl", "jeffreys", "psi", "jensen_shannon", "hellinger", "total_variation"
]

#: Default ``top_k`` by feature kind, when a feature does not set it.
DEFAULT_TOP_K: Mapping[str, int] = {"categorical": 50, "text": 1000}


def _to_duration(value: object) -> object:
    if isinstance(value, str):
        return parse_duration(value)
    return value


def _to_utc(value: object) -> object:
    if isinstance(value, date) and not isinstance(value, datetime):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    return value


def _as_utc(value: datetime) -> datetime:
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


Duration = Annotated[
    timedelta,
    BeforeValidator(_to_duration),
    PlainSerializer(format_duration, return_type=str),
]
"""A positive duration written as ``30m``, ``1h``, ``1d``, ``7d``, ``2w``."""

Instant = Annotated[datetime, BeforeValidator(_to_utc), AfterValidator(_as_utc)]
"""A point in time; a date means midnight UTC and a naive time is taken as UTC."""

_NAME = re.compile(r"^[A-Za-z0-9_.-]+$")
_LEADING_COMMENTS = re.compile(r"^\s*(?:(?:--[^\n]*\n?)|(?:/\*.*?\*/))*\s*", re.S)


def _check_query(query: str) -> str:
    body = _LEADING_COMMENTS.sub("", query, count=1).strip().rstrip(";").rstrip()
    first = body.split(None, 1)[0].upper() if body else ""
    if first not in ("SELECT", "WITH"):
        raise ValueError("must be a single SELECT (or WITH ... SELECT) statement")
    if ";" in body:
        raise ValueError("must be a single statement (found ';' inside the query)")
    return query.strip().rstrip(";").rstrip()


Query = Annotated[str, AfterValidator(_check_query)]


def _check_name(name: str) -> str:
    if _NAME.match(name) is None:
        raise ValueError(
            f"must contain only letters, digits, '_', '.' and '-' (it becomes the DAG id), "
            f"got {name!r}"
        )
    return name


# Options that only make sense for one kind of feature.
_KIND_OPTIONS: Mapping[str, FeatureKind] = {
    "bins": "numeric",
    "strategy": "numeric",
    "edges": "numeric",
    "tokenizer": "text",
    "tokenizer_file": "text",
    "ngram": "text",
    "lowercase": "text",
}


class _Model(BaseModel):
    model_config = ConfigDict(
        frozen=True,
        extra="forbid",
        use_attribute_docstrings=True,
    )


class SourceConfig(_Model):
    """Where the monitored data lives: exactly one of ``url``, ``url_env``, ``conn_id``."""

    url: str | None = None
    """A SQLAlchemy URL without a password, e.g. ``sqlite:///data.db``."""
    url_env: str | None = None
    """Name of an environment variable holding a SQLAlchemy URL."""
    conn_id: str | None = None
    """An Airflow connection id, resolved by the Airflow layer at run time."""

    @model_validator(mode="after")
    def _exactly_one(self) -> SourceConfig:
        given = [k for k in ("url", "url_env", "conn_id") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError(
                "give exactly one of url, url_env or conn_id"
                + (f" (got {', '.join(given)})" if given else "")
            )
        if self.url is not None:
            try:
                url = sa.make_url(self.url)
            except sa.exc.ArgumentError as exc:
                raise ValueError(f"url: not a SQLAlchemy URL ({exc})") from None
            if url.password is not None or "password" in url.query:
                raise ValueError(
                    "url: a password must not be written in a monitor file; put the URL in "
                    "an environment variable and name it with url_env:, or use an Airflow "
                    "connection with conn_id:"
                )
        return self


class FeatureConfig(_Model):
    """One column to compare, and how to bin it."""

    name: str = Field(min_length=1)
    """The column name, exactly as in the table or query."""
    kind: FeatureKind | None = None
    """``numeric``, ``categorical`` or ``text``; inferred from the column type when omitted."""
    bins: int = Field(10, ge=2, le=1000)
    """Numeric: number of bins fitted on the reference."""
    strategy: Literal["quantile", "uniform"] = "quantile"
    """Numeric: ``quantile`` (equal-count bins) or ``uniform`` (equal-width bins)."""
    edges: tuple[float, ...] | None = None
    """Numeric: fixed bin boundaries instead of fitted ones; k edges give k + 1 bins."""
    top_k: int | None = Field(None, ge=1, le=100_000)
    """Categorical: categories kept (default 50); text: vocabulary size (default 1000)."""
    tokenizer: Literal["regex", "whitespace", "char", "huggingface", "ids"] = "regex"
    """Text: how text is split into tokens. ``regex``, ``whitespace`` and ``char`` split
    words or characters; ``huggingface`` runs the subword tokenizer in ``tokenizer_file``;
    ``ids`` reads a column that already holds token ids (an integer array or JSON text
    like ``[1, 5, 7]``)."""
    tokenizer_file: str | None = None
    """Text, with ``tokenizer: huggingface``: a local ``tokenizer.json`` (as written by
    ``Tokenizer.save``); a relative path is relative to the monitor file. Never downloaded."""
    ngram: int = Field(1, ge=1, le=5)
    """Text: tokens are n-grams of this many words."""
    lowercase: bool = True
    """Text: lowercase before tokenizing (``regex``, ``whitespace`` and ``char``; ignored by
    ``huggingface``, whose tokenizer.json normalizes text itself, and by ``ids``)."""
    thresholds: ThresholdsConfig | None = None
    """This feature's own thresholds, in place of the monitor's (all keys; defaults as there)."""

    @field_validator("tokenizer_file")
    @classmethod
    def _tokenizer_file_loads(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is None:
            return None
        path = Path(value).expanduser()
        base = (info.context or {}).get("base_dir")
        if not path.is_absolute() and base is not None:
            path = Path(base) / path
        path = path.absolute()
        load_tokenizer(path)
        return str(path)

    @model_validator(mode="after")
    def _options_fit_kind(self) -> FeatureConfig:
        for option, kind in _KIND_OPTIONS.items():
            if option in self.model_fields_set and self.kind not in (None, kind):
                raise ValueError(f"{option} applies to {kind} features only, not {self.kind}")
        self._check_tokenizer()
        if "top_k" in self.model_fields_set and self.kind == "numeric":
            raise ValueError("top_k applies to categorical and text features only, not numeric")
        if self.edges is not None:
            if not self.edges:
                raise ValueError("edges: give at least one bin boundary")
            if any(b <= a for a, b in zip(self.edges, self.edges[1:], strict=False)):
                raise ValueError("edges: must be strictly increasing")
            if any(e != e or e in (float("inf"), float("-inf")) for e in self.edges):
                raise ValueError("edges: must be finite numbers")
        return self

    def _check_tokenizer(self) -> None:
        if self.tokenizer == "huggingface" and self.tokenizer_file is None:
            raise ValueError(
                "tokenizer_file: tokenizer: huggingface needs the path of a tokenizer.json"
            )
        if self.tokenizer != "huggingface" and self.tokenizer_file is not None:
            raise ValueError(
                f"tokenizer_file: applies to tokenizer: huggingface only, not {self.tokenizer}"
            )
        if self.tokenizer in ("huggingface", "ids") and self.ngram != 1:
            raise ValueError(
                f"ngram: tokenizer: {self.tokenizer} counts single tokens; ngram must be 1"
            )

    def resolved_top_k(self, kind: str) -> int:
        """``top_k`` if set, else the default for ``kind``."""
        return self.top_k if self.top_k is not None else DEFAULT_TOP_K.get(kind, 50)


class ReferenceConfig(_Model):
    """What live windows are compared against: one of four modes.

    ``previous_windows: N`` (the N windows just before), ``season: 7d`` (the
    same window one season back), a fixed ``start``/``end`` range, or a
    separate ``table``/``query`` (optionally bounded by ``start``/``end``).
    """

    previous_windows: int | None = Field(None, ge=1, le=10_000)
    """Rolling reference: the N windows immediately before the live one."""
    season: Duration | None = None
    """Seasonal reference: the live window shifted back by this duration."""
    start: Instant | None = None
    """Start (inclusive) of a fixed reference range, or of the separate table's rows."""
    end: Instant | None = None
    """End (exclusive) of a fixed reference range, or of the separate table's rows."""
    table: str | None = None
    """A separate reference table, e.g. the training set."""
    db_schema: str | None = Field(None, alias="schema")
    """Schema of the separate reference table."""
    query: Query | None = None
    """A separate reference SELECT."""
    timestamp: str | None = None
    """Timestamp column of the separate table/query (default: the monitor's)."""

    @property
    def mode(self) -> Literal["previous_windows", "season", "fixed", "relation"]:
        """Which of the four reference modes this is."""
        if self.previous_windows is not None:
            return "previous_windows"
        if self.season is not None:
            return "season"
        if self.table is not None or self.query is not None:
            return "relation"
        return "fixed"

    @model_validator(mode="after")
    def _one_mode(self) -> ReferenceConfig:
        modes = [
            name
            for name, on in (
                ("previous_windows", self.previous_windows is not None),
                ("season", self.season is not None),
                ("table/query", self.table is not None or self.query is not None),
            )
            if on
        ]
        if len(modes) > 1:
            raise ValueError(
                f"give only one of previous_windows, season, table/query (got {modes})"
            )
        if self.table is not None and self.query is not None:
            raise ValueError("give either table or query, not both")
        if self.db_schema is not None and self.table is None:
            raise ValueError("schema applies to a reference table only")
        bounded = self.start is not None or self.end is not None
        if modes and modes[0] != "table/query" and bounded:
            raise ValueError(f"start/end cannot be combined with {modes[0]}")
        if self.timestamp is not None and not (modes == ["table/query"] and bounded):
            raise ValueError("timestamp applies to a bounded reference table/query only")
        if not modes and (self.start is None or self.end is None):
            raise ValueError(
                "give previous_windows: N, season: <duration>, start: and end:, or table:/query:"
            )
        if self.start is not None and self.end is not None and self.start >= self.end:
            raise ValueError(f"start ({self.start}) must be before end ({self.end})")
        return self


class ThresholdsConfig(_Model):
    """When a score becomes a warning or a critical alert."""

    warn: float = Field(0.05, ge=0)
    """Score at or above which a feature is in warning."""
    critical: float = Field(0.2, ge=0)
    """Score at or above which a feature is critical."""
    metric: Metric = "kl"
    """The metric the thresholds apply to."""
    p_value: float | None = Field(0.001, gt=0, le=1)
    """Drift counts only when the G-test p-value (Benjamini-Hochberg adjusted across
    the run's features) is below this; ``null`` turns the gate off."""
    min_effect: float = Field(0.001, ge=0)
    """Smallest score ever counted as drift, however significant (huge windows)."""
    min_rows: int = Field(100, ge=0)
    """Windows with fewer live (or reference) rows are recorded as insufficient data."""
    consecutive: int = Field(1, ge=1)
    """Windows in a row that must cross a threshold before an alert opens."""
    resolve_after: int = Field(1, ge=1)
    """Clean windows in a row before an open alert resolves (hysteresis)."""
    bias_corrected: bool = True
    """With ``metric: kl``, compare the bias-corrected KL (small-sample bias removed)."""

    @model_validator(mode="after")
    def _ordered(self) -> ThresholdsConfig:
        if self.critical < self.warn:
            raise ValueError(f"critical ({self.critical}) must be >= warn ({self.warn})")
        if self.min_effect > self.warn:
            raise ValueError(f"min_effect ({self.min_effect}) must be <= warn ({self.warn})")
        return self


class SmoothingConfig(_Model):
    """How zero counts are smoothed before divergences are computed."""

    method: Literal["additive", "epsilon", "none"] = "additive"
    """``additive`` (Lidstone, adds ``alpha`` to every bin), ``epsilon`` or ``none``."""
    alpha: float = Field(0.5, gt=0)
    """Pseudo-count added to every bin by ``additive`` smoothing."""
    epsilon: float = Field(1e-6, gt=0, lt=1)
    """Probability floor used by ``epsilon`` smoothing."""


class AlertConfig(_Model):
    """One alert channel: exactly one of ``apprise``, ``apprise_env``, ``airflow_notifier``."""

    apprise: str | None = None
    """An Apprise URL, e.g. ``json://host/hook`` or ``mailto://...``."""
    apprise_env: str | None = None
    """Name of an environment variable holding an Apprise URL (for URLs with secrets)."""
    airflow_notifier: str | None = None
    """Dotted path of an Airflow notifier class, e.g. a provider's SlackNotifier."""
    conn_id: str | None = None
    """Airflow connection id passed to the notifier."""
    options: dict[str, Any] = Field(default_factory=dict)
    """Extra keyword arguments for the notifier."""
    min_severity: Literal["warn", "critical"] = "warn"
    """Lowest severity sent to this channel."""

    @model_validator(mode="after")
    def _exactly_one(self) -> AlertConfig:
        given = [k for k in ("apprise", "apprise_env", "airflow_notifier") if getattr(self, k)]
        if len(given) != 1:
            raise ValueError(
                "give exactly one of apprise, apprise_env or airflow_notifier"
                + (f" (got {', '.join(given)})" if given else "")
            )
        if (self.conn_id is not None or self.options) and self.airflow_notifier is None:
            raise ValueError("conn_id and options apply to airflow_notifier channels only")
        return self


class MonitorConfig(_Model):
    """One monitor: a source relation, its features, a reference and a schedule."""

    name: Annotated[str, AfterValidator(_check_name)] = Field(max_length=200)
    """Unique name; also the DAG id, so letters, digits, ``_``, ``.`` and ``-`` only."""
    description: str = ""
    """Free text shown on the dashboard."""
    source: SourceConfig
    """The database holding the monitored data."""
    table: str | None = None
    """The monitored table (or view)."""
    db_schema: str | None = Field(None, alias="schema")
    """Schema of ``table``; the connection's default when omitted."""
    query: Query | None = None
    """A SELECT to monitor instead of a table."""
    timestamp: str = Field(min_length=1)
    """Column that places each row in time; windows are ``start <= timestamp < end``."""
    features: tuple[FeatureConfig, ...] | None = None
    """Columns to compare; omitted means every column except the timestamp, kinds inferred."""
    window: Duration | None = None
    """Length of one live window (default 1d, or the interval between schedule ticks)."""
    schedule: Annotated[str, AfterValidator(check_cron)] | None = None
    """Cron expression; each tick closes a window ending at that tick."""
    reference: ReferenceConfig = Field(default_factory=lambda: ReferenceConfig(previous_windows=7))
    """What the live window is compared against (default: the 7 previous windows)."""
    metrics: tuple[Metric, ...] = ("kl", "jensen_shannon", "psi")
    """Divergences computed and stored for every feature."""
    thresholds: ThresholdsConfig = Field(default_factory=ThresholdsConfig)
    """Warn/critical thresholds and the gates in front of them."""
    smoothing: SmoothingConfig = Field(default_factory=SmoothingConfig)
    """Smoothing of zero counts."""
    alerts: tuple[AlertConfig, ...] = ()
    """Notification channels."""
    pushdown: bool = True
    """Count bins inside the database; ``false`` streams rows and bins in Python."""

    @model_validator(mode="after")
    def _consistent(self) -> MonitorConfig:
        if (self.table is None) == (self.query is None):
            raise ValueError("give exactly one of table or query")
        if self.db_schema is not None and self.table is None:
            raise ValueError("schema applies to table only")
        if self.features is not None:
            seen: set[str] = set()
            for feature in self.features:
                if feature.name == self.timestamp:
                    raise ValueError(f"features: {feature.name!r} is the timestamp column")
                if feature.name in seen:
                    raise ValueError(f"features: {feature.name!r} is listed twice")
                seen.add(feature.name)
            if not self.features:
                raise ValueError("features: list at least one feature, or omit the key")
        if self.thresholds.metric not in self.metrics:
            raise ValueError(
                f"thresholds.metric: {self.thresholds.metric!r} is not in metrics {self.metrics}"
            )
        return self

    @property
    def window_length(self) -> timedelta | None:
        """The fixed window length, or ``None`` when windows follow the cron schedule."""
        if self.window is not None:
            return self.window
        return None if self.schedule is not None else timedelta(days=1)


class _UniqueKeyLoader(yaml.SafeLoader):
    """A safe loader that refuses duplicate keys instead of keeping the last."""


def _mapping_without_duplicates(
    loader: _UniqueKeyLoader, node: yaml.MappingNode, deep: bool = False
) -> dict[Any, Any]:
    seen: set[Any] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                "while reading a mapping",
                node.start_mark,
                f"found duplicate key {key!r}",
                key_node.start_mark,
            )
        seen.add(key)
    return loader.construct_mapping(node, deep=deep)


_UniqueKeyLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping_without_duplicates
)


def parse_monitor(
    data: Mapping[str, Any], *, source_name: str = "<string>", base_dir: str | Path | None = None
) -> MonitorConfig:
    """Validate an already-parsed monitor definition.

    Parameters
    ----------
    data : mapping
        The monitor's keys, as read from YAML.
    source_name : str, optional
        Where ``data`` came from; starts every error message.
    base_dir : str or pathlib.Path, optional
        Directory that relative file paths (``tokenizer_file``) are relative
        to; the current directory when omitted.

    Returns
    -------
    MonitorConfig

    Raises
    ------
    drift.errors.ConfigError
        One line per problem: ``<source_name>: <key path>: <what was expected>``.
    """
    if not isinstance(data, Mapping):
        raise ConfigError(
            f"{source_name}: expected a mapping of monitor keys (name, source, table, ...), "
            f"got {type(data).__name__}"
        )
    try:
        context = {"base_dir": None if base_dir is None else str(base_dir)}
        return MonitorConfig.model_validate(dict(data), context=context)
    except ValidationError as exc:
        raise ConfigError(format_validation_error(exc, MonitorConfig, source_name)) from None


def load_monitor(path: str | Path) -> MonitorConfig:
    """Read and validate one monitor YAML file.

    Parameters
    ----------
    path : str or pathlib.Path
        The YAML file.

    Returns
    -------
    MonitorConfig

    Raises
    ------
    drift.errors.ConfigError
        If the file cannot be read, is not valid YAML (line and column are
        given) or does not validate (the key path is given).
    """
    name = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{name}: cannot read the file ({exc.strerror or exc})") from None
    try:
        data = yaml.load(text, Loader=_UniqueKeyLoader)  # a SafeLoader subclass
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"{name}:{mark.line + 1}:{mark.column + 1}" if mark else name
        raise ConfigError(f"{where}: invalid YAML: {exc.problem or exc}") from None
    except yaml.YAMLError as exc:  # e.g. a control character: one line, like every problem
        raise ConfigError(f"{name}: invalid YAML: {' '.join(str(exc).split())}") from None
    return parse_monitor(data, source_name=name, base_dir=Path(path).parent)


def load_monitors(directory: str | Path) -> list[MonitorConfig]:
    """Load every ``*.yaml`` / ``*.yml`` monitor in ``directory``, sorted by file name.

    Raises
    ------
    drift.errors.ConfigError
        If any file is invalid (all problems are reported together) or two
        files use the same monitor name.
    """
    root = Path(directory)
    if not root.is_dir():
        raise ConfigError(f"{root}: not a directory of monitor files")
    files = sorted(p for p in root.iterdir() if p.suffix in (".yaml", ".yml") and p.is_file())
    monitors: list[MonitorConfig] = []
    problems: list[str] = []
    owner: dict[str, Path] = {}
    for file in files:
        try:
            monitor = load_monitor(file)
        except ConfigError as exc:
            problems.append(str(exc))
            continue
        if monitor.name in owner:
            problems.append(
                f"{file}: name: {monitor.name!r} is already used by {owner[monitor.name]}"
            )
            continue
        owner[monitor.name] = file
        monitors.append(monitor)
    if problems:
        raise ConfigError("\n".join(problems))
    return monitors


FeatureConfig.model_rebuild()
MonitorConfig.model_rebuild()
