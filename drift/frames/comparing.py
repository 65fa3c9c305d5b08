"""``compare``: two DataFrames, column by column, per segment and per pair."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from types import MappingProxyType
from typing import Any

import pandas as pd

from drift.frames.columns import fit_and_count, inferred
from drift.frames.report import DriftReport
from drift.frames.segmenting import (
    Segments,
    pair_histograms,
    pair_specs,
    pairable,
    segment_histograms,
    segment_specs,
    split,
)
from drift.notebook.tables import as_pandas
from drift.stats.binning import Binning, Kind, PairBinning
from drift.stats.checks import positive_float, positive_int
from drift.stats.dependence import Dispersion
from drift.stats.histogram import Histogram
from drift.stats.pairs import PAIR_KIND, pair_name
from drift.stats.scoring import score_features
from drift.stats.smoothing import check_method
from drift.stats.verdicts import Thresholds

__all__ = ["KINDS", "compare", "infer_kind"]

KINDS: tuple[Kind, ...] = ("numeric", "categorical", "text")

# Joins a column and a segment into the unique key score_features wants; no column holds it.
_KEY = "\x00"

Item = tuple[str, str, Histogram, Histogram]


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
    segments: str | Sequence[str] | Mapping[str, Any] | Segments | Sequence[Any] | None = None,
    pairs: Sequence[Sequence[str]] | None = None,
) -> DriftReport:
    """Compare the columns of a current DataFrame with a reference DataFrame.

    For every column: fit a binning on the reference (quantile bins for
    numbers, the ``top_k`` categories plus "<other>" for categories, a
    vocabulary plus "<oov>" for text), count both frames over it, and score
    the pair with :func:`drift.stats.scoring.score_features`: KL (current ||
    reference, Lidstone-smoothed), its bias-corrected value, reverse KL, PSI,
    Jensen-Shannon, Hellinger and total variation, a G-test p-value adjusted
    across the columns (Benjamini-Hochberg), and a verdict.

    With ``segments``, every compared column (but the segment columns) is
    also scored in each of the reference's ``top_k`` largest segments and
    in one ``<other>`` segment, over the column's whole-population bins;
    a segment with fewer than ``min_rows`` values on either side is
    reported, not judged. With ``pairs``, each pair ``[x, y]`` of compared
    numeric or categorical columns is scored as one more feature, ``"x ×
    y"``, over the ``k_x * k_y`` cells of their bins, its KL split into
    ``kl_marginal = KL(P(x) || Q(x))`` and ``kl_conditional = sum_x P(x)
    KL(P(y|x) || Q(y|x))``, the change of the relationship itself
    (:func:`drift.stats.pairs.chain_rule_kl`). The p-values of all columns,
    pairs and segments are adjusted together.

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
        Default ``Thresholds()``; segments judge from their own ``min_rows``.
    segments : str, list of str, mapping or Segments, or a list of mappings/Segments, optional
        Segment columns: a name (``"country"``), a list of names (ONE
        segmentation by their value tuples, ``"country=BR, device=ios"``),
        a mapping as in a monitor's YAML (``{"column": "country", "top_k":
        20, "min_rows": 200}``, or ``columns``) or a
        :class:`~drift.frames.segmenting.Segments`; a list of mappings or
        Segments for several segmentations. Values are compared as strings;
        NULL is the segment ``<null>``. Defaults: ``top_k`` 20, ``min_rows`` 200.
    pairs : list of [str, str], optional
        Pairs of compared columns (numeric or categorical) whose joint
        distribution is scored, ``x`` first (the split conditions on ``x``).

    Returns
    -------
    DriftReport
        ``report.to_frame()`` for a table (one row per score, with its
        ``segment``), ``report["col"]`` for one column's
        :class:`FeatureScore` (histograms, per-bin contributions, unseen
        values), ``report["col", "country=BR"]`` for a segment's,
        ``report.drifted_segments``; shown in Jupyter as HTML,
        ``report.save_html(path)`` for a file.

    Raises
    ------
    KeyError
        A requested, segment or pair column is missing from either frame
        (the message names it).
    TypeError
        A frame is not a DataFrame, or a column's dtype cannot be compared.
    ValueError
        A bad option, a pair naming one column twice or a text or
        uncompared column, or a numeric reference column with no finite value.

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

    Per segment of ``c``:

    >>> report = compare(ref, cur, segments="c")
    >>> report.segments, report["x", "c=a"].severity
    (('c=a', 'c=b'), 'critical')
    """
    if isinstance(columns, str):
        raise TypeError("`columns` must be a sequence of column names, not a single string.")
    specs, pair_list = segment_specs(segments), pair_specs(pairs)
    extra = [c for s in specs for c in s.columns] + [c for p in pair_list for c in p]
    read = None if columns is None else list(dict.fromkeys([*columns, *extra]))
    reference_df = as_pandas(reference_df, "reference_df", read)
    current_df = as_pandas(current_df, "current_df", read)
    for name, value in (("bins", bins), ("top_k", top_k), ("vocabulary_size", vocabulary_size)):
        positive_int(value, name)
    check_method(smoothing)
    positive_float(alpha, "alpha")
    wanted = [str(c) for c in reference_df.columns] if columns is None else list(columns)
    for column in dict.fromkeys([*wanted, *extra]):
        for name, frame in (("reference_df", reference_df), ("current_df", current_df)):
            if column not in frame.columns:
                what = "" if column in wanted else " (named by `segments` or `pairs`)"
                raise KeyError(f"column {column!r}{what} is not in `{name}`.")
    chosen = dict(kinds or {})
    for column, kind in chosen.items():
        if column not in wanted:
            raise KeyError(f"`kinds` names column {column!r}, which is not being compared.")
        if kind not in KINDS:
            raise ValueError(f"`kinds[{column!r}]` must be one of {KINDS}, got {kind!r}.")
    items: list[Item] = []
    binnings: dict[str, Binning] = {}
    skipped: dict[str, str] = {}
    dispersions: dict[str, Dispersion] = {}
    rows: dict[str, tuple[int, int]] = {}
    for column in wanted:
        ref, cur = reference_df[column], current_df[column]
        given = chosen.get(column)
        if given is None:
            guess = inferred(ref)
            if guess.kind is None and columns is None:
                skipped[column] = guess.reason or "no feature"
                continue
            given = guess.kind or guess.identifier_kind or "categorical"
        try:
            binning, ref_hist, cur_hist, spread = fit_and_count(
                given, ref, cur, bins=bins, top_k=top_k, vocabulary_size=vocabulary_size
            )
        except (TypeError, ValueError) as exc:
            raise type(exc)(f"column {column!r} ({given}): {exc}") from exc
        items.append((column, given, ref_hist, cur_hist))
        binnings[column] = binning
        if spread is not None:
            dispersions[column] = spread
            rows[column] = (ref_hist.rows, cur_hist.rows)
    compared = [name for name, *_ in items]
    shapes: dict[str, tuple[int, int]] = {}
    for x, y in pair_list:
        pair = _pair_binning(x, y, binnings, skipped)
        name = pair_name(x, y)
        ref_joint, cur_joint = pair_histograms(
            pair, (reference_df[x], reference_df[y]), (current_df[x], current_df[y])
        )
        items.append((name, PAIR_KIND, ref_joint, cur_joint))
        binnings[name], shapes[name] = pair, pair.shape
    rule = thresholds if thresholds is not None else Thresholds()
    overrides: dict[str, Thresholds] = {}
    segment_names: list[str] = []
    kinds_of = {name: kind for name, kind, *_ in items}
    for spec in specs:
        rows_by_segment = split(spec, reference_df, current_df)
        segment_names.extend(rows_by_segment.names)
        judged = replace(rule, min_rows=spec.min_rows)
        counted = {
            column: segment_histograms(
                rows_by_segment, binnings[column], reference_df[column], current_df[column]
            )
            for column in compared
            if column not in spec.columns
        }
        for i, segment in enumerate(rows_by_segment.names):
            for column, per_segment in counted.items():
                _, ref_hist, cur_hist, spread = per_segment[i]
                key = f"{column}{_KEY}{segment}"
                items.append((key, kinds_of[column], ref_hist, cur_hist))
                overrides[key] = judged
                if spread is not None:
                    dispersions[key] = spread
                    rows[key] = (ref_hist.rows, cur_hist.rows)
    scores = score_features(
        items,
        smoothing=smoothing,
        alpha=alpha,
        thresholds=rule,
        overrides=overrides,
        dispersions=dispersions,
        rows=rows,
        pairs=shapes,
    )
    named = tuple(
        replace(s, feature=s.feature.split(_KEY)[0], segment=s.feature.split(_KEY)[1])
        if _KEY in s.feature
        else s
        for s in scores
    )
    return DriftReport(
        named,
        MappingProxyType(binnings),
        rule,
        MappingProxyType(skipped),
        tuple(segment_names),
    )


def _pair_binning(
    x: str, y: str, binnings: Mapping[str, Binning], skipped: Mapping[str, str]
) -> PairBinning:
    sides = []
    for column in (x, y):
        if column not in binnings:
            fix = (
                f"it was left out ({skipped[column]}): give its kind in `kinds`"
                if column in skipped
                else "add it to `columns`"
            )
            raise ValueError(
                f"pair [{x!r}, {y!r}]: column {column!r} is not compared; a pair joins two "
                f"compared columns ({fix})."
            )
        side = pairable(binnings[column])
        if side is None:
            raise ValueError(
                f"pair [{x!r}, {y!r}]: column {column!r} is {binnings[column].kind}; "
                "pairs are of numeric or categorical columns."
            )
        sides.append(side)
    return PairBinning(sides[0], sides[1])


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
    return inferred(series).kind
