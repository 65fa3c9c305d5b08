"""Counting word tokens of ASCII text with numpy, exactly as :func:`drift.stats.tokenize` would.

The ``regex`` (``\\w+``) and ``whitespace`` tokenizers with ``ngram = 1``
split a document at characters of a fixed class, and for ASCII text that
class is a 128-entry table. :class:`TokenCounter` therefore counts a chunk
of ASCII documents without a Python step per token:

1. the documents are joined by newlines (a separator for both tokenizers, so
   no token spans two documents), encoded, and lowercased with
   ``bytes.lower`` (equal to ``str.lower`` on ASCII);
2. every byte is classified by the table, and token starts and ends are the
   places where the class changes;
3. every token of at most :data:`MAX_FAST_LENGTH` bytes is packed exactly
   into its length and up to four little-endian 64-bit words (bytes past the
   token's end masked to zero), and the packed keys are hashed to one
   64-bit number;
4. the hashes are sorted and counted, and the keys within each run of equal
   hashes are compared word by word, so two different tokens that share a
   hash are detected, never merged;
5. the distinct tokens of the chunk are merged into the running totals,
   again comparing the packed keys of equal hashes. Only tokens never seen
   before are decoded into ``str``.

Anything the fast path does not cover is counted by :func:`tokenize` itself:
documents with a non-ASCII character, tokens longer than
:data:`MAX_FAST_LENGTH` (decoded one by one), and a chunk in which two
different tokens share a hash (astronomically rare; counted exactly, so the
totals stay exact).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from drift.stats.tokens import tokenize

#: Tokenizers :class:`TokenCounter` counts with numpy (with ``ngram = 1``).
FAST_TOKENIZERS = ("regex", "whitespace")
#: Longest token, in bytes, packed into a numpy key; longer ones are decoded one by one.
MAX_FAST_LENGTH = 32

_WORDS = MAX_FAST_LENGTH // 8
_U64 = np.uint64
_ALL = np.uint64(0xFFFFFFFFFFFFFFFF)
# _MASKS[n] keeps the first n bytes of a little-endian word.
_MASKS = np.array([(1 << (8 * n)) - 1 for n in range(8)] + [2**64 - 1], dtype=_U64)
_MIX = (
    np.uint64(0x9E3779B97F4A7C15),
    np.uint64(0xC2B2AE3D27D4EB4F),
    np.uint64(0x165667B19E3779F9),
    np.uint64(0xD6E8FEB86659FD93),
)
_LEN_MIX = np.uint64(0xFF51AFD7ED558CCD)
_FINAL = np.uint64(0xC4CEB9FE1A85EC53)


def _token_bytes(tokenizer: str) -> npt.NDArray[np.bool_]:
    """Which ASCII bytes belong to a token, from the tokenizer's own definition."""
    chars = [chr(c) for c in range(128)]
    if tokenizer == "regex":
        word = re.compile(r"\w", re.UNICODE)
        inside = [word.fullmatch(c) is not None for c in chars]
    else:
        inside = [not c.isspace() for c in chars]
    return np.array(inside + [False] * 128, dtype=np.bool_)


_TABLES = {name: _token_bytes(name) for name in FAST_TOKENIZERS}


def _hash(
    length: npt.NDArray[np.uint64], words: list[npt.NDArray[np.uint64]]
) -> npt.NDArray[np.uint64]:
    """One 64-bit hash of each packed key.

    A zero word adds nothing, so a key hashes alike however many words a chunk packs.
    """
    h = length * _LEN_MIX
    for word, mix in zip(words, _MIX, strict=False):
        mixed = word * mix
        mixed ^= mixed >> np.uint64(29)
        h += mixed
    h *= _FINAL
    h ^= h >> np.uint64(32)
    return h


class TokenCounter:
    """Running token counts of a ``regex`` or ``whitespace`` tokenizer, vectorised for ASCII.

    The counts equal those of ``Counter(t for d in docs for t in
    tokenize(d, tokenizer=tokenizer, lowercase=lowercase))`` over every
    document added, whatever the documents hold.

    Parameters
    ----------
    tokenizer : {"regex", "whitespace"}
        The tokenizer, as in :func:`drift.stats.tokenize`.
    lowercase : bool, optional
        Lowercase documents first. Default True.

    Examples
    --------
    >>> counter = TokenCounter("regex")
    >>> counter.add(["The cat sat,", "the CAT ran.", "Ça va"])
    >>> sorted(counter.counts().items())
    [('cat', 2), ('ran', 1), ('sat', 1), ('the', 2), ('va', 1), ('ça', 1)]
    """

    def __init__(self, tokenizer: str, *, lowercase: bool = True) -> None:
        if tokenizer not in FAST_TOKENIZERS:
            raise ValueError(f"`tokenizer` must be one of {FAST_TOKENIZERS}, got {tokenizer!r}.")
        self.tokenizer = tokenizer
        self.lowercase = lowercase
        self._table = _TABLES[tokenizer]
        # Distinct tokens by sorted hash: the hash, its slot in _labels/_counts, its packed key.
        self._hashes = np.zeros(0, dtype=_U64)
        self._slots = np.zeros(0, dtype=np.int64)
        self._lengths = np.zeros(0, dtype=_U64)
        self._words = np.zeros((_WORDS, 0), dtype=_U64)
        self._labels: list[str] = []
        self._counts = np.zeros(0, dtype=np.int64)
        self._exact: Counter[str] = Counter()

    def add(self, texts: Sequence[str]) -> None:
        """Count the tokens of every document in ``texts``.

        Parameters
        ----------
        texts : sequence of str
            The documents.
        """
        joined = "\n".join(texts)
        if not joined.isascii():
            ascii_docs = [t for t in texts if t.isascii()]
            for text in texts:
                if not text.isascii():
                    self._count_exactly(text)
            joined = "\n".join(ascii_docs)
        if joined:
            data = joined.encode("ascii")
            if not self._add_ascii(data.lower() if self.lowercase else data):
                self._count_exactly(joined)

    def counts(self) -> Counter[str]:
        """Every token counted so far, with its count.

        Returns
        -------
        collections.Counter of str
            The counts; tokens never seen are absent.
        """
        out = Counter(dict(zip(self._labels, self._counts.tolist(), strict=True)))
        out.update(self._exact)
        return out

    def _count_exactly(self, text: str) -> None:
        self._exact.update(tokenize(text, tokenizer=self.tokenizer, lowercase=self.lowercase))

    def _add_ascii(self, data: bytes) -> bool:
        """Count the tokens of ASCII ``data``; False, counting nothing, on a hash collision."""
        raw = np.frombuffer(data, dtype=np.uint8)
        inside = np.zeros(raw.size + 2, dtype=np.bool_)
        inside[1:-1] = np.take(self._table, raw)
        edges = np.flatnonzero(inside[1:] != inside[:-1])
        starts, ends = edges[0::2], edges[1::2]
        if not starts.size:
            return True
        lengths = ends - starts
        long = lengths > MAX_FAST_LENGTH
        spilled = Counter(
            data[start:end].decode("ascii")
            for start, end in zip(starts[long].tolist(), ends[long].tolist(), strict=True)
        )
        if spilled:
            keep = ~long
            starts, lengths = starts[keep], lengths[keep]
            if not starts.size:
                self._exact.update(spilled)
                return True
        # Read 8 bytes at any offset: a strided uint64 view over zero-padded bytes.
        padded = np.zeros(raw.size + MAX_FAST_LENGTH + 8, dtype=np.uint8)
        padded[: raw.size] = raw
        at = np.ndarray((raw.size + MAX_FAST_LENGTH,), dtype="<u8", buffer=padded, strides=(1,))
        n_words = (int(lengths.max()) + 7) // 8
        words = []
        for w in range(n_words):
            left = np.minimum(np.maximum(lengths - 8 * w, 0), 8)
            words.append(at[starts + 8 * w] & _MASKS[left])
        ulengths = lengths.astype(_U64)
        hashes = _hash(ulengths, words)

        # Sort the hashes with each token's index in their low bits: a plain sort is
        # several times faster than an argsort. Tokens are grouped by the hash's
        # remaining high bits, and the keys within a group are compared below.
        shift = np.uint64(max(int(starts.size).bit_length(), 1))
        tagged = np.sort((hashes >> shift << shift) | np.arange(starts.size, dtype=_U64))
        order = (tagged & ((np.uint64(1) << shift) - np.uint64(1))).astype(np.intp)
        groups = tagged >> shift
        firsts = np.flatnonzero(np.concatenate(([True], groups[1:] != groups[:-1])))
        same = np.ones(groups.size, dtype=np.bool_)
        same[firsts] = False
        same = same[1:]
        # Within a group every key must equal the one before it.
        for column in [ulengths, *words]:
            ordered = column[order]
            if not np.array_equal(ordered[1:][same], ordered[:-1][same]):
                return False
        counts = np.diff(np.append(firsts, groups.size))
        reps = order[firsts]
        key_words = [word[reps] for word in words]
        key_words += [np.zeros(reps.size, dtype=_U64)] * (_WORDS - n_words)
        if not self._merge(
            hashes[reps], ulengths[reps], np.stack(key_words), counts, starts[reps], data
        ):
            return False
        self._exact.update(spilled)
        return True

    def _merge(
        self,
        hashes: npt.NDArray[np.uint64],
        lengths: npt.NDArray[np.uint64],
        words: npt.NDArray[np.uint64],
        counts: npt.NDArray[np.int64],
        starts: npt.NDArray[np.intp],
        data: bytes,
    ) -> bool:
        """Add one chunk's distinct tokens (sorted by hash) to the totals."""
        at = np.searchsorted(self._hashes, hashes)
        found = at < self._hashes.size
        found[found] = self._hashes[at[found]] == hashes[found]
        old = at[found]
        if not (
            np.array_equal(self._lengths[old], lengths[found])
            and np.array_equal(self._words[:, old], words[:, found])
        ):
            return False
        self._counts[self._slots[old]] += counts[found]
        new = ~found
        if new.any():
            slots = np.arange(len(self._labels), len(self._labels) + int(new.sum()))
            ends = starts[new] + lengths[new].astype(np.intp)
            self._labels += [
                data[s:e].decode("ascii")
                for s, e in zip(starts[new].tolist(), ends.tolist(), strict=True)
            ]
            self._counts = np.concatenate((self._counts, counts[new]))
            where = at[new]
            self._hashes = np.insert(self._hashes, where, hashes[new])
            self._slots = np.insert(self._slots, where, slots)
            self._lengths = np.insert(self._lengths, where, lengths[new])
            self._words = np.insert(self._words, where, words[:, new], axis=1)
        return True
