"""The in-memory front door: compare two DataFrames (pandas, Polars, pyarrow) column by column.

``compare`` fits each column's binning on the reference frame, counts both
frames over it, and scores every column with :mod:`drift.stats`. Columns are
read as numpy arrays (a float64 column is not copied), so a million rows by
twenty columns takes well under a second.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from drift.config.kinds import Family, Inferred
from drift.notebook import html as notebook_html
from drift.notebook.tables import as_pandas
from drift.stats.binning import Binning, Kind
from drift.stats.checks import positive_float, positive_int
from drift.stats.counting import histogram, histogram_from_counts
from drift.stats.dependence import Dispersion
from drift.stats.document_counts import token_documents
from drift.stats.documents import document_dispersion
from drift.stats.fitting import fit_categorical_counts, fit_numeric, fit_tokens
from drift.stats.histogram import Histogram
from drift.stats.scoring import score_features
from drift.stats.smoothing import check_method
from drift.stats.verdicts import FeatureScore, Thresholds

KINDS: tuple[Kind, ...] = ("numeric", "categorical", "text")

#: Columns of :meth:`DriftReport.to_frame`, in order.
REPORT_COLUMNS = (
    "feature",
    "kind",
    "kl",
    "kl_corrected",
    "jensen_shannon",
    "psi",
    "hellinger",
    "p_value",
    "p_adjusted",
    "n_reference",
    "n_current",
    "missing_reference",
    "missing_current",
    "severity",
    "drifted",
    "enough_data",
)

# Values looked at when inferring a column's kind.
_SAMPLE = 1000


@dataclass(frozen=True, slots=True)
class DriftReport:
    """The scores of one comparison, one per column, in column order.

    Attributes
    ----------
    scores : tuple of FeatureScore
        One per compared column.
    binnings : mapping of str to Binning
        The binning fitted on the reference for each column.
    thresholds : Thresholds
        The rule that decided ``drifted`` and ``severity``.
    skipped : mapping of str to str
        Columns left out because they are no feature (identifiers such as a
        running id or UUIDs), with the reason.
    """

    scores: tuple[FeatureScore, ...]
    binnings: Mapping[str, Binning]
    thresholds: Thresholds
    skipped: Mapping[str, str] = field(default_factory=dict)

    def __getitem__(self, feature: str) -> FeatureScore:
        for score in self.scores:
            if score.feature == feature:
                return score
        raise KeyError(f"no feature {feature!r} in this report; have {list(self.features)}")

    def __iter__(self) -> Iterator[FeatureScore]:
        return iter(self.scores)

    def __len__(self) -> int:
        return len(self.scores)

    def _repr_html_(self) -> str:
        """Jupyter's view: the severity table and each drifted feature's histogram."""
        return notebook_html.report_html(self)

    def save_html(self, path: str | Path, title: str = "Drift report") -> Path:
        """Write the report as one self-contained HTML page (plotly.js inside) to ``path``."""
        return notebook_html.save_html(self, path, title)

    @property
    def features(self) -> tuple[str, ...]:
        """The compared columns, in order."""
        return tuple(s.feature for s in self.scores)

    @property
    def drifted(self) -> tuple[str, ...]:
        """The columns flagged as drifted."""
        return tuple(s.feature for s in self.scores if s.drifted)

    def to_frame(self) -> pd.DataFrame:
        """One row per feature: metrics, p-values, sizes, missing counts and verdict.

        Columns are ``REPORT_COLUMNS``: ``feature, kind, kl, kl_corrected,
        jensen_shannon, psi, hellinger, p_value, p_adjusted, n_reference, n_current,
        missing_reference, missing_current, severity, drifted, enough_data``.
        Divergences are in nats; ``n_*`` count non-missing rows (documents
        for text, whose tokens the bins count), ``missing_*`` missing rows;
        ``enough_data`` is False when either side has fewer than
        ``thresholds.min_rows`` values (such a row is never drifted, and its
        metrics are 0 when a side is empty).
        """
        rows = [
            {
                "feature": s.feature,
                "kind": s.kind,
                "kl": s.metrics["kl"],
                "kl_corrected": s.metrics["kl_corrected"],
                "jensen_shannon": s.metrics["jensen_shannon"],
                "psi": s.metrics["psi"],
                "hellinger": s.metrics["hellinger"],
                "p_value": s.p_value,
                "p_adjusted": s.p_adjusted,
                "n_reference": s.reference.rows,
                "n_current": s.current.rows,
                "missing_reference": s.reference.missing,
                "missing_current": s.current.missing,
                "severity": s.severity,
                "drifted": s.drifted,
                "enough_data": s.enough_data,
            }
            for s in self.scores
        ]
        return pd.DataFrame(rows, columns=list(REPORT_COLUMNS))


def compare(
    reference_df: pd.DataFrame | object,
    current_df: pd.DataFrame | object,
    columns: Sequence[str] | None = None,
    *,
    kinds: Mapping[str, str] | None = None,
    bins: int = 10,
    top_k: int = 50,
    vocabulary_size: int = 5000,
    smoothing: str | None = "lidstone",
    alpha: float = 0.5,
    thresholds: Thresholds | None = None,
) -> DriftReport:
    """Compare the columns of a current DataFrame with a reference DataFrame.

    For every column: fit a binning on the reference (quantile bins for
    numbers, the ``top_k`` categories plus "<other>" for categories, a
    vocabulary plus "<oov>" for text), count both frames over it, and score
    the pair with :func:`drift.stats.scoring.score_features`: KL (current ||
    reference, Lidstone-smoothed), its bias-corrected value, reverse KL, PSI,
    Jensen-Shannon, Hellinger and total variation, a G-test p-value adjusted
    across the columns (Benjamini-Hochberg), and a verdict.

    Rows of two frames are taken as independent, except the tokens of a
    text column: a document's tokens share its topic, so the test is
    scaled by the reference documents' design effect
    (:func:`drift.stats.documents.document_dispersion`), and the column's
    rows and missing rate are counted in documents.

    A column is ``drifted`` when the adjusted p-value is below
    ``thresholds.p_value`` (default 0.001) and the bias-corrected KL is at
    least ``thresholds.min_effect`` (0.001 nats); its severity is
    ``critical`` from 0.2 nats, ``warn`` from 0.05 nats, else ``ok``. With
    these defaults fewer than 1% of unchanged windows are flagged at any
    size from 100 rows, while a 0.1-sd mean shift is caught at 10,000 rows.

    Kinds are inferred when not given: numeric dtypes (not bool) are
    ``numeric``; bool, categorical and string/object columns are
    ``categorical``, except string columns whose values have a median of
    three or more words, which are ``text``.

    Parameters
    ----------
    reference_df, current_df : pandas.DataFrame, polars.DataFrame or pyarrow.Table
        The reference (what the model was built on) and the current window;
        any eager frame narwhals reads, with no copy into pandas
        (:mod:`drift.notebook.tables`).
    columns : sequence of str, optional
        Columns to compare; default every column of ``reference_df``.
    kinds : mapping of str to {"numeric", "categorical", "text"}, optional
        Kinds for some columns, overriding inference.
    bins : int, optional
        Quantile bins per numeric column. Default 10.
    top_k : int, optional
        Categories kept per categorical column. Default 50.
    vocabulary_size : int, optional
        Tokens kept per text column. Default 5000.
    smoothing : {"lidstone", "epsilon", "none"} or None, optional
        Default ``"lidstone"``.
    alpha : float, optional
        Lidstone pseudo-count. Default 0.5.
    thresholds : Thresholds, optional
        Default ``Thresholds()``.

    Returns
    -------
    DriftReport
        ``report.to_frame()`` for a table, ``report["col"]`` for one column's
        :class:`FeatureScore` (histograms, per-bin contributions, unseen values);
        shown in Jupyter as HTML, ``report.save_html(path)`` for a file.

    Raises
    ------
    KeyError
        A requested column is missing from either frame (the message names it).
    TypeError
        A frame is not a DataFrame, or a column's dtype cannot be compared.
    ValueError
        A bad option, or a numeric reference column with no finite value.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> ref = pd.DataFrame({"x": rng.normal(size=5000), "c": rng.choice(["a", "b"], 5000)})
    >>> cur = pd.DataFrame({"x": rng.normal(1.0, size=2000), "c": rng.choice(["a", "b"], 2000)})
    >>> compare(ref, cur).to_frame()[["feature", "kind", "severity", "drifted"]]
      feature         kind  severity  drifted
    0       x      numeric  critical     True
    1       c  categorical        ok    False
    """
    reference_df = as_pandas(reference_df, "reference_df", columns)
    current_df = as_pandas(current_df, "current_df", columns)
    if isinstance(columns, str):
        raise TypeError("`columns` must be a sequence of column names, not a single string.")
    for name, value in (("bins", bins), ("top_k", top_k), ("vocabulary_size", vocabulary_size)):
        positive_int(value, name)
    check_method(smoothing)
    positive_float(alpha, "alpha")
    wanted = [str(c) for c in reference_df.columns] if columns is None else list(columns)
    for column in wanted:
        for name, frame in (("reference_df", reference_df), ("current_df", current_df)):
            if column not in frame.columns:
                raise KeyError(f"column {column!r} is not in `{name}`.")
    chosen = dict(kinds or {})
    for column, kind in chosen.items():
        if column not in wanted:
            raise KeyError(f"`kinds` names column {column!r}, which is not being compared.")
        if kind not in KINDS:
            raise ValueError(f"`kinds[{column!r}]` must be one of {KINDS}, got {kind!r}.")
    items = []
    binnings: dict[str, Binning] = {}
    skipped: dict[str, str] = {}
    dispersions: dict[str, Dispersion] = {}
    rows: dict[str, tuple[int, int]] = {}
    for column in wanted:
        ref, cur = reference_df[column], current_df[column]
        given = chosen.get(column)
        if given is None:
            inferred = _inferred(ref)
            if inferred.kind is None and columns is None:
                skipped[column] = inferred.reason or "no feature"
                continue
            given = inferred.kind or inferred.identifier_kind or "categorical"
        try:
            binning, ref_hist, cur_hist, spread = _histograms(
                given, ref, cur, bins=bins, top_k=top_k, vocabulary_size=vocabulary_size
            )
        except (TypeError, ValueError) as exc:
            raise type(exc)(f"column {column!r} ({given}): {exc}") from exc
        items.append((column, given, ref_hist, cur_hist))
        binnings[column] = binning
        if spread is not None:
            dispersions[column] = spread
            rows[column] = (ref_hist.rows, cur_hist.rows)
    scores = score_features(
        items,
        smoothing=smoothing,
        alpha=alpha,
        thresholds=thresholds,
        dispersions=dispersions,
        rows=rows,
    )
    rule = thresholds if thresholds is not None else Thresholds()
    return DriftReport(scores, MappingProxyType(binnings), rule, MappingProxyType(skipped))


def infer_kind(series: pd.Series[Any]) -> Kind | None:
    """The kind ``compare`` gives a column when ``kinds`` does not say.

    The rule is :func:`drift.config.kinds.infer_kind`, the same that monitors
    use: by dtype and cardinality. ``None`` marks an identifier (a running
    id, UUIDs), which ``compare`` leaves out unless ``columns`` names it.

    Examples
    --------
    >>> import pandas as pd
    >>> infer_kind(pd.Series([1.5, 2.0])), infer_kind(pd.Series(["a", "b"]))
    ('numeric', 'categorical')
    >>> infer_kind(pd.Series([f"the quick fox number {i}" for i in range(100)]))
    'text'
    >>> print(infer_kind(pd.Series(range(1000))))
    None
    """
    return _inferred(series).kind


def _inferred(series: pd.Series[Any]) -> Inferred:
    from drift.config.kinds import ColumnFacts
    from drift.config.kinds import infer_kind as infer_column_kind

    dtype = series.dtype
    if pd.api.types.is_datetime64_any_dtype(dtype) or pd.api.types.is_timedelta64_dtype(dtype):
        raise TypeError(
            f"column {series.name!r} has dtype {dtype}, which compare cannot bin; convert it "
            "to numbers (e.g. seconds) or strings first."
        )
    family: Family
    if pd.api.types.is_bool_dtype(dtype) or isinstance(dtype, pd.CategoricalDtype):
        family = "boolean" if pd.api.types.is_bool_dtype(dtype) else "enum"
    elif pd.api.types.is_integer_dtype(dtype):
        family = "integer"
    elif pd.api.types.is_numeric_dtype(dtype):
        family = "number"
    else:
        family = "unknown"
    sample = series.dropna().head(_SAMPLE).tolist()
    if family == "unknown" and sample and not all(isinstance(v, str) for v in sample):
        family = "string"
    return infer_column_kind(ColumnFacts(family, sample))


def _histograms(
    kind: str,
    ref: pd.Series[Any],
    cur: pd.Series[Any],
    *,
    bins: int,
    top_k: int,
    vocabulary_size: int,
) -> tuple[Binning, Histogram, Histogram, Dispersion | None]:
    """Fit the column's binning on ``ref``, count both columns, and (text) the dispersion."""
    if kind == "numeric":
        ref_values, cur_values = _floats(ref), _floats(cur)
        numeric = fit_numeric(ref_values, bins=bins)
        return numeric, histogram(numeric, ref_values), histogram(numeric, cur_values), None
    if kind == "categorical":
        # pandas counts values in C; the stats layer then compares them as strings.
        ref_counts, cur_counts = _value_counts(ref), _value_counts(cur)
        categorical = fit_categorical_counts(ref_counts, top_k=top_k)
        return (
            categorical,
            histogram_from_counts(categorical, ref_counts, missing=int(ref.isna().sum())),
            histogram_from_counts(categorical, cur_counts, missing=int(cur.isna().sum())),
            None,
        )
    ref_labels, cur_labels = _labels(ref), _labels(cur)
    tokens = fit_tokens(ref_labels, top_k=vocabulary_size)
    ref_hist, moments = token_documents(tokens, ref_labels)
    return tokens, ref_hist, histogram(tokens, cur_labels), document_dispersion(moments)


def _value_counts(series: pd.Series[Any]) -> dict[Any, int]:
    dtype = series.dtype
    if not (
        (pd.api.types.is_string_dtype(dtype) and not pd.api.types.is_object_dtype(dtype))
        or pd.api.types.is_bool_dtype(dtype)
        or pd.api.types.is_numeric_dtype(dtype)
    ):
        # Objects of mixed types: 1, 1.0 and True are one dict key but three
        # categories ("1", "1.0", "True"), so count their strings.
        series = series.dropna().astype(object).map(str)
    counts = series.value_counts(dropna=True, sort=False)
    return {key: int(n) for key, n in zip(counts.index, counts.to_numpy(), strict=True) if n}


def _floats(series: pd.Series[Any]) -> npt.NDArray[np.float64] | npt.NDArray[Any]:
    """A numeric column as numpy, NaN for missing; no copy for numpy numeric dtypes."""
    dtype = series.dtype
    if isinstance(dtype, np.dtype) and dtype.kind in "fiu":
        return series.to_numpy(copy=False)
    if pd.api.types.is_numeric_dtype(dtype) or pd.api.types.is_bool_dtype(dtype):
        return series.to_numpy(dtype=np.float64, na_value=np.nan)
    return series.to_numpy(dtype=object)


def _labels(series: pd.Series[Any]) -> npt.NDArray[np.object_]:
    """A column as an object array with None for every missing value."""
    values = series.to_numpy(dtype=object, copy=True)
    values[series.isna().to_numpy()] = None
    return values
