"""The examples in the docstrings of drift.stats and drift.frames run and are right."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import drift.stats

MODULES = [
    "drift.frames",
    *(f"drift.stats.{m.name}" for m in pkgutil.iter_modules(drift.stats.__path__)),
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_run(name: str) -> None:
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0
