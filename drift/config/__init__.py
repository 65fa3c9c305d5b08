"""Monitor definitions: YAML files validated into frozen pydantic models.

A monitor names where its data lives (``source`` and ``table`` or ``query``),
which column orders rows in time (``timestamp``), what to compare
(``features``), against what (``reference``), how often (``window`` or
``schedule``), and what to do about it (``metrics``, ``thresholds``,
``smoothing``, ``alerts``). Every key and its default is documented in
``docs/config.md``; ``name``, ``source``, ``table`` and ``timestamp`` make a
working monitor.

A file that does not validate raises :class:`drift.errors.ConfigError` with
the file name, the key path and what was expected, one problem per line::

    monitors/checkout.yaml: features[2].bins: must be >= 2 (got 1)

Modules: :mod:`~drift.config.models` (the pydantic models),
:mod:`~drift.config.loader` (YAML files and folders),
:mod:`~drift.config.messages` (validation errors as one line per key),
:mod:`~drift.config.durations` and :mod:`~drift.config.windows` (all window
arithmetic), :mod:`~drift.config.kinds` (the rule that infers a column's
kind).
"""

from drift.config.loader import (
    MonitorScan,
    load_monitor,
    load_monitors,
    monitor_files,
    parse_monitor,
    scan_monitors,
)
from drift.config.models import (
    AlertConfig,
    FeatureConfig,
    MonitorConfig,
    ReferenceConfig,
    SmoothingConfig,
    SourceConfig,
    ThresholdsConfig,
)

__all__ = [
    "AlertConfig",
    "FeatureConfig",
    "MonitorConfig",
    "MonitorScan",
    "ReferenceConfig",
    "SmoothingConfig",
    "SourceConfig",
    "ThresholdsConfig",
    "load_monitor",
    "load_monitors",
    "monitor_files",
    "parse_monitor",
    "scan_monitors",
]
