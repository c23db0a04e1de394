"""Application Insights through azure-monitor-opentelemetry, without personal data.

Nothing is imported or configured until first use, and only when
`APPLICATIONINSIGHTS_CONNECTION_STRING` is set: locally and in tests the OpenTelemetry
packages are never loaded. In Azure the first invocation configures the distro (traces,
requests, dependency calls to Cosmos DB and LINE, and the `desk.*` log lines), with the
app's managed identity when `APPLICATIONINSIGHTS_AUTHENTICATION_STRING` says
`Authorization=AAD` (local auth is disabled on the Application Insights resource).

Privacy: the desk's own log lines carry no personal data (a project rule), but the
instrumentations record URLs, and some URLs carry a LINE user id (the admin routes
`/api/admin/users/{userId}/...`, LINE's `/v2/bot/profile/{userId}`, a Cosmos DB document
link). Every span is scrubbed before export by `scrubbing_span_processor`: query strings
dropped wherever they occur (function keys travel in `?code=`), user-id and session path
segments and document ids replaced by placeholders, LINE ids, e-mail addresses, phone numbers,
受付番号, the desk's secrets and every function key a request brought replaced wherever they
occur, and a status description cut to its exception type.

Request spans: the Functions host's own request records carry raw URLs, so host.json turns
them off (`Host.Results`: None) and `RequestSpans`, a worker extension, records each
invocation as a server span with a scrubbed URL instead.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import threading
from typing import Any

from azure.functions import AppExtensionBase, Context, HttpRequest, HttpResponse

CONNECTION_STRING = "APPLICATIONINSIGHTS_CONNECTION_STRING"
AUTHENTICATION_STRING = "APPLICATIONINSIGHTS_AUTHENTICATION_STRING"
SAMPLER_SETTING = "OTEL_TRACES_SAMPLER"
# Values that must never leave the process, read from the environment when a span is scrubbed.
SECRET_SETTINGS = (
    "LINE_CHANNEL_SECRET",
    "LINE_CHANNEL_ACCESS_TOKEN",
    "DESK_HASH_KEY",
    "DESK_FUNCTION_KEY",
    "DESK_MASTER_KEY",
    "DESK_ALERT_WEBHOOK_URL",
)

log = logging.getLogger("desk.telemetry")

_LINE_ID = re.compile(r"[UCR][0-9a-f]{32}")
_PATH_RULES = (
    (re.compile(r"(?<!/colls)(/users/)[^/?#\s]+"), r"\1{userId}"),  # not the container `users`
    (re.compile(r"(/profile/)[^/?#\s]+"), r"\1{userId}"),
    (re.compile(r"(/docs/)[^/?#\s]+"), r"\1{id}"),
    (re.compile(r"(/message/)(\d+)(/content)"), r"\1{messageId}\3"),
    (re.compile(r"(/sessions/)[^/?#\s]+"), r"\1{sessionId}"),  # console and admin API alike
)
# A query string wherever it is (a URL, a span name `GET /path?code=...`, a message).
_QUERY = re.compile(r"\?[A-Za-z0-9_.~%-]+=[^\s\"']*")
_TEXT_RULES = (
    (_LINE_ID, "{lineId}"),
    (re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+"), "{email}"),
    # Japanese numbers as people write them: 090-1234-5678, 03 1234 5678, 0120-123-456,
    # +81-90-..., or 10-11 digits in a row.
    (re.compile(r"(?<![\w+])(?:\+81[-\s]?|0)\d{1,4}[-\s]?\d{1,4}[-\s]?\d{3,4}(?!\d)"), "{phone}"),
    (re.compile(r"(?<!\d)\d{6}-\d{3}(?!\d)"), "{reference}"),  # a short 受付番号
)
_MIN_SECRET_LENGTH = 6
_KEYS_KEPT = 32

_lock = threading.Lock()
_state: dict[str, bool] = {}


def scrub(value: str, secrets: tuple[str, ...] = ()) -> str:
    """`value` without query strings, user-id and session path segments, LINE ids, e-mail
    addresses, phone numbers, 受付番号 or known secrets."""
    for secret in secrets:
        if len(secret) >= _MIN_SECRET_LENGTH:
            value = value.replace(secret, "[secret]")
    for pattern, replacement in _PATH_RULES:
        value = pattern.sub(replacement, value)
    value = re.sub(r"\?[^\s\"']*", "", value) if "://" in value or value.startswith("/") else value
    value = _QUERY.sub("", value)
    for pattern, replacement in _TEXT_RULES:
        value = pattern.sub(replacement, value)
    return value


# Function keys the host checked on this instance's requests (the host's own keys live in its
# storage, not in the settings): scrubbed like the settings' secrets from then on.
_seen_keys: dict[str, None] = {}


def remember_key(request: HttpRequest) -> None:
    """Keep the function key a request carried (header or `?code=`), to scrub it anywhere."""
    for key in (request.headers.get("x-functions-key"), request.params.get("code")):
        if key and len(key) >= _MIN_SECRET_LENGTH:
            with _lock:
                _seen_keys[key.strip()] = None
                while len(_seen_keys) > _KEYS_KEPT:
                    _seen_keys.pop(next(iter(_seen_keys)))


def _secrets() -> tuple[str, ...]:
    settings = (v for name in SECRET_SETTINGS if (v := os.environ.get(name, "").strip()))
    with _lock:
        return (*settings, *_seen_keys)


def _scrubbed(value: Any, secrets: tuple[str, ...]) -> Any:
    if isinstance(value, str):
        return scrub(value, secrets)
    if isinstance(value, tuple | list):
        return type(value)(_scrubbed(v, secrets) for v in value)
    return value


def enabled() -> bool:
    """True when a connection string is configured."""
    return bool(os.environ.get(CONNECTION_STRING, "").strip())


def configure() -> bool:
    """Configure the Azure Monitor distro once per process; False (nothing loaded) without a
    connection string. Never raises: telemetry that cannot start must not stop the desk."""
    with _lock:
        if "done" in _state:
            return _state["done"]
        _state["done"] = False
        if not enabled():
            return False
        try:
            _configure_distro()
        except Exception as exc:  # an exporter that cannot start must not fail a webhook
            log.warning("telemetry not configured: %s", type(exc).__name__)
            return False
        _state["done"] = True
        return True


def _configure_distro() -> None:
    from azure.monitor.opentelemetry import configure_azure_monitor  # noqa: PLC0415

    credential = None
    authentication = os.environ.get(AUTHENTICATION_STRING, "")
    if "authorization=aad" in authentication.lower():
        from azure.identity import ManagedIdentityCredential  # noqa: PLC0415

        fields = dict(
            part.split("=", 1) for part in authentication.split(";") if "=" in part.strip()
        )
        client_id = fields.get("ClientId") or None
        credential = ManagedIdentityCredential(client_id=client_id)
    sampling: dict[str, float] = {}
    if not os.environ.get(SAMPLER_SETTING, "").strip():
        # The distro's default is a rate-limited sampler (5 spans/s, measured over 0.1 s): it
        # drops the later spans of one webhook call, which run milliseconds apart. The desk's
        # volume is small, and a missing request is a failure nobody can see: keep every span
        # unless the operator chooses a sampler (OTEL_TRACES_SAMPLER, OpenTelemetry's setting).
        sampling["sampling_ratio"] = 1.0
    configure_azure_monitor(
        connection_string=os.environ[CONNECTION_STRING],
        credential=credential,
        logger_name="desk",  # only the desk's own log lines, which carry no personal data
        span_processors=[scrubbing_span_processor()],
        enable_live_metrics=False,
        enable_performance_counters=False,
        instrumentation_options={
            "django": {"enabled": False},
            "fastapi": {"enabled": False},
            "flask": {"enabled": False},
            "psycopg2": {"enabled": False},
        },
        **sampling,
    )


def scrub_span(span: Any) -> None:
    """Scrub a finished SDK span in place: name, attributes, events and status."""
    secrets = _secrets()
    with contextlib.suppress(AttributeError):
        span._name = scrub(span._name, secrets)
        if span._attributes:
            span._attributes = {k: _scrubbed(v, secrets) for k, v in dict(span._attributes).items()}
        span._events = [_scrub_event(e, secrets) for e in span._events]
        status = span._status
        if status is not None and status.description:
            # `{type}: {message}`: the message may quote anything the exception was handed.
            kind = re.match(r"[A-Za-z_][\w.]*", status.description)
            span._status = type(status)(status.status_code, kind.group(0) if kind else "error")


def scrubbing_span_processor() -> Any:
    """A SpanProcessor that scrubs each span before any exporter sees it (the distro runs the
    processors it is given before its exporting one). Built on demand: without a connection
    string the OpenTelemetry SDK is never imported."""
    from opentelemetry.sdk.trace import SpanProcessor  # noqa: PLC0415

    class ScrubbingSpanProcessor(SpanProcessor):
        def on_end(self, span: Any) -> None:
            scrub_span(span)

    return ScrubbingSpanProcessor()


def _scrub_event(event: Any, secrets: tuple[str, ...]) -> Any:
    from opentelemetry.sdk.trace import Event  # noqa: PLC0415

    attributes = {k: _scrubbed(v, secrets) for k, v in dict(event.attributes or {}).items()}
    if "exception.message" in attributes:  # may quote whatever the exception was handed
        attributes["exception.message"] = "[removed]"
    if "exception.stacktrace" in attributes:
        attributes["exception.stacktrace"] = "[removed]"
    return Event(event.name, attributes, event.timestamp)


_open: dict[str, tuple[Any, Any]] = {}


class RequestSpans(AppExtensionBase):
    """Worker extension: one server span per invocation, with a scrubbed URL (Application
    Insights shows them as requests). Needs PYTHON_ENABLE_WORKER_EXTENSIONS=1."""

    @classmethod
    def pre_invocation_app_level(
        cls,
        logger: Any,
        context: Context,
        func_args: dict[str, object] | None = None,
        *args: Any,
        **kwargs: Any,
    ) -> None:
        """Start the invocation's span (and configure telemetry on the first one)."""
        if not configure():
            return
        try:
            from opentelemetry import context as otel_context  # noqa: PLC0415
            from opentelemetry import trace  # noqa: PLC0415

            request = next(
                (a for a in (func_args or {}).values() if isinstance(a, HttpRequest)), None
            )
            tracer = trace.get_tracer("desk.requests")
            if request is not None:
                remember_key(request)
                url = scrub(request.url, _secrets())
                path = re.sub(r"^[a-z]+://[^/]+", "", url)
                span = tracer.start_span(
                    f"{request.method} {path}",
                    kind=trace.SpanKind.SERVER,
                    attributes={
                        "http.request.method": request.method,
                        "url.full": url,
                        "url.path": path,
                        "faas.name": context.function_name,
                    },
                )
            else:
                span = tracer.start_span(
                    context.function_name,
                    kind=trace.SpanKind.SERVER,
                    attributes={"faas.name": context.function_name, "faas.trigger": "timer"},
                )
            token = otel_context.attach(trace.set_span_in_context(span))
            _open[context.invocation_id] = (span, token)
        except Exception as exc:
            log.warning("request span not started: %s", type(exc).__name__)

    @classmethod
    def post_invocation_app_level(
        cls,
        logger: Any,
        context: Context,
        func_args: dict[str, object] | None = None,
        func_ret: object | None = None,
        *args: Any,
        **kwargs: Any,
    ) -> None:
        """End the invocation's span with the response's status."""
        opened = _open.pop(context.invocation_id, None)
        if opened is None:
            return
        span, token = opened
        try:
            from opentelemetry import context as otel_context  # noqa: PLC0415
            from opentelemetry.trace import Status, StatusCode  # noqa: PLC0415

            if isinstance(func_ret, HttpResponse):
                span.set_attribute("http.response.status_code", func_ret.status_code)
                if func_ret.status_code >= 500:
                    span.set_status(Status(StatusCode.ERROR))
            otel_context.detach(token)
        finally:
            span.end()


def flush() -> None:
    """Export what is buffered (tests, benchmarks, and the end of a timer run)."""
    if not _state.get("done"):
        return
    from opentelemetry import trace  # noqa: PLC0415
    from opentelemetry._logs import get_logger_provider  # noqa: PLC0415

    for provider in (trace.get_tracer_provider(), get_logger_provider()):
        force_flush = getattr(provider, "force_flush", None)
        if callable(force_flush):
            force_flush()
