"""Tokenizing documents."""

from __future__ import annotations

import pytest

from drift.stats import tokenize


def test_regex_tokenizer_keeps_word_characters_and_lowercases() -> None:
    assert tokenize("Héllo, WORLD_1!") == ["héllo", "world_1"]


def test_whitespace_tokenizer_keeps_punctuation() -> None:
    assert tokenize("a, b!", tokenizer="whitespace") == ["a,", "b!"]


def test_ngrams_are_consecutive_words_joined_by_one_space() -> None:
    assert tokenize("one two  three", ngram=2) == ["one two", "two three"]


def test_a_document_shorter_than_n_has_no_ngrams() -> None:
    assert tokenize("one", ngram=2) == []


def test_unknown_tokenizer_is_named() -> None:
    with pytest.raises(ValueError, match="`tokenizer` must be one of"):
        tokenize("x", tokenizer="bpe")


def test_non_string_text_is_refused() -> None:
    with pytest.raises(TypeError, match="`text` must be a str"):
        tokenize(3)  # type: ignore[arg-type]
