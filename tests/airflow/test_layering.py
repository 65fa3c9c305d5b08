"""Only drift.airflow imports Airflow: the core, the CLI and the demo data run without it."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import drift

PACKAGE = Path(drift.__file__).parent
MODULES = sorted(p for p in PACKAGE.rglob("*.py") if (PACKAGE / "airflow") not in p.parents)


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_modules_outside_drift_airflow_do_not_import_airflow(path: Path) -> None:
    bad = {
        n for n in _imports(path) if n == "airflow" or n.startswith(("airflow.", "drift.airflow"))
    }
    assert not bad, f"{path.relative_to(PACKAGE)} imports {sorted(bad)}"
