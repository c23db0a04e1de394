"""The admin HTTP API (function-level key): health, users, policies, the audit trail."""

from __future__ import annotations

from shared.entrypoints.endpoint import Body, Call, blueprint, endpoint
from shared.entrypoints.http import configuration_response, page_size, text_response
from shared.entrypoints.identity import ADMIN
from shared.entrypoints.views import admin as views
from shared.errors import ConfigurationError, ValidationError
from shared.ports import DESK
from shared.services.catalog import load_openapi
from shared.wiring import get_desk

bp = blueprint()


@endpoint(bp, "GET", "api/admin/health", role=ADMIN)
def admin_health(call: Call) -> object:
    """Settings valid and store reachable: one point read, no secrets in the answer."""
    try:
        desk = get_desk()
        desk.store.read(DESK, "health", "health")
    except ConfigurationError as exc:  # a setting, or a container that is not there
        return configuration_response(exc)
    return {
        "status": "ok",
        "environment": desk.settings.environment,
        "store": desk.settings.store_kind,
    }


@endpoint(bp, "GET", "api/admin/users/{userId}", role=ADMIN)
def admin_get_user(call: Call) -> object:
    """A user's status, restrictions and consent history (audited read)."""
    return views.user_json(get_desk().admin.user(call.route["userId"], call.who))


@endpoint(bp, "GET", "api/admin/users/{userId}/export", role=ADMIN)
def admin_export_user(call: Call) -> object:
    """Everything the desk holds about a user (開示), as JSON with a printable Japanese `text`;
    `?format=text` gives only the text, as text/plain (audited)."""
    shape = call.params.get("format") or "json"
    if shape not in ("json", "text"):
        raise ValidationError("format", "one_of", choices="json, text")
    export = get_desk().exports.export(call.route["userId"], call.who)
    if shape == "text":
        return text_response(export["text"])
    return export


@endpoint(bp, "GET", "api/admin/policies", role=ADMIN)
def admin_list_policies(call: Call) -> object:
    """Every policy version and the one in effect."""
    return views.policies_json(get_desk().admin.policies())


@endpoint(bp, "POST", "api/admin/policies", role=ADMIN, body=Body.REQUIRED, status=201)
def admin_register_policy(call: Call) -> object:
    """Register a new policy version (JSON: versionId, effectiveDate, url, text or textSha256,
    requiresExplicit, privacyPolicyVersion; audited)."""
    who = call.acting()  # a malformed operator is named first, as before the body
    command = views.policy_command(call.body)
    return views.policy_json(get_desk().admin.register_policy(command, who))


@endpoint(bp, "GET", "api/admin/audit", role=ADMIN)
def admin_audit(call: Call) -> object:
    """The audit trail, oldest first: `?limit=&cursor=` (a read of it is audited too)."""
    auditor = get_desk().auditor
    page = auditor.page(call.params.get("cursor"), page_size(call.params.get("limit")))
    auditor.record(call.who, "audit.read", count=len(page.items))
    return views.audit_page_json(page)


@endpoint(bp, "GET", "api/admin/service", role=ADMIN)
def admin_get_service(call: Call) -> object:
    """The service status in force, what is set, and the planned maintenance windows."""
    return views.service_json(get_desk().status.describe())


@endpoint(bp, "PUT", "api/admin/service", role=ADMIN, body=Body.REQUIRED)
def admin_put_service(call: Call) -> object:
    """`{"state": open|maintenance|suspended|ended, "message"?, "until"?, "from"?}` (audited)."""
    who = call.acting()  # a malformed operator is named first, as before the body
    change = views.service_change(call.body)
    return views.service_json(get_desk().status.change(change, who))


@endpoint(bp, "GET", "api/admin/stats", role=ADMIN)
def admin_stats(call: Call) -> object:
    """Publishable counts of whole calendar months:
    `?from=YYYY-MM&to=YYYY-MM&by=month|topic|outcome|satisfaction` (both default to this
    month, Japan time)."""
    params = call.params
    return get_desk().reports.table(params.get("from"), params.get("to"), params.get("by"))


@endpoint(bp, "GET", "api/admin/openapi.json", role=ADMIN)
def admin_openapi(call: Call) -> object:
    """The admin API's OpenAPI 3.1 document (shared/data/openapi.json)."""
    return load_openapi()
