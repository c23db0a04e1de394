"""The experts' admin API (function-level key): the queue, a session, claim, answer, close,
release and transfer. A Desk.Admin principal may take over another expert's session."""

from __future__ import annotations

import azure.functions as func

from shared.entrypoints.http import json_body, json_response, page_size, respond
from shared.entrypoints.identity import EXPERT, holds_admin, operator_from, requires, who_from
from shared.wiring import get_desk

bp = func.Blueprint()  # type: ignore[no-untyped-call]  # azure-functions leaves it unannotated


@bp.route(route="api/admin/sessions", methods=["GET"], auth_level=func.AuthLevel.FUNCTION)
@requires(EXPERT)
def admin_list_sessions(req: func.HttpRequest) -> func.HttpResponse:
    """The queue: `?status=waiting|active|closed&limit=&cursor=`, oldest first, no text."""
    params = req.params
    return respond(
        lambda: json_response(
            get_desk().experts.queue(
                params.get("status"), params.get("cursor"), page_size(params.get("limit"))
            )
        )
    )


@bp.route(
    route="api/admin/sessions/{sessionId}", methods=["GET"], auth_level=func.AuthLevel.FUNCTION
)
@requires(EXPERT)
def admin_get_session(req: func.HttpRequest) -> func.HttpResponse:
    """A session and its messages in order (audited read)."""
    return respond(
        lambda: json_response(
            get_desk().experts.detail(req.route_params["sessionId"], who_from(req))
        )
    )


@bp.route(
    route="api/admin/sessions/{sessionId}/claim",
    methods=["POST"],
    auth_level=func.AuthLevel.FUNCTION,
)
@requires(EXPERT)
def admin_claim_session(req: func.HttpRequest) -> func.HttpResponse:
    """Assign the session to the calling expert (409 if someone else has it)."""

    def work() -> func.HttpResponse:
        operator = operator_from(req, json_body(req, optional=True))
        claimed = get_desk().experts.claim(
            req.route_params["sessionId"], operator, admin=holds_admin(req)
        )
        return json_response(claimed)

    return respond(work)


@bp.route(
    route="api/admin/sessions/{sessionId}/messages",
    methods=["POST"],
    auth_level=func.AuthLevel.FUNCTION,
)
@requires(EXPERT)
def admin_send_message(req: func.HttpRequest) -> func.HttpResponse:
    """Push an expert's answer (`{"text": ...}`) and say whether LINE accepted it."""

    def work() -> func.HttpResponse:
        body = json_body(req)
        operator = operator_from(req, body)
        sent = get_desk().experts.send(
            req.route_params["sessionId"], operator, body, admin=holds_admin(req)
        )
        return json_response(sent, 201)

    return respond(work)


@bp.route(
    route="api/admin/sessions/{sessionId}/close",
    methods=["POST"],
    auth_level=func.AuthLevel.FUNCTION,
)
@requires(EXPERT)
def admin_close_session(req: func.HttpRequest) -> func.HttpResponse:
    """Close with `{"outcome": ...}`; the user gets a closing message."""

    def work() -> func.HttpResponse:
        body = json_body(req)
        operator = operator_from(req, body)
        return json_response(
            get_desk().experts.close(
                req.route_params["sessionId"], operator, body, admin=holds_admin(req)
            )
        )

    return respond(work)


@bp.route(
    route="api/admin/sessions/{sessionId}/release",
    methods=["POST"],
    auth_level=func.AuthLevel.FUNCTION,
)
@requires(EXPERT)
def admin_release_session(req: func.HttpRequest) -> func.HttpResponse:
    """Back to the queue: `{"operator"?, "note"?}` (the holder, or a Desk.Admin; audited)."""

    def work() -> func.HttpResponse:
        body = json_body(req, optional=True)
        operator = operator_from(req, body)
        released = get_desk().experts.release(
            req.route_params["sessionId"], operator, body.get("note"), admin=holds_admin(req)
        )
        return json_response(released)

    return respond(work)


@bp.route(
    route="api/admin/sessions/{sessionId}/transfer",
    methods=["POST"],
    auth_level=func.AuthLevel.FUNCTION,
)
@requires(EXPERT)
def admin_transfer_session(req: func.HttpRequest) -> func.HttpResponse:
    """Hand over to another expert: `{"to", "operator"?, "note"?}` (audited)."""

    def work() -> func.HttpResponse:
        body = json_body(req)
        operator = operator_from(req, body)
        moved = get_desk().experts.transfer(
            req.route_params["sessionId"],
            operator,
            body.get("to", ""),  # checked by the service: a name of 1-100 characters
            body.get("note"),
            admin=holds_admin(req),
        )
        return json_response(moved)

    return respond(work)
