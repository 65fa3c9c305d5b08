"""Text features tokenized by a Hugging Face tokenizer.json, read through SqlSource.

A tiny BPE tokenizer is trained in the test on a few hundred sentences held
in memory and saved under ``tmp_path``; nothing is downloaded. On every
backend the streamed counts must equal tokenizing the same rows in memory.
"""

from __future__ import annotations

import random
import subprocess
import sys
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from tokenizers import Tokenizer, models, pre_tokenizers, trainers

from drift.config import FeatureConfig, load_monitor, parse_monitor, tokenizer_files
from drift.errors import ConfigError, SourceError
from drift.sources import SqlSource
from drift.stats.binning import OOV_LABEL, TokenBinning

T0 = datetime(2024, 1, 1, tzinfo=UTC)
DAY = timedelta(days=1)
REF = (T0, T0 + DAY)
LIVE = (T0 + DAY, T0 + 2 * DAY)
WORDS = [
    "the", "model", "answered", "question", "prompt", "tokens", "drifted", "slowly",
    "unbelievable", "retraining", "pipelines", "monitoring", "Quickly", "café", "naïve",
]  # fmt: skip


def sentences(n: int, seed: int, words: list[str] = WORDS) -> list[str]:
    rng = random.Random(seed)
    return [" ".join(rng.choice(words) for _ in range(rng.randint(1, 9))) for _ in range(n)]


@pytest.fixture
def tokenizer_file(tmp_path: Path) -> Path:
    tokenizer = Tokenizer(models.BPE(unk_token="[UNK]"))
    tokenizer.pre_tokenizer = pre_tokenizers.Whitespace()
    trainer = trainers.BpeTrainer(vocab_size=120, special_tokens=["[UNK]"], show_progress=False)
    tokenizer.train_from_iterator(sentences(300, seed=1, words=WORDS[:-3]), trainer=trainer)
    path = tmp_path / "tokenizer.json"
    tokenizer.save(str(path))
    return path


def make_docs(db_url: str) -> tuple[sa.Engine, list[dict[str, Any]]]:
    rng = random.Random(5)
    live_words = [*WORDS, "zebra", "Ωmega"]  # unseen words split into pieces and [UNK]
    texts = sentences(250, seed=2) + sentences(250, seed=3, words=live_words)
    rows = []
    for i, text in enumerate(texts):
        roll = rng.random()
        doc: str | None = None if roll < 0.04 else "" if roll < 0.07 else text
        ts = T0 + timedelta(minutes=i * 2880 // len(texts))
        rows.append({"id": i, "ts": ts.replace(tzinfo=None), "prompt": doc})
    engine = sa.create_engine(db_url)
    table = sa.Table(
        "docs",
        sa.MetaData(),
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("ts", sa.DateTime()),
        sa.Column("prompt", sa.Text),
    )
    table.create(engine)
    with engine.begin() as conn:
        conn.execute(table.insert(), rows)
    return engine, rows


def in_memory(
    rows: list[dict[str, Any]], window: tuple[datetime, datetime], path: Path
) -> Counter[str]:
    tokenizer = Tokenizer.from_file(str(path))
    lo, hi = (w.replace(tzinfo=None) for w in window)
    counts: Counter[str] = Counter()
    for row in rows:
        if lo <= row["ts"] < hi and row["prompt"] is not None:
            counts.update(tokenizer.encode(row["prompt"], add_special_tokens=False).tokens)
    return counts


def feature(path: Path, **extra: Any) -> FeatureConfig:
    return FeatureConfig(
        name="prompt", kind="text", tokenizer="huggingface", tokenizer_file=str(path), **extra
    )


@pytest.mark.db
@pytest.mark.parametrize("chunk_size", [7, 10_000])
def test_counts_equal_tokenizing_the_rows_in_memory(
    db_url: str, tokenizer_file: Path, chunk_size: int
) -> None:
    engine, rows = make_docs(db_url)
    src = SqlSource(engine, table="docs", timestamp="ts", chunk_size=chunk_size)
    binning = src.fit([feature(tokenizer_file, top_k=15)], *REF)["prompt"]
    assert isinstance(binning, TokenBinning)
    reference = in_memory(rows, REF, tokenizer_file)
    top = sorted(reference.items(), key=lambda kv: (-kv[1], kv[0]))[:15]
    assert len(top) == 15 and binning.vocabulary == tuple(token for token, _ in top)

    hist = src.histograms({"prompt": binning}, *LIVE)["prompt"]
    live = in_memory(rows, LIVE, tokenizer_file)
    vocab = set(binning.vocabulary)
    assert hist.labels == (*binning.vocabulary, OOV_LABEL)
    assert hist.counts.tolist() == [
        *(live[t] for t in binning.vocabulary),
        sum(n for t, n in live.items() if t not in vocab),
    ]
    assert "[UNK]" in live  # the live window has characters the tokenizer never saw
    lo, hi = (w.replace(tzinfo=None) for w in LIVE)
    assert hist.missing == sum(1 for r in rows if lo <= r["ts"] < hi and r["prompt"] is None)
    assert src.histograms({"prompt": binning}, *LIVE, pushdown=False)["prompt"] == hist
    moments = src.document_moments({"prompt": binning}, *LIVE)["prompt"]
    assert moments.counts.tolist() == hist.counts.tolist()
    assert (
        moments.documents
        == hist.documents
        == sum(1 for r in rows if lo <= r["ts"] < hi and r["prompt"] is not None)
    )
    engine.dispose()


@pytest.mark.db
def test_binning_spec_round_trips_and_empty_window_is_zero(
    db_url: str, tokenizer_file: Path
) -> None:
    from drift.stats.binning import binning_from_spec

    engine, _ = make_docs(db_url)
    src = SqlSource(engine, table="docs", timestamp="ts")
    binning = src.fit([feature(tokenizer_file, top_k=10)], *REF)["prompt"]
    assert binning_from_spec(binning.to_spec()) == binning
    empty = src.histograms({"prompt": binning}, T0 - 5 * DAY, T0 - 4 * DAY)["prompt"]
    assert empty.n == 0 and empty.missing == 0
    engine.dispose()


def test_special_tokens_are_not_counted(tokenizer_file: Path, tmp_path: Path) -> None:
    from tokenizers import processors

    tokenizer = Tokenizer.from_file(str(tokenizer_file))
    tokenizer.add_special_tokens(["[CLS]", "[SEP]"])
    tokenizer.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]",
        special_tokens=[
            ("[CLS]", tokenizer.token_to_id("[CLS]")),
            ("[SEP]", tokenizer.token_to_id("[SEP]")),
        ],
    )
    path = tmp_path / "with_specials.json"
    tokenizer.save(str(path))
    engine = sa.create_engine(f"sqlite:///{tmp_path / 's.db'}")
    with engine.begin() as conn:
        conn.execute(sa.text("CREATE TABLE t (prompt TEXT)"))
        conn.execute(sa.text("INSERT INTO t VALUES ('the model'), ('the prompt')"))
    src = SqlSource(engine, table="t", timestamp=None)
    binning = src.fit([feature(path)], None, None)["prompt"]
    assert "[CLS]" not in binning.vocabulary and "[SEP]" not in binning.vocabulary
    assert src.histograms({"prompt": binning}, None, None)["prompt"].n == 4
    engine.dispose()


def test_relative_tokenizer_file_is_relative_to_the_monitor_file(
    tokenizer_file: Path, tmp_path: Path
) -> None:
    monitor_file = tmp_path / "prompts.yaml"
    monitor_file.write_text(
        "name: prompts\nsource: {url: 'sqlite:///x.db'}\ntable: docs\ntimestamp: ts\n"
        "features:\n  - {name: prompt, kind: text, tokenizer: huggingface, "
        "tokenizer_file: tokenizer.json, top_k: 50}\n"
    )
    monitor = load_monitor(monitor_file)
    assert monitor.features is not None
    assert monitor.features[0].tokenizer_file == str(tokenizer_file)


def monitor_with(**prompt: Any) -> dict[str, Any]:
    return {
        "name": "prompts",
        "source": {"url": "sqlite:///x.db"},
        "table": "docs",
        "timestamp": "ts",
        "features": [{"name": "prompt", "kind": "text", **prompt}],
    }


def test_missing_tokenizer_file_names_the_key_and_file(tmp_path: Path) -> None:
    missing = tmp_path / "nope" / "tokenizer.json"
    data = monitor_with(tokenizer="huggingface", tokenizer_file=str(missing))
    with pytest.raises(ConfigError) as info:
        parse_monitor(data, source_name="prompts.yaml")
    assert str(info.value) == (f"prompts.yaml: features[0].tokenizer_file: {missing}: no such file")


def test_invalid_tokenizer_file_is_a_config_error(tmp_path: Path) -> None:
    bad = tmp_path / "tokenizer.json"
    bad.write_text('{"version": "1.0", "model": {"type": "NoSuchModel"}}')
    with pytest.raises(ConfigError, match=r"features\[0\]\.tokenizer_file: .*not a Hugging Face"):
        parse_monitor(monitor_with(tokenizer="huggingface", tokenizer_file=str(bad)))


def test_huggingface_needs_a_file_and_single_tokens(tokenizer_file: Path) -> None:
    with pytest.raises(ConfigError, match=r"features\[0\]\.tokenizer_file: .*needs the path"):
        parse_monitor(monitor_with(tokenizer="huggingface"))
    with pytest.raises(ConfigError, match=r"features\[0\]\.tokenizer_file: applies to"):
        parse_monitor(monitor_with(tokenizer="regex", tokenizer_file=str(tokenizer_file)))
    with pytest.raises(ConfigError, match=r"features\[0\]\.ngram: .*ngram must be 1"):
        parse_monitor(
            monitor_with(tokenizer="huggingface", tokenizer_file=str(tokenizer_file), ngram=2)
        )


def test_without_tokenizers_installed_the_error_says_how_to_install(
    tokenizer_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "tokenizers", None)  # makes `import tokenizers` fail
    tokenizer_files._load.cache_clear()
    try:
        with pytest.raises(ConfigError, match=r"pip install 'airflow-drift\[hf\]'"):
            parse_monitor(monitor_with(tokenizer="huggingface", tokenizer_file=str(tokenizer_file)))
        with pytest.raises(SourceError, match=r"feature 'prompt': .*airflow-drift\[hf\]"):
            from drift.sources.token_tally import SubwordTally

            SubwordTally(str(tokenizer_file), "prompt")
    finally:
        tokenizer_files._load.cache_clear()


def test_importing_drift_does_not_import_tokenizers() -> None:
    code = (
        "import sys, drift, drift.config, drift.sources, drift.run; "
        "assert 'tokenizers' not in sys.modules, 'tokenizers was imported'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
