"""``drift validate FILE...``: check monitor files without running them."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from drift.config import load_monitor, load_monitors
from drift.errors import ConfigError

__all__ = ["validate_command"]


def validate_command(
    paths: Sequence[str | Path], *, out: TextIO | None = None, err: TextIO | None = None
) -> int:
    """Validate monitor files (or directories of them) and report each.

    Parameters
    ----------
    paths : sequence of str or pathlib.Path
        YAML files, or directories whose ``*.yaml``/``*.yml`` files are checked.
    out, err : text streams, optional
        Where "ok" lines and problems are written (default stdout/stderr).

    Returns
    -------
    int
        The process exit code: 0 when every file is valid, 1 otherwise, 2
        when no path was given.
    """
    out = out if out is not None else sys.stdout
    err = err if err is not None else sys.stderr
    if not paths:
        err.write("drift validate: give at least one monitor file or directory\n")
        return 2
    failed = False
    for raw in paths:
        path = Path(raw)
        try:
            if path.is_dir():
                for monitor in load_monitors(path):
                    out.write(f"{path}: ok ({monitor.name})\n")
            else:
                monitor = load_monitor(path)
                out.write(f"{path}: ok ({monitor.name})\n")
        except ConfigError as exc:
            failed = True
            err.write(f"{exc}\n")
    return 1 if failed else 0
