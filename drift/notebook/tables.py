"""Polars DataFrames, pyarrow Tables and other eager frames for ``compare``, via narwhals.

``compare`` counts pandas columns. A frame of another library is read through
`narwhals <https://narwhals-dev.github.io/narwhals/>`_: each compared column
is taken as Arrow memory and wrapped in a pandas ``ArrowDtype`` column, which
is a view of the same buffers, not a copy. pandas then counts it with Arrow's
compute functions, so the report is the one a pandas frame of the same data
gives. The only copies: a Polars string column is converted once from Polars'
string views to Arrow strings; a dictionary (Polars ``Categorical``/``Enum``,
Arrow ``dictionary``) column becomes a pandas ``Categorical`` (its codes are
copied), so it is compared as categories, as a pandas categorical is.

Why narwhals and not the dataframe interchange protocol (``__dataframe__``):
narwhals is already installed with plotly (plotly 6 and later depend on it),
it reads Polars, pyarrow, Modin and cuDF through their own APIs, and it hands
over a pyarrow column as the table's own chunks. The interchange protocol
builds a whole pandas frame, and pandas 3 deprecates it
(``Pandas4Warning: The Dataframe Interchange Protocol is deprecated``),
pointing to the Arrow PyCapsule interface and to narwhals instead.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

import pandas as pd

__all__ = ["as_pandas"]

INSTALL = "pip install 'airflow-drift[frames]'"


def as_pandas(frame: object, name: str, columns: Sequence[str] | None = None) -> pd.DataFrame:
    """``frame`` as a pandas DataFrame ``compare`` can count, sharing its memory.

    A pandas DataFrame is returned as it is. Any other eager frame narwhals
    reads (Polars, pyarrow, Modin, cuDF) becomes a DataFrame of Arrow-backed
    columns over the same buffers; with ``columns``, only those columns (a
    name the frame lacks is left for ``compare`` to report).

    Raises
    ------
    TypeError
        ``frame`` is no frame narwhals reads (a lazy frame must be collected
        first), or narwhals or pyarrow is not installed.

    Examples
    --------
    >>> import pyarrow as pa
    >>> frame = as_pandas(pa.table({"x": [1.5, None], "s": ["a", "b"]}), "reference_df")
    >>> frame.dtypes.astype(str).tolist()
    ['double[pyarrow]', 'string[pyarrow]']
    >>> as_pandas({"x": [1]}, "current_df")
    Traceback (most recent call last):
    TypeError: `current_df` must be a pandas DataFrame, a Polars DataFrame or a pyarrow Table ...
    """
    if isinstance(frame, pd.DataFrame):
        return frame
    expected = (
        f"`{name}` must be a pandas DataFrame, a Polars DataFrame or a pyarrow Table "
        f"(any eager frame narwhals reads; collect a lazy frame first), got {type(frame).__name__}."
    )
    try:
        import narwhals as nw
    except ImportError:  # pragma: no cover - narwhals comes with plotly >= 6
        raise TypeError(f"{expected} Reading it needs narwhals: {INSTALL}.") from None
    try:
        table = nw.from_native(cast(Any, frame), eager_only=True)
    except TypeError:
        raise TypeError(expected) from None
    wanted = None if columns is None else set(columns)
    names = [c for c in table.columns if wanted is None or c in wanted]
    try:
        data = {str(c): _column(table.get_column(c)) for c in names}
    except ImportError:  # pragma: no cover - Polars without pyarrow
        raise TypeError(f"{expected} Reading it needs pyarrow: {INSTALL}.") from None
    return pd.DataFrame(data, columns=[str(c) for c in names], copy=False)


def _column(series: Any) -> pd.Series[Any]:
    """One narwhals column as a pandas Series over its Arrow buffers."""
    import pyarrow as pa  # type: ignore[import-untyped]

    native = series.to_native()
    # A pyarrow column is kept in its chunks (narwhals' to_arrow would join them).
    arrow = native if isinstance(native, pa.ChunkedArray) else series.to_arrow()
    if pa.types.is_dictionary(arrow.type):
        categories = arrow.to_pandas()
        return pd.Series(pd.Categorical(categories), name=series.name)
    return pd.Series(pd.arrays.ArrowExtensionArray(arrow), name=series.name, copy=False)
