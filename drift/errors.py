"""Error types of the drift package.

Every error carries what a user needs to fix the problem: which file, key,
column, table or backend is at fault, and what was expected.
"""

from __future__ import annotations


class DriftError(Exception):
    """Base class of every error raised on purpose by the drift package."""


class ConfigError(DriftError, ValueError):
    """A monitor definition is invalid (names the file and the key path)."""


class SourceError(DriftError):
    """A source database could not be read as the monitor asks."""


class StoreError(DriftError):
    """The results store could not be read or written."""


class AlertError(DriftError):
    """An alert channel could not be configured or reached."""


class ActionError(DriftError, ValueError):
    """An on-call action was refused (names the alert, monitor, feature or field at fault)."""
