"""What a notebook brings to :func:`drift.compare`: other tables in, HTML out.

- :mod:`drift.notebook.tables` reads Polars DataFrames, pyarrow Tables and any
  other eager frame `narwhals <https://narwhals-dev.github.io/narwhals/>`_
  knows, handing ``compare`` Arrow-backed pandas columns (no copy of the data);
- :mod:`drift.notebook.html` draws a report as HTML: the severity table and,
  per drifted feature, the reference-vs-live histogram with each bin's share
  of KL, with the plotly.js of the ``plotly`` package embedded (nothing from a
  CDN). ``DriftReport._repr_html_`` and ``DriftReport.save_html`` use it.

The package sits below :mod:`drift.frames` (it imports only :mod:`drift.stats`
and :mod:`drift.errors`): the report renders itself and ``compare`` reads
other tables, so frames calls down to it. Nothing here is imported by
``import drift``; plotly and narwhals are imported on first use.
"""

from __future__ import annotations
