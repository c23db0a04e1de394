"""The operators' admin API for prohibited acts (§8, §9): flags, restrictions, suspensions,
erasure. Every action is audited."""

from __future__ import annotations

import azure.functions as func

from shared.entrypoints.http import json_body, json_response, page_size, respond
from shared.entrypoints.identity import ADMIN, operator_from, requires
from shared.services.moderation import check_user_id
from shared.wiring import get_desk

bp = func.Blueprint()  # type: ignore[no-untyped-call]  # azure-functions leaves it unannotated


@bp.route(route="api/admin/flags", methods=["GET"], auth_level=func.AuthLevel.FUNCTION)
@requires(ADMIN)
def admin_list_flags(req: func.HttpRequest) -> func.HttpResponse:
    """Flags to review: `?status=open|dismissed|actioned&limit=&cursor=`, oldest first."""
    params = req.params
    return respond(
        lambda: json_response(
            get_desk().moderation.flag_page(
                params.get("status"), params.get("cursor"), page_size(params.get("limit"))
            )
        )
    )


@bp.route(
    route="api/admin/flags/{flagId}/dismiss", methods=["POST"], auth_level=func.AuthLevel.FUNCTION
)
@requires(ADMIN)
def admin_dismiss_flag(req: func.HttpRequest) -> func.HttpResponse:
    """Reviewed, nothing to do."""

    def work() -> func.HttpResponse:
        operator = operator_from(req, json_body(req, optional=True))
        return json_response(get_desk().moderation.dismiss(req.route_params["flagId"], operator))

    return respond(work)


@bp.route(
    route="api/admin/users/{userId}/restrict", methods=["POST"], auth_level=func.AuthLevel.FUNCTION
)
@requires(ADMIN)
def admin_restrict_user(req: func.HttpRequest) -> func.HttpResponse:
    """`{"mode": "text_only"|"read_only"|"lower_limit", "days"?, "perMinute"?, "perDay"?}`."""

    def work() -> func.HttpResponse:
        body = json_body(req)
        operator = operator_from(req, body)
        user_id = req.route_params["userId"]
        return json_response(get_desk().moderation.restrict(user_id, operator, body))

    return respond(work)


@bp.route(
    route="api/admin/users/{userId}/suspend", methods=["POST"], auth_level=func.AuthLevel.FUNCTION
)
@requires(ADMIN)
def admin_suspend_user(req: func.HttpRequest) -> func.HttpResponse:
    """`{"clause": "8(3)", "reason": ...}`: suspend (their open flags are actioned); the purge
    timer erases them after a grace."""

    def work() -> func.HttpResponse:
        body = json_body(req)
        operator = operator_from(req, body)
        user_id = req.route_params["userId"]
        return json_response(get_desk().moderation.suspend(user_id, operator, body))

    return respond(work)


@bp.route(
    route="api/admin/users/{userId}/reinstate",
    methods=["POST"],
    auth_level=func.AuthLevel.FUNCTION,
)
@requires(ADMIN)
def admin_reinstate_user(req: func.HttpRequest) -> func.HttpResponse:
    """Lift a suspension or restriction."""

    def work() -> func.HttpResponse:
        operator = operator_from(req, json_body(req, optional=True))
        user_id = check_user_id(req.route_params["userId"])
        return json_response(get_desk().moderation.reinstate(user_id, operator))

    return respond(work)


@bp.route(
    route="api/admin/users/{userId}/erase", methods=["POST"], auth_level=func.AuthLevel.FUNCTION
)
@requires(ADMIN)
def admin_erase_user(req: func.HttpRequest) -> func.HttpResponse:
    """Erase everything about a user (a request received by post or phone); tell them."""

    def work() -> func.HttpResponse:
        operator = operator_from(req, json_body(req, optional=True))
        user_id = check_user_id(req.route_params["userId"])
        desk = get_desk()
        notice = (desk.replies.text("erased_by_admin"),)

        def notify(target: str) -> bool:
            return desk.experts.notify_user(target, notice, f"{target}:erased")

        return json_response(desk.eraser.erase_on_request(user_id, operator, notify))

    return respond(work)
