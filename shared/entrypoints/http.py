"""The one place where results and errors become HTTP responses."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import azure.functions as func

from shared.budget import within
from shared.errors import ConfigurationError, DeskError, StaffError, ValidationError
from shared.logsafe import describe
from shared.wiring import get_desk

log = logging.getLogger("desk.http")


PRIVATE_HEADERS = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"}
"""On every answer of the API: most carry personal data (a session, an export), and no
browser or proxy may keep one, nor read it as anything but what it says it is."""


def json_response(payload: Any, status: int = 200) -> func.HttpResponse:
    """A JSON response (UTF-8, Japanese kept readable), never stored by a cache."""
    return func.HttpResponse(
        json.dumps(payload, ensure_ascii=False),
        status_code=status,
        headers=dict(PRIVATE_HEADERS),
        mimetype="application/json",
        charset="utf-8",
    )


def text_response(body: str) -> func.HttpResponse:
    """A plain-text answer (a printable export), with the same headers as JSON."""
    return func.HttpResponse(
        body, status_code=200, headers=dict(PRIVATE_HEADERS), mimetype="text/plain", charset="utf-8"
    )


def json_body(req: func.HttpRequest, *, optional: bool = False) -> dict[str, Any]:
    """The request's JSON object, or a ValidationError saying what is wrong with it."""
    if optional and not req.get_body().strip():
        return {}
    try:
        payload = json.loads(req.get_body().decode("utf-8"))
    except (ValueError, RecursionError):
        # ValueError: not UTF-8, not JSON, or an integer past Python's 4,300-digit limit.
        raise ValidationError("body", "json_object") from None
    if not isinstance(payload, dict):
        raise ValidationError("body", "json_object")
    return payload


# Server-side failures are explained in the log, not to the caller: the webhook is anonymous,
# and a setting's or a container's name is nobody else's business.
_PUBLIC_MESSAGES = {
    500: "the desk is not configured correctly; operators have the details in the log",
    503: "a service the desk depends on is unavailable; retry later",
}


_SAME_SITE = frozenset({"same-origin", "none"})  # Sec-Fetch-Site of this site's page, or typed


def from_another_site(req: func.HttpRequest) -> bool:
    """Does a browser say this request comes from another site: a `Sec-Fetch-Site` other
    than same-origin/none, or an `Origin` whose host is not the one asked (`null` too)?
    A request with neither header (a script) is not."""
    fetch_site = (req.headers.get("sec-fetch-site") or "").strip().lower()
    if fetch_site and fetch_site not in _SAME_SITE:
        return True
    if req.headers.get("origin") is None:
        return False
    origin = str(req.headers["origin"]).strip()
    host = str(req.headers.get("x-forwarded-host") or req.headers.get("host") or "")
    return origin == "null" or urlsplit(origin).netloc.lower() != host.lower()


DEFAULT_PAGE = 50
MAX_PAGE = 200
_DIGITS = re.compile(r"[0-9]{1,4}")  # ASCII only: str.isdigit also passes "²" and "١"


def page_size(limit: str | None) -> int:
    """`?limit=`: 1-200, 50 when absent."""
    if limit is None:
        return DEFAULT_PAGE
    if not _DIGITS.fullmatch(limit) or not 1 <= int(limit) <= MAX_PAGE:
        raise ValidationError("limit", "whole_number_range", low=1, high=MAX_PAGE)
    return int(limit)


def error_response(exc: DeskError) -> func.HttpResponse:
    """`{"error": {"code", "message", "field"?}}` with the status the error class names; staff
    errors carry their Japanese message and the field they are about."""
    message = _PUBLIC_MESSAGES.get(exc.status, exc.message)
    error: dict[str, str] = {"code": exc.code, "message": message}
    if isinstance(exc, StaffError) and exc.field is not None:
        error["field"] = exc.field
    return json_response({"error": error}, exc.status)


def refuse(exc: DeskError) -> func.HttpResponse:
    """Log a desk error (its message names no personal data) and answer it."""
    level = logging.ERROR if exc.status >= 500 else logging.INFO
    log.log(level, "request refused status=%d %s", exc.status, describe(exc))
    return error_response(exc)


def configuration_response(exc: ConfigurationError) -> func.HttpResponse:
    """503 naming the bad settings (never their values), for callers holding a function key."""
    log.error("request refused status=503 %s", describe(exc))
    return json_response(
        {
            "status": "misconfigured",
            "settings": list(exc.settings),
            "error": {"code": exc.code, "message": exc.message},
        },
        503,
    )


def respond(
    operation: Callable[[], func.HttpResponse], *, webhook: bool = False
) -> func.HttpResponse:
    """Run an entry point's work within its time budget (DESK_WEBHOOK_BUDGET_MS for LINE's
    webhook, DESK_ADMIN_BUDGET_MS otherwise); map the desk's errors, anything else to 500."""
    try:
        with within(budget_seconds(webhook=webhook)):
            return operation()
    except DeskError as exc:
        return refuse(exc)
    except Exception as exc:
        log.error("request failed %s", describe(exc))
        return json_response({"error": {"code": "internal", "message": "internal error"}}, 500)


def budget_seconds(*, webhook: bool = False) -> float:
    """The time budget of one call, from the desk's settings (ConfigurationError when they
    are bad: the caller answers it). Building the desk, on an instance's first call, is not
    part of it (the warm-up does it before traffic comes)."""
    settings = get_desk().settings
    return (settings.webhook_budget_ms if webhook else settings.admin_budget_ms) / 1000
