"""Every docstring example in drift/ runs and is right.

The modules are found by walking the package (``pkgutil.walk_packages``), so
a new or moved module is covered without being listed here. The examples
run with ``NORMALIZE_WHITESPACE`` and ``ELLIPSIS``; one marked
``# doctest: +SKIP`` is not counted. The walk must find every ``.py`` file
under drift/ (a folder without ``__init__.py`` would hide its modules), and
the examples collected over all modules must not fall below ``FLOOR``: an
example that goes away should do so on purpose, with the floor lowered in
the same change.
"""

from __future__ import annotations

import doctest
import importlib
import io
import pkgutil
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

import drift

FLAGS = doctest.NORMALIZE_WHITESPACE | doctest.ELLIPSIS
#: Examples (not skipped) in drift/ when this test was written; raise it as examples are added.
FLOOR = 175

PACKAGE = Path(drift.__file__).resolve().parent
AIRFLOW_CONFTEST = Path(__file__).resolve().parent / "airflow" / "conftest.py"


def _walk() -> tuple[list[str], list[str]]:
    """Module names under drift (``__main__`` modules left out: importing one runs it)."""
    broken: list[str] = []
    names = [
        info.name
        for info in pkgutil.walk_packages(drift.__path__, "drift.", onerror=broken.append)
        if info.name.rsplit(".", 1)[-1] != "__main__"
    ]
    return ["drift", *names], broken


MODULES, BROKEN_PACKAGES = _walk()


@pytest.fixture(scope="module", autouse=True)
def _airflow_home(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[None]:
    """Give Airflow a home of its own when tests/airflow/conftest.py has not.

    Some modules of drift.airflow import Airflow, which reads (and creates)
    ``$AIRFLOW_HOME`` on first import: never the developer's ``~/airflow``.
    """
    configured = any(
        Path(getattr(plugin, "__file__", "") or "").resolve() == AIRFLOW_CONFTEST
        for plugin in request.config.pluginmanager.get_plugins()
    )
    if configured or "airflow" in sys.modules:
        yield
        return
    home = tmp_path_factory.mktemp("airflow-home")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("AIRFLOW_HOME", str(home))
        patch.setenv("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
        patch.setenv("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", f"sqlite:///{home / 'airflow.db'}")
        yield


def _examples(name: str) -> list[doctest.DocTest]:
    module = importlib.import_module(name)
    return doctest.DocTestFinder(exclude_empty=True).find(module)


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_run(name: str) -> None:
    runner = doctest.DocTestRunner(optionflags=FLAGS)
    report = io.StringIO()
    for test in _examples(name):
        runner.run(test, out=report.write)
    assert runner.failures == 0, f"{name}: failing docstring examples\n{report.getvalue()}"


def test_every_package_imports() -> None:
    assert not BROKEN_PACKAGES, f"these packages do not import: {BROKEN_PACKAGES}"


def test_the_walk_finds_every_source_file() -> None:
    walked = set(MODULES)
    missed = []
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        name = ".".join(("drift", *parts))
        if parts and parts[-1] == "__main__":
            continue
        if name not in walked:
            missed.append(str(path.relative_to(PACKAGE.parent)))
    assert not missed, (
        f"modules outside the walk (a folder without __init__.py?), so their examples never "
        f"run: {missed}"
    )


def test_examples_are_collected() -> None:
    counts = {
        name: sum(
            1 for test in _examples(name) for example in test.examples
            if not example.options.get(doctest.SKIP)
        )
        for name in MODULES
    }  # fmt: skip
    total = sum(counts.values())
    assert total > 0, "no docstring example was collected in drift/"
    with_examples = {name: n for name, n in counts.items() if n}
    assert total >= FLOOR, (
        f"{total} docstring examples in drift/, fewer than the {FLOOR} there were: "
        f"{with_examples}; if examples went away on purpose, lower FLOOR in {Path(__file__).name}"
    )
