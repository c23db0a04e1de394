"""The supervisor's board (`/console/board`, Desk.Admin only) and what feeds it from the
experts' console: the 受付可/受付停止 toggle, 要注意 flags and 「SVに相談」.

Same sign-in and safety rules as the rest of the console (routes._serve): a principal with a
desk role, same-site htmx POSTs for every change; the board's own routes add Desk.Admin.
"""

from __future__ import annotations

from collections.abc import Callable

import azure.functions as func

from shared.domain.sessions import Session
from shared.entrypoints.console.auth import Refusal, Staff
from shared.entrypoints.console.pages import bare, html
from shared.entrypoints.console.routes import (
    ANONYMOUS,
    _form,
    _refused,
    _serve,
    colleague_refusal,
)
from shared.entrypoints.endpoint import blueprint
from shared.errors import ConflictError, ValidationError
from shared.services.consultations.board import SupervisorBoard
from shared.wiring import get_desk

bp = blueprint()


def _board() -> SupervisorBoard:
    return get_desk().board


def _admin_only(
    req: func.HttpRequest, page: Callable[[Staff], func.HttpResponse]
) -> Callable[[Staff], func.HttpResponse]:
    """The page for a Desk.Admin; an expert gets the 403 page."""

    def guarded(staff: Staff) -> func.HttpResponse:
        if not staff.is_admin:
            return _refused(req, Refusal.ROLE)
        return page(staff)

    return guarded


# -- the board ---------------------------------------------------------------------------------


@bp.route(route="console/board", methods=["GET"], auth_level=ANONYMOUS)
def console_board(req: func.HttpRequest) -> func.HttpResponse:
    """The supervisor's board: staff, escalations, open sessions (urgent first)."""

    def page(staff: Staff) -> func.HttpResponse:
        token = get_desk().console.poll_token()
        return html("board.html", staff=staff, board=_board().view(), token=token)

    return _serve(req, _admin_only(req, page))


@bp.route(route="console/board/panel", methods=["GET"], auth_level=ANONYMOUS)
def console_board_panel(req: func.HttpRequest) -> func.HttpResponse:
    """The board's contents (what the page polls every 5 s): 204 after one point read when
    nothing changed since `?since=`."""

    def page(staff: Staff) -> func.HttpResponse:
        console = get_desk().console
        tally = console.tally()  # before the view: a change after it shows at the next poll
        token = console.poll_token(tally)
        if token == req.params.get("since"):
            return bare(204)
        return html("_board_panel.html", staff=staff, board=_board().view(), token=token)

    return _serve(req, _admin_only(req, page))


# -- availability (each expert's own) -----------------------------------------------------------


@bp.route(route="console/availability", methods=["GET", "POST"], auth_level=ANONYMOUS)
def console_availability(req: func.HttpRequest) -> func.HttpResponse:
    """受付可/受付停止: GET shows the toggle, POST `accepting=1|0` sets it."""
    change = req.method.upper() == "POST"

    def page(staff: Staff) -> func.HttpResponse:
        board = _board()
        if change:
            value = _form(req).get("accepting")
            if value not in ("0", "1"):
                raise ValidationError("accepting", "one_of", choices="1, 0")
            board.set_accepting(staff.name, staff.is_admin, value == "1")
        return html("_availability.html", staff=staff, accepting=board.accepting(staff.name))

    return _serve(req, page, change=change)


# -- 要注意 and 「SVに相談」 on a session ------------------------------------------------------


def _flag_panel(
    staff: Staff, session_id: str, status: int = 200, session: Session | None = None
) -> func.HttpResponse:
    session = session or get_desk().console.session(session_id)
    return html(
        "_flag_panel.html",
        status,
        staff=staff,
        session=session,
        flag=_board().flag_of(session_id),
        max_open=_board().max_open,
        colleagues=_board().colleagues("") if staff.is_admin else (),
    )


def _flag_action(
    req: func.HttpRequest, act: Callable[[Staff, str, dict[str, str]], None], *, admin: bool
) -> func.HttpResponse:
    def page(staff: Staff) -> func.HttpResponse:
        session_id = req.route_params["sessionId"]
        form = _form(req)
        try:
            act(staff, session_id, form)
        except ConflictError:
            return html("_status.html", 409, key="error_closed", params={}, kind="error")
        return _flag_panel(staff, session_id)

    return _serve(req, _admin_only(req, page) if admin else page, change=True)


@bp.route(route="console/sessions/{sessionId}/attention", methods=["GET"], auth_level=ANONYMOUS)
def console_attention(req: func.HttpRequest) -> func.HttpResponse:
    """The 要注意 / 「SVに相談」 panel of a conversation (and a supervisor's actions): what
    staff wrote about the user, so an audited read."""

    def page(staff: Staff) -> func.HttpResponse:
        session_id = req.route_params["sessionId"]
        session = get_desk().console.session(session_id)
        get_desk().auditor.record(
            staff.name, "session.attention", session.user_id, session=session_id
        )
        return _flag_panel(staff, session_id, session=session)

    return _serve(req, page)


@bp.route(route="console/sessions/{sessionId}/flag", methods=["POST"], auth_level=ANONYMOUS)
def console_flag(req: func.HttpRequest) -> func.HttpResponse:
    """要注意 with a reason (any staff member, open sessions)."""

    def act(staff: Staff, session_id: str, form: dict[str, str]) -> None:
        session = get_desk().console.session(session_id)
        if form.get("urgent") == "0":
            _board().unflag(session, staff.name)
        else:
            _board().flag(session, staff.name, form.get("reason"))

    return _flag_action(req, act, admin=False)


@bp.route(route="console/sessions/{sessionId}/escalate", methods=["POST"], auth_level=ANONYMOUS)
def console_escalate(req: func.HttpRequest) -> func.HttpResponse:
    """「SVに相談」: onto the supervisor's board, with an optional note."""

    def act(staff: Staff, session_id: str, form: dict[str, str]) -> None:
        session = get_desk().console.session(session_id)
        _board().escalate(session, staff.name, form.get("note"))

    return _flag_action(req, act, admin=False)


# -- a supervisor's actions -----------------------------------------------------------------------


@bp.route(
    route="console/board/sessions/{sessionId}/resolve", methods=["POST"], auth_level=ANONYMOUS
)
def console_resolve(req: func.HttpRequest) -> func.HttpResponse:
    """The supervisor has answered the escalation (Desk.Admin)."""

    def act(staff: Staff, session_id: str, form: dict[str, str]) -> None:
        _board().resolve(get_desk().console.session(session_id), staff.name)

    return _flag_action(req, act, admin=True)


@bp.route(
    route="console/board/sessions/{sessionId}/reassign", methods=["POST"], auth_level=ANONYMOUS
)
def console_reassign(req: func.HttpRequest) -> func.HttpResponse:
    """A supervisor hands any session to a named expert, with a note (an audited takeover)."""

    def page(staff: Staff) -> func.HttpResponse:
        session_id = req.route_params["sessionId"]
        form = _form(req)
        refusal = colleague_refusal(form.get("to", ""))
        if refusal is not None:
            return refusal
        try:
            get_desk().experts.transfer(
                session_id, staff.name, form["to"], form.get("note") or None, admin=True
            )
        except ConflictError:
            return html("_status.html", 409, key="error_closed", params={}, kind="error")
        return bare(204, {"HX-Refresh": "true"})

    return _serve(req, _admin_only(req, page), change=True)


@bp.route(
    route="console/board/sessions/{sessionId}/release", methods=["POST"], auth_level=ANONYMOUS
)
def console_sv_release(req: func.HttpRequest) -> func.HttpResponse:
    """A supervisor puts any claimed session back in the queue, with a note (audited)."""

    def page(staff: Staff) -> func.HttpResponse:
        session_id = req.route_params["sessionId"]
        form = _form(req)
        try:
            get_desk().experts.release(session_id, staff.name, form.get("note") or None, admin=True)
        except ConflictError:
            return html("_status.html", 409, key="sv_release_refused", params={}, kind="error")
        return bare(204, {"HX-Refresh": "true"})

    return _serve(req, _admin_only(req, page), change=True)
