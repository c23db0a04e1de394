"""The LINE webhook: `POST /api/line/webhook` (anonymous: LINE signs instead of sending a key)."""

from __future__ import annotations

import azure.functions as func

from shared.entrypoints.endpoint import blueprint
from shared.entrypoints.http import json_response, respond
from shared.errors import DependencyError, PayloadTooLarge, UnsupportedMediaType
from shared.wiring import get_desk

bp = blueprint()

# LINE's payloads are small; anything this large is not LINE and is refused before hashing.
MAX_BODY_BYTES = 1_000_000


@bp.route(route="api/line/webhook", methods=["POST"], auth_level=func.AuthLevel.ANONYMOUS)
def line_webhook(req: func.HttpRequest) -> func.HttpResponse:
    """Verify, handle every event, and answer 200, or 503 so that LINE redelivers."""

    def work() -> func.HttpResponse:
        body = req.get_body()
        if len(body) > MAX_BODY_BYTES:
            raise PayloadTooLarge(f"body over {MAX_BODY_BYTES} bytes")
        media_type = (req.headers.get("content-type") or "").split(";")[0].strip().lower()
        if media_type != "application/json":
            raise UnsupportedMediaType("LINE sends application/json")
        result = get_desk().webhook.receive(body, req.headers.get("x-line-signature"))
        if result.failed:
            raise DependencyError(f"{result.failed} event(s) left for LINE to redeliver")
        return json_response({})

    return respond(work, webhook=True)
