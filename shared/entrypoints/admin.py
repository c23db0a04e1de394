"""The admin HTTP API (function-level key): the experts' and operators' side."""

from __future__ import annotations

import azure.functions as func

from shared.entrypoints.http import json_body, json_response, respond
from shared.entrypoints.identity import operator_from
from shared.services.admin import policy_json
from shared.services.ports import DESK
from shared.wiring import get_desk

bp = func.Blueprint()  # type: ignore[no-untyped-call]  # azure-functions leaves it unannotated


@bp.route(route="api/admin/health", methods=["GET"], auth_level=func.AuthLevel.FUNCTION)
def admin_health(req: func.HttpRequest) -> func.HttpResponse:
    """Settings valid and store reachable: one point read, no secrets in the answer."""

    def work() -> func.HttpResponse:
        desk = get_desk()
        desk.store.read(DESK, "health", "health")
        return json_response(
            {
                "status": "ok",
                "environment": desk.settings.environment,
                "store": desk.settings.store_kind,
            }
        )

    return respond(work)


@bp.route(route="api/admin/users/{userId}", methods=["GET"], auth_level=func.AuthLevel.FUNCTION)
def admin_get_user(req: func.HttpRequest) -> func.HttpResponse:
    """A user's status and consent history."""
    return respond(lambda: json_response(get_desk().admin.user(req.route_params["userId"])))


@bp.route(route="api/admin/policies", methods=["GET"], auth_level=func.AuthLevel.FUNCTION)
def admin_list_policies(req: func.HttpRequest) -> func.HttpResponse:
    """Every policy version and the one in effect."""
    return respond(lambda: json_response(get_desk().admin.policies()))


@bp.route(route="api/admin/policies", methods=["POST"], auth_level=func.AuthLevel.FUNCTION)
def admin_register_policy(req: func.HttpRequest) -> func.HttpResponse:
    """Register a new policy version (JSON: versionId, effectiveDate, url, text or textSha256,
    requiresExplicit, privacyPolicyVersion)."""
    return respond(
        lambda: json_response(policy_json(get_desk().policies.register(json_body(req))), 201)
    )


@bp.route(route="api/admin/sessions", methods=["GET"], auth_level=func.AuthLevel.FUNCTION)
def admin_list_sessions(req: func.HttpRequest) -> func.HttpResponse:
    """The queue: `?status=waiting|active|closed&limit=&cursor=`, oldest first, no text."""
    params = req.params
    return respond(
        lambda: json_response(
            get_desk().experts.queue(
                params.get("status"), params.get("cursor"), params.get("limit")
            )
        )
    )


@bp.route(
    route="api/admin/sessions/{sessionId}", methods=["GET"], auth_level=func.AuthLevel.FUNCTION
)
def admin_get_session(req: func.HttpRequest) -> func.HttpResponse:
    """A session and its messages in order."""
    return respond(lambda: json_response(get_desk().experts.detail(req.route_params["sessionId"])))


@bp.route(
    route="api/admin/sessions/{sessionId}/claim",
    methods=["POST"],
    auth_level=func.AuthLevel.FUNCTION,
)
def admin_claim_session(req: func.HttpRequest) -> func.HttpResponse:
    """Assign the session to the calling expert (409 if someone else has it)."""

    def work() -> func.HttpResponse:
        operator = operator_from(req, json_body(req, optional=True))
        return json_response(get_desk().experts.claim(req.route_params["sessionId"], operator))

    return respond(work)


@bp.route(
    route="api/admin/sessions/{sessionId}/messages",
    methods=["POST"],
    auth_level=func.AuthLevel.FUNCTION,
)
def admin_send_message(req: func.HttpRequest) -> func.HttpResponse:
    """Push an expert's answer (`{"text": ...}`) and say whether LINE accepted it."""

    def work() -> func.HttpResponse:
        body = json_body(req)
        operator = operator_from(req, body)
        sent = get_desk().experts.send(req.route_params["sessionId"], operator, body)
        return json_response(sent, 201)

    return respond(work)


@bp.route(
    route="api/admin/sessions/{sessionId}/close",
    methods=["POST"],
    auth_level=func.AuthLevel.FUNCTION,
)
def admin_close_session(req: func.HttpRequest) -> func.HttpResponse:
    """Close with `{"outcome": ...}`; the user gets a closing message."""

    def work() -> func.HttpResponse:
        body = json_body(req)
        operator = operator_from(req, body)
        return json_response(
            get_desk().experts.close(req.route_params["sessionId"], operator, body)
        )

    return respond(work)
