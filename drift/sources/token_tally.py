"""Token counts of streamed documents: word tokenizers, Hugging Face subwords, stored ids.

A text feature's binning names its tokenizer in ``TokenBinning.tokenizer``:

- ``regex``, ``whitespace``, ``char``: :func:`drift.stats.tokenize` (see
  :func:`drift.sources.streaming.count_tokens`); ``regex`` and ``whitespace``
  unigrams are counted with the same result by the vectorised
  :class:`drift.stats.fast_tokens.TokenCounter`.
- ``huggingface:<absolute path of a tokenizer.json>``: the subword tokenizer
  saved there, run with ``Tokenizer.encode_batch`` once per chunk of
  documents and without special tokens (``[CLS]``, ``</s>``: one per
  document, they would only count documents). Tokens are counted by id in a
  dense array the size of the tokenizer's vocabulary and labelled by their
  token strings (``id_to_token``), which are what a dashboard reader can
  read; ids and strings are one to one, so nothing is merged.
- ``ids``: the column already holds token ids, as an integer array
  (PostgreSQL ``int[]``, DuckDB ``LIST``) or JSON text (``[1, 5, 7]``); each
  id is labelled by its decimal string.

Every tally keeps memory bounded by its counters, never by the rows: a
chunk is counted and dropped.

Text arrives as ``str`` from text columns. Bytes (a binary column, a SQLite
BLOB, or SQLite TEXT read as bytes) are decoded as UTF-8; bytes that are not
UTF-8 raise :class:`drift.errors.SourceError` naming the feature and the
offending value, rather than being guessed at or replaced.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any, Protocol

import numpy as np

from drift.config import FeatureConfig
from drift.config.tokenizer_files import TokenizerFileError, load_tokenizer
from drift.errors import SourceError
from drift.stats.binning import TokenBinning
from drift.stats.tokens import tokenize

#: The token labels of each present document of a chunk, one list per document.
DocumentTokens = Callable[[Sequence[Any]], list[list[str]]]

#: Prefix of ``TokenBinning.tokenizer`` for a Hugging Face tokenizer; the path follows.
HF_PREFIX = "huggingface:"
#: ``TokenBinning.tokenizer`` of a column of stored token ids.
IDS = "ids"


class Tally(Protocol):
    """Token counts of one feature, fed chunk by chunk."""

    def add(self, values: Sequence[Any]) -> None:
        """Count the tokens of the present (non-missing) values of one chunk."""

    def counts(self) -> Counter[str]:
        """Every token seen so far, by label, with its count."""


def hf_tokenizer_name(path: str) -> str:
    """The ``TokenBinning.tokenizer`` value of the tokenizer.json at ``path``."""
    return f"{HF_PREFIX}{path}"


def token_shape(feature: FeatureConfig) -> TokenBinning:
    """The empty-vocabulary binning of a text feature: its tokenizer and options.

    ``huggingface`` and ``ids`` ignore ``lowercase`` (a tokenizer.json
    normalizes text itself; stored ids are taken as they are), so it is stored as false.
    """
    if feature.tokenizer == "huggingface":
        if feature.tokenizer_file is None:  # the config refuses this; kept for mypy
            raise SourceError(f"feature {feature.name!r}: tokenizer_file is missing")
        return TokenBinning((), 1, hf_tokenizer_name(feature.tokenizer_file), False)
    if feature.tokenizer == IDS:
        return TokenBinning((), 1, IDS, False)
    return TokenBinning((), feature.ngram, feature.tokenizer, feature.lowercase)


def _show(value: bytes) -> str:
    return repr(value[:40]) + ("..." if len(value) > 40 else "")


def as_text(value: Any, feature: str) -> str:
    """``value`` as a document: str as is, bytes decoded as UTF-8, anything else by ``str``.

    Raises
    ------
    drift.errors.SourceError
        If bytes are not valid UTF-8, naming the feature, the byte offset and the value.
    """
    if isinstance(value, str):
        return value
    if isinstance(value, bytes | bytearray | memoryview):
        raw = bytes(value)
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise SourceError(
                f"feature {feature!r}: a row holds bytes that are not valid UTF-8 text "
                f"(byte {exc.start}: {_show(raw)}); store the column as UTF-8 text, or read "
                "it through a query that converts it"
            ) from None
    return str(value)


class SubwordTally:
    """Token counts from a Hugging Face tokenizer, counted by id.

    Parameters
    ----------
    path : str
        A ``tokenizer.json``.
    feature : str
        The feature's name, for error messages.
    """

    def __init__(self, path: str, feature: str) -> None:
        try:
            self.tokenizer = load_tokenizer(path)
        except TokenizerFileError as exc:
            raise SourceError(f"feature {feature!r}: {exc}") from None
        self.feature = feature
        self.by_id = np.zeros(int(self.tokenizer.get_vocab_size(with_added_tokens=True)), np.int64)
        encode = getattr(self.tokenizer, "encode_batch_fast", None)
        self._encode = encode if callable(encode) else self.tokenizer.encode_batch

    def add(self, values: Sequence[Any]) -> None:
        docs = [as_text(v, self.feature) for v in values]
        if not docs:
            return
        encodings = self._encode(docs, add_special_tokens=False)
        ids = np.fromiter((i for encoding in encodings for i in encoding.ids), dtype=np.int64)
        if ids.size:
            found = np.bincount(ids, minlength=self.by_id.size)
            if found.size > self.by_id.size:
                self.by_id = np.pad(self.by_id, (0, found.size - self.by_id.size))
            self.by_id += found

    def counts(self) -> Counter[str]:
        out: Counter[str] = Counter()
        for token_id in np.flatnonzero(self.by_id):
            out[self.label(int(token_id))] += int(self.by_id[token_id])
        return out

    def label(self, token_id: int) -> str:
        """The label of one token id: its string, or ``<id N>`` when it has none."""
        label = self.tokenizer.id_to_token(token_id)
        return label if label is not None else f"<id {token_id}>"

    def documents(self, values: Sequence[Any]) -> list[list[str]]:
        """The token labels of each document (not counted)."""
        docs = [as_text(v, self.feature) for v in values]
        if not docs:
            return []
        labels: dict[int, str] = {}
        out = []
        for encoding in self._encode(docs, add_special_tokens=False):
            out.append([labels.get(i) or labels.setdefault(i, self.label(i)) for i in encoding.ids])
        return out


class IdTally:
    """Counts of token ids stored in the column itself (array or JSON text)."""

    def __init__(self, feature: str) -> None:
        self.feature = feature
        self.by_id: Counter[int] = Counter()

    def _problem(self, value: Any, why: str) -> SourceError:
        shown = repr(value)
        shown = shown if len(shown) <= 80 else shown[:77] + "..."
        return SourceError(
            f"feature {self.feature!r} (tokenizer: ids): a row is not a list of integer token "
            f"ids ({why}): {shown}"
        )

    def parse(self, stored: Any) -> list[Any]:
        """The ids of one stored value (not checked to be integers; :meth:`add` checks)."""
        value = stored
        if isinstance(value, bytes | bytearray | memoryview):
            value = as_text(value, self.feature)
        if isinstance(value, str):
            try:
                value = json.loads(value)
            except json.JSONDecodeError as exc:
                raise self._problem(stored, f"invalid JSON: {exc.msg}") from None
        if isinstance(value, np.ndarray):
            value = value.tolist()
        if not isinstance(value, list | tuple):
            raise self._problem(stored, f"got {type(value).__name__}")
        return list(value)

    def add(self, values: Sequence[Any]) -> None:
        lists = [self.parse(v) for v in values]
        flat = [i for ids in lists for i in ids]
        if not flat:
            return
        try:
            array = np.asarray(flat)
        except (ValueError, TypeError):
            array = np.asarray(flat, dtype=object)
        if array.ndim != 1 or array.dtype.kind not in "iu" or any(type(i) is bool for i in flat):
            for value, ids in zip(values, lists, strict=True):
                for i in ids:
                    if type(i) is bool or not isinstance(i, int | np.integer):
                        raise self._problem(value, f"element {i!r}")
            raise self._problem(flat[:10], "ids beyond 64-bit integers")
        uniques, counts = np.unique(array, return_counts=True)
        self.by_id.update(dict(zip(uniques.tolist(), counts.tolist(), strict=True)))

    def counts(self) -> Counter[str]:
        return Counter({str(token_id): n for token_id, n in self.by_id.items()})


def document_tokens(binning: TokenBinning, feature: str) -> DocumentTokens:
    """Each document's token labels, as the tallies label them, for per-document moments.

    The labels of one document are those its tally would count: the words
    of :func:`drift.stats.tokenize`, the subword strings of a tokenizer.json
    (``id_to_token``), or the decimal strings of stored ids.
    """
    if binning.tokenizer == IDS:
        ids = IdTally(feature)

        def stored(values: Sequence[Any]) -> list[list[str]]:
            lists = [ids.parse(v) for v in values]
            ids.add(values)  # validates every id as the histogram's count does
            ids.by_id.clear()
            return [[str(i) for i in found] for found in lists]

        return stored
    if binning.tokenizer.startswith(HF_PREFIX):
        subwords = SubwordTally(binning.tokenizer.removeprefix(HF_PREFIX), feature)
        return subwords.documents

    def words(values: Sequence[Any]) -> list[list[str]]:
        return [
            tokenize(
                as_text(v, feature),
                tokenizer=binning.tokenizer,
                lowercase=binning.lowercase,
                ngram=binning.ngram,
            )
            for v in values
        ]

    return words
