"""The admin HTTP API (function-level key): the experts' and operators' side."""

from __future__ import annotations

import azure.functions as func

from shared.entrypoints.http import json_response, respond
from shared.services.ports import DESK
from shared.wiring import get_desk

bp = func.Blueprint()  # type: ignore[no-untyped-call]  # azure-functions leaves it unannotated


@bp.route(route="admin/health", methods=["GET"], auth_level=func.AuthLevel.FUNCTION)
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
