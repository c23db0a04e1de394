"""The experts' web console: `/console/` pages and the htmx requests behind them.

Anonymous at the Functions level (a function key must never reach a browser): App Service
authentication signs people in, and console/auth.py decides who may do what. Pages are
server-rendered; htmx polls and posts.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from urllib.parse import parse_qs

import azure.functions as func

from shared.budget import within
from shared.entrypoints.console.auth import (
    LOGOUT_PATH,
    Refusal,
    Staff,
    login_url,
    same_site_htmx,
    staff_from,
)
from shared.entrypoints.console.pages import STATIC_TYPES, bare, html, static_file
from shared.entrypoints.endpoint import blueprint, named_after
from shared.entrypoints.http import budget_seconds
from shared.entrypoints.identity import HttpFunction
from shared.errors import (
    ConflictError,
    DeskError,
    NotFoundError,
    OverLimit,
    StaffError,
    ValidationError,
)
from shared.logsafe import describe
from shared.repositories.notes import MAX_NOTE
from shared.services.consultations.console import (
    TABS,
    ConsoleDesk,
    QueueFilter,
    TranscriptState,
)
from shared.services.consultations.experts import CloseSession, ExpertAnswer
from shared.wiring import get_desk

log = logging.getLogger("desk.console")

bp = blueprint()

ANONYMOUS = func.AuthLevel.ANONYMOUS
MAX_FORM = 64 * 1024
Page = Callable[[Staff], func.HttpResponse]


def _console() -> ConsoleDesk:
    return get_desk().console


def colleague_refusal(to: str) -> func.HttpResponse | None:
    """A hand-over names a colleague from the staff directory, never free text: 400 with the
    reason when `to` is empty or nobody the desk knows."""
    if not to.strip():
        return html("_status.html", 400, key="error_transfer_to", params={}, kind="error")
    if not get_desk().board.is_colleague(to):
        return html("_status.html", 400, key="error_transfer_unknown", params={}, kind="error")
    return None


def _number(raw: str | None) -> int | None:
    """A poll's count as it sent it back (None for none, or for anything but digits)."""
    return int(raw) if raw and raw.isdigit() and len(raw) <= 12 else None


def _is_htmx(req: func.HttpRequest) -> bool:
    return (req.headers.get("hx-request") or "").lower() == "true"


def _refused(req: func.HttpRequest, refusal: Refusal) -> func.HttpResponse:
    if refusal is Refusal.SIGN_IN:
        target = login_url(req)
        if _is_htmx(req):
            return bare(401, {"HX-Redirect": target})
        return bare(302, {"Location": target})
    if refusal is Refusal.AUTH_OFF:
        return html("refusal.html", 503, title="auth_off_title", body="auth_off_body")
    if refusal is Refusal.CROSS_SITE:
        return html("refusal.html", 403, title="cross_site_title", body="cross_site_body")
    body = "forbidden_bad_principal" if refusal is Refusal.BAD_PRINCIPAL else "forbidden_body"
    return html("refusal.html", 403, title="forbidden_title", body=body, logout=LOGOUT_PATH)


def _serve(req: func.HttpRequest, page: Page, *, change: bool = False) -> func.HttpResponse:
    """Sign-in and role first, the same-site check for state changes, then the page."""
    staff: Staff | None = None
    try:
        with within(budget_seconds()):
            found = staff_from(req, get_desk().settings)
            if isinstance(found, Refusal):
                return _refused(req, found)
            staff = found
            _present(staff)
            if change and not same_site_htmx(req):
                return _refused(req, Refusal.CROSS_SITE)
            return page(staff)
    except DeskError as exc:
        level = logging.ERROR if exc.status >= 500 else logging.INFO
        log.log(level, "console request refused status=%d %s", exc.status, describe(exc))
        return _problem(req, exc, staff)
    except Exception as exc:
        log.error("console request failed %s", describe(exc))
        return _problem(req, None, staff)


def _present(staff: Staff) -> None:
    """Presence for the supervisor's board: best effort, never in the way of the page."""
    try:
        get_desk().board.seen(staff.name, staff.is_admin)
    except DeskError as exc:
        log.info("presence not recorded %s", describe(exc))


def _problem(
    req: func.HttpRequest, exc: DeskError | None, staff: Staff | None
) -> func.HttpResponse:
    """The reason, in Japanese: a fragment for htmx, a page otherwise."""
    status = exc.status if exc is not None else 500
    params: dict[str, str] = {}
    if isinstance(exc, NotFoundError):
        key = "error_not_found"
    elif isinstance(exc, StaffError) and status < 500:
        # The staff catalogue's reason, naming the field (no user data in these messages).
        key, params = "error_invalid_reason", {"reason": str(exc)}
    elif isinstance(exc, ValidationError):
        key = "error_invalid"
    elif exc is not None and status >= 500:
        key = "error_unavailable"
    elif exc is None:
        key = "error_internal"
    else:
        key = "error_invalid"
    template = "_status.html" if _is_htmx(req) else "error.html"
    return html(template, status, key=key, params=params, kind="error", staff=staff)


OwnAction = Callable[[Staff, str, dict[str, str]], func.HttpResponse]


def own_session_action(route: str) -> Callable[[OwnAction], HttpFunction]:
    """Register a POST on one of the caller's own sessions: signed in and same-site (_serve),
    the form read, the session theirs (else 409 saying why), and a race lost meanwhile
    (ConflictError) explained the same way."""

    def decorate(act: OwnAction) -> HttpFunction:
        def function(req: func.HttpRequest) -> func.HttpResponse:
            def page(staff: Staff) -> func.HttpResponse:
                session_id = req.route_params["sessionId"]
                form = _form(req)
                refusal = _not_yours(session_id, staff)
                if refusal is not None:
                    return refusal
                try:
                    return act(staff, session_id, form)
                except ConflictError:
                    return _conflict(session_id, staff)

            return _serve(req, page, change=True)

        named_after(function, act)
        registered: HttpFunction = bp.route(route=route, methods=["POST"], auth_level=ANONYMOUS)(
            function
        )
        return registered

    return decorate


# -- pages ------------------------------------------------------------------------------------


@bp.route(route="console", methods=["GET"], auth_level=ANONYMOUS)
def console_queue(req: func.HttpRequest) -> func.HttpResponse:
    """The queue: tabs 待機中 / 自分の担当 / 対応中(全員) / 終了."""

    def page(staff: Staff) -> func.HttpResponse:
        view = _console().queue(_tab(req), staff.name, _cursor(req), _filters(req))
        return html(
            "queue.html",
            staff=staff,
            view=view,
            alert=_console().alert_minutes,
            topics=_console().topics(),
        )

    return _serve(req, page)


@bp.route(route="console/queue", methods=["GET"], auth_level=ANONYMOUS)
def console_queue_panel(req: func.HttpRequest) -> func.HttpResponse:
    """The queue's tabs and rows (what the page polls): 204 after one point read when
    nothing changed since the poll's `?since=` token."""

    def page(staff: Staff) -> func.HttpResponse:
        console = _console()
        tally = console.tally()
        if console.poll_token(tally) == req.params.get("since"):
            return bare(204)
        view = console.queue(_tab(req), staff.name, _cursor(req), _filters(req), tally)
        return html("_queue_panel.html", staff=staff, view=view)

    return _serve(req, page)


@bp.route(route="console/find", methods=["GET"], auth_level=ANONYMOUS)
def console_find(req: func.HttpRequest) -> func.HttpResponse:
    """A consultation by its 受付番号 (as the user gives it: full-width, spaced): opened."""

    def page(staff: Staff) -> func.HttpResponse:
        session = _console().find(req.params.get("ref") or "")
        return bare(302, {"Location": f"/console/sessions/{session.session_id}"})

    return _serve(req, page)


@bp.route(route="console/counts", methods=["GET"], auth_level=ANONYMOUS)
def console_counts(req: func.HttpRequest) -> func.HttpResponse:
    """Waiting and crisis/要注意 counts: every page polls them (tab title, sound, notification);
    204 after one point read when nothing changed since `?since=`."""

    def page(staff: Staff) -> func.HttpResponse:
        console = _console()
        tally = console.tally()
        token = console.poll_token(tally)
        if token == req.params.get("since"):
            return bare(204)
        counts = console.counts(tally)
        marked = counts.get("waiting_marked", 0) + counts.get("active_marked", 0)
        waiting = counts.get("waiting", 0)
        return html("_counts.html", staff=staff, waiting=waiting, marked=marked, token=token)

    return _serve(req, page)


@bp.route(route="console/sessions/{sessionId}", methods=["GET"], auth_level=ANONYMOUS)
def console_conversation(req: func.HttpRequest) -> func.HttpResponse:
    """One consultation: transcript, reply box, closing (an audited read)."""

    def page(staff: Staff) -> func.HttpResponse:
        console = _console()
        view = console.conversation(req.route_params["sessionId"], staff.name)
        return html(
            "conversation.html",
            staff=staff,
            view=view,
            canned=console.canned_replies(view.topic_id, staff.name),
            colleagues=get_desk().board.colleagues(staff.name) if view.mine else (),
            outcomes=console.outcomes(),
            referrals=console.referrals(),
        )

    return _serve(req, page)


@bp.route(route="console/sessions/{sessionId}/transcript", methods=["GET"], auth_level=ANONYMOUS)
def console_transcript(req: func.HttpRequest) -> func.HttpResponse:
    """The transcript if it changed since the poll's state (`v` its fingerprint, `t` the
    session's change count, `n` its lines): 204 otherwise, only the new lines when the shown
    ones are unchanged; a new owner or state reloads the page."""

    def page(staff: Staff) -> func.HttpResponse:
        view = _console().changed(
            req.route_params["sessionId"],
            staff.name,
            req.params.get("v", ""),
            change=_number(req.params.get("t")),
            shown=_number(req.params.get("n")) or 0,
        )
        if view is None:
            return bare(204)
        if isinstance(view, TranscriptState):  # nothing new to show: what to send back
            return html("_transcript_state.html", headers={"HX-Reswap": "none"}, state=view)
        if f"{view.status}:{view.assigned_to}" != req.params.get("s", ""):
            return bare(200, {"HX-Refresh": "true"})
        if view.first_new:
            return html("_transcript_more.html", headers={"HX-Reswap": "none"}, view=view)
        return html("_transcript.html", staff=staff, view=view)

    return _serve(req, page)


# -- actions ----------------------------------------------------------------------------------


@bp.route(route="console/sessions/{sessionId}/claim", methods=["POST"], auth_level=ANONYMOUS)
def console_claim(req: func.HttpRequest) -> func.HttpResponse:
    """「担当する」: the session becomes the caller's; a lost race says who has it."""

    def page(staff: Staff) -> func.HttpResponse:
        session_id = req.route_params["sessionId"]
        try:
            # A Desk.Admin takes over someone else's session (the service audits it).
            _console().experts.claim(session_id, staff.name, admin=staff.is_admin)
        except OverLimit as over:
            params = {"held": str(over.held), "limit": str(over.limit)}
            return html("_status.html", 409, key="claim_over_limit", params=params, kind="error")
        except ConflictError:
            return _conflict(session_id, staff)
        return bare(204, {"HX-Redirect": f"/console/sessions/{session_id}"})

    return _serve(req, page, change=True)


@own_session_action("console/sessions/{sessionId}/messages")
def console_send(staff: Staff, session_id: str, form: dict[str, str]) -> func.HttpResponse:
    """「送信」: push the answer, only in the caller's own session."""
    text = form.get("text", "").replace("\r\n", "\n")
    if not text.strip():
        return html("_status.html", 400, key="error_text_empty", params={}, kind="error")
    answer = ExpertAnswer(text, form.get("clientMessageId") or None)
    sent = _console().experts.send(session_id, staff.name, answer)
    return html(
        "_status.html",
        201 if sent.accepted else 202,
        {"HX-Trigger": "desk-sent"},
        key="sent" if sent.accepted else "sent_failed",
        params={},
        kind="ok" if sent.accepted else "error",
    )


@own_session_action("console/sessions/{sessionId}/close")
def console_close(staff: Staff, session_id: str, form: dict[str, str]) -> func.HttpResponse:
    """「終了する」 with an outcome and an optional referral; the user is told."""
    if not form.get("outcome"):
        return html("_status.html", 400, key="error_outcome", params={}, kind="error")
    command = CloseSession(form["outcome"], form.get("referral") or None)
    _console().experts.close(session_id, staff.name, command)
    return bare(204, {"HX-Redirect": f"/console/sessions/{session_id}"})


@own_session_action("console/sessions/{sessionId}/release")
def console_release(staff: Staff, session_id: str, form: dict[str, str]) -> func.HttpResponse:
    """「一覧に戻す」: back to the queue, with a note for the next expert (the holder only)."""
    _console().experts.release(session_id, staff.name, form.get("note") or None)
    return bare(204, {"HX-Redirect": "/console/"})


@own_session_action("console/sessions/{sessionId}/transfer")
def console_transfer(staff: Staff, session_id: str, form: dict[str, str]) -> func.HttpResponse:
    """「引き継ぐ」: hand the session to a named colleague, with a note (the holder only)."""
    refusal = colleague_refusal(form.get("to", ""))
    if refusal is not None:
        return refusal
    to = get_desk().board.colleague(form["to"]) or form["to"]  # the person, not a namesake
    _console().experts.transfer(session_id, staff.name, to, form.get("note") or None)
    return bare(204, {"HX-Redirect": f"/console/sessions/{session_id}"})


@bp.route(route="console/sessions/{sessionId}/typing", methods=["POST"], auth_level=ANONYMOUS)
def console_typing(req: func.HttpRequest) -> func.HttpResponse:
    """The typing signal: LINE's loading animation for the user (at most once per 20 s)."""

    def page(staff: Staff) -> func.HttpResponse:
        session_id = req.route_params["sessionId"]
        refusal = _not_yours(session_id, staff)
        if refusal is not None:
            return refusal
        shown = _console().typing(session_id, staff.name)
        return bare(204, {"X-Desk-Typing": "shown" if shown else "skipped"})

    return _serve(req, page, change=True)


# -- notes and presence -----------------------------------------------------------------------


@bp.route(route="console/sessions/{sessionId}/notes", methods=["POST"], auth_level=ANONYMOUS)
def console_add_note(req: func.HttpRequest) -> func.HttpResponse:
    """A private note on the session (`text`): staff only, never sent to LINE; any staff
    member who can open the conversation may write one (audited without its text)."""

    def page(staff: Staff) -> func.HttpResponse:
        session_id = req.route_params["sessionId"]
        form = _form(req)
        if "text" not in form:
            raise ValidationError("text", "note_text", max=MAX_NOTE)
        try:
            notes = _console().add_note(session_id, staff.name, form["text"])
        except ValidationError:
            return _note_refused(400, "error_note_text")
        except ConflictError:
            return _note_refused(409, "error_note_erased")
        return html(
            "_notes.html",
            session_id=session_id,
            notes=notes,
            erased=False,
            saved=True,
        )

    return _serve(req, page, change=True)


@bp.route(route="console/sessions/{sessionId}/user-note", methods=["POST"], auth_level=ANONYMOUS)
def console_user_note(req: func.HttpRequest) -> func.HttpResponse:
    """The note about the session's user that their later sessions show (`text`, empty
    clears it; `version`: the version the page showed). A colleague's save in between is a
    409 that shows their text (audited without its text)."""

    def page(staff: Staff) -> func.HttpResponse:
        session_id = req.route_params["sessionId"]
        form = _form(req)
        if "text" not in form or "version" not in form:
            raise ValidationError(
                "text" if "text" not in form else "version", "note_text", max=MAX_NOTE
            )
        console = _console()
        try:
            note = console.save_user_note(session_id, staff.name, form["text"], form["version"])
        except ValidationError:
            return _note_refused(400, "error_note_text")
        except ConflictError:
            current = console.user_note(session_id)
            return html(
                "_user_note.html",
                409,
                session_id=session_id,
                note=current,
                status_key="user_note_changed",
                status_kind="error",
            )
        return html(
            "_user_note.html",
            session_id=session_id,
            note=note,
            status_key="user_note_saved",
            status_kind="ok",
        )

    return _serve(req, page, change=True)


@bp.route(route="console/sessions/{sessionId}/presence", methods=["POST"], auth_level=ANONYMOUS)
def console_presence(req: func.HttpRequest) -> func.HttpResponse:
    """The conversation page's heartbeat: the caller has it open; answers who else has."""

    def page(staff: Staff) -> func.HttpResponse:
        session_id = req.route_params["sessionId"]
        viewers = _console().beat(session_id, staff.name)
        return html("_presence.html", session_id=session_id, viewers=viewers)

    return _serve(req, page, change=True)


@bp.route(route="console/static/{name}", methods=["GET"], auth_level=ANONYMOUS)
def console_static(req: func.HttpRequest) -> func.HttpResponse:
    """htmx, the console's CSS and JS: served by the app itself (no third-party origin).

    Public files with no data in them: served without a principal, so that the sign-in
    refusal pages are styled too.
    """
    name = req.route_params.get("name", "")
    if name not in STATIC_TYPES:
        return bare(404)
    return func.HttpResponse(
        static_file(name),
        status_code=200,
        headers={"Cache-Control": "public, max-age=86400", "X-Content-Type-Options": "nosniff"},
        mimetype=STATIC_TYPES[name],
        charset="utf-8",
    )


# -- helpers ----------------------------------------------------------------------------------


def _tab(req: func.HttpRequest) -> str:
    tab = req.params.get("tab") or "waiting"
    if tab not in TABS:
        raise ValidationError("tab", "one_of", choices=", ".join(TABS))
    return tab


def _cursor(req: func.HttpRequest) -> str | None:
    return req.params.get("cursor") or None


def _filters(req: func.HttpRequest) -> QueueFilter:
    """The queue's filters from the query: a known topic id, and 1 for each switch."""
    topic = req.params.get("topic") or None
    known = {topic_id for topic_id, _ in _console().topics()}
    if topic is not None and topic not in known:
        raise ValidationError("topic", "one_of", choices=", ".join(sorted(known)))
    switches: dict[str, bool] = {}
    for name in ("marked", "overdue", "unread"):
        value = req.params.get(name) or ""
        if value not in ("", "1"):
            raise ValidationError(name, "one_of", choices="1")
        switches[name] = value == "1"
    return QueueFilter(topic=topic, **switches)


def _form(req: func.HttpRequest) -> dict[str, str]:
    body = req.get_body()
    if len(body) > MAX_FORM:
        raise ValidationError(None, "form_too_large")
    try:
        parsed = parse_qs(body.decode("utf-8"), keep_blank_values=True, errors="strict")
    except UnicodeDecodeError:
        raise ValidationError(None, "form_utf8") from None
    return {k: v[0] for k, v in parsed.items()}


def _note_refused(status: int, key: str) -> func.HttpResponse:
    return html("_status.html", status, key=key, params={"max": str(MAX_NOTE)}, kind="error")


def _state_reason(session_id: str, staff: Staff) -> tuple[str, dict[str, str]] | None:
    """Why the caller may not act on the session (a catalogue key), or None if it is theirs."""
    session = _console().session(session_id)
    if not session.is_open:
        return "error_closed", {}
    if session.assigned_to is None:
        return "not_claimed", {}
    if not session.held_by(staff.name):
        return "not_yours", {"who": session.assigned_to}
    return None


def _not_yours(session_id: str, staff: Staff) -> func.HttpResponse | None:
    reason = _state_reason(session_id, staff)
    if reason is None:
        return None
    key, params = reason
    return html("_status.html", 409, key=key, params=params, kind="error")


def _conflict(session_id: str, staff: Staff) -> func.HttpResponse:
    reason = _state_reason(session_id, staff)
    if reason is None:
        key, params = "error_blocked", {}
    elif reason[0] == "not_yours":
        key, params = "claim_lost", reason[1]
    else:
        key, params = reason
    return html("_status.html", 409, key=key, params=params, kind="error")
