"""The monitor definition as frozen pydantic models, one class per YAML mapping."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from drift.config.durations import check_cron
from drift.config.fields import Duration, Instant, MonitorName, Query
from drift.config.options import (
    AlertConfig,
    ConfigModel,
    Metric,
    SmoothingConfig,
    ThresholdsConfig,
)
from drift.config.slices import PairConfig, SegmentConfig
from drift.config.tokenizer_files import load_tokenizer

__all__ = [
    "DEFAULT_TOP_K",
    "AlertConfig",
    "FeatureConfig",
    "FeatureKind",
    "MonitorConfig",
    "PairConfig",
    "ReferenceConfig",
    "SegmentConfig",
    "SmoothingConfig",
    "SourceConfig",
    "ThresholdsConfig",
]

FeatureKind = Literal["numeric", "categorical", "text"]


def _unique(values: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(values))


#: Default ``top_k`` by feature kind, when a feature does not set it.
DEFAULT_TOP_K: Mapping[str, int] = {"categorical": 50, "text": 1000}


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


class SourceConfig(ConfigModel):
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
            import sqlalchemy as sa  # here, not at the top: `drift validate` starts fast

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


class FeatureConfig(ConfigModel):
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


class ReferenceConfig(ConfigModel):
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


class MonitorConfig(ConfigModel):
    """One monitor: a source relation, its features, a reference and a schedule."""

    name: MonitorName = Field(max_length=200)
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
    metrics: Annotated[tuple[Metric, ...], AfterValidator(_unique)] = (
        "kl",
        "jensen_shannon",
        "psi",
    )
    """Divergences computed and stored for every feature."""
    thresholds: ThresholdsConfig = Field(default_factory=ThresholdsConfig)
    """Warn/critical thresholds and the gates in front of them."""
    smoothing: SmoothingConfig = Field(default_factory=SmoothingConfig)
    """Smoothing of zero counts."""
    alerts: tuple[AlertConfig, ...] = ()
    """Notification channels."""
    pushdown: bool = True
    """Count bins inside the database; ``false`` streams rows and bins in Python."""
    segments: tuple[SegmentConfig, ...] = ()
    """Columns whose segments every feature is also scored in (``column``, ``top_k``...)."""
    pairs: tuple[PairConfig, ...] = ()
    """Pairs of features whose joint distribution is scored (``[x, y]``)."""

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
        self._check_slices()
        if self.thresholds.metric not in self.metrics:
            raise ValueError(
                f"thresholds.metric: {self.thresholds.metric!r} is not in metrics {self.metrics}"
            )
        return self

    def _check_slices(self) -> None:
        named = {f.name: f for f in self.features or ()}
        for i, segment in enumerate(self.segments):
            if self.timestamp in segment.columns:
                raise ValueError(f"segments[{i}]: {self.timestamp!r} is the timestamp column")
        if len({s.columns for s in self.segments}) != len(self.segments):
            raise ValueError("segments: the same columns are listed twice")
        for i, pair in enumerate(self.pairs):
            for column in pair.columns:
                if column == self.timestamp:
                    raise ValueError(f"pairs[{i}]: {column!r} is the timestamp column")
                feature = named.get(column)
                if self.features is not None and feature is None:
                    raise ValueError(f"pairs[{i}]: {column!r} is not one of the features")
                if feature is not None and feature.kind == "text":
                    raise ValueError(
                        f"pairs[{i}]: {column!r} is a text feature; pair numeric "
                        "or categorical features"
                    )
            if pair.name in named:
                raise ValueError(f"pairs[{i}]: {pair.name!r} is also a feature's name")
        if len({p.columns for p in self.pairs}) != len(self.pairs):
            raise ValueError("pairs: the same pair is listed twice")

    @property
    def window_length(self) -> timedelta | None:
        """The fixed window length, or ``None`` when windows follow the cron schedule."""
        if self.window is not None:
            return self.window
        return None if self.schedule is not None else timedelta(days=1)

    def thresholds_for(self, feature: str) -> ThresholdsConfig:
        """The thresholds in force for ``feature``: its own, else the monitor's."""
        for f in self.features or ():
            if f.name == feature and f.thresholds is not None:
                return f.thresholds
        for p in self.pairs:
            if p.name == feature and p.thresholds is not None:
                return p.thresholds
        return self.thresholds


FeatureConfig.model_rebuild()
MonitorConfig.model_rebuild()
