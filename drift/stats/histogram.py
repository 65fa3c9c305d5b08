"""Histograms: bin counts with labels and a missing count, mergeable."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import numpy as np
import numpy.typing as npt

#: How many never-seen values a histogram remembers by name.
UNSEEN_KEEP = 20


def _frozen_counts(counts: npt.ArrayLike) -> npt.NDArray[np.int64]:
    arr = np.asarray(counts)
    if arr.ndim != 1:
        raise ValueError(f"`counts` must be one-dimensional, got shape {arr.shape}.")
    if arr.size and not np.all(np.isfinite(arr.astype(np.float64))):
        raise ValueError("`counts` must be finite.")
    if arr.size and np.any(arr < 0):
        raise ValueError("`counts` must be non-negative.")
    if arr.size and not np.all(np.equal(np.mod(arr, 1), 0)):
        raise ValueError("`counts` must be whole numbers.")
    out = arr.astype(np.int64, copy=True)
    out.setflags(write=False)
    return out


@dataclass(frozen=True, slots=True, eq=False)
class Histogram:
    """Counts of one feature over the bins of one binning.

    Parameters
    ----------
    labels : tuple of str
        One label per bin, in bin order (the binning's ``labels``).
    counts : array_like of int
        Non-negative count per bin; same length as ``labels``.
    missing : int, optional
        Values that were NULL/None/NaN and so fell in no bin.
    unseen : mapping of str to int, optional
        For categorical and token binnings, the most frequent values that were
        not in the reference (they are counted in the "other"/OOV bin too);
        at most ``UNSEEN_KEEP`` are kept.
    documents : int, optional
        For text (token binnings): the non-missing documents the tokens came
        from, which are the feature's rows (``counts`` are of tokens,
        ``missing`` of documents). ``None`` for numbers and categories, whose
        rows are ``n``.
    below, above : int, optional
        For numeric binnings with a reference range, the non-missing values
        below its minimum and above its maximum (``-inf``/``+inf`` included;
        they are counted in the outer bins too).
    value_range : (float, float), optional
        The reference range ``(low, high)`` ``below`` and ``above`` were
        counted against; ``None`` when not known (then both are 0).

    Notes
    -----
    Two histograms over the same labels merge by adding counts, so chunks,
    partitions and windows can be combined: ``a + b`` or ``a.merge(b)``;
    ``documents`` add too (``None`` unless both sides know them). Equality
    compares ``documents`` only when both sides know them, so a histogram
    written by hand equals the counted one.

    Examples
    --------
    >>> import numpy as np
    >>> h = Histogram(("cat", "<oov>"), np.array([30, 6]), missing=2, documents=8)
    >>> h.n, h.rows, h.total, h.missing_rate
    (36, 8, 10, 0.2)
    >>> (h + h).documents, (h + Histogram(h.labels, h.counts)).documents
    (16, None)
    """

    labels: tuple[str, ...]
    counts: npt.NDArray[np.int64]
    missing: int = 0
    unseen: Mapping[str, int] = field(default_factory=dict)
    documents: int | None = None
    below: int = 0
    above: int = 0
    value_range: tuple[float, float] | None = None

    def __post_init__(self) -> None:
        labels = tuple(str(label) for label in self.labels)
        counts = _frozen_counts(self.counts)
        if len(labels) != counts.size:
            raise ValueError(f"`labels` has {len(labels)} entries but `counts` has {counts.size}.")
        if int(self.missing) < 0:
            raise ValueError("`missing` must be non-negative.")
        if int(self.below) < 0 or int(self.above) < 0:
            raise ValueError("`below` and `above` must be non-negative.")
        if self.value_range is not None:
            low, high = (float(v) for v in self.value_range)
            object.__setattr__(self, "value_range", (low, high))
        top = sorted(self.unseen.items(), key=lambda kv: (-kv[1], kv[0]))[:UNSEEN_KEEP]
        object.__setattr__(self, "labels", labels)
        object.__setattr__(self, "counts", counts)
        object.__setattr__(self, "missing", int(self.missing))
        object.__setattr__(self, "below", int(self.below))
        object.__setattr__(self, "above", int(self.above))
        object.__setattr__(self, "unseen", MappingProxyType({str(k): int(v) for k, v in top}))
        if self.documents is not None:
            if int(self.documents) < 0:
                raise ValueError("`documents` must be non-negative.")
            object.__setattr__(self, "documents", int(self.documents))

    @property
    def n(self) -> int:
        """Number of non-missing values counted in the bins."""
        return int(self.counts.sum())

    @property
    def rows(self) -> int:
        """Non-missing rows: ``documents`` for text, else ``n``."""
        return self.n if self.documents is None else self.documents

    @property
    def total(self) -> int:
        """Number of rows seen (documents for text), missing included."""
        return self.rows + self.missing

    @property
    def missing_rate(self) -> float:
        """Share of rows (documents for text) that were missing (0.0 when empty)."""
        return self.missing / self.total if self.total else 0.0

    @property
    def outside_range(self) -> float:
        """Share of the non-missing values outside the reference range (0.0 when empty)."""
        return (self.below + self.above) / self.n if self.n else 0.0

    def merge(self, other: Histogram) -> Histogram:
        """Add ``other``'s counts to these; both must have the same labels.

        Counts outside the reference range are added when both histograms
        were counted against the same range; otherwise the sum has none.
        """
        if self.labels != other.labels:
            raise ValueError("Histograms can only be merged over the same bins (labels differ).")
        same = self.value_range == other.value_range
        unseen = dict(self.unseen)
        for key, value in other.unseen.items():
            unseen[key] = unseen.get(key, 0) + value
        documents = None
        if self.documents is not None and other.documents is not None:
            documents = self.documents + other.documents
        return Histogram(
            self.labels,
            self.counts + other.counts,
            self.missing + other.missing,
            unseen,
            documents,
            below=self.below + other.below if same else 0,
            above=self.above + other.above if same else 0,
            value_range=self.value_range if same else None,
        )

    def __add__(self, other: Histogram) -> Histogram:
        return self.merge(other)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Histogram):
            return NotImplemented
        return (
            self.labels == other.labels
            and np.array_equal(self.counts, other.counts)
            and self.missing == other.missing
            and dict(self.unseen) == dict(other.unseen)
            and (
                self.documents is None
                or other.documents is None
                or self.documents == other.documents
            )
            and (self.below, self.above, self.value_range)
            == (other.below, other.above, other.value_range)
        )

    __hash__ = None  # type: ignore[assignment]

    @classmethod
    def empty(cls, labels: Sequence[str]) -> Histogram:
        """A histogram with zero counts over ``labels``."""
        return cls(tuple(labels), np.zeros(len(labels), dtype=np.int64))

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form: labels, counts, missing, unseen (and documents, if known)."""
        out: dict[str, Any] = {
            "labels": list(self.labels),
            "counts": [int(c) for c in self.counts],
            "missing": self.missing,
            "unseen": dict(self.unseen),
        }
        if self.documents is not None:
            out["documents"] = self.documents
        if self.value_range is not None:
            out.update(below=self.below, above=self.above, value_range=list(self.value_range))
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Histogram:
        """Inverse of :meth:`to_dict`."""
        bounds = data.get("value_range")
        return cls(
            tuple(data["labels"]),
            np.asarray(data["counts"], dtype=np.int64),
            int(data.get("missing", 0)),
            dict(data.get("unseen", {})),
            None if data.get("documents") is None else int(data["documents"]),
            below=int(data.get("below", 0)),
            above=int(data.get("above", 0)),
            value_range=None if bounds is None else (float(bounds[0]), float(bounds[1])),
        )
