"""The results store: the ``drift_*`` tables and the class that reads and writes them."""

from drift.store.migrate import current, downgrade, head, upgrade
from drift.store.store import ResultsStore

__all__ = ["ResultsStore", "current", "downgrade", "head", "upgrade"]
