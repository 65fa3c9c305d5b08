"""Reading SQL databases into histograms.

:class:`SqlSource` bins a table or query one time window at a time: numeric
and categorical bin counts are computed by the database in one query
(conditional aggregation), quantile cuts and top-k categories are fitted
there too. Text tokens are counted by one GROUP BY on PostgreSQL and DuckDB
where that provably equals Python's tokenizer (see
:mod:`drift.sources.text_pushdown`); otherwise text is streamed in bounded
chunks and tokenized in Python.
"""

from drift.sources.engine import open_source
from drift.sources.relation import infer_kind
from drift.sources.sql import SqlSource

__all__ = ["SqlSource", "infer_kind", "open_source"]
