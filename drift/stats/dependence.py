"""How much more bin shares vary than independent rows would: dispersion.

The G-test and the KL bias term assume every row is an independent draw.
Rows in time order are autocorrelated, and tokens of one document share its
topic, so the share of a bin varies more from window to window (or sample
to sample) than the multinomial variance ``p (1 - p) / n`` says. A
:class:`Dispersion` is that inflation, ``phi >= 1``, with the degrees of
freedom of its estimate, so a test can divide the G statistic by it and
compare with an F distribution (:func:`drift.stats.significance.quasi_g_test`).

Two estimates:

- :func:`window_dispersion`, from the bin counts of several reference
  windows of the live window's length (time series);
- :func:`document_dispersion`, from per-document sufficient statistics
  (:class:`DocumentMoments`, which a SQL ``GROUP BY`` or a stream can
  produce), a Rao-Scott design effect for tokens clustered in documents.

Where the reference has no such structure (a separate table, two frames in
``compare``), use :data:`INDEPENDENT`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt

from drift.stats._checks import FloatArray
from drift.stats.histogram import Histogram

DispersionSource = Literal["independent", "reference_windows", "documents"]

__all__ = [
    "INDEPENDENT",
    "Dispersion",
    "DocumentMoments",
    "document_dispersion",
    "window_dispersion",
]


@dataclass(frozen=True, slots=True)
class Dispersion:
    """Variance inflation of bin shares relative to independent rows.

    Attributes
    ----------
    phi : float
        The (average) design effect, ``>= 1``: the factor by which the
        sampling variance of bin shares exceeds the multinomial variance of
        independent rows. The G statistic is divided by it.
    df : float
        Effective degrees of freedom of the estimate of ``phi`` (the
        denominator degrees of freedom of the quasi F test); ``math.inf``
        when ``phi`` is known (the independent case).
    source : {"independent", "reference_windows", "documents"}
        Where the estimate came from.
    units : int
        Number of windows or documents it was estimated from (0 for
        :data:`INDEPENDENT`).
    spread : float
        Satterthwaite factor ``c = 1 + a^2 >= 1`` (``a`` the coefficient of
        variation of the design effect's eigenvalues): the quasi F test uses
        ``(k - 1) / c`` numerator degrees of freedom. 1 means every
        direction is inflated alike (the first-order correction).

    Examples
    --------
    >>> INDEPENDENT
    Dispersion(phi=1.0, df=inf, source='independent', units=0, spread=1.0)
    >>> INDEPENDENT.independent
    True
    """

    phi: float
    df: float
    source: DispersionSource
    units: int
    spread: float = 1.0

    def __post_init__(self) -> None:
        if math.isnan(self.phi) or self.phi < 1:
            raise ValueError(f"`phi` must be a number >= 1, got {self.phi!r}.")
        if math.isnan(self.df) or self.df <= 0:
            raise ValueError(f"`df` must be > 0 (or inf), got {self.df!r}.")
        if self.source not in ("independent", "reference_windows", "documents"):
            raise ValueError(f"unknown dispersion source {self.source!r}.")
        if self.units < 0:
            raise ValueError(f"`units` must be >= 0, got {self.units}.")
        if math.isnan(self.spread) or self.spread < 1:
            raise ValueError(f"`spread` must be a number >= 1, got {self.spread!r}.")

    @property
    def independent(self) -> bool:
        """True when this is the independent-rows case (``phi = 1`` known exactly)."""
        return self.source == "independent"

    def describe(self) -> str:
        """A short human note: where the dispersion came from and how big it is."""
        if self.independent:
            return "independent rows assumed"
        what = "reference windows" if self.source == "reference_windows" else "documents"
        return f"dispersion {self.phi:.3g} from {self.units:,} {what} (df {self.df:.3g})"


#: Document groups kept by :meth:`DocumentMoments.from_indices` for the spread.
DOCUMENT_GROUPS = 32

#: Independent rows: ``phi = 1`` exactly, infinite degrees of freedom.
INDEPENDENT = Dispersion(phi=1.0, df=math.inf, source="independent", units=0)


def _window_matrix(windows: npt.ArrayLike | Sequence[npt.ArrayLike | Histogram]) -> FloatArray:
    if isinstance(windows, Sequence) and windows and isinstance(windows[0], Histogram):
        rows = [w.counts if isinstance(w, Histogram) else np.asarray(w) for w in windows]
        arr = np.asarray(np.stack(rows), dtype=np.float64)
    else:
        try:
            arr = np.asarray(windows, dtype=np.float64)
        except (TypeError, ValueError):
            raise TypeError(
                "`windows` must be a J x k array or a sequence of count vectors of one length."
            ) from None
    if arr.ndim != 2:
        if arr.size == 0:
            return np.zeros((0, 0))
        raise ValueError(f"`windows` must be two-dimensional (J x k), got shape {arr.shape}.")
    if not np.all(np.isfinite(arr)) or np.any(arr < 0) or np.any(arr != np.floor(arr)):
        raise ValueError("`windows` must hold whole, non-negative counts.")
    return arr


def window_dispersion(
    windows: npt.ArrayLike | Sequence[npt.ArrayLike | Histogram],
) -> Dispersion:
    """Dispersion of bin shares between reference windows of the live window's length.

    With ``J`` windows (rows of the ``J x k`` table ``O_jb``, window totals
    ``n_j``, pooled shares ``p_b = sum_j O_jb / N``), the Pearson residuals
    ``e_jb = (O_jb - n_j p_b) / sqrt(n_j p_b)`` give the heterogeneity

        X2 = sum_jb e_jb^2,    df0 = (J - 1)(k' - 1),    phi = max(1, X2 / df0),

    where windows without rows are dropped and ``k'`` counts bins with any
    count. For independent rows ``X2`` is about chi-square with ``df0``
    degrees of freedom, so ``phi`` is about 1; for autocorrelated rows it
    is the average design effect of a window's bin shares.

    The inflation is rarely the same in every direction (a slow wander of
    an autocorrelated series moves the location far more than the shape),
    so the first-order F test would be anti-conservative. The
    Satterthwaite factor ``c = (k' - 1) tr(S^2) / tr(S)^2`` of the
    between-window covariance ``S`` is estimated without bias for Gaussian
    residuals from the ``J x J`` Gram matrix ``M = e e^T`` (``nu = J - 1``):

        T2 = (||M||_F^2 - X2^2 / nu) / ((nu + 2)(nu - 1))       ~ tr(Sigma^2)
        T1 = (X2^2 - 2 nu T2) / nu^2                             ~ tr(Sigma)^2
        c  = clip((k' - 1) T2 / T1, 1, k' - 1)

    and the estimate has ``df = df0 / c`` effective degrees of freedom.
    With two windows (``nu = 1``) ``c`` cannot be estimated and is set to
    its conservative bound ``k' - 1``.

    Parameters
    ----------
    windows : array_like or sequence of Histogram
        ``J x k`` counts: one row per reference window, over the same bins
        (the live window's binning).

    Returns
    -------
    Dispersion
        ``source="reference_windows"``, ``units`` the windows used; with
        fewer than two windows holding rows, or fewer than two bins with
        data, :data:`INDEPENDENT` (nothing to estimate from).

    Notes
    -----
    A single odd reference window inflates ``phi`` (conservative: alarms
    get rarer, not more frequent). Positive correlation between the live
    window and the last reference window only makes the test more
    conservative too. With 7 windows of 10 bins the estimate has at most
    54 degrees of freedom, and far fewer when ``c`` is large; the F
    distribution of :func:`drift.stats.significance.quasi_g_test` accounts
    for that.

    Examples
    --------
    >>> import numpy as np
    >>> same = np.array([[50, 50], [49, 51], [52, 48], [50, 50]])
    >>> window_dispersion(same).phi
    1.0
    >>> wobbly = np.array([[80, 20], [20, 80], [70, 30], [30, 70]])
    >>> d = window_dispersion(wobbly)
    >>> round(d.phi, 1), d.df, d.source, d.units
    (34.7, 3.0, 'reference_windows', 4)
    """
    table = _window_matrix(windows)
    found = _heterogeneity(table)
    if found is None:
        return INDEPENDENT
    phi, df0, spread, j = found
    return Dispersion(phi=phi, df=df0 / spread, source="reference_windows", units=j, spread=spread)


def _heterogeneity(table: FloatArray) -> tuple[float, float, float, int] | None:
    """``(phi, df0, spread, J)`` of a J x k table of replicate counts, or None."""
    if table.size == 0:
        return None
    table = table[table.sum(axis=1) > 0]
    table = table[:, table.sum(axis=0) > 0]
    j, k = table.shape
    if j < 2 or k < 2:
        return None
    sizes = table.sum(axis=1, keepdims=True)
    shares = table.sum(axis=0) / table.sum()
    expected = sizes * shares
    residuals = (table - expected) / np.sqrt(expected)
    x2 = float(np.sum(residuals**2))
    df0 = float((j - 1) * (k - 1))
    phi = max(1.0, x2 / df0)
    nu = j - 1
    if nu < 2:
        spread = float(k - 1)
    else:
        gram = residuals @ residuals.T
        t2 = (float(np.sum(gram**2)) - x2**2 / nu) / ((nu + 2) * (nu - 1))
        t1 = (x2**2 - 2.0 * nu * t2) / nu**2
        spread = (k - 1) * t2 / t1 if t1 > 0 else float(k - 1)
        spread = min(max(spread, 1.0), float(k - 1))
    return phi, df0, spread, j


@dataclass(frozen=True, slots=True, eq=False)
class DocumentMoments:
    """Per-bin sufficient statistics of tokens clustered in documents.

    For documents ``d = 1..D`` with ``c_di`` tokens in bin ``i`` and
    ``t_d = sum_i c_di`` tokens in all:

    - ``documents`` = ``D`` (documents with no token count too);
    - ``counts[i]`` = ``sum_d c_di`` (the histogram's counts);
    - ``squares[i]`` = ``sum_d c_di^2``;
    - ``cross[i]`` = ``sum_d c_di t_d``;
    - ``length_squares`` = ``sum_d t_d^2``;
    - ``groups`` (optional), ``G x k``: token counts per bin of the
      documents in each of ``G`` groups, a document's group being its id
      modulo ``G`` (:data:`DOCUMENT_GROUPS` by default). Documents are
      independent, so the groups are replicates whose heterogeneity gives
      the spread of the design effect (see :func:`document_dispersion`).

    All are sums over documents, so moments of chunks, partitions or windows
    merge with ``+``, and a SQL source can compute them in one query: count
    ``(doc, bin)`` pairs and each document's length, join, then ``GROUP BY``
    bin with ``SUM(c)``, ``SUM(c * c)``, ``SUM(c * t)`` (and ``GROUP BY
    doc_id % G, bin`` with ``SUM(c)`` for the groups).

    Examples
    --------
    >>> import numpy as np
    >>> m = DocumentMoments.from_indices([0, 0, 0, 1], [0, 0, 1, 1], n_bins=2)
    >>> m.documents, m.counts.tolist(), m.squares.tolist(), m.cross.tolist(), m.length_squares
    (2, [2.0, 2.0], [4.0, 2.0], [6.0, 4.0], 10.0)
    >>> (m + m).documents
    4
    """

    documents: int
    counts: FloatArray
    squares: FloatArray
    cross: FloatArray
    length_squares: float
    groups: FloatArray | None = None

    def __post_init__(self) -> None:
        arrays: list[FloatArray] = []
        for name in ("counts", "squares", "cross"):
            arr = np.array(getattr(self, name), dtype=np.float64)
            if arr.ndim != 1 or (arrays and arr.size != arrays[0].size):
                raise ValueError(f"`{name}` must be one-dimensional, one entry per bin.")
            if not np.all(np.isfinite(arr)) or np.any(arr < 0):
                raise ValueError(f"`{name}` must hold finite numbers >= 0.")
            arr.setflags(write=False)
            arrays.append(arr)
            object.__setattr__(self, name, arr)
        if int(self.documents) < 0:
            raise ValueError("`documents` must be >= 0.")
        object.__setattr__(self, "documents", int(self.documents))
        object.__setattr__(self, "length_squares", float(self.length_squares))
        if self.groups is not None:
            groups = np.array(self.groups, dtype=np.float64)
            if groups.ndim != 2 or groups.shape[1] != arrays[0].size:
                raise ValueError("`groups` must be G x k, one column per bin.")
            groups.setflags(write=False)
            object.__setattr__(self, "groups", groups)

    @property
    def tokens(self) -> float:
        """Total tokens ``sum_d t_d``."""
        return float(self.counts.sum())

    def __add__(self, other: DocumentMoments) -> DocumentMoments:
        if not isinstance(other, DocumentMoments):
            return NotImplemented
        if other.counts.size != self.counts.size:
            raise ValueError("DocumentMoments merge only over the same bins.")
        groups = None
        if self.groups is not None and other.groups is not None:
            if self.groups.shape != other.groups.shape:
                raise ValueError("DocumentMoments merge only over the same document groups.")
            groups = self.groups + other.groups
        return DocumentMoments(
            self.documents + other.documents,
            self.counts + other.counts,
            self.squares + other.squares,
            self.cross + other.cross,
            self.length_squares + other.length_squares,
            groups,
        )

    @classmethod
    def empty(cls, n_bins: int) -> DocumentMoments:
        """No documents over ``n_bins`` bins."""
        zeros = np.zeros(n_bins)
        return cls(0, zeros, zeros, zeros, 0.0)

    @classmethod
    def from_indices(
        cls,
        doc_index: npt.ArrayLike,
        bin_index: npt.ArrayLike,
        *,
        n_bins: int,
        documents: int | None = None,
        groups: int = DOCUMENT_GROUPS,
    ) -> DocumentMoments:
        """Moments from one ``(document, bin)`` pair per token, vectorised.

        Parameters
        ----------
        doc_index : array_like of int
            Document id of each token (any integers; equal ids are one document).
        bin_index : array_like of int
            Bin of each token, in ``[0, n_bins)``.
        n_bins : int
            Number of bins.
        documents : int, optional
            Number of documents, when some hold no token (they count in
            ``D``); default the distinct ids in ``doc_index``.
        groups : int, optional
            Number of document groups ``G`` to keep (by integer id modulo
            ``G``); default :data:`DOCUMENT_GROUPS`, 0 for none.
        """
        docs = np.asarray(doc_index).ravel()
        bins = np.asarray(bin_index, dtype=np.int64).ravel()
        if docs.size != bins.size:
            raise ValueError("`doc_index` and `bin_index` must have one entry per token.")
        if bins.size and (bins.min() < 0 or bins.max() >= n_bins):
            raise ValueError(f"`bin_index` must be in [0, {n_bins}).")
        ids, doc = np.unique(docs, return_inverse=True)
        distinct = int(ids.size)
        total_docs = distinct if documents is None else int(documents)
        if total_docs < distinct:
            raise ValueError(f"`documents` ({total_docs}) is fewer than the ids ({distinct}).")
        group_counts = np.zeros((groups, n_bins)) if groups else None
        if bins.size == 0:
            empty = cls.empty(n_bins)
            return cls(total_docs, empty.counts, empty.squares, empty.cross, 0.0, group_counts)
        if group_counts is not None:
            group_of = np.asarray(ids, dtype=np.int64)[doc] % groups
            flat = np.bincount(group_of * n_bins + bins, minlength=groups * n_bins)
            group_counts = flat.reshape(groups, n_bins).astype(np.float64)
        length = np.bincount(doc, minlength=distinct).astype(np.float64)
        pair, pair_count = np.unique(doc.astype(np.int64) * n_bins + bins, return_counts=True)
        pair_doc, pair_bin = pair // n_bins, pair % n_bins
        c = pair_count.astype(np.float64)
        return cls(
            total_docs,
            np.asarray(np.bincount(pair_bin, weights=c, minlength=n_bins), dtype=np.float64),
            np.asarray(np.bincount(pair_bin, weights=c * c, minlength=n_bins), dtype=np.float64),
            np.asarray(
                np.bincount(pair_bin, weights=c * length[pair_doc], minlength=n_bins),
                dtype=np.float64,
            ),
            float(np.sum(length * length)),
            group_counts,
        )

    @classmethod
    def from_documents(
        cls, documents: Iterable[npt.ArrayLike], *, n_bins: int, groups: int = DOCUMENT_GROUPS
    ) -> DocumentMoments:
        """Moments from one array of token bin indexes per document (empty docs count)."""
        per_doc = [np.asarray(d, dtype=np.int64).ravel() for d in documents]
        if not per_doc:
            return cls.empty(n_bins)
        lengths = np.array([d.size for d in per_doc])
        doc_index = np.repeat(np.arange(len(per_doc)), lengths)
        bins = np.concatenate(per_doc) if lengths.sum() else np.zeros(0, dtype=np.int64)
        return cls.from_indices(
            doc_index, bins, n_bins=n_bins, documents=len(per_doc), groups=groups
        )


def document_dispersion(moments: DocumentMoments) -> Dispersion:
    """First-order Rao-Scott design effect of token shares under document sampling.

    The token share of bin ``i`` is a ratio estimator,
    ``p_i = C_i / T`` with ``C_i = sum_d c_di`` and ``T = sum_d t_d``.
    Sampling documents (clusters) rather than tokens, its linearised
    variance is

        v_i = D / (D - 1) * sum_d (c_di - p_i t_d)^2 / T^2
            = D / (D - 1) * (Q_i - 2 p_i X_i + p_i^2 S) / T^2

    with ``Q_i = sum_d c_di^2``, ``X_i = sum_d c_di t_d``, ``S = sum_d t_d^2``
    (the fields of :class:`DocumentMoments`). Its ratio to the multinomial
    variance of ``T`` independent tokens is the bin's design effect
    ``d_i = v_i T / (p_i (1 - p_i))``, and Rao and Scott's first-order
    correction divides the G (or Pearson) statistic by their weighted mean

        delta_bar = sum_i (1 - p_i) d_i / (k' - 1),     phi = max(1, delta_bar),

    over the ``k'`` bins with a token. ``phi`` has ``D - 1`` degrees of
    freedom. For one-token documents ``d_i = D / (D - 1)``: about 1.

    The first-order correction assumes every direction of the share vector
    is inflated alike. Topics break that: a handful of directions (the
    topic mix) carry large design effects and the rest about 1, so
    ``G / delta_bar`` has a heavier tail than chi-square. When the moments
    hold document ``groups`` (independent replicates: documents are
    independent), their ``G x k`` table gives the Satterthwaite spread
    ``c = (k' - 1) tr(S^2) / tr(S)^2`` exactly as in
    :func:`window_dispersion`, the second-order Rao-Scott correction.

    Parameters
    ----------
    moments : DocumentMoments
        Of the reference documents (the live window is assumed to share
        the reference's design effect).

    Returns
    -------
    Dispersion
        ``source="documents"``, ``units = D``; :data:`INDEPENDENT` with fewer
        than two documents or fewer than two bins with tokens.

    References
    ----------
    Rao, J. N. K. and Scott, A. J. (1981), "The analysis of categorical data
    from complex sample surveys", JASA 76, 221-230.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> bins = rng.integers(0, 5, 2000)
    >>> one_token = DocumentMoments.from_indices(np.arange(2000), bins, n_bins=5)
    >>> round(document_dispersion(one_token).phi, 3)
    1.001
    >>> # 200 documents of 10 tokens, each all in one bin: tokens are copies.
    >>> doc = np.repeat(np.arange(200), 10)
    >>> copies = DocumentMoments.from_indices(doc, np.repeat(rng.integers(0, 5, 200), 10), n_bins=5)
    >>> round(document_dispersion(copies).phi, 1), document_dispersion(copies).df
    (10.1, 199.0)
    """
    d = moments.documents
    total = moments.tokens
    keep = moments.counts > 0
    if d < 2 or int(keep.sum()) < 2 or total <= 0:
        return INDEPENDENT
    p = moments.counts[keep] / total
    residual_ss = (
        moments.squares[keep] - 2.0 * p * moments.cross[keep] + p * p * moments.length_squares
    )
    variance = d / (d - 1.0) * np.maximum(residual_ss, 0.0) / total**2
    deff = variance * total / (p * (1.0 - p))
    delta_bar = float(np.sum((1.0 - p) * deff)) / (int(keep.sum()) - 1)
    spread = 1.0
    if moments.groups is not None:
        found = _heterogeneity(np.asarray(moments.groups, dtype=np.float64))
        if found is not None and found[3] >= 3:
            spread = found[2]
    return Dispersion(
        phi=max(1.0, delta_bar), df=float(d - 1), source="documents", units=d, spread=spread
    )
