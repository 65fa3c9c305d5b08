"""The on-call forms: a confirm page naming what will change, its post, and the token form.

``GET /monitors/{name}/confirm/{kind}`` (``kind`` one of
:data:`~drift.dashboard.oncall.KINDS`) shows the change in words, a note
field, the kind's own fields and a hidden CSRF token; posting it to the same
address acts through the store API and redirects to the monitor's history.
``/sign-in`` takes a :class:`~drift.dashboard.access.StandaloneToken`'s token
and keeps it in an HttpOnly, SameSite=Strict cookie.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from drift.dashboard import data
from drift.dashboard.access import TOKEN_COOKIE, StandaloneToken, Viewer
from drift.dashboard.api import MonitorName, Store, get_access
from drift.dashboard.oncall import (
    Editor,
    acknowledged_with,
    check_csrf,
    check_origin,
    csrf_token,
    default_range,
    describe_accept,
    describe_acknowledge,
    describe_snooze,
    find_alert,
    parse_time,
    resolved_by,
    snooze_end,
)
from drift.dashboard.pages import link, templates
from drift.errors import ActionError
from drift.store import ResultsStore

__all__ = ["router"]

router = APIRouter(include_in_schema=False)
Kind = Literal["acknowledge", "snooze", "accept-baseline"]
#: The snooze durations offered beside the duration field.
DURATIONS = ("1h", "4h", "1d", "3d", "7d")
_LOCAL = "%Y-%m-%dT%H:%M:%S"  # what <input type="datetime-local" step="1"> shows


def _now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def _blank(value: str | None) -> str | None:
    return None if value is None or not value.strip() else value.strip()


def _alert_id(text: str | None) -> int | None:
    if _blank(text) is None:
        return None
    assert text is not None
    try:
        return int(text.strip())
    except ValueError:
        raise ActionError(f"alert_id {text!r} is not an alert id (a whole number)") from None


def _confirm(
    request: Request,
    store: ResultsStore,
    name: str,
    kind: str,
    viewer: Viewer,
    fields: dict[str, str | None],
    error: str | None = None,
) -> HTMLResponse:
    """The confirm page of ``kind`` on ``name`` for ``fields`` (re-shown with ``error``)."""
    now = _now()
    try:
        alert_id = _alert_id(fields.get("alert_id"))
    except ActionError:  # a re-shown form (with that error) names no alert
        alert_id = None
    alert = find_alert(store, name, alert_id) if alert_id is not None else None
    feature = alert.feature if alert is not None else _blank(fields.get("feature"))
    form: dict[str, Any] = {"note": fields.get("note") or "", "feature": feature or "",
                            "alert_id": "" if alert is None else str(alert.id)}  # fmt: skip
    if kind == "acknowledge":
        if alert is None and error is None:
            raise ActionError(f"acknowledge which alert? give alert_id, of an alert of {name!r}")
        summary = f"Acknowledge an alert of {name}"
        if alert is not None:
            run = store.run(alert.opened_run_id) if alert.opened_run_id is not None else None
            summary = describe_acknowledge(
                alert, run.window_start if run else None, acknowledged_with(store, alert)
            )
    elif kind == "snooze":
        duration = _blank(fields.get("duration")) or "1d"
        form["duration"] = duration
        try:
            until = snooze_end(duration, None, now)
        except ActionError:
            until = now
        summary = describe_snooze(name, feature, until)
    else:
        resolves = [alert] if alert is not None else resolved_by(store, name, feature)
        lo, hi = default_range(store, name, resolves, now)
        try:
            lo = parse_time(fields["start"] or "", "start") if _blank(fields.get("start")) else lo
            hi = parse_time(fields["end"] or "", "end") if _blank(fields.get("end")) else hi
        except ActionError:
            pass
        form["start"], form["end"] = lo.strftime(_LOCAL), hi.strftime(_LOCAL)
        summary = describe_accept(name, feature, lo, hi, resolved_by(store, name, feature))
    token = None
    if viewer.session is not None:
        token = csrf_token(request.app.state.secret, viewer.session, name, kind)
    context = {
        "name": name, "kind": kind, "summary": summary, "form": form, "token": token,
        "error": error, "actor": viewer.name, "durations": DURATIONS, "payload": {},
        "cancel": link(request, "page_monitor", name=name),
        "title": {"acknowledge": "Acknowledge", "snooze": "Snooze",
                  "accept-baseline": "Accept a new baseline"}[kind],
    }  # fmt: skip
    return templates.TemplateResponse(
        request, "confirm.html", context, status_code=422 if error else 200
    )


@router.get("/monitors/{name}/confirm/{kind}", response_class=HTMLResponse, name="page_confirm")
def confirm_page(
    request: Request,
    store: Store,
    viewer: Editor,
    name: MonitorName,
    kind: Kind,
    alert_id: Annotated[int | None, Query(ge=0, lt=2**53)] = None,
    feature: Annotated[str | None, Query(max_length=200)] = None,
    duration: Annotated[str | None, Query(max_length=20)] = None,
) -> HTMLResponse:
    """A form naming what ``kind`` will change on ``name``, to confirm (or cancel)."""
    given = {"alert_id": None if alert_id is None else str(alert_id), "feature": feature,
             "duration": duration}  # fmt: skip
    return _confirm(request, store, name, kind, viewer, given)


def _act(store: ResultsStore, name: str, kind: str, actor: str, f: dict[str, str | None]) -> None:
    note = f.get("note") or ""
    feature = _blank(f.get("feature"))
    if kind == "acknowledge":
        alert_id = _alert_id(f.get("alert_id"))
        if alert_id is None:
            raise ActionError("alert_id is empty: say which alert to acknowledge")
        store.acknowledge(find_alert(store, name, alert_id).id, actor=actor, note=note)
    elif kind == "snooze":
        until = snooze_end(_blank(f.get("duration")), None, _now())
        store.snooze(name, feature=feature, until=until, actor=actor, note=note)
    else:
        start = parse_time(f.get("start") or "", "start")
        end = parse_time(f.get("end") or "", "end")
        store.accept_baseline(name, feature=feature, start=start, end=end, actor=actor, note=note)


@router.post("/monitors/{name}/confirm/{kind}", name="post_confirm")
def confirm_post(
    request: Request,
    store: Store,
    viewer: Editor,
    name: MonitorName,
    kind: Kind,
    token: Annotated[str | None, Form(max_length=200)] = None,
    note: Annotated[str | None, Form(max_length=10_000)] = None,
    alert_id: Annotated[str | None, Form(max_length=30)] = None,
    feature: Annotated[str | None, Form(max_length=200)] = None,
    duration: Annotated[str | None, Form(max_length=20)] = None,
    start: Annotated[str | None, Form(max_length=40)] = None,
    end: Annotated[str | None, Form(max_length=40)] = None,
) -> Response:
    """Act as the confirm form says; back to the monitor's history, or the form with the error."""
    check_csrf(request, viewer, name, kind, token)
    fields = {"note": note, "alert_id": alert_id, "feature": feature, "duration": duration,
              "start": start, "end": end}  # fmt: skip
    try:
        _act(store, name, kind, viewer.name, fields)
    except ActionError as exc:
        return _confirm(request, store, name, kind, viewer, fields, error=str(exc))
    return RedirectResponse(link(request, "page_monitor", name=name) + "#history", status_code=303)


def _token_access(request: Request) -> StandaloneToken:
    access = get_access(request)
    if not isinstance(access, StandaloneToken):
        raise data.NotFoundError(
            "this dashboard has no token to enter (actions are off, or sign-in is Airflow's)"
        )
    return access


def _next(request: Request, given: str | None) -> str:
    """Where to go after signing in: a path of this app, never another site."""
    root = str(request.scope.get("root_path", "")).rstrip("/") + "/"
    ok = given and given.startswith(root) and not given.startswith("//") and "\\" not in given
    return given if ok and given else link(request, "page_overview")


def _sign_in_form(request: Request, given: str | None, error: str | None = None) -> HTMLResponse:
    context: dict[str, Any] = {"next": _next(request, given), "error": error, "payload": {}}
    return templates.TemplateResponse(
        request, "sign_in.html", context, status_code=403 if error else 200
    )


@router.get("/sign-in", response_class=HTMLResponse, name="sign_in")
def sign_in_page(
    request: Request, next: Annotated[str | None, Query(max_length=2000)] = None
) -> HTMLResponse:
    """The form for the standalone dashboard's token (404 unless it has one)."""
    _token_access(request)
    return _sign_in_form(request, next)


@router.post("/sign-in", name="post_sign_in")
def sign_in_post(
    request: Request,
    token: Annotated[str, Form(max_length=1000)] = "",
    next: Annotated[str | None, Form(max_length=2000)] = None,
) -> Response:
    """Keep the token in a cookie when it is the right one; the form with an error if not."""
    access = _token_access(request)
    check_origin(request)
    if not access.matches(token.strip()):
        return _sign_in_form(request, next, "wrong token: nothing was changed, try again")
    answer = RedirectResponse(_next(request, next), status_code=303)
    answer.set_cookie(
        TOKEN_COOKIE, token.strip(), httponly=True, samesite="strict",
        path=str(request.scope.get("root_path", "")).rstrip("/") + "/",
        secure=request.url.scheme == "https",
    )  # fmt: skip
    return answer
