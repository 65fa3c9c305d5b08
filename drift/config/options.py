"""The policy keys of a monitor: thresholds and gates, smoothing, alert channels."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from drift.stats.metrics import canonical_metric

__all__ = ["AlertConfig", "ConfigModel", "Metric", "SmoothingConfig", "ThresholdsConfig"]


class ConfigModel(BaseModel):
    """The base of every monitor key model: frozen, no unknown keys, documented fields."""

    model_config = ConfigDict(
        frozen=True,
        extra="forbid",
        use_attribute_docstrings=True,
    )


def _canonical_metric(value: object) -> object:
    return canonical_metric(value) if isinstance(value, str) else value


def _canonical_smoother(value: object) -> object:
    return "lidstone" if value == "additive" else value


Metric = Annotated[
    Literal["kl", "reverse_kl", "psi", "jensen_shannon", "hellinger", "total_variation"],
    BeforeValidator(_canonical_metric),
]
"""A divergence by its canonical name (:mod:`drift.stats.metrics`); aliases are accepted."""


class ThresholdsConfig(ConfigModel):
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
    min_rows: int = Field(5, ge=0)
    """Features with fewer live (or reference) rows than this are not judged; small
    windows above it are judged with an exact (Monte Carlo) p-value."""
    few_rows: int = Field(100, ge=0)
    """Windows with fewer rows than this are judged but carry a "few rows" note."""
    missing_effect: float = Field(0.05, ge=0, le=1)
    """A significant change in the missing rate alerts only if it moves by at least this
    much (absolute, 0.05 = 5 percentage points)."""
    consecutive: int = Field(1, ge=1)
    """Windows in a row that must cross a threshold before an alert opens."""
    resolve_after: int = Field(3, ge=1)
    """Clean windows in a row before an open alert resolves (hysteresis)."""
    resolve_ratio: float = Field(0.5, gt=0, le=1)
    """A window counts as clean for ``resolve_after`` only when its score is also below
    ``resolve_ratio * warn`` (a second, lower threshold; 1 turns it off)."""
    bias_corrected: bool = True
    """With ``metric: kl``, compare the bias-corrected KL (small-sample bias removed)."""

    @model_validator(mode="after")
    def _ordered(self) -> ThresholdsConfig:
        if self.critical < self.warn:
            raise ValueError(f"critical ({self.critical}) must be >= warn ({self.warn})")
        if self.min_effect > self.warn:
            raise ValueError(f"min_effect ({self.min_effect}) must be <= warn ({self.warn})")
        return self


class SmoothingConfig(ConfigModel):
    """How zero counts are smoothed before divergences are computed."""

    method: Annotated[
        Literal["lidstone", "epsilon", "none"], BeforeValidator(_canonical_smoother)
    ] = "lidstone"
    """``lidstone`` (additive smoothing: adds ``alpha`` to every bin; ``additive`` is
    accepted as another name), ``epsilon`` or ``none``."""
    alpha: float = Field(0.5, gt=0)
    """Pseudo-count added to every bin by ``lidstone`` smoothing."""
    epsilon: float = Field(1e-6, gt=0, lt=1)
    """Probability floor used by ``epsilon`` smoothing."""


class AlertConfig(ConfigModel):
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
