"""Counting text document by document: the histogram and its :class:`DocumentMoments`.

A text feature's histogram counts tokens, but its rows are documents, and
the tokens of one document are not independent (they share its topic).
:class:`DocumentCounter` counts documents given as token lists, chunk by
chunk, into the feature's :class:`~drift.stats.histogram.Histogram` (with
``documents`` set) and the per-document sufficient statistics
:class:`~drift.stats.documents.DocumentMoments` that
:func:`~drift.stats.documents.document_dispersion` turns into a design
effect. Documents are numbered in the order they are added, so document
``j`` falls in group ``j % groups``. :func:`token_documents` does it for
one window of documents held in memory (``compare``).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence

import numpy as np
import numpy.typing as npt

from drift.stats.binning import TokenBinning
from drift.stats.documents import DOCUMENT_GROUPS, DocumentMoments
from drift.stats.histogram import Histogram
from drift.stats.tokens import tokenize
from drift.stats.values import as_label_values

__all__ = ["CHUNK_DOCUMENTS", "DocumentCounter", "token_documents"]

#: Documents tokenized at a time by :func:`token_documents`.
CHUNK_DOCUMENTS = 5_000


class DocumentCounter:
    """A text feature's histogram and document moments, fed documents chunk by chunk.

    Parameters
    ----------
    labels : sequence of str
        The token binning's labels: the vocabulary, then the out-of-vocabulary bin.
    groups : int, optional
        Document groups kept in the moments (:data:`DOCUMENT_GROUPS`; 0 for none).

    Examples
    --------
    >>> counter = DocumentCounter(("cat", "dog", "<oov>"))
    >>> counter.add([["cat", "cat", "emu"], [], ["dog"]], missing=1)
    >>> h, m = counter.result()
    >>> h.counts.tolist(), h.missing, h.documents, dict(h.unseen)
    ([2, 1, 1], 1, 3, {'emu': 1})
    >>> m.documents, m.squares.tolist(), m.length_squares
    (3, [4.0, 1.0, 1.0], 10.0)
    """

    def __init__(self, labels: Sequence[str], *, groups: int = DOCUMENT_GROUPS) -> None:
        self.labels = tuple(labels)
        k = len(self.labels)
        self.index = {label: i for i, label in enumerate(self.labels[:-1])}
        self.groups = groups
        self.missing = 0
        self.unseen: Counter[str] = Counter()
        zeros = np.zeros(k)
        self.moments = DocumentMoments(
            0, zeros, zeros, zeros, 0.0, np.zeros((groups, k)) if groups else None
        )

    @property
    def documents(self) -> int:
        """Non-missing documents added so far."""
        return self.moments.documents

    def add(self, documents: Sequence[Sequence[str]], *, missing: int = 0) -> None:
        """Count one chunk: the token labels of each present document, and the missing ones."""
        self.missing += int(missing)
        if not documents:
            return
        oov = len(self.labels) - 1
        flat = [token for doc in documents for token in doc]
        bins = np.fromiter((self.index.get(t, oov) for t in flat), np.int64, count=len(flat))
        if flat and oov >= 0:
            outside = np.flatnonzero(bins == oov).tolist()
            self.unseen.update(flat[i] for i in outside)
        self.add_bins([np.asarray(b) for b in _split(bins, [len(d) for d in documents])])

    def add_bins(self, documents: Sequence[npt.NDArray[np.int64]]) -> None:
        """Count one chunk of present documents given as arrays of bin indexes."""
        if not documents:
            return
        first = self.documents
        lengths = np.fromiter((d.size for d in documents), np.int64, count=len(documents))
        doc_index = np.repeat(np.arange(first, first + len(documents)), lengths)
        bins = np.concatenate(documents) if lengths.sum() else np.zeros(0, dtype=np.int64)
        found = DocumentMoments.from_indices(
            doc_index,
            bins,
            n_bins=len(self.labels),
            documents=len(documents),
            groups=self.groups,
        )
        # from_indices numbers documents by their (running) ids, so groups line up.
        self.moments = self.moments + found

    def histogram(self) -> Histogram:
        """The histogram of every document added (``documents`` set)."""
        counts = np.rint(self.moments.counts).astype(np.int64)
        return Histogram(
            self.labels, counts, self.missing, self.unseen, documents=self.moments.documents
        )

    def result(self) -> tuple[Histogram, DocumentMoments]:
        """``(histogram, moments)`` of every document added."""
        return self.histogram(), self.moments


def _split(bins: npt.NDArray[np.int64], lengths: Iterable[int]) -> list[npt.NDArray[np.int64]]:
    cuts = np.cumsum(np.fromiter(lengths, np.int64))[:-1]
    return list(np.split(bins, cuts))


def token_documents(
    binning: TokenBinning,
    values: npt.ArrayLike | Iterable[object],
    *,
    groups: int = DOCUMENT_GROUPS,
) -> tuple[Histogram, DocumentMoments]:
    """The histogram of ``values`` (documents) over ``binning`` and their document moments.

    The histogram equals :func:`drift.stats.histogram` of the same values;
    ``None`` is a missing document, an empty one counts as a document with
    no token.

    Examples
    --------
    >>> from drift.stats.binning import TokenBinning
    >>> h, m = token_documents(TokenBinning(("a", "b")), ["a a b", "b", None, ""])
    >>> h.counts.tolist(), h.documents, h.missing, m.documents, m.cross.tolist()
    ([2, 2, 0], 3, 1, 3, [6.0, 4.0, 0.0])
    """
    docs = as_label_values(values, "values")
    counter = DocumentCounter(binning.labels, groups=groups)
    present = [str(doc) for doc in docs if doc is not None]
    counter.missing = len(docs) - len(present)
    # In chunks, so memory holds the tokens of one chunk, not of every document.
    for first in range(0, len(present), CHUNK_DOCUMENTS):
        counter.add(
            [
                tokenize(
                    doc,
                    tokenizer=binning.tokenizer,
                    lowercase=binning.lowercase,
                    ngram=binning.ngram,
                )
                for doc in present[first : first + CHUNK_DOCUMENTS]
            ]
        )
    return counter.result()
