"""The ``drift://`` Asset URI scheme, registered through the provider info."""

from __future__ import annotations

from urllib.parse import SplitResult

__all__ = ["normalize_drift_uri"]


def normalize_drift_uri(parts: SplitResult) -> SplitResult:
    """Keep ``drift://<monitor>`` URIs in one form: no path, no trailing slash.

    Airflow calls this for every Asset whose URI has the ``drift`` scheme,
    after its own normalisation (which turns an empty path into ``/``).

    Parameters
    ----------
    parts : urllib.parse.SplitResult
        The split URI.

    Returns
    -------
    urllib.parse.SplitResult
        The same URI with the path removed.

    Raises
    ------
    ValueError
        If the URI names no monitor or has a path: the form is
        ``drift://<monitor name>``.
    """
    if not parts.netloc or parts.path not in ("", "/") or parts.query:
        raise ValueError(f"a drift Asset URI is drift://<monitor name>, got {parts.geturl()!r}")
    return parts._replace(path="")
