"""The JSON API's on-call actions: acknowledge, snooze, accept a baseline, and their history.

Each post needs the right to edit the monitor (403 otherwise; 404 when it
may not even be read). A browser session (a cookie) must send the CSRF
token of the monitor and action in the ``X-CSRF-Token`` header (the monitor
page has it in its page data); a script authenticated by a header needs
none. A refused action is a 422 whose ``detail`` names what is wrong.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Path, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from drift.dashboard.api import MonitorName, Store
from drift.dashboard.oncall import (
    Editor,
    action_out,
    check_csrf,
    find_alert,
    snooze_end,
    stored_monitor,
)
from drift.dashboard.schemas import ActionOut

__all__ = ["AcknowledgeIn", "BaselineIn", "SnoozeIn", "router"]

router = APIRouter(prefix="/api", tags=["actions"])
CsrfHeader = Annotated[
    str | None,
    Header(alias="X-CSRF-Token", max_length=200,
           description="Needed when the session is a cookie (see the monitor page's data)"),
]  # fmt: skip
AlertId = Annotated[int, Path(ge=0, lt=2**53, description="Alert id")]
Note = Annotated[str, Field(max_length=10_000, description="Why, in your words (required)")]
Feature = Annotated[
    str | None, Field(default=None, max_length=200, description="One feature; omit for all")
]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AcknowledgeIn(_In):
    """Acknowledge an open alert: it stays open, marked with who, when and why."""

    note: Note


class SnoozeIn(_In):
    """Silence a monitor's (or one feature's) notifications for a duration or until a time."""

    feature: Feature = None
    duration: str | None = Field(default=None, max_length=20, description="Such as 4h, 1d, 2w")
    until: datetime | None = Field(default=None, description="End (UTC unless a zone is given)")
    note: Note


class BaselineIn(_In):
    """Accept ``[start, end)`` as the new reference; resolves the open alerts it explains."""

    feature: Feature = None
    start: datetime
    end: datetime
    note: Note


@router.post("/monitors/{name}/alerts/{alert_id}/acknowledge", status_code=201)
def acknowledge(
    request: Request,
    store: Store,
    viewer: Editor,
    name: MonitorName,
    alert_id: AlertId,
    body: AcknowledgeIn,
    csrf: CsrfHeader = None,
) -> ActionOut:
    """Acknowledge alert ``alert_id`` of monitor ``name`` (404 if it is another monitor's)."""
    check_csrf(request, viewer, name, "acknowledge", csrf)
    alert = find_alert(store, name, alert_id)
    return action_out(store.acknowledge(alert.id, actor=viewer.name, note=body.note))


@router.post("/monitors/{name}/snooze", status_code=201)
def snooze(
    request: Request, store: Store, viewer: Editor, name: MonitorName, body: SnoozeIn,
    csrf: CsrfHeader = None,
) -> ActionOut:  # fmt: skip
    """Snooze the notifications of ``name`` (or of ``feature``): give ``duration`` or ``until``."""
    check_csrf(request, viewer, name, "snooze", csrf)
    until = snooze_end(body.duration, body.until, datetime.now(UTC))
    row = store.snooze(name, feature=body.feature, until=until, actor=viewer.name, note=body.note)
    return action_out(row)


@router.post("/monitors/{name}/baseline", status_code=201)
def accept_baseline(
    request: Request, store: Store, viewer: Editor, name: MonitorName, body: BaselineIn,
    csrf: CsrfHeader = None,
) -> ActionOut:  # fmt: skip
    """Accept ``[start, end)`` as the new baseline of ``name`` (or of ``feature``)."""
    check_csrf(request, viewer, name, "accept-baseline", csrf)
    row = store.accept_baseline(
        name, feature=body.feature, start=body.start, end=body.end,
        actor=viewer.name, note=body.note,
    )  # fmt: skip
    return action_out(row)


@router.get("/monitors/{name}/actions")
def list_actions(
    store: Store,
    name: Annotated[str, Depends(stored_monitor)],
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[ActionOut]:
    """The latest acknowledgements, snoozes and accepted baselines of ``name``, newest first."""
    return [action_out(row) for row in store.actions(name, limit=limit)]
