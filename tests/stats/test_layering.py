"""drift.stats stays pure: numpy and the standard library, no I/O layers."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import drift.stats

FORBIDDEN = ("pandas", "scipy", "sqlalchemy", "airflow", "drift.sources", "drift.store")
MODULES = sorted(Path(drift.stats.__file__).parent.glob("*.py"))


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


@pytest.mark.parametrize("path", MODULES, ids=lambda p: p.name)
def test_stats_modules_import_neither_pandas_nor_scipy_nor_io_layers(path: Path) -> None:
    bad = {n for n in _imports(path) if any(n == f or n.startswith(f + ".") for f in FORBIDDEN)}
    assert not bad, f"{path.name} imports {sorted(bad)}"
