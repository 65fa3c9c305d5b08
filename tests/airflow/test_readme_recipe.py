"""The README's local-Airflow recipe ("## In Airflow"), checked against the installed Airflow.

- The recipe turns example DAGs off. Besides about 80 example DAGs, loading
  examples makes Airflow 3.3 look for an ``example_dags`` folder in every
  provider by importing a module named after the distribution
  (``airflow-drift`` -> ``airflow_drift``; this package's module is
  ``drift``), and the DAG processor logs a ``Could not load provider module
  airflow_drift`` traceback each time it reads its bundle configuration.
  There is no provider-info key that names the module (apache/airflow#66305).
- New DAGs are paused, and the scheduler never starts a queued run of a
  paused DAG, so ``airflow backfill create`` on a fresh DAG queues its runs
  and nothing runs them, without a message: the recipe unpauses first.
"""

from __future__ import annotations

import logging
import re
import shlex
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest

from drift.airflow import dag_id

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
DAGS = ROOT / "dags"
SECTION = "## In Airflow"
LOAD_EXAMPLES = "AIRFLOW__CORE__LOAD_EXAMPLES"
PROVIDER_MODULE_ERROR = "Could not load provider module"


def _section() -> str:
    text = README.read_text(encoding="utf-8")
    start = text.index(f"\n{SECTION}\n")
    end = text.find("\n## ", start + len(SECTION) + 2)
    return text[start : end if end != -1 else len(text)]


def _console_lines() -> list[str]:
    """The commands (``$ ...`` lines) of the section's console blocks, in order."""
    blocks = re.findall(r"^```console\n(.*?)^```", _section(), flags=re.M | re.S)
    return [line[2:] for block in blocks for line in block.splitlines() if line.startswith("$ ")]


def _exports() -> dict[str, str]:
    """The variables the recipe exports (``$ export NAME=value ...``)."""
    env: dict[str, str] = {}
    for line in _console_lines():
        words = shlex.split(line)
        if words[:1] == ["export"]:
            for word in words[1:]:
                name, _, value = word.partition("=")
                env[name] = value
    return env


def _airflow_commands() -> list[list[str]]:
    """The recipe's ``airflow ...`` commands, as argument lists after ``airflow``."""
    out = []
    for line in _console_lines():
        words = shlex.split(line)
        if words and Path(words[0]).name == "airflow":
            out.append(words[1:])
    return out


def _recipe_load_examples(monkeypatch: pytest.MonkeyPatch) -> None:
    """Airflow's configuration as the recipe leaves it for ``[core] load_examples``."""
    value = _exports().get(LOAD_EXAMPLES)
    if value is None:
        monkeypatch.delenv(LOAD_EXAMPLES, raising=False)  # Airflow's default then: True
    else:
        monkeypatch.setenv(LOAD_EXAMPLES, value)


def test_the_recipe_turns_example_dags_off(monkeypatch: pytest.MonkeyPatch) -> None:
    from airflow.configuration import conf

    assert LOAD_EXAMPLES in _exports(), f"the recipe does not export {LOAD_EXAMPLES}"
    _recipe_load_examples(monkeypatch)
    assert conf.getboolean("core", "load_examples") is False


def test_the_recipe_gets_no_provider_module_traceback(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from airflow.dag_processing.bundles.manager import DagBundlesManager

    _recipe_load_examples(monkeypatch)
    with caplog.at_level(logging.ERROR):
        bundles = {bundle.name for bundle in DagBundlesManager().get_all_dag_bundles()}
    assert PROVIDER_MODULE_ERROR not in caplog.text
    assert bundles == {"dags-folder"}


def test_with_examples_airflow_guesses_the_module_airflow_drift(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Why the recipe turns examples off; when this fails, Airflow stopped guessing.

    Then (apache/airflow#66305 fixed) the README's explanation can go.
    """
    from airflow.dag_processing.bundles.manager import _add_provider_example_dags_to_bundle

    with caplog.at_level(logging.ERROR):
        _add_provider_example_dags_to_bundle([])
    assert f"{PROVIDER_MODULE_ERROR} airflow_drift" in caplog.text
    assert "No module named 'airflow_drift'" in caplog.text


def test_the_recipe_unpauses_the_dag_before_backfilling_it() -> None:
    commands = _airflow_commands()
    backfills = [i for i, c in enumerate(commands) if c[:2] == ["backfill", "create"]]
    assert backfills, "the recipe has no `airflow backfill create`"
    for i in backfills:
        target = commands[i][commands[i].index("--dag-id") + 1]
        assert ["dags", "unpause", target] in commands[:i], (
            f"`airflow backfill create --dag-id {target}` without `airflow dags unpause "
            f"{target}` before it"
        )
    prose = _section()
    assert "paused" in prose and "queued" in prose  # and says why


def test_the_recipes_airflow_commands_parse_with_airflows_cli() -> None:
    from airflow.cli import cli_parser

    parser = cli_parser.get_parser()
    for command in _airflow_commands():
        parser.parse_args(command)  # SystemExit on an unknown command or option


def test_the_recipe_backfills_a_dag_of_the_dags_folder() -> None:
    from airflow.dag_processing.dagbag import DagBag

    targets = {c[c.index("--dag-id") + 1] for c in _airflow_commands() if "--dag-id" in c}
    targets |= {c[2] for c in _airflow_commands() if c[:2] == ["dags", "unpause"]}
    assert targets <= set(DagBag(dag_folder=str(DAGS)).dag_ids)


def test_a_backfill_of_a_paused_dag_stays_queued_until_it_is_unpaused(tmp_path: Path) -> None:
    """What the README says, in the installed Airflow: the same CLI, the scheduler's query."""
    from airflow.cli import cli_parser
    from airflow.dag_processing.dagbag import DagBag, sync_bag_to_db
    from airflow.models.backfill import ReprocessBehavior, _create_backfill
    from airflow.models.dag import DagModel
    from airflow.models.dagbundle import DagBundleModel
    from airflow.models.dagrun import DagRun
    from airflow.utils.session import create_session

    # A DAG of its own, in a bundle of its own, so no other test sees its runs.
    shutil.copytree(DAGS, tmp_path / "dags")
    demo = tmp_path / "dags" / "monitors" / "demo_events.yaml"
    demo.write_text(demo.read_text().replace("name: demo_events", "name: recipe_check", 1))
    bag = DagBag(dag_folder=str(tmp_path / "dags"))
    target = dag_id("recipe_check")
    assert target in bag.dag_ids
    with create_session() as session:
        session.merge(DagBundleModel(name="recipe-check"))
    sync_bag_to_db(bag, "recipe-check", None)

    def queued_to_start() -> list[str]:
        with create_session() as session:
            runs = DagRun.get_queued_dag_runs_to_set_running(session)
            return [r.run_id for r in runs if r.dag_id == target]

    with create_session() as session:
        model = session.get(DagModel, target)
        assert model is not None and model.is_paused  # [core] dags_are_paused_at_creation
    _create_backfill(
        dag_id=target,
        from_date=datetime(2024, 5, 1, tzinfo=UTC),
        to_date=datetime(2024, 5, 3, tzinfo=UTC),
        max_active_runs=4,
        reverse=False,
        dag_run_conf=None,
        triggering_user_name=None,
        # As the recipe's command: Airflow asks for it when a task depends on the past (alert).
        reprocess_behavior=ReprocessBehavior.COMPLETED,
    )
    with create_session() as session:
        states = {r.state for r in session.query(DagRun).filter(DagRun.dag_id == target)}
    assert states == {"queued"}
    assert queued_to_start() == []  # the scheduler leaves them, and says nothing

    args = cli_parser.get_parser().parse_args(["dags", "unpause", target])
    args.func(args)
    assert len(queued_to_start()) == 3
