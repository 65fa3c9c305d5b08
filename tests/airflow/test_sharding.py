"""Monitors spread over the shard DAG files: stable, complete, parsed by the real DagBag."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from drift.airflow.sharding import DEFAULT_SHARDS, build_shard, shard_file_name, shard_of

DAGS = Path(__file__).resolve().parents[2] / "dags"
MONITOR = "name: {name}\nsource: {{url_env: X}}\ntable: t\ntimestamp: ts\nwindow: 1h\n"
NAMES = [f"team{i % 7}_model_{i:03d}" for i in range(60)]


@pytest.fixture(autouse=True)
def _own_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DRIFT_CONFIG_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("DRIFT_DAG_SHARDS", raising=False)


def _fleet(tmp_path: Path, names: list[str]) -> Path:
    """A copy of the real dags/ folder whose monitors are ``names``."""
    dags = tmp_path / "dags"
    shutil.copytree(DAGS, dags)
    for name in names:
        (dags / "monitors" / f"{name}.yaml").write_text(MONITOR.format(name=name))
    return dags


def _bag(folder: Path) -> Any:
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(folder))


def test_the_dags_folder_has_one_file_per_default_shard() -> None:
    shards = sorted(p.name for p in DAGS.glob("drift_monitors_shard_*.py"))
    assert shards == [shard_file_name(i) for i in range(DEFAULT_SHARDS)]
    texts = {(DAGS / name).read_text() for name in shards}
    assert len(texts) == 1  # every shard file is the same one call


def test_every_monitor_is_built_by_exactly_one_shard(tmp_path: Path) -> None:
    dags = _fleet(tmp_path, NAMES)
    built: dict[str, list[int]] = {}
    for i in range(DEFAULT_SHARDS):
        for dag_id in build_shard(dags / shard_file_name(i)):
            built.setdefault(dag_id, []).append(i)
    expected = {f"drift_{n}": [shard_of(n, DEFAULT_SHARDS)] for n in [*NAMES, "demo_events"]}
    assert built == expected
    assert len({s for (s,) in built.values()}) == DEFAULT_SHARDS  # 61 names reach all 8


def test_the_shard_of_a_name_is_the_same_in_another_process() -> None:
    code = (
        "import sys; from drift.airflow.sharding import shard_of; "
        "print(*(shard_of(n, 8) for n in sys.argv[1:]))"
    )
    for seed in ("0", "12345"):  # a different str hash() salt in each child
        out = subprocess.run(
            [sys.executable, "-c", code, *NAMES],
            capture_output=True, text=True, check=True, env={"PYTHONHASHSEED": seed},
        ).stdout  # fmt: skip
        assert out.split() == [str(shard_of(n, 8)) for n in NAMES]


def test_a_task_run_builds_only_its_own_dag_in_its_own_shard(tmp_path: Path) -> None:
    dags = _fleet(tmp_path, NAMES)
    target = NAMES[5]
    home = shard_of(target, DEFAULT_SHARDS)
    for i in range(DEFAULT_SHARDS):
        got = build_shard(dags / shard_file_name(i), only=f"drift_{target}")
        assert list(got) == ([f"drift_{target}"] if i == home else [])


def test_the_dagbag_loads_every_monitor_once_from_the_shard_files(tmp_path: Path) -> None:
    bag = _bag(_fleet(tmp_path, NAMES))
    assert bag.import_errors == {}
    assert sorted(bag.dag_ids) == sorted(f"drift_{n}" for n in [*NAMES, "demo_events"])
    for name in NAMES:
        fileloc = Path(bag.dags[f"drift_{name}"].fileloc).name
        assert fileloc == shard_file_name(shard_of(name, DEFAULT_SHARDS))


def test_fewer_shards_by_env_leave_the_extra_files_empty(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DRIFT_DAG_SHARDS", "3")
    bag = _bag(_fleet(tmp_path, NAMES))
    assert bag.import_errors == {}
    assert len(bag.dag_ids) == len(NAMES) + 1
    files = {Path(bag.dags[d].fileloc).name for d in bag.dag_ids}
    assert files == {shard_file_name(i) for i in range(3)}


def test_more_shards_than_files_is_an_import_error_naming_the_missing_ones(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DRIFT_DAG_SHARDS", "10")
    bag = _bag(_fleet(tmp_path, NAMES))
    (path, error), *others = bag.import_errors.items()
    assert others == []
    assert path.endswith("drift_monitor_errors.py")
    assert "drift_monitors_shard_08.py, drift_monitors_shard_09.py" in error
    # The shards that have a file still load; the error names the others.
    loaded = {f"drift_{n}" for n in [*NAMES, "demo_events"] if shard_of(n, 10) < 8}
    assert set(bag.dag_ids) == loaded
    assert len(loaded) < len(NAMES) + 1


def test_a_bad_shard_count_names_the_setting(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DRIFT_DAG_SHARDS", "eight")
    from drift.errors import ConfigError

    with pytest.raises(ConfigError, match=r"DRIFT_DAG_SHARDS: must be a whole number >= 1"):
        build_shard(_fleet(tmp_path, []) / shard_file_name(0))


def test_a_name_taken_twice_lands_once_whatever_the_shards(tmp_path: Path) -> None:
    dags = _fleet(tmp_path, NAMES[:3])
    (dags / "monitors" / "zz_copy.yaml").write_text(MONITOR.format(name=NAMES[0]))
    bag = _bag(dags)
    (error,) = bag.import_errors.values()
    assert f"zz_copy.yaml: name: '{NAMES[0]}' is already used by" in error
    assert f"{NAMES[0]}.yaml" in bag.dags[f"drift_{NAMES[0]}"].doc_md
