"""Loading a Hugging Face ``tokenizer.json``, shared by the config checks and the sources.

The ``tokenizers`` package is optional (the ``hf`` extra): importing drift
never imports it; only a monitor whose text feature says
``tokenizer: huggingface`` does, and without it gets an error saying how to
install it. Nothing is ever downloaded: the tokenizer is read from a local
file with ``Tokenizer.from_file``.
"""

from __future__ import annotations

import functools
import importlib
from pathlib import Path
from typing import Any

#: What to run when the optional dependency is missing.
INSTALL_HINT = "pip install 'airflow-drift[hf]'"


class TokenizerFileError(ValueError):
    """A tokenizer file cannot be used; the message names the file and the fix."""


def load_tokenizer(path: str | Path) -> Any:
    """The ``tokenizers.Tokenizer`` saved at ``path`` (cached per path and mtime).

    Raises
    ------
    TokenizerFileError
        If ``tokenizers`` is not installed, the file does not exist, or it is
        not a tokenizer saved by ``Tokenizer.save``.
    """
    file = Path(path)
    try:
        mtime = file.stat().st_mtime_ns
    except FileNotFoundError:
        raise TokenizerFileError(f"{file}: no such file") from None
    except OSError as exc:
        raise TokenizerFileError(f"{file}: cannot read the file ({exc.strerror or exc})") from None
    if not file.is_file():
        raise TokenizerFileError(f"{file}: not a file")
    return _load(str(file), mtime)


@functools.lru_cache(maxsize=16)
def _load(path: str, mtime: int) -> Any:
    del mtime  # part of the cache key only: an edited file is loaded again
    try:
        module = importlib.import_module("tokenizers")
    except ImportError:
        raise TokenizerFileError(
            f"tokenizer: huggingface needs the `tokenizers` package, which is not installed; "
            f"run {INSTALL_HINT}"
        ) from None
    try:
        return module.Tokenizer.from_file(path)
    except Exception as exc:  # tokenizers raises bare Exception for any parse error
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise TokenizerFileError(
            f"{path}: not a Hugging Face tokenizer.json (as written by Tokenizer.save): {first}"
        ) from None
