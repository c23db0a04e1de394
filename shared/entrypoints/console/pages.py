"""HTML responses of the console: Jinja2 templates, the text catalogue, security headers."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta, timezone
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING, Any

import azure.functions as func

from shared.domain.messages import MAX_TEXT_LENGTH
from shared.texts.catalogue import clause_name as named_clause
from shared.texts.catalogue import code_name, load_catalogue

if TYPE_CHECKING:
    import jinja2

# No inline script or style, nothing from another origin; htmx's requests go to this site only.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
    # The console is HTTPS only in Azure (httpsOnly); browsers ignore this over plain HTTP.
    "Strict-Transport-Security": "max-age=31536000; includeSubDomains",
}
STATIC_TYPES = {
    "htmx.min.js": "text/javascript",
    "console.js": "text/javascript",
    "console.css": "text/css",
}


def text(key: str, **params: Any) -> str:
    """One console text from shared/texts/console_ja.json."""
    return load_catalogue("console_ja").text(key, **params)


JAPAN = timezone(timedelta(hours=9))


def _named(prefix: str, code: object, language: str = "console_ja") -> str:
    """The catalogue's Japanese name for a stored code (`prefix` + the code in snake case); a
    code the catalogue does not know yet is shown as it is."""
    return code_name(load_catalogue(language), prefix, code)


def audit_action(code: object) -> str:
    """An audit action (`session.close`) in Japanese (「相談を終了」)."""
    return _named("audit_action_", code)


def flag_reason(code: object) -> str:
    """A §8 flag's reason (`link shortener`, `listed wording (defamation)`) in Japanese: the
    user-facing catalogue's names, the same words the user's data export prints."""
    return _named("flag_reason_", code, "ja")


def clause_name(clause: object) -> str:
    """A policy clause as stored (`8(3)`) as staff read it (「第8条（3）」, the words the
    user's data export prints)."""
    return named_clause(load_catalogue("ja"), str(clause))


def audit_details(details: object) -> list[tuple[str, str]]:
    """An audit record's details as (Japanese name, value) pairs; yes/no for booleans."""
    if not isinstance(details, dict):
        return []
    return [(_named("audit_detail_", key), _detail(key, value)) for key, value in details.items()]


def _detail(key: str, value: object) -> str:
    if isinstance(value, bool):
        return text("audit_yes") if value else text("audit_no")
    if value is None:
        return "—"
    if key == "action":
        return audit_action(value)
    return _named("service_state_", value) if key == "state" else str(value)


def jst(value: str | datetime | None) -> str:
    """An ISO 8601 time (any offset) as Japan time to the minute, `2025-11-03 10:00`; a
    value that is not a time is shown as it is, none as a dash."""
    if value is None or value == "":
        return "—"
    try:
        at = value if isinstance(value, datetime) else datetime.fromisoformat(value)
    except ValueError:
        return str(value)
    if at.tzinfo is None:
        return str(value)
    return at.astimezone(JAPAN).strftime("%Y-%m-%d %H:%M")


@cache
def static_file(name: str) -> bytes:
    """A file of the console's static folder (read once per process)."""
    folder = resources.files("shared.entrypoints.console").joinpath("static")
    return folder.joinpath(name).read_bytes()


def static_url(name: str) -> str:
    """The file's address, with a content hash so that a new version is fetched at once."""
    digest = hashlib.sha256(static_file(name)).hexdigest()[:10]
    return f"/console/static/{name}?v={digest}"


@cache
def environment() -> jinja2.Environment:
    """The template environment, built on first use (the webhook never pays for it)."""
    import jinja2  # noqa: PLC0415 -- only the console needs templates

    env = jinja2.Environment(
        loader=jinja2.PackageLoader("shared.entrypoints.console", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals.update(t=text, static_url=static_url, text_limit=MAX_TEXT_LENGTH)
    env.filters["jst"] = jst
    env.filters["audit_action"] = audit_action
    env.filters["flag_reason"] = flag_reason
    env.filters["audit_details"] = audit_details
    env.filters["clause_name"] = clause_name
    return env


def render(template: str, **context: Any) -> str:
    """A template rendered with `context`."""
    return environment().get_template(template).render(**context)


def html(
    template: str, status: int = 200, headers: dict[str, str] | None = None, **context: Any
) -> func.HttpResponse:
    """A page or fragment as an HTML response with the console's security headers."""
    return func.HttpResponse(
        render(template, **context),
        status_code=status,
        headers={**SECURITY_HEADERS, **(headers or {})},
        mimetype="text/html",
        charset="utf-8",
    )


def bare(status: int, headers: dict[str, str] | None = None) -> func.HttpResponse:
    """An empty response with the security headers (redirects, htmx instructions)."""
    return func.HttpResponse(
        b"", status_code=status, headers={**SECURITY_HEADERS, **(headers or {})}
    )
