"""Who is looking at the dashboard, which monitors they may read, which they may change.

The dashboard asks an :class:`Access` for every request: pages, API answers,
charts, counts and links show only the monitors it lets the viewer read, and
a monitor (or a run of a monitor) it hides is a 404 exactly like one that
does not exist. Actions (acknowledge, snooze, accept a baseline) need
:meth:`Access.may_edit`. Standalone the default, :class:`ReadEverything`,
reads every monitor and changes none; :class:`StandaloneToken` lets the
holder of a token act; inside Airflow, ``drift.airflow.access`` asks
Airflow's auth manager about each monitor's DAG.
"""

from __future__ import annotations

import hmac
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

from starlette.requests import Request

__all__ = ["TOKEN_COOKIE", "Access", "ReadEverything", "StandaloneToken", "Viewer"]

#: The cookie the standalone dashboard sets after its token was entered in a form.
TOKEN_COOKIE = "drift_token"


@dataclass(frozen=True, slots=True)
class Viewer:
    """The person (or script) behind a request.

    Attributes
    ----------
    name : str
        Recorded as the actor of what they do (``alice``, ``standalone:ops``).
    session : str or None
        The credential a browser sends by itself (a cookie), which a
        cross-site page could make it send: a form posted with it must carry
        the CSRF token derived from it. ``None`` when the request
        authenticated with a header (``Authorization: Bearer``), which no
        other site can make a browser add.
    """

    name: str
    session: str | None = None


class Access(Protocol):
    """What the dashboard asks about each request (see the module docstring)."""

    def viewer(self, request: Request) -> Viewer | None:
        """Who is asking, or ``None`` for an anonymous reader (who may change nothing)."""
        ...

    def readable(self, request: Request, monitors: Iterable[str]) -> set[str]:
        """Those of ``monitors`` the viewer may read."""
        ...

    def may_edit(self, request: Request, monitor: str) -> bool:
        """Whether the viewer may act on ``monitor`` (acknowledge, snooze, accept a baseline)."""
        ...


class ReadEverything:
    """Standalone default: everyone reads every monitor, nobody changes anything."""

    def viewer(self, request: Request) -> Viewer | None:
        return None

    def readable(self, request: Request, monitors: Iterable[str]) -> set[str]:
        return set(monitors)

    def may_edit(self, request: Request, monitor: str) -> bool:
        return False


class StandaloneToken:
    """Standalone with actions: everyone reads, the holder of ``token`` may act.

    The token comes as ``Authorization: Bearer <token>`` (scripts) or as the
    :data:`TOKEN_COOKIE` cookie the dashboard sets when it is entered in its
    form (browsers; such posts also need the CSRF token).

    Parameters
    ----------
    token : str
        The shared secret; at least 16 characters.
    name : str, optional
        Recorded as ``standalone:<name>`` for what the token's holder does.

    Raises
    ------
    ValueError
        If the token is shorter than 16 characters or contains whitespace.
    """

    def __init__(self, token: str, *, name: str = "token") -> None:
        if len(token) < 16 or any(c.isspace() for c in token):
            raise ValueError(
                "the dashboard token must be at least 16 characters with no whitespace"
            )
        self._token = token
        self.actor = f"standalone:{name}"

    def matches(self, candidate: str | None) -> bool:
        """Whether ``candidate`` is the token (compared in constant time)."""
        return candidate is not None and hmac.compare_digest(
            candidate.encode("utf-8", "replace"), self._token.encode()
        )

    def viewer(self, request: Request) -> Viewer | None:
        scheme, _, credential = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() == "bearer" and self.matches(credential.strip()):
            return Viewer(self.actor)
        cookie = request.cookies.get(TOKEN_COOKIE)
        if self.matches(cookie):
            return Viewer(self.actor, session=cookie)
        return None

    def readable(self, request: Request, monitors: Iterable[str]) -> set[str]:
        return set(monitors)

    def may_edit(self, request: Request, monitor: str) -> bool:
        return self.viewer(request) is not None
