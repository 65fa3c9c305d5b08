"""Dispersion of token shares when tokens come clustered in documents.

Tokens of one document share its topic, so token counts are not a
multinomial sample of independent tokens. :class:`DocumentMoments` holds
per-document sufficient statistics (sums over documents, which a SQL
``GROUP BY`` or a stream can produce, and which merge with ``+``), and
:func:`document_dispersion` turns them into a Rao-Scott design effect, a
:class:`~drift.stats.dependence.Dispersion` with ``source="documents"``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from drift.stats.checks import FloatArray
from drift.stats.dependence import INDEPENDENT, Dispersion, replicate_heterogeneity

__all__ = ["DOCUMENT_GROUPS", "DocumentMoments", "document_dispersion"]

#: Document groups kept by :meth:`DocumentMoments.from_indices` for the spread.
DOCUMENT_GROUPS = 32


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
    :func:`~drift.stats.dependence.window_dispersion`, the second-order
    Rao-Scott correction.

    Parameters
    ----------
    moments : DocumentMoments
        Of the reference documents (the live window is assumed to share
        the reference's design effect).

    Returns
    -------
    Dispersion
        ``source="documents"``, ``units = D``;
        :data:`~drift.stats.dependence.INDEPENDENT` with fewer than two
        documents or fewer than two bins with tokens.

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
        found = replicate_heterogeneity(np.asarray(moments.groups, dtype=np.float64))
        if found is not None and found[3] >= 3:
            spread = found[2]
    return Dispersion(
        phi=max(1.0, delta_bar), df=float(d - 1), source="documents", units=d, spread=spread
    )
