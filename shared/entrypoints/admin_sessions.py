"""The experts' admin API (function-level key): the queue, a session, claim, answer, close,
release and transfer. A Desk.Admin principal may take over another expert's session."""

from __future__ import annotations

from shared.entrypoints.endpoint import Body, Call, blueprint, endpoint
from shared.entrypoints.http import page_size
from shared.entrypoints.identity import EXPERT
from shared.entrypoints.views import sessions as views
from shared.wiring import get_desk

bp = blueprint()
SESSION = "api/admin/sessions/{sessionId}"


@endpoint(bp, "GET", "api/admin/sessions", role=EXPERT)
def admin_list_sessions(call: Call) -> object:
    """The queue: `?status=waiting|active|closed&limit=&cursor=`, oldest first, no text."""
    params = call.params
    limit = page_size(params.get("limit"))  # named first, as before the views
    status = views.session_status(params.get("status"))
    page = get_desk().experts.queue(status, params.get("cursor"), limit)
    return views.queue_json(page)


@endpoint(bp, "GET", SESSION, role=EXPERT)
def admin_get_session(call: Call) -> object:
    """A session and its messages in order (audited read). The user appears under the desk's
    pseudonym; a Desk.Admin also gets the raw LINE user id, and that read is audited too."""
    desk = get_desk()
    detail = desk.experts.detail(call.route["sessionId"], call.who)
    if call.admin:
        session = detail.summary.session
        desk.auditor.record(call.who, "user.id_read", session.user_id, session=session.session_id)
    return views.detail_json(detail, desk.settings.hash_key, with_user_id=call.admin)


@endpoint(bp, "POST", SESSION + "/claim", role=EXPERT, body=Body.OPTIONAL)
def admin_claim_session(call: Call) -> object:
    """Assign the session to the calling expert (409 if someone else has it)."""
    claimed = get_desk().experts.claim(call.route["sessionId"], call.operator, admin=call.admin)
    return views.summary_json(claimed)


@endpoint(bp, "POST", SESSION + "/messages", role=EXPERT, body=Body.REQUIRED, status=201)
def admin_send_message(call: Call) -> object:
    """Push an expert's answer (`{"text": ...}`) and say whether LINE accepted it."""
    session_id, operator = call.route["sessionId"], call.operator
    answer = views.answer_command(call.body)
    return views.sent_json(get_desk().experts.send(session_id, operator, answer, admin=call.admin))


@endpoint(bp, "POST", SESSION + "/close", role=EXPERT, body=Body.REQUIRED)
def admin_close_session(call: Call) -> object:
    """Close with `{"outcome": ...}`; the user gets a closing message."""
    session_id, operator = call.route["sessionId"], call.operator
    command = views.close_command(call.body)
    closed = get_desk().experts.close(session_id, operator, command, admin=call.admin)
    return views.closed_json(closed)


@endpoint(bp, "POST", SESSION + "/release", role=EXPERT, body=Body.OPTIONAL)
def admin_release_session(call: Call) -> object:
    """Back to the queue: `{"operator"?, "note"?}` (the holder, or a Desk.Admin; audited)."""
    released = get_desk().experts.release(
        call.route["sessionId"], call.operator, call.body.get("note"), admin=call.admin
    )
    return views.with_handovers_json(released)


@endpoint(bp, "POST", SESSION + "/transfer", role=EXPERT, body=Body.REQUIRED)
def admin_transfer_session(call: Call) -> object:
    """Hand over to another expert: `{"to", "operator"?, "note"?}` (audited)."""
    desk, to = get_desk(), call.body.get("to", "")  # checked by the service: 1-100 characters
    if isinstance(to, str) and to.strip():
        to = desk.board.colleague(to) or to  # the person the directory knows by that name
    moved = desk.experts.transfer(
        call.route["sessionId"], call.operator, to, call.body.get("note"), admin=call.admin
    )
    return views.with_handovers_json(moved)
