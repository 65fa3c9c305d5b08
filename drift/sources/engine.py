"""Opening the source database named by a monitor's ``source:``."""

from __future__ import annotations

import os
from collections.abc import Callable

import sqlalchemy as sa

from drift.config import SourceConfig
from drift.errors import SourceError

#: Builds the engine of a source (the Airflow layer resolves ``conn_id`` here).
EngineFactory = Callable[[SourceConfig], sa.Engine]


def open_source(
    source_cfg: SourceConfig, *, engine_factory: EngineFactory | None = None
) -> sa.Engine:
    """Create the SQLAlchemy engine for a monitor's source.

    Parameters
    ----------
    source_cfg : SourceConfig
        ``url`` (used as is), ``url_env`` (the URL is read from that
        environment variable) or ``conn_id`` (an Airflow connection).
    engine_factory : callable, optional
        Builds the engine instead; required for ``conn_id``, whose lookup
        belongs to the Airflow layer.

    Returns
    -------
    sqlalchemy.Engine

    Raises
    ------
    drift.errors.SourceError
        If the environment variable is unset, the URL is invalid, or a
        ``conn_id`` is given without an ``engine_factory``.
    """
    if engine_factory is not None:
        return engine_factory(source_cfg)
    if source_cfg.conn_id is not None:
        raise SourceError(
            f"source conn_id {source_cfg.conn_id!r} is an Airflow connection; it can only be "
            "opened inside Airflow (or pass engine_factory=)"
        )
    if source_cfg.url_env is not None:
        url = os.environ.get(source_cfg.url_env)
        if not url:
            raise SourceError(
                f"environment variable {source_cfg.url_env} (source.url_env) is not set; "
                "set it to a SQLAlchemy URL such as postgresql+psycopg://user:pw@host/db"
            )
        where = f"environment variable {source_cfg.url_env}"
    else:
        assert source_cfg.url is not None
        url, where = source_cfg.url, "source.url"
    try:
        return sa.create_engine(url)
    except (sa.exc.ArgumentError, sa.exc.NoSuchModuleError, ValueError) as exc:
        # ValueError: e.g. a port that is not a number. The URL itself is never
        # repeated: it may hold a password.
        raise SourceError(f"{where} is not a usable SQLAlchemy URL: {exc}") from None
