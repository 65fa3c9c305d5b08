"""The results store: the ``drift_*`` tables and the class that reads and writes them."""

from drift.store.actions import ActionRow
from drift.store.migrate import current, downgrade, head, upgrade
from drift.store.records import (
    AlertRow,
    BaselineRecord,
    HistogramRecord,
    HistogramRow,
    MonitorStatus,
    RunRecord,
    RunRow,
    ScorePoint,
    ScoreRecord,
)
from drift.store.segments import SegmentTable
from drift.store.store import ResultsStore

__all__ = [
    "ActionRow",
    "AlertRow",
    "BaselineRecord",
    "HistogramRecord",
    "HistogramRow",
    "MonitorStatus",
    "ResultsStore",
    "RunRecord",
    "RunRow",
    "ScorePoint",
    "ScoreRecord",
    "SegmentTable",
    "current",
    "downgrade",
    "head",
    "upgrade",
]
