"""The in-memory front door: compare two DataFrames (pandas, Polars, pyarrow) column by column.

``compare`` fits each column's binning on the reference frame, counts both
frames over it, and scores every column with :mod:`drift.stats`; with
``segments=`` also every column per segment, with ``pairs=`` the joint
distribution of pairs of columns. Columns are read as numpy arrays (a
float64 column is not copied), so a million rows by twenty columns takes
well under a second.

- :mod:`drift.frames.comparing`: :func:`compare` and :func:`infer_kind`;
- :mod:`drift.frames.report`: the :class:`DriftReport` it returns;
- :mod:`drift.frames.columns`: reading one pandas column (kind, binning, counts);
- :mod:`drift.frames.segmenting`: the ``segments`` and ``pairs`` options and
  their counts.
"""

from __future__ import annotations

from drift.frames.comparing import KINDS, compare, infer_kind
from drift.frames.report import REPORT_COLUMNS, DriftReport
from drift.frames.segmenting import Segments

__all__ = ["KINDS", "REPORT_COLUMNS", "DriftReport", "Segments", "compare", "infer_kind"]
