"""An on-disk cache of validated monitor files, keyed by their content.

Airflow's dag-processor forks a fresh process for every parse of a DAG file,
so a cache held in memory is gone by the next parse; this one lives in a
folder. A monitor file is validated again exactly when its bytes change:

- the key is the SHA-256 of the file's bytes, its folder (relative paths in
  a monitor resolve against it), the package version and pydantic's and the
  source of ``drift.config`` itself (an editable install keeps its version
  while the models change), so an edited file, a moved one or an upgrade can
  never meet an old entry;
- an entry is written to a temporary file and renamed into place, so a
  reader sees a whole entry or none, even with several parsing processes;
- a monitor whose validation reads another file (``tokenizer_file``) is not
  cached, because that file could change while the YAML does not;
- an entry that cannot be read (truncated, another format) is ignored and
  the file is validated as if there were none.

Entries are pickles of frozen pydantic models, so the folder must be writable
by its owner only: a folder that others may write to is not used (unpickling
what someone else wrote would run their code).
"""

from __future__ import annotations

import hashlib
import logging
import os
import pickle
import stat
import tempfile
from functools import cache
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from drift.config.models import MonitorConfig

__all__ = ["CACHE_DIR_ENV", "MonitorCache", "default_cache_dir"]

log = logging.getLogger(__name__)

#: Environment variable naming the cache folder; ``off`` turns the cache off.
CACHE_DIR_ENV = "DRIFT_CONFIG_CACHE_DIR"


@cache
def _versions() -> bytes:
    def of(dist: str) -> str:
        try:
            return version(dist)
        except PackageNotFoundError:
            return "unknown"

    # The config package's own source too: an editable install keeps its version
    # number while the models change, and an old pickle must never meet new models.
    source = hashlib.sha256()
    for module in sorted(Path(__file__).resolve().parent.glob("*.py")):
        source.update(module.name.encode() + b"\0" + module.read_bytes())
    return (
        f"airflow-drift {of('airflow-drift')} pydantic {of('pydantic')} config {source.hexdigest()}"
    ).encode()


def default_cache_dir() -> Path | None:
    """The cache folder: ``$DRIFT_CONFIG_CACHE_DIR``, else the user's cache folder.

    Returns
    -------
    pathlib.Path or None
        ``$DRIFT_CONFIG_CACHE_DIR`` when set (``None`` when it is ``off``),
        else ``$XDG_CACHE_HOME/airflow-drift/monitors`` (``~/.cache`` when
        ``XDG_CACHE_HOME`` is unset).
    """
    configured = os.environ.get(CACHE_DIR_ENV)
    if configured is not None and configured.strip():
        return None if configured.strip().lower() == "off" else Path(configured).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "airflow-drift" / "monitors"


class MonitorCache:
    """Validated monitors by file content, in ``folder``.

    Parameters
    ----------
    folder : str or pathlib.Path
        Created (mode 0700) if missing. If it cannot be created, or others may
        write to it, the cache is off and every file is validated.

    Attributes
    ----------
    hits, misses : int
        Lookups answered from the cache, and those that were not.
    """

    def __init__(self, folder: str | Path) -> None:
        self.folder = Path(folder)
        self.hits = 0
        self.misses = 0
        self.usable = self._prepare()

    def _prepare(self) -> bool:
        try:
            self.folder.mkdir(mode=0o700, parents=True, exist_ok=True)
            info = self.folder.stat()
        except OSError as exc:
            log.warning("monitor cache %s not used: %s", self.folder, exc.strerror or exc)
            return False
        if info.st_uid != os.getuid() or info.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
            log.warning("monitor cache %s not used: others may write to it", self.folder)
            return False
        return True

    @staticmethod
    def key(content: bytes, base_dir: Path) -> str:
        """The entry name of a file with these bytes in this folder."""
        digest = hashlib.sha256(_versions())
        digest.update(b"\0" + str(base_dir.resolve()).encode() + b"\0")
        digest.update(content)
        return digest.hexdigest()

    def get(self, content: bytes, base_dir: Path) -> MonitorConfig | None:
        """The cached monitor of a file with ``content`` in ``base_dir``, if any."""
        if not self.usable:
            return None
        entry = self.folder / f"{self.key(content, base_dir)}.pickle"
        try:
            monitor = pickle.loads(entry.read_bytes())  # owner-only folder, see above
        except FileNotFoundError:
            monitor = None
        except Exception as exc:  # a damaged entry is a miss, never an error
            log.warning("monitor cache entry %s ignored: %s", entry, exc)
            monitor = None
        if not isinstance(monitor, MonitorConfig):
            self.misses += 1
            return None
        self.hits += 1
        return monitor

    def put(self, content: bytes, base_dir: Path, monitor: MonitorConfig) -> None:
        """Keep ``monitor`` as the validation of ``content`` (atomically)."""
        if not self.usable or any(f.tokenizer_file for f in monitor.features or ()):
            return
        entry = self.folder / f"{self.key(content, base_dir)}.pickle"
        try:
            fd, partial = tempfile.mkstemp(dir=self.folder, suffix=".partial")
            with os.fdopen(fd, "wb") as out:
                out.write(pickle.dumps(monitor, protocol=pickle.HIGHEST_PROTOCOL))
            os.replace(partial, entry)
        except OSError as exc:
            log.warning("monitor cache %s: entry not written: %s", self.folder, exc)
