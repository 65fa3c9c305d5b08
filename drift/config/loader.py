"""Reading monitors: one YAML file, a folder of them, or an already-parsed mapping.

The folder scan is written once, here, and used by ``drift validate`` and by
the Airflow DAG factory: :func:`scan_monitors` never raises for a bad file,
it returns the problems beside the monitors that loaded.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml
from pydantic import ValidationError

from drift.config.messages import format_validation_error
from drift.config.models import MonitorConfig
from drift.errors import ConfigError

if TYPE_CHECKING:
    from drift.config.cache import MonitorCache

__all__ = [
    "MonitorScan",
    "load_monitor",
    "load_monitors",
    "monitor_files",
    "parse_monitor",
    "scan_monitors",
]


class _UniqueKeyLoader(yaml.SafeLoader):
    """A safe loader that refuses duplicate keys instead of keeping the last."""


def _mapping_without_duplicates(
    loader: _UniqueKeyLoader, node: yaml.MappingNode, deep: bool = False
) -> dict[Any, Any]:
    seen: set[Any] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                "while reading a mapping",
                node.start_mark,
                f"found duplicate key {key!r}",
                key_node.start_mark,
            )
        seen.add(key)
    return loader.construct_mapping(node, deep=deep)


_UniqueKeyLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping_without_duplicates
)


def parse_monitor(
    data: Mapping[str, Any], *, source_name: str = "<string>", base_dir: str | Path | None = None
) -> MonitorConfig:
    """Validate an already-parsed monitor definition.

    Parameters
    ----------
    data : mapping
        The monitor's keys, as read from YAML.
    source_name : str, optional
        Where ``data`` came from; starts every error message.
    base_dir : str or pathlib.Path, optional
        Directory that relative file paths (``tokenizer_file``) are relative
        to; the current directory when omitted.

    Returns
    -------
    MonitorConfig

    Raises
    ------
    drift.errors.ConfigError
        One line per problem: ``<source_name>: <key path>: <what was expected>``.
    """
    if not isinstance(data, Mapping):
        raise ConfigError(
            f"{source_name}: expected a mapping of monitor keys (name, source, table, ...), "
            f"got {type(data).__name__}"
        )
    try:
        context = {"base_dir": None if base_dir is None else str(base_dir)}
        return MonitorConfig.model_validate(dict(data), context=context)
    except ValidationError as exc:
        raise ConfigError(format_validation_error(exc, MonitorConfig, source_name)) from None


def load_monitor(path: str | Path, *, cache: MonitorCache | None = None) -> MonitorConfig:
    """Read and validate one monitor YAML file.

    Parameters
    ----------
    path : str or pathlib.Path
        The YAML file.
    cache : drift.config.cache.MonitorCache, optional
        Where validated files are kept by content: a file whose bytes were
        validated before is not validated again.

    Returns
    -------
    MonitorConfig

    Raises
    ------
    drift.errors.ConfigError
        If the file cannot be read, is not valid YAML (line and column are
        given) or does not validate (the key path is given).
    """
    name = str(path)
    try:
        content = Path(path).read_bytes()
    except OSError as exc:
        raise ConfigError(f"{name}: cannot read the file ({exc.strerror or exc})") from None
    base_dir = Path(path).parent
    if cache is not None and (cached := cache.get(content, base_dir)) is not None:
        return cached
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{name}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    try:
        data = yaml.load(text, Loader=_UniqueKeyLoader)  # a SafeLoader subclass
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"{name}:{mark.line + 1}:{mark.column + 1}" if mark else name
        raise ConfigError(f"{where}: invalid YAML: {exc.problem or exc}") from None
    except yaml.YAMLError as exc:  # e.g. a control character: one line, like every problem
        raise ConfigError(f"{name}: invalid YAML: {' '.join(str(exc).split())}") from None
    monitor = parse_monitor(data, source_name=name, base_dir=base_dir)
    if cache is not None:
        cache.put(content, base_dir, monitor)
    return monitor


def monitor_files(directory: str | Path) -> list[Path]:
    """The ``*.yaml`` / ``*.yml`` files directly in ``directory``, sorted by name."""
    folder = Path(directory)
    return sorted(p for p in folder.iterdir() if p.suffix in (".yaml", ".yml") and p.is_file())


@dataclass(frozen=True, slots=True)
class MonitorScan:
    """The monitor files of a folder: those that validate, and what is wrong with the rest."""

    monitors: tuple[tuple[Path, MonitorConfig], ...]
    problems: tuple[str, ...]


def scan_monitors(directory: str | Path, *, cache: MonitorCache | None = None) -> MonitorScan:
    """Load every monitor file of ``directory``; never raises for a bad file.

    A file that does not validate, or that reuses a monitor name another file
    already took (files are read in name order), is left out and described
    in ``problems``, one line each, starting with the file's path. With a
    ``cache`` (see :func:`load_monitor`), only new or changed files are
    validated; invalid files are never cached, so their problems are always
    current.

    Raises
    ------
    drift.errors.ConfigError
        If ``directory`` is not a directory.
    """
    root = Path(directory)
    if not root.is_dir():
        raise ConfigError(f"{root}: not a directory of monitor files")
    return _scan(monitor_files(root), cache)


def _scan(files: Iterable[Path], cache: MonitorCache | None = None) -> MonitorScan:
    monitors: list[tuple[Path, MonitorConfig]] = []
    problems: list[str] = []
    owner: dict[str, Path] = {}
    for path in files:
        try:
            monitor = load_monitor(path, cache=cache)
        except ConfigError as problem:
            problems.append(str(problem))
            continue
        if monitor.name in owner:
            problems.append(
                f"{path}: name: {monitor.name!r} is already used by {owner[monitor.name]}"
            )
            continue
        owner[monitor.name] = path
        monitors.append((path, monitor))
    return MonitorScan(tuple(monitors), tuple(problems))


def load_monitors(directory: str | Path) -> list[MonitorConfig]:
    """Load every ``*.yaml`` / ``*.yml`` monitor in ``directory``, sorted by file name.

    Raises
    ------
    drift.errors.ConfigError
        If any file is invalid (all problems are reported together) or two
        files use the same monitor name.
    """
    scan = scan_monitors(directory)
    if scan.problems:
        raise ConfigError("\n".join(scan.problems))
    return [monitor for _, monitor in scan.monitors]
