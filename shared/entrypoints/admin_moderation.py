"""The operators' admin API for prohibited acts (§8, §9): flags, restrictions, suspensions,
erasure. Every action is audited."""

from __future__ import annotations

from shared.entrypoints.endpoint import Body, Call, blueprint, endpoint
from shared.entrypoints.http import page_size
from shared.entrypoints.identity import ADMIN
from shared.entrypoints.views import moderation as views
from shared.services.moderation.actions import check_user_id
from shared.wiring import get_desk

bp = blueprint()
USER = "api/admin/users/{userId}"


@endpoint(bp, "GET", "api/admin/flags", role=ADMIN)
def admin_list_flags(call: Call) -> object:
    """Flags to review: `?status=open|dismissed|actioned&limit=&cursor=`, oldest first."""
    params = call.params
    limit = page_size(params.get("limit"))  # named first, as before the views
    status = views.flag_status(params.get("status"))
    desk = get_desk()
    page = desk.moderation.flag_page(status, params.get("cursor"), limit)
    # Raw LINE user ids and the section 8 reasons of several users: a read like any other.
    desk.auditor.record(call.who, "flags.read", status=str(status), count=len(page.items))
    return views.flag_page_json(page)


@endpoint(bp, "POST", "api/admin/flags/{flagId}/dismiss", role=ADMIN, body=Body.OPTIONAL)
def admin_dismiss_flag(call: Call) -> object:
    """Reviewed, nothing to do."""
    return views.flag_json(get_desk().moderation.dismiss(call.route["flagId"], call.operator))


@endpoint(bp, "POST", USER + "/restrict", role=ADMIN, body=Body.REQUIRED)
def admin_restrict_user(call: Call) -> object:
    """`{"mode": "text_only"|"read_only"|"lower_limit", "days"?, "perMinute"?, "perDay"?}`."""
    operator = call.operator  # a missing operator is named first, as before the body
    user_id, command = call.route["userId"], views.restrict_command(call.body)
    return views.restricted_json(
        user_id, get_desk().moderation.restrict(user_id, operator, command)
    )


@endpoint(bp, "POST", USER + "/suspend", role=ADMIN, body=Body.REQUIRED)
def admin_suspend_user(call: Call) -> object:
    """`{"clause": "8(3)", "reason": ...}`: suspend (their open flags are actioned); the purge
    timer erases them after a grace."""
    operator = call.operator  # a missing operator is named first, as before the body
    command = views.suspend_command(call.body)
    return views.suspended_json(
        get_desk().moderation.suspend(call.route["userId"], operator, command)
    )


@endpoint(bp, "POST", USER + "/reinstate", role=ADMIN, body=Body.OPTIONAL)
def admin_reinstate_user(call: Call) -> object:
    """Lift a suspension or restriction."""
    operator = call.operator
    user_id = check_user_id(call.route["userId"])
    get_desk().moderation.reinstate(user_id, operator)
    return views.reinstated_json(user_id)


@endpoint(bp, "POST", USER + "/erase", role=ADMIN, body=Body.OPTIONAL)
def admin_erase_user(call: Call) -> object:
    """Erase everything about a user (a request received by post or phone); tell them."""
    operator = call.operator
    user_id = check_user_id(call.route["userId"])
    desk = get_desk()
    notice = (desk.replies.text("erased_by_admin"),)

    def notify(target: str) -> bool:
        return desk.experts.notify_user(target, notice, f"{target}:erased")

    return views.erased_json(desk.eraser.erase_on_request(user_id, operator, notify))
