"""The admin HTTP API (function-level key): health, users, policies, the audit trail."""

from __future__ import annotations

import azure.functions as func

from shared.entrypoints.http import (
    configuration_response,
    json_body,
    json_response,
    page_size,
    respond,
)
from shared.entrypoints.identity import ADMIN, operator_from, requires, who_from
from shared.errors import ConfigurationError, ValidationError
from shared.services.catalog import load_openapi
from shared.services.ports import DESK
from shared.wiring import get_desk

bp = func.Blueprint()  # type: ignore[no-untyped-call]  # azure-functions leaves it unannotated


@bp.route(route="api/admin/health", methods=["GET"], auth_level=func.AuthLevel.FUNCTION)
@requires(ADMIN)
def admin_health(req: func.HttpRequest) -> func.HttpResponse:
    """Settings valid and store reachable: one point read, no secrets in the answer."""

    def work() -> func.HttpResponse:
        try:
            desk = get_desk()
            desk.store.read(DESK, "health", "health")
        except ConfigurationError as exc:  # a setting, or a container that is not there
            return configuration_response(exc)
        return json_response(
            {
                "status": "ok",
                "environment": desk.settings.environment,
                "store": desk.settings.store_kind,
            }
        )

    return respond(work)


@bp.route(route="api/admin/users/{userId}", methods=["GET"], auth_level=func.AuthLevel.FUNCTION)
@requires(ADMIN)
def admin_get_user(req: func.HttpRequest) -> func.HttpResponse:
    """A user's status, restrictions and consent history (audited read)."""
    return respond(
        lambda: json_response(get_desk().admin.user(req.route_params["userId"], who_from(req)))
    )


@bp.route(
    route="api/admin/users/{userId}/export", methods=["GET"], auth_level=func.AuthLevel.FUNCTION
)
@requires(ADMIN)
def admin_export_user(req: func.HttpRequest) -> func.HttpResponse:
    """Everything the desk holds about a user (開示), as JSON with a printable Japanese `text`;
    `?format=text` gives only the text, as text/plain (audited)."""

    def work() -> func.HttpResponse:
        shape = req.params.get("format") or "json"
        if shape not in ("json", "text"):
            raise ValidationError("format", "one_of", choices="json, text")
        export = get_desk().exports.export(req.route_params["userId"], who_from(req))
        if shape == "text":
            return func.HttpResponse(
                export["text"], status_code=200, mimetype="text/plain", charset="utf-8"
            )
        return json_response(export)

    return respond(work)


@bp.route(route="api/admin/policies", methods=["GET"], auth_level=func.AuthLevel.FUNCTION)
@requires(ADMIN)
def admin_list_policies(req: func.HttpRequest) -> func.HttpResponse:
    """Every policy version and the one in effect."""
    return respond(lambda: json_response(get_desk().admin.policies()))


@bp.route(route="api/admin/policies", methods=["POST"], auth_level=func.AuthLevel.FUNCTION)
@requires(ADMIN)
def admin_register_policy(req: func.HttpRequest) -> func.HttpResponse:
    """Register a new policy version (JSON: versionId, effectiveDate, url, text or textSha256,
    requiresExplicit, privacyPolicyVersion; audited)."""

    def work() -> func.HttpResponse:
        body = json_body(req)
        who = operator_from(req, body) if "operator" in body else who_from(req)
        return json_response(get_desk().admin.register_policy(body, who), 201)

    return respond(work)


@bp.route(route="api/admin/audit", methods=["GET"], auth_level=func.AuthLevel.FUNCTION)
@requires(ADMIN)
def admin_audit(req: func.HttpRequest) -> func.HttpResponse:
    """The audit trail, oldest first: `?limit=&cursor=`."""
    return respond(
        lambda: json_response(
            get_desk().auditor.page(req.params.get("cursor"), page_size(req.params.get("limit")))
        )
    )


@bp.route(route="api/admin/service", methods=["GET"], auth_level=func.AuthLevel.FUNCTION)
@requires(ADMIN)
def admin_get_service(req: func.HttpRequest) -> func.HttpResponse:
    """The service status in force, what is set, and the planned maintenance windows."""
    return respond(lambda: json_response(get_desk().status.describe()))


@bp.route(route="api/admin/service", methods=["PUT"], auth_level=func.AuthLevel.FUNCTION)
@requires(ADMIN)
def admin_put_service(req: func.HttpRequest) -> func.HttpResponse:
    """`{"state": open|maintenance|suspended|ended, "message"?, "until"?, "from"?}` (audited)."""

    def work() -> func.HttpResponse:
        body = json_body(req)
        who = operator_from(req, body) if "operator" in body else who_from(req)
        return json_response(get_desk().status.change(body, who))

    return respond(work)


@bp.route(route="api/admin/stats", methods=["GET"], auth_level=func.AuthLevel.FUNCTION)
@requires(ADMIN)
def admin_stats(req: func.HttpRequest) -> func.HttpResponse:
    """Publishable counts of whole calendar months:
    `?from=YYYY-MM&to=YYYY-MM&by=month|topic|outcome|satisfaction` (both default to this
    month, Japan time)."""
    params = req.params
    return respond(
        lambda: json_response(
            get_desk().reports.table(params.get("from"), params.get("to"), params.get("by"))
        )
    )


@bp.route(route="api/admin/openapi.json", methods=["GET"], auth_level=func.AuthLevel.FUNCTION)
@requires(ADMIN)
def admin_openapi(req: func.HttpRequest) -> func.HttpResponse:
    """The admin API's OpenAPI 3.1 document (shared/data/openapi.json)."""
    return respond(lambda: json_response(load_openapi()))
