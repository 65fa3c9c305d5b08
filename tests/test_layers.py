"""The house's shape, enforced: which package may import which, no cycles, no private names.

Every module under ``drift/`` is parsed (imports inside functions and under
``TYPE_CHECKING`` count too: a lazy import is still a dependency). The
layers are those of DESIGN.md, lowest first; a package may import itself and
the packages listed for it, nothing else of ``drift``.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

import drift

PACKAGE = Path(drift.__file__).parent

#: Package (first component under drift) -> the drift packages it may import.
ALLOWED: dict[str, set[str]] = {
    "errors": set(),
    "stats": set(),
    "sql": {"errors"},
    "config": {"errors", "stats", "sql"},
    "notebook": {"errors", "stats"},
    "frames": {"errors", "stats", "config", "notebook"},
    "sources": {"errors", "stats", "sql", "config"},
    "alerts": {"errors", "stats", "config"},
    "store": {"errors", "stats", "sql", "config", "alerts"},
    "run": {"errors", "stats", "sql", "config", "sources", "alerts", "store"},
    "dashboard": {"errors", "stats", "sql", "config", "store"},
    "airflow": {
        "errors", "stats", "sql", "config", "sources", "alerts", "store", "run", "dashboard",
    },
    "cli": {"errors", "stats", "sql", "config", "sources", "alerts", "store", "run", "dashboard"},
    "__init__": {"stats", "frames"},
}  # fmt: skip

#: The largest a module may grow (lines), so each stays about one thing.
MAX_LINES = 400


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _is_package(name: str) -> bool:
    return MODULES[name].name == "__init__.py"


def _imports(name: str) -> Iterator[tuple[str, str | None]]:
    """(imported module, imported name or None) for every drift import of module ``name``."""
    tree = ast.parse(MODULES[name].read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "drift":
                    yield alias.name, None
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = name.split(".") if _is_package(name) else name.split(".")[:-1]
                base = base[: len(base) - node.level + 1]
                module = ".".join([*base, node.module] if node.module else base)
            else:
                module = node.module or ""
            if module.split(".")[0] != "drift":
                continue
            for alias in node.names:
                submodule = f"{module}.{alias.name}"
                if submodule in MODULES:
                    yield submodule, None
                else:
                    yield module, alias.name


def _layer(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def _resolve(module: str) -> str:
    """The module file an import loads (the longest known prefix)."""
    parts = module.split(".")
    while parts and ".".join(parts) not in MODULES:
        parts.pop()
    return ".".join(parts)


def test_every_module_belongs_to_a_known_layer() -> None:
    unknown = sorted({_layer(m) for m in MODULES} - set(ALLOWED))
    assert not unknown, f"packages without a place in ALLOWED: {unknown}"


@pytest.mark.parametrize("name", sorted(MODULES))
def test_imports_run_down_the_layers(name: str) -> None:
    here = _layer(name)
    bad = sorted(
        module
        for module, _ in _imports(name)
        if _layer(module) != here and _layer(module) not in ALLOWED[here]
    )
    assert not bad, f"{name} ({here}) imports {bad}; {here} may import {sorted(ALLOWED[here])}"


@pytest.mark.parametrize("name", sorted(MODULES))
def test_no_module_imports_another_modules_private_names(name: str) -> None:
    bad = []
    for module, imported in _imports(name):
        target = _resolve(module)
        private_module = any(p.startswith("_") for p in target.split(".")[1:])
        if private_module and not name.startswith(target.rsplit(".", 1)[0] + "."):
            bad.append(target)
        if imported is not None and imported.startswith("_") and target != name:
            bad.append(f"{target}.{imported}")
    assert not bad, f"{name} imports private {bad}"


def test_there_is_no_import_cycle() -> None:
    graph = {name: {_resolve(m) for m, _ in _imports(name)} - {name, ""} for name in MODULES}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    cycles: list[list[str]] = []

    def visit(node: str) -> None:  # Tarjan's strongly connected components
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in graph.get(node, ()):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for name in sorted(graph):
        if name not in index:
            visit(name)
    # A package's __init__ re-exporting its modules is no cycle of behaviour: drop
    # components that are only a package and the modules it re-exports.
    real = [c for c in cycles if not _only_reexports(c, graph)]
    assert not real, f"import cycles: {real}"


def _only_reexports(component: list[str], graph: dict[str, set[str]]) -> bool:
    packages = [m for m in component if _is_package(m)]
    if not packages:
        return False
    without = {m: graph[m] - set(packages) for m in component if m not in packages}
    return not any(without[m] & set(without) for m in without)


@pytest.mark.parametrize("name", sorted(MODULES))
def test_modules_stay_small(name: str) -> None:
    lines = MODULES[name].read_text().count("\n")
    assert lines <= MAX_LINES, f"{name} has {lines} lines (at most {MAX_LINES})"


def test_the_layer_rule_catches_a_wrong_import(tmp_path: Path) -> None:
    # The check itself can fail: stats importing the store is refused.
    assert "store" not in ALLOWED["stats"]
    assert _layer("drift.store.tables") == "store"
