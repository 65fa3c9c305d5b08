"""Validated monitor files cached by content: a changed file is validated again, the others not."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import pytest

from drift.config import scan_monitors
from drift.config.cache import MonitorCache, default_cache_dir

MONITOR = "name: {name}\nsource: {{url_env: X}}\ntable: t\ntimestamp: ts\nwindow: {window}\n"


def _folder(tmp_path: Path, n: int = 5) -> Path:
    folder = tmp_path / "monitors"
    folder.mkdir()
    for i in range(n):
        (folder / f"m{i}.yaml").write_text(MONITOR.format(name=f"m{i}", window="1h"))
    return folder


def test_a_second_scan_validates_nothing(tmp_path: Path) -> None:
    folder = _folder(tmp_path)
    first = scan_monitors(folder, cache=MonitorCache(tmp_path / "cache"))
    cache = MonitorCache(tmp_path / "cache")  # a fresh process would start like this
    second = scan_monitors(folder, cache=cache)
    assert (cache.hits, cache.misses) == (5, 0)
    assert second == first


def test_changing_one_file_validates_only_it(tmp_path: Path) -> None:
    folder = _folder(tmp_path)
    scan_monitors(folder, cache=MonitorCache(tmp_path / "cache"))
    (folder / "m3.yaml").write_text(MONITOR.format(name="m3", window="1d"))
    cache = MonitorCache(tmp_path / "cache")
    scan = scan_monitors(folder, cache=cache)
    assert (cache.hits, cache.misses) == (4, 1)
    assert {m.name: m.window for _, m in scan.monitors}["m3"] == timedelta(days=1)


def test_an_invalid_file_is_never_cached_and_always_reported(tmp_path: Path) -> None:
    folder = _folder(tmp_path, 1)
    (folder / "bad.yaml").write_text(MONITOR.format(name="bad", window="soon"))
    for _ in range(2):
        cache = MonitorCache(tmp_path / "cache")
        (problem,) = scan_monitors(folder, cache=cache).problems
        assert "bad.yaml: window:" in problem
    assert cache.misses == 1  # only bad.yaml: it is validated (and fails) every time


def test_the_same_bytes_in_another_folder_are_another_entry(tmp_path: Path) -> None:
    text = MONITOR.format(name="m", window="1h").encode()
    assert MonitorCache.key(text, tmp_path / "a") != MonitorCache.key(text, tmp_path / "b")
    assert MonitorCache.key(text, tmp_path / "a") == MonitorCache.key(text, tmp_path / "a")


def test_a_damaged_entry_is_a_miss_not_an_error(tmp_path: Path) -> None:
    folder = _folder(tmp_path, 1)
    scan_monitors(folder, cache=MonitorCache(tmp_path / "cache"))
    for entry in (tmp_path / "cache").glob("*.pickle"):
        entry.write_bytes(b"\x80\x05not a pickle")
    cache = MonitorCache(tmp_path / "cache")
    ((_, monitor),) = scan_monitors(folder, cache=cache).monitors
    assert monitor.name == "m0"
    assert (cache.hits, cache.misses) == (0, 1)


def test_a_folder_others_may_write_to_is_not_used(tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    os.chmod(shared, 0o777)
    cache = MonitorCache(shared)
    assert not cache.usable
    scan_monitors(_folder(tmp_path, 2), cache=cache)
    assert list(shared.iterdir()) == []


def test_no_partial_files_are_left_behind(tmp_path: Path) -> None:
    scan_monitors(_folder(tmp_path, 3), cache=MonitorCache(tmp_path / "cache"))
    names = sorted(p.suffix for p in (tmp_path / "cache").iterdir())
    assert names == [".pickle"] * 3


def test_the_cache_folder_setting(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("DRIFT_CONFIG_CACHE_DIR", str(tmp_path / "c"))
    assert default_cache_dir() == tmp_path / "c"
    monkeypatch.setenv("DRIFT_CONFIG_CACHE_DIR", "off")
    assert default_cache_dir() is None
    monkeypatch.delenv("DRIFT_CONFIG_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert default_cache_dir() == tmp_path / "xdg" / "airflow-drift" / "monitors"


def test_the_key_changes_with_the_config_package_source() -> None:
    """An editable install keeps its version number: the models' source is in the key."""
    import hashlib
    from pathlib import Path

    import drift.config.cache as cache_module

    folder = Path(cache_module.__file__).parent
    source = hashlib.sha256()
    for module in sorted(folder.glob("*.py")):
        source.update(module.name.encode() + b"\0" + module.read_bytes())
    assert source.hexdigest().encode() in cache_module._versions()
