"""The vectorised token counter counts exactly what tokenize() counts."""

from __future__ import annotations

import string
from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from drift.stats import tokenize
from drift.stats.fast_tokens import MAX_FAST_LENGTH, TokenCounter

OPTIONS = [
    {"tokenizer": "regex", "lowercase": True},
    {"tokenizer": "regex", "lowercase": False},
    {"tokenizer": "whitespace", "lowercase": True},
    {"tokenizer": "whitespace", "lowercase": False},
]
# Every ASCII character, weighted towards the ones that make tokens and separators.
ASCII = st.sampled_from([chr(c) for c in range(128)])
COMMON = st.sampled_from(list("aAzZ09_ \t\n.,-'\x00\x1c\x7f"))
DOCS = st.lists(st.text(st.one_of(COMMON, ASCII), max_size=60), max_size=40)
# A token of every length around the word boundaries and the spill bound.
LONG = st.integers(1, MAX_FAST_LENGTH + 9).map(lambda n: "Ab_9" * (n // 4) + "x" * (n % 4))


def exact(texts: list[str], options: dict[str, object]) -> Counter[str]:
    return Counter(tok for text in texts for tok in tokenize(text, **options))  # type: ignore[arg-type]


def fast(chunks: list[list[str]], options: dict[str, object]) -> Counter[str]:
    counter = TokenCounter(str(options["tokenizer"]), lowercase=bool(options["lowercase"]))
    for chunk in chunks:
        counter.add(chunk)
    return counter.counts()


@pytest.mark.parametrize("options", OPTIONS, ids=lambda o: f"{o['tokenizer']}-{o['lowercase']}")
@settings(max_examples=150, deadline=None)
@given(chunks=st.lists(DOCS, max_size=4))
def test_random_ascii_chunks_count_like_tokenize(
    chunks: list[list[str]], options: dict[str, object]
) -> None:
    assert fast(chunks, options) == exact([t for c in chunks for t in c], options)


@pytest.mark.parametrize("options", OPTIONS, ids=lambda o: f"{o['tokenizer']}-{o['lowercase']}")
@settings(max_examples=100, deadline=None)
@given(words=st.lists(LONG, min_size=1, max_size=30), seps=st.sampled_from([" ", ", ", "\n"]))
def test_tokens_of_every_length_up_to_and_past_the_packing_bound(
    words: list[str], seps: str, options: dict[str, object]
) -> None:
    texts = [seps.join(words), seps.join(reversed(words)), ""]
    assert fast([texts, texts[:1]], options) == exact(texts + texts[:1], options)


@pytest.mark.parametrize("options", OPTIONS, ids=lambda o: f"{o['tokenizer']}-{o['lowercase']}")
@settings(max_examples=100, deadline=None)
@given(
    chunks=st.lists(
        st.lists(st.text(st.one_of(COMMON, st.characters()), max_size=30), max_size=20),
        max_size=3,
    )
)
def test_chunks_with_non_ascii_documents_count_like_tokenize(
    chunks: list[list[str]], options: dict[str, object]
) -> None:
    chunks = [[*c, "ΟΔΟΣ σ İstanbul x\u0307y ß ǅ ½"] for c in chunks]
    assert fast(chunks, options) == exact([t for c in chunks for t in c], options)


def test_nul_bytes_inside_whitespace_tokens_are_not_padding() -> None:
    texts = ["a a\x00 a\x00\x00 \x00a \x00", "abcdefgh abcdefgh\x00 abcdefgh\x00\x00"]
    options: dict[str, object] = {"tokenizer": "whitespace", "lowercase": True}
    assert fast([texts], options) == exact(texts, options)


def test_empty_chunks_and_documents_count_nothing() -> None:
    counter = TokenCounter("regex")
    counter.add([])
    counter.add(["", "   ", "...", "\n"])
    assert counter.counts() == Counter()


def test_a_chunk_with_a_hash_collision_is_counted_exactly(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every token hashing to one value must still give every token its own count."""
    import drift.stats.fast_tokens as module

    monkeypatch.setattr(module, "_hash", lambda length, words: length * 0)
    texts = ["the cat sat", "The CAT ran", "dog dog_2 dog"]
    counter = TokenCounter("regex")
    counter.add(texts)
    counter.add(texts)
    assert counter.counts() == exact(texts * 2, {"tokenizer": "regex", "lowercase": True})


def test_a_collision_with_an_earlier_chunk_is_counted_exactly(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import drift.stats.fast_tokens as module

    counter = TokenCounter("whitespace")
    counter.add(["alpha beta"])
    monkeypatch.setattr(module, "_hash", lambda length, words: length * 0)
    counter.add(["gamma"])  # hashes like nothing seen: new
    counter.add(["delta"])  # hashes like "gamma" (and "alpha"/"beta" by length)
    counter.add(["alpha, beta! gamma"])
    options: dict[str, object] = {"tokenizer": "whitespace", "lowercase": True}
    assert counter.counts() == exact(
        ["alpha beta", "gamma", "delta", "alpha, beta! gamma"], options
    )


@pytest.mark.parametrize("tokenizer", ["char", "bpe"])
def test_only_regex_and_whitespace_are_vectorised(tokenizer: str) -> None:
    with pytest.raises(ValueError, match="`tokenizer` must be one of"):
        TokenCounter(tokenizer)


def test_every_printable_character_between_words() -> None:
    texts = [f"Word{c}WORD{c}{c}x" for c in string.printable]
    for options in OPTIONS:
        assert fast([texts], options) == exact(texts, options)
