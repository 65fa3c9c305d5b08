"""Splitting text into tokens and n-grams."""

from __future__ import annotations

import re

from drift.stats.checks import positive_int

#: Tokenizers offered by :func:`tokenize`.
TOKENIZERS = ("regex", "whitespace", "char")

_WORD = re.compile(r"\w+", re.UNICODE)


def tokenize(
    text: str, *, tokenizer: str = "regex", lowercase: bool = True, ngram: int = 1
) -> list[str]:
    """Split one document into tokens, or n-grams of tokens.

    ``regex`` keeps runs of word characters (``\\w+``: letters, digits and
    underscore, Unicode-aware), ``whitespace`` splits on runs of whitespace,
    ``char`` takes every character. With ``ngram = n >= 2`` each token is
    ``n`` consecutive words joined by a single space, so a document of ``w``
    words gives ``max(w - n + 1, 0)`` n-grams.

    Parameters
    ----------
    text : str
        The document.
    tokenizer : {"regex", "whitespace", "char"}, optional
        How to split ``text``. Default ``"regex"``.
    lowercase : bool, optional
        Lowercase ``text`` first. Default True.
    ngram : int, optional
        Words per token, >= 1. Default 1.

    Returns
    -------
    list of str
        The tokens, in document order.

    Examples
    --------
    >>> tokenize("The cat sat, the CAT ran.")
    ['the', 'cat', 'sat', 'the', 'cat', 'ran']
    >>> tokenize("a b c", ngram=2)
    ['a b', 'b c']
    >>> tokenize("Hello, world!", tokenizer="whitespace", lowercase=False)
    ['Hello,', 'world!']
    """
    if not isinstance(text, str):
        raise TypeError(f"`text` must be a str, got {type(text).__name__}.")
    if tokenizer not in TOKENIZERS:
        raise ValueError(f"`tokenizer` must be one of {TOKENIZERS}, got {tokenizer!r}.")
    n = positive_int(ngram, "ngram")
    if lowercase:
        text = text.lower()
    if tokenizer == "regex":
        words = _WORD.findall(text)
    elif tokenizer == "whitespace":
        words = text.split()
    else:
        words = list(text)
    if n == 1:
        return words
    return [" ".join(words[i : i + n]) for i in range(len(words) - n + 1)]
