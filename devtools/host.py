"""A local Functions host: serves `function_app`'s registered functions as `func start` would.

What it reproduces of the real host, because the desk relies on it:
- HTTP routes under the `routePrefix` of host.json (`api`), route templates (`{id}`,
  `{id:int}`, `{id?}`, `{*rest}`), methods (405 otherwise), auth levels: `function` routes
  need DESK_FUNCTION_KEY (or the master key), `admin` routes DESK_MASTER_KEY, sent as
  `x-functions-key` or `?code=` (401 otherwise);
- timer functions on their NCRONTAB schedules (`%SETTING%` resolved from the environment, in
  WEBSITE_TIME_ZONE or TZ, else UTC) and on `POST /admin/functions/{name}` with the master key
  (answered 202 once the run has finished, so scripts and tests need no polling);
- settings: `local.settings.json` (or the sample) loaded into the environment, which wins;
- App Service authentication (see `local_auth`): `/.auth/login/aad` is a development sign-in
  form (name, app roles) whose cookie the host turns into `X-MS-CLIENT-PRINCIPAL`; `/.auth/me`
  and `/.auth/logout` work. One local-only difference: a principal header a client sends
  itself passes through (App Service would strip it), so tests can sign in without a form.

Start it with `python -m devtools.host --port 7071` (add `--linesim 7072` for the LINE
simulator in the same process, as `make run` does). It prints one line beginning with
"ready" once it serves.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import errno
import hmac
import html
import importlib
import inspect
import json
import logging
import os
import re
import sys
import threading
import time
import traceback
import uuid
from collections.abc import Callable, Mapping, MutableMapping
from dataclasses import dataclass
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, NoReturn
from urllib.parse import parse_qs, parse_qsl, urlsplit
from zoneinfo import ZoneInfo

from croniter import croniter

from shared.config import LOCAL_ENVIRONMENTS
from shared.logsafe import describe

ROOT = Path(__file__).resolve().parent.parent
log = logging.getLogger("devtools.host")

Response = tuple[int, dict[str, str], bytes]
# The real host keeps route templates starting with these for its own APIs (whatever the
# routePrefix) and puts a function that claims one in error.
RESERVED_ROUTE_PREFIXES = ("admin", "runtime")
# Admin routes carry LINE user ids in their paths; the request log must not.
_LINE_USER_ID = re.compile(r"U[0-9a-f]{32}")
# The real host's rule for function names (case-insensitive).
_FUNCTION_NAME = re.compile(r"[a-z][a-z0-9_\-]{0,127}", re.IGNORECASE)
ALL_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")
# A client that stops sending (or idles on a kept-alive connection) is dropped after this.
REQUEST_TIMEOUT_SECONDS = 30.0
# Pending connections the listening socket queues (the standard library's default is 5,
# which refuses connections under a load run's bursts).
LISTEN_BACKLOG = 1024
# Timers log their one summary line here; `POST /admin/functions/{name}` answers with it.
TIMER_LOGGER = "desk.timers"


def load_local_settings(root: Path = ROOT, environ: dict[str, str] | None = None) -> Path | None:
    """Copy `Values` of local.settings.json (else the sample) into the environment, which wins."""
    target = os.environ if environ is None else environ
    for name in ("local.settings.json", "local.settings.sample.json"):
        path = root / name
        if path.is_file():
            values = json.loads(path.read_text("utf-8")).get("Values", {})
            for key, value in values.items():
                target.setdefault(key, str(value))
            return path
    return None


def plays_app_service_authentication(environ: MutableMapping[str, str]) -> None:
    """In local development this host stands in for App Service authentication, so the app
    believes `X-MS-CLIENT-PRINCIPAL` here (WEBSITE_AUTH_ENABLED=true, unless given a value).
    Outside development it sets nothing: the app then refuses principal headers."""
    environment = environ.get("DESK_ENVIRONMENT") or environ.get("AZURE_FUNCTIONS_ENVIRONMENT")
    local = (environment or "").strip().lower() in LOCAL_ENVIRONMENTS
    if local and not environ.get("WEBSITE_AUTH_ENABLED", "").strip():  # the sample leaves it ""
        environ["WEBSITE_AUTH_ENABLED"] = "true"


def compile_route(template: str) -> re.Pattern[str]:
    """A case-insensitive regex for an ASP.NET-style route template."""
    pattern = ""
    for literal, param in re.findall(r"([^{]*)(\{[^}]*\})?", template):
        pattern += re.escape(literal)
        if not param:
            continue
        inner = param[1:-1]
        catch_all = inner.startswith("*")
        name, _, constraint = inner.lstrip("*").partition(":")
        optional = name.endswith("?") or constraint.endswith("?")
        name, constraint = name.rstrip("?"), constraint.rstrip("?").split("(")[0]
        if catch_all:
            body = ".*"
        elif constraint == "int":
            body = r"-?\d+"
        elif constraint == "guid":
            body = r"[0-9a-fA-F]{8}-?(?:[0-9a-fA-F]{4}-?){3}[0-9a-fA-F]{12}"
        elif constraint == "alpha":
            body = r"[A-Za-z]+"
        else:
            body = r"[^/]+"
        group = f"(?P<{name}>{body})"
        if optional and pattern.endswith("/"):
            pattern = pattern[:-1] + f"(?:/{group})?"
        else:
            pattern += group + ("?" if optional else "")
    return re.compile(f"^{pattern}/?$", re.IGNORECASE)


def _route_shape(template: str) -> str:
    """A template with its parameter names dropped: two routes of one shape are the same."""
    return re.sub(r"\{[^}]*\}", "{}", template.strip("/")).lower()


@dataclass(frozen=True)
class Schedule:
    """An NCRONTAB schedule as Azure Functions timer triggers read it (croniter underneath).

    Six fields: second minute hour day month day-of-week; five fields are read with second
    0. Unlike Vixie cron, NCRONTAB fires only when both the day of the month and the day of
    the week match (`day_or=False`): `0 0 9 13 * Fri` is 09:00 on each Friday the 13th.
    """

    expression: str

    @classmethod
    def parse(cls, expression: str) -> Schedule:
        """The schedule, or ValueError naming what is wrong with the expression."""
        fields = expression.split()
        if len(fields) not in (5, 6):
            raise ValueError(f"an NCRONTAB expression has 6 fields (or 5), not {len(fields)}")
        six = " ".join(fields if len(fields) == 6 else ["0", *fields])
        try:
            croniter(six, second_at_beginning=True, day_or=False)
        except (ValueError, KeyError) as error:  # croniter's errors subclass ValueError
            raise ValueError(
                f"not a valid NCRONTAB expression (out of range, step or number): {error}"
            ) from None
        return cls(six)

    def next_after(self, moment: datetime) -> datetime:
        """The first fire time strictly after `moment` (in `moment`'s time zone)."""
        following: datetime = croniter(
            self.expression, moment, second_at_beginning=True, day_or=False
        ).get_next(datetime)
        return following


@dataclass(frozen=True)
class HttpFunction:
    """One HTTP-triggered function as the host routes it."""

    name: str
    route: str
    pattern: re.Pattern[str]
    methods: frozenset[str]
    auth_level: str
    arg_name: str
    call: Callable[..., Any]


@dataclass(frozen=True)
class TimerFunction:
    """One timer-triggered function."""

    name: str
    schedule: Schedule | None
    problem: str | None
    arg_name: str
    call: Callable[..., Any]


def _resolve_setting(expression: str) -> str:
    """`%NAME%` becomes the value of the setting NAME, as the real host resolves bindings."""

    def lookup(match: re.Match[str]) -> str:
        value = os.environ.get(match.group(1))
        if value is None:
            raise KeyError(match.group(1))
        return value

    return re.sub(r"%([^%]+)%", lookup, expression)


class LocalHost:
    """Routes requests and timer runs to a FunctionApp's functions."""

    def __init__(self, app: Any, route_prefix: str, function_key: str, master_key: str) -> None:
        self.prefix = route_prefix.strip("/")
        self.function_key = function_key
        self.master_key = master_key
        self.http: list[HttpFunction] = []
        self.timers: dict[str, TimerFunction] = {}
        self.errors: dict[str, str] = {}
        self.warmups: list[tuple[str, Callable[..., Any]]] = []
        default_auth = _enum_value(getattr(app, "_auth_level", "function"))
        for function in app.get_functions():
            name = function.get_function_name()
            trigger = function.get_trigger()
            call = function.get_user_function()
            if not _FUNCTION_NAME.fullmatch(name):
                self._disable(
                    name,
                    "the function name is invalid (a letter, then letters,"
                    " digits, _ or -, at most 128)",
                )
            elif trigger.type == "httpTrigger":
                self._add_http(name, trigger, call, default_auth)
            elif trigger.type == "timerTrigger":
                self.timers[name] = self._timer(function, trigger, call)
            elif trigger.type == "warmupTrigger":
                self.warmups.append((trigger.name, call))

    # -- registration: what the real host refuses, this one refuses too --------------------

    def _disable(self, name: str, problem: str) -> None:
        """As the real host does: the function is in error and never served."""
        log.error("function %s disabled: %s", name, problem)
        self.errors[name] = problem

    def _add_http(self, name: str, trigger: Any, call: Callable[..., Any], auth: str) -> None:
        route = trigger.route or name
        methods = frozenset(_enum_value(m).upper() for m in trigger.methods or ALL_METHODS)
        if route.startswith(("/", "~")):
            self._disable(name, "the route template cannot start with '/' or '~'")
            return
        if route.lower().startswith(RESERVED_ROUTE_PREFIXES):
            self._disable(name, "the specified route conflicts with one or more built in routes")
            return
        shape = _route_shape(route)
        for other in self.http:
            if _route_shape(other.route) == shape and other.methods & methods:
                overlap = ",".join(sorted(other.methods & methods))
                self._disable(name, f"route {route} ({overlap}) is already {other.name}'s")
                return
        self.http.append(
            HttpFunction(
                name=name,
                route=route,
                pattern=compile_route(route),
                methods=methods,
                auth_level=_enum_value(trigger.auth_level or auth).lower(),
                arg_name=trigger.name,
                call=call,
            )
        )

    @staticmethod
    def _timer(function: Any, trigger: Any, call: Callable[..., Any]) -> TimerFunction:
        name = function.get_function_name()
        try:
            schedule, problem = Schedule.parse(_resolve_setting(trigger.schedule)), None
        except KeyError as missing:
            schedule, problem = None, f"app setting {missing.args[0]} is not set"
        except ValueError as error:
            schedule, problem = None, str(error)
        if problem:
            log.error("timer %s disabled: %s", name, problem)
        return TimerFunction(name, schedule, problem, trigger.name, call)

    # -- HTTP -------------------------------------------------------------------------------

    def handle(self, method: str, target: str, headers: Mapping[str, str], body: bytes) -> Response:
        """Answer one request as the Functions host would."""
        url = urlsplit(target)
        query = dict(parse_qsl(url.query, keep_blank_values=True))
        lowered = {k.lower(): v for k, v in headers.items()}
        key = lowered.get("x-functions-key") or query.get("code")
        path = url.path.strip("/")
        admin = re.fullmatch(r"admin/functions/([^/]+)", path)
        if admin and method == "POST":
            if not _same_key(key, self.master_key):
                return _text(401, "")
            media_type = lowered.get("content-type", "").split(";")[0].strip().lower()
            if media_type != "application/json":
                # As the real host's admin API: the body ({} or {"input": ...}) is JSON.
                return _text(
                    415, "POST /admin/functions/{name} needs Content-Type: application/json"
                )
            return self.run_timer(admin.group(1))
        if self.prefix and not (path.startswith(self.prefix + "/") or path == self.prefix):
            return _text(404, "")
        route_path = path[len(self.prefix) :].strip("/")
        matched = [(f, m) for f in self.http if (m := f.pattern.match(route_path))]
        if not matched:
            return _text(404, "")
        allowed = [(f, m) for f, m in matched if method in f.methods]
        if not allowed:
            return _text(405, "")
        function, match = allowed[0]
        if not self._authorised(function.auth_level, key):
            return _text(401, "")
        return self._invoke_http(function, method, target, lowered, query, match, body)

    def _authorised(self, level: str, key: str | None) -> bool:
        if level == "anonymous":
            return True
        master = _same_key(key, self.master_key)
        if level == "function":
            # Both comparisons run, so the time taken does not tell which key was close.
            return _same_key(key, self.function_key) | master
        return master

    def _invoke_http(
        self,
        function: HttpFunction,
        method: str,
        target: str,
        headers: dict[str, str],
        query: dict[str, str],
        match: re.Match[str],
        body: bytes,
    ) -> Response:
        import azure.functions as func  # noqa: PLC0415

        request = func.HttpRequest(
            method=method,
            url=f"http://localhost{target}",
            headers=headers,
            params=query,
            route_params={k: v for k, v in match.groupdict().items() if v is not None},
            body=body,
        )
        try:
            response = _call(function.call, {function.arg_name: request})
        except Exception:
            log.error("function %s failed:\n%s", function.name, _traceback_without_values())
            return _text(500, "")
        if response is None:
            return 204, {}, b""
        out_headers = {k: v for k, v in response.headers.items()}
        if response.mimetype:
            charset = f"; charset={response.charset}" if response.charset else ""
            out_headers["Content-Type"] = response.mimetype + charset
        return response.status_code, out_headers, response.get_body() or b""

    # -- timers -----------------------------------------------------------------------------

    def run_timer(self, name: str, *, past_due: bool = False) -> Response:
        """Run a timer function now (the host's admin endpoint): 202 when it ran, 404 if unknown."""
        from azure.functions.timer import TimerRequest  # noqa: PLC0415

        timer = next((t for n, t in self.timers.items() if n.lower() == name.lower()), None)
        if timer is None:
            return _text(404, "")
        started = time.perf_counter()
        with _ThreadLines(TIMER_LOGGER) as summary:
            try:
                _call(timer.call, {timer.arg_name: TimerRequest(past_due=past_due)})
            except Exception:
                log.error("timer %s failed:\n%s", timer.name, _traceback_without_values())
                return _text(500, summary.text())
        log.info("timer %s ran in %.0f ms", timer.name, (time.perf_counter() - started) * 1000)
        return 202, {"Content-Type": "text/plain; charset=utf-8"}, summary.text().encode()

    def warm_up(self) -> None:
        """Run the warm-up triggers, as an instance does before it takes traffic."""
        from azure.functions.warmup import WarmUpContext  # noqa: PLC0415

        for arg_name, call in self.warmups:
            try:
                _call(call, {arg_name: WarmUpContext()})
            except Exception:
                log.error("warm-up failed:\n%s", _traceback_without_values())

    def run_schedules(self, stop: threading.Event, zone: ZoneInfo) -> None:
        """Fire each timer at its next scheduled time until `stop` is set."""
        due = {
            name: timer.schedule.next_after(datetime.now(zone))
            for name, timer in self.timers.items()
            if timer.schedule is not None
        }
        while due and not stop.is_set():
            name = min(due, key=due.__getitem__)
            wait = (due[name] - datetime.now(zone)).total_seconds()
            if wait > 0 and stop.wait(wait):
                return
            self.run_timer(name)
            schedule = self.timers[name].schedule
            assert schedule is not None
            due[name] = schedule.next_after(datetime.now(zone))


def _same_key(given: str | None, expected: str) -> bool:
    """Constant-time comparison of a presented key with a configured one (any characters)."""
    if given is None or not expected:
        return False
    return hmac.compare_digest(given.encode("utf-8", "surrogatepass"), expected.encode("utf-8"))


class _ThreadLines(logging.Handler):
    """Collects what one logger writes from the current thread while in its `with` block
    (the scheduled timers run on another thread and must not mix into an admin answer)."""

    def __init__(self, logger: str) -> None:
        super().__init__(logging.INFO)
        self._logger = logging.getLogger(logger)
        self._thread = threading.get_ident()
        self._lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.thread == self._thread:
            self._lines.append(record.getMessage())

    def text(self) -> str:
        """The lines collected, one per line."""
        return "".join(line + "\n" for line in self._lines)

    def __enter__(self) -> _ThreadLines:
        self._logger.addHandler(self)
        if self._logger.getEffectiveLevel() > logging.INFO:
            self._logger.setLevel(logging.INFO)
        return self

    def __exit__(self, *exc: object) -> None:
        self._logger.removeHandler(self)


def _call(function: Callable[..., Any], kwargs: dict[str, Any]) -> Any:
    if inspect.iscoroutinefunction(function):
        return asyncio.run(function(**kwargs))
    return function(**kwargs)


def _traceback_without_values() -> str:
    """Frames only: the exception's message may carry personal data, even locally."""
    _, exc, tb = sys.exc_info()
    frames = "".join(traceback.format_tb(tb))
    # The desk's own errors carry no personal data (their messages name settings, not values).
    return f"{frames}{describe(exc) if exc else 'Exception'}"


def _enum_value(value: Any) -> str:
    return str(getattr(value, "value", value))


def _text(status: int, text: str) -> Response:
    return status, {"Content-Type": "text/plain; charset=utf-8"}, text.encode()


# -- App Service authentication, as the local host plays it --------------------------------
# Kept apart from the routing above: only `_Handler._serve` calls into it.

AUTH_COOKIE = "AppServiceAuthSession"
PRINCIPAL_HEADER = "X-MS-CLIENT-PRINCIPAL"
DEV_ROLES = ("Desk.Expert", "Desk.Admin")


OBJECT_ID_CLAIM = "http://schemas.microsoft.com/identity/claims/objectidentifier"
TENANT_ID_CLAIM = "http://schemas.microsoft.com/identity/claims/tenantid"
DEV_TENANT = "00000000-0000-0000-0000-000000000000"


def dev_object_id(name: str) -> str:
    """The object id the development sign-in gives a name left without one (stable: the same
    name signs in as the same person)."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"desk-dev-staff:{name}"))


def dev_principal(name: str, roles: list[str], object_id: str | None = None) -> str:
    """A principal header value as App Service builds it (base64 JSON with claims), with the
    Entra object id (`object_id`, else one made from the name) and a development tenant."""
    claims = [
        {"typ": "name", "val": name},
        {"typ": OBJECT_ID_CLAIM, "val": object_id or dev_object_id(name)},
        {"typ": TENANT_ID_CLAIM, "val": DEV_TENANT},
        *({"typ": "roles", "val": r} for r in roles),
    ]
    document = {"auth_typ": "aad", "name_typ": "name", "role_typ": "roles", "claims": claims}
    return base64.b64encode(json.dumps(document, ensure_ascii=False).encode("utf-8")).decode()


def _local_path(raw: str | None, default: str) -> str:
    """A redirect target on this site only (never `//elsewhere` or `https://...`)."""
    if raw and raw.startswith("/") and not raw.startswith("//") and "\\" not in raw:
        return raw
    return default


def _cookie(headers: Mapping[str, str], name: str) -> str | None:
    raw = next((v for k, v in headers.items() if k.lower() == "cookie"), "")
    for part in raw.split(";"):
        key, _, value = part.strip().partition("=")
        if key == name and value:
            return value
    return None


def with_local_principal(headers: dict[str, str]) -> dict[str, str]:
    """The request's headers with the signed-in cookie's principal added, unless the client
    sent a principal header itself (the documented local-only difference)."""
    if any(k.lower() == PRINCIPAL_HEADER.lower() for k in headers):
        return headers
    value = _cookie(headers, AUTH_COOKIE)
    return {**headers, PRINCIPAL_HEADER: value} if value else headers


_SIGN_IN_PAGE = """<!doctype html>
<html lang="ja"><head><meta charset="utf-8"><title>Development sign-in</title></head>
<body>
<h1>Development sign-in (local host only)</h1>
<p>This form stands in for Microsoft Entra ID. It exists only in devtools/host.py.</p>
<form method="post" action="/.auth/login/aad">
<input type="hidden" name="post_login_redirect_uri" value="{back}">
<p><label for="name">Name</label> <input id="name" name="name" required maxlength="100"></p>
<p><label for="oid">Entra object id (optional: left empty, one is derived)</label>
 <input id="oid" name="oid" maxlength="64"></p>
<fieldset><legend>App roles</legend>{roles}</fieldset>
<p><button type="submit">Sign in</button></p>
</form>
</body></html>
"""


def local_auth(
    method: str, target: str, headers: Mapping[str, str], body: bytes
) -> Response | None:
    """Answer `/.auth/*` as App Service authentication would; None for every other path."""
    url = urlsplit(target)
    if not url.path.startswith("/.auth/"):
        return None
    query = dict(parse_qsl(url.query))
    if url.path == "/.auth/login/aad" and method == "GET":
        back = html.escape(_local_path(query.get("post_login_redirect_uri"), "/console/"))
        roles = "".join(
            f'<p><input type="checkbox" id="role-{i}" name="roles" value="{role}">'
            f' <label for="role-{i}">{role}</label></p>'
            for i, role in enumerate(DEV_ROLES)
        )
        page = _SIGN_IN_PAGE.format(back=back, roles=roles).encode()
        return 200, {"Content-Type": "text/html; charset=utf-8"}, page
    if url.path == "/.auth/login/aad" and method == "POST":
        form = parse_qs(body.decode("utf-8", "replace"))
        name = (form.get("name") or [""])[0].strip()[:100]
        if not name:
            return _text(400, "name: required")
        chosen = [r for r in form.get("roles", []) if r]
        object_id = (form.get("oid") or [""])[0].strip()[:64] or None
        back = _local_path((form.get("post_login_redirect_uri") or [""])[0], "/console/")
        signed = dev_principal(name, chosen, object_id)
        cookie = f"{AUTH_COOKIE}={signed}; Path=/; HttpOnly; SameSite=Lax"
        return 302, {"Location": back, "Set-Cookie": cookie}, b""
    if url.path == "/.auth/me":
        value = with_local_principal(dict(headers)).get(PRINCIPAL_HEADER) or next(
            (v for k, v in headers.items() if k.lower() == PRINCIPAL_HEADER.lower()), None
        )
        if not value:
            return 401, {"Content-Type": "application/json"}, b"[]"
        principal = json.loads(base64.b64decode(value))
        me = [{"provider_name": "aad", "user_claims": principal.get("claims", [])}]
        return 200, {"Content-Type": "application/json"}, json.dumps(me).encode()
    if url.path == "/.auth/logout":
        back = _local_path(query.get("post_logout_redirect_uri"), "/console/")
        expired = f"{AUTH_COOKIE}=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax"
        return 302, {"Location": back, "Set-Cookie": expired}, b""
    return _text(404, "")


class HostServer(ThreadingHTTPServer):
    """A threaded HTTP/1.1 server whose `host` is set once the app has been imported.

    It queues up to LISTEN_BACKLOG pending connections and drops a connection that sends
    nothing for `request_timeout` seconds (a stalled or idle client holds no thread for ever).
    """

    daemon_threads = True
    request_queue_size = LISTEN_BACKLOG
    request_timeout = REQUEST_TIMEOUT_SECONDS
    host: LocalHost | None = None


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out as separate writes
    server: HostServer

    def setup(self) -> None:
        """Give the connection's socket the server's timeout before anything is read."""
        # What StreamRequestHandler.setup does with a class-level `timeout`, per server.
        self.request.settimeout(self.server.request_timeout)
        super().setup()

    def log_message(self, format: str, *args: Any) -> None:
        """Request lines are logged by `_serve` without query strings (keys live there)."""

    def _serve(self) -> None:
        started = time.perf_counter()
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        host = self.server.host
        if host is None:
            status, headers, payload = _text(503, "starting")
        else:
            signed_in = local_auth(self.command, self.path, dict(self.headers), body)
            status, headers, payload = signed_in or host.handle(
                self.command, self.path, with_local_principal(dict(self.headers)), body
            )
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)
        if log.isEnabledFor(logging.INFO):
            log.info(
                "%s %s -> %d in %.1f ms",
                self.command,
                _LINE_USER_ID.sub("U…", urlsplit(self.path).path),
                status,
                (time.perf_counter() - started) * 1000,
            )

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _serve

    def __getattr__(self, name: str) -> Any:
        # Any other method (TRACE, PROPFIND, ...) is routed too: the host answers it 405 or
        # 404 like the real one, instead of the standard library's 501.
        if name.startswith("do_"):
            return self._serve
        raise AttributeError(name)


def _print_banner(
    host: LocalHost, base: str, prefix: str, source: str, sim_url: str | None
) -> None:
    """The `ready` line (what scripts wait for), then what is served and how to call it."""
    print(f"ready {base} settings={source}", flush=True)
    for function in host.http:
        methods = ",".join(sorted(function.methods))
        path = f"{prefix}/{function.route}" if prefix else function.route
        print(f"  {methods} {base}/{path} [{function.auth_level}]")
    for timer in host.timers.values():
        print(f"  timer {timer.name}: {timer.problem or 'scheduled'}")
    for name, problem in host.errors.items():
        print(f"  function {name} in error: {problem}")
    print(
        f"  admin API key: header x-functions-key or ?code= (DESK_FUNCTION_KEY; the master key"
        f" DESK_MASTER_KEY for /admin/functions/{{name}}), settings from {source}"
    )
    print(f"Experts' console: {base}/console/ (development sign-in at {base}/.auth/login/aad)")
    if sim_url:
        sim_port = urlsplit(sim_url).port
        print(f"LINE simulator on {sim_url}. Chat with the desk: make chat LINESIM_PORT={sim_port}")
    sys.stdout.flush()


def _set_up_rich_menus(sim_url: str, token: str) -> None:
    """The desk's rich menus in the local simulator, as `ops.line_setup richmenus` sets them
    up on LINE (so `make chat` shows them)."""
    from ops.line_setup import SdkRichMenus  # noqa: PLC0415
    from ops.richmenus import desk_menus, set_up  # noqa: PLC0415

    set_up(SdkRichMenus(sim_url, sim_url, token), desk_menus(), say=lambda _: None)


def _listening(address: str, port: int, setting: str) -> HostServer:
    """The host's server on `port`, or one line saying the port is taken (no traceback)."""
    try:
        return HostServer((address, port), _Handler)
    except OSError as exc:
        _busy(port, setting, exc)


def _busy(port: int, setting: str, exc: OSError) -> NoReturn:
    """Stop with one line: which port could not be had, and how to choose another."""
    reason = "is already in use" if exc.errno == errno.EADDRINUSE else f"cannot be used ({exc})"
    print(
        f"port {port} {reason}: stop what holds it, or choose another: make run {setting}=…",
        file=sys.stderr,
    )
    raise SystemExit(2)


def main(argv: list[str] | None = None) -> None:
    """Serve the desk locally until interrupted."""
    parser = argparse.ArgumentParser(description="Serve function_app like `func start`.")
    parser.add_argument("--port", type=int, default=7071)
    parser.add_argument("--address", default="127.0.0.1")
    parser.add_argument(
        "--linesim",
        type=int,
        default=None,
        metavar="PORT",
        help="also run the LINE simulator on PORT and point the desk at it",
    )
    parser.add_argument("--no-timers", action="store_true", help="run timers only on demand")
    parser.add_argument("--app", default="function_app", help="module holding `app`")
    options = parser.parse_args(argv)

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    for noisy in ("azure", "urllib3"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    settings_file = load_local_settings()
    os.environ.setdefault("AZURE_FUNCTIONS_ENVIRONMENT", "Development")
    plays_app_service_authentication(os.environ)

    server = _listening(options.address, options.port, "PORT")
    port = server.server_address[1]
    sim_url = None
    if options.linesim is not None:
        from devtools.linesim import LineSimulator  # noqa: PLC0415

        sim = LineSimulator(
            os.environ.get("LINE_CHANNEL_SECRET", "local-dev-channel-secret"),
            os.environ.get("LINE_CHANNEL_ACCESS_TOKEN", "local-dev-access-token"),
            f"http://{options.address}:{port}/api/line/webhook",
        )
        try:
            sim_url = sim.start(options.address, options.linesim)
        except OSError as exc:
            server.server_close()
            _busy(options.linesim, "LINESIM_PORT", exc)
        os.environ["LINE_API_BASE_URL"] = sim_url
        _set_up_rich_menus(sim_url, sim.access_token)

    sys.path.insert(0, str(ROOT))
    app = importlib.import_module(options.app).app
    host_json = json.loads((ROOT / "host.json").read_text("utf-8"))
    prefix = host_json.get("extensions", {}).get("http", {}).get("routePrefix", "api").strip("/")
    host = LocalHost(
        app,
        prefix,
        os.environ.get("DESK_FUNCTION_KEY", "local-function-key"),
        os.environ.get("DESK_MASTER_KEY", "local-master-key"),
    )
    host.warm_up()
    server.host = host

    stop = threading.Event()
    if not options.no_timers:
        zone = ZoneInfo(os.environ.get("WEBSITE_TIME_ZONE") or os.environ.get("TZ") or "UTC")
        threading.Thread(target=host.run_schedules, args=(stop, zone), daemon=True).start()

    source = settings_file.name if settings_file else "environment"
    _print_banner(host, f"http://{options.address}:{port}", prefix, source, sim_url)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        stop.set()
        server.server_close()


if __name__ == "__main__":
    main()
