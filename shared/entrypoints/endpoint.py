"""One decorator for every admin API function: route, role, body, errors and the JSON answer.

An admin function is then only what differs between them: which use case it calls with which
parts of the request. `endpoint` registers it on the blueprint with the function key
(`AuthLevel.FUNCTION`), refuses callers without the role (identity.requires), parses the JSON
body as the route asks, maps the desk's errors to HTTP (http.respond) and turns what the
function returns into JSON (or passes an `HttpResponse` through). Audit records are written by
the use cases themselves: they know what changed.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cached_property
from typing import Any

import azure.functions as func

from shared.entrypoints.http import from_another_site, json_body, json_response, respond
from shared.entrypoints.identity import HttpFunction, holds_admin, operator_from, requires, who_from
from shared.errors import AuthorizationError, JsonRequired


class Body(StrEnum):
    """What an admin route expects in its request body."""

    NONE = "none"  # nothing is read
    OPTIONAL = "optional"  # a JSON object, or nothing at all
    REQUIRED = "required"  # a JSON object


@dataclass(frozen=True)
class Call:
    """One admin request, as the function behind a route needs it."""

    req: func.HttpRequest
    body: dict[str, Any] = field(default_factory=dict)

    @property
    def route(self) -> Mapping[str, str]:
        """The route template's values (`{sessionId}`, ...)."""
        values: Mapping[str, str] = self.req.route_params
        return values

    @property
    def params(self) -> Mapping[str, str]:
        """The query string's values."""
        values: Mapping[str, str] = self.req.params
        return values

    @cached_property
    def operator(self) -> str:
        """Who acts: the signed-in principal, else the `operator` the body asserts."""
        return operator_from(self.req, self.body)

    @cached_property
    def who(self) -> str:
        """Who reads, for the audit: the principal, else the function key."""
        return who_from(self.req)

    @cached_property
    def admin(self) -> bool:
        """Does the signed-in caller hold Desk.Admin (a function key alone never does)?"""
        return holds_admin(self.req)

    def acting(self) -> str:
        """Who changes something: the `operator` the body names, else the reader (`who`)."""
        return self.operator if "operator" in self.body else self.who


Handler = Callable[[Call], object]


_READS = frozenset({"GET", "HEAD"})


def refuse_browser_world(req: func.HttpRequest, method: str) -> None:
    """A state-changing admin call comes from a script, not from a page a browser was led to:
    the function key in the `x-functions-key` header (a `?code=` travels in links, logs and
    Referer headers), not from another site, and a body declared `application/json` (a form
    or `text/plain` body is what a foreign page can send without asking). The App Service
    sign-in cookie would otherwise supply the principal."""
    if method in _READS:
        return
    if "code" in req.params:
        raise AuthorizationError(None, "key_in_query")
    if from_another_site(req):
        raise AuthorizationError(None, "cross_site")
    declared = (req.headers.get("content-type") or "").split(";")[0].strip().lower()
    if (declared or req.get_body()) and declared != "application/json":
        raise JsonRequired("Content-Type", "json_only")


def endpoint(
    bp: func.Blueprint,
    method: str,
    route: str,
    *,
    role: str,
    body: Body = Body.NONE,
    status: int = 200,
) -> Callable[[Handler], HttpFunction]:
    """Register `handler` as the admin function for `method route` (see the module docstring)."""

    def decorate(handler: Handler) -> HttpFunction:
        def function(req: func.HttpRequest) -> func.HttpResponse:
            def work() -> func.HttpResponse:
                refuse_browser_world(req, method)
                payload = (
                    {} if body is Body.NONE else json_body(req, optional=body is Body.OPTIONAL)
                )
                result = handler(Call(req, payload))
                if isinstance(result, func.HttpResponse):
                    return result
                return json_response(result, status)

            return respond(work)

        named_after(function, handler)
        registered: HttpFunction = bp.route(
            route=route, methods=[method], auth_level=func.AuthLevel.FUNCTION
        )(requires(role)(function))
        return registered

    return decorate


def named_after(function: HttpFunction, handler: Callable[..., object]) -> None:
    """Give `function` the handler's name and docstring: the host names a function after it,
    and binds `req` by the parameter's name, so `__wrapped__` (which would expose the handler's
    own parameters) is not set."""
    function.__name__, function.__qualname__ = handler.__name__, handler.__qualname__
    function.__doc__, function.__module__ = handler.__doc__, handler.__module__


def blueprint() -> func.Blueprint:
    """A new blueprint (azure-functions leaves its constructor unannotated)."""
    made: func.Blueprint = func.Blueprint()  # type: ignore[no-untyped-call]  # unannotated upstream
    return made
