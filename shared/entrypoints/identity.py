"""Who is calling the admin API: App Service authentication's principal, or a named operator."""

from __future__ import annotations

import base64
import binascii
import functools
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import azure.functions as func

from shared.config import get_settings
from shared.entrypoints.http import configuration_response, refuse
from shared.errors import AuthorizationError, ConfigurationError, DeskError, ValidationError

HttpFunction = Callable[[func.HttpRequest], func.HttpResponse]

PRINCIPAL_HEADER = "x-ms-client-principal"
_NAME_CLAIMS = ("name", "preferred_username", "email")
MAX_OPERATOR = 100


@dataclass(frozen=True)
class Principal:
    """A caller signed in through App Service authentication."""

    name: str
    roles: frozenset[str]


def principal_from(req: func.HttpRequest) -> Principal | None:
    """The caller App Service authentication vouches for, if the header is there."""
    header = req.headers.get(PRINCIPAL_HEADER)
    if not header:
        return None
    try:
        data: Any = json.loads(base64.b64decode(header, validate=True))
    except (binascii.Error, ValueError):
        raise ValidationError(f"{PRINCIPAL_HEADER} is not base64 JSON") from None
    if not isinstance(data, dict):
        raise ValidationError(f"{PRINCIPAL_HEADER} is not a principal")
    claims = [c for c in data.get("claims") or [] if isinstance(c, dict)]
    name_types = (data.get("name_typ"), *_NAME_CLAIMS)
    role_type = data.get("role_typ") or "roles"
    name = next(
        (str(c.get("val")) for t in name_types for c in claims if t and c.get("typ") == t),
        data.get("userDetails") or "",
    )
    roles = {str(c.get("val")) for c in claims if c.get("typ") in (role_type, "roles")}
    roles.update(str(r) for r in data.get("userRoles") or [])
    if not name:
        raise ValidationError(f"{PRINCIPAL_HEADER} names nobody")
    return Principal(name=name[:MAX_OPERATOR], roles=frozenset(roles))


def operator_from(req: func.HttpRequest, body: dict[str, Any]) -> str:
    """The expert acting: the signed-in principal, else `operator` in the body."""
    principal = principal_from(req)
    if principal is not None:
        return principal.name
    operator = body.get("operator")
    if isinstance(operator, str) and 0 < len(operator.strip()) <= MAX_OPERATOR:
        return operator.strip()
    raise ValidationError(
        "operator: sign in through App Service authentication, or name the operator "
        f"(1-{MAX_OPERATOR} characters) in the body"
    )


def who_from(req: func.HttpRequest) -> str:
    """Who to name in the audit for a read: the principal, an `operator` parameter, or the key."""
    principal = principal_from(req)
    if principal is not None:
        return principal.name
    named = (req.params.get("operator") or "").strip()
    return named[:MAX_OPERATOR] if named else "function-key"


EXPERT = "Desk.Expert"
ADMIN = "Desk.Admin"


def holds_admin(req: func.HttpRequest) -> bool:
    """Does the signed-in principal hold Desk.Admin? A function key alone never does: taking
    over another expert's session needs the app role from App Service authentication."""
    try:
        principal = principal_from(req)
    except ValidationError:
        return False
    return principal is not None and ADMIN in principal.roles


def check_role(req: func.HttpRequest, role: str, *, required: bool) -> None:
    """With App Service authentication on, the caller needs `role` (Desk.Admin may do all).

    The function key is checked by the host before this. `required` (DESK_REQUIRE_APP_ROLES)
    refuses callers without a principal: set it where authentication is on, since only then
    does App Service strip a client's own X-MS-CLIENT-PRINCIPAL header.
    """
    try:
        principal = principal_from(req)
    except ValidationError:
        raise AuthorizationError(f"{PRINCIPAL_HEADER} is not a valid principal") from None
    if principal is None:
        if required:
            raise AuthorizationError("sign in through App Service authentication")
        return
    if role not in principal.roles and ADMIN not in principal.roles:
        raise AuthorizationError(f"the {role} app role is needed")


def requires(role: str) -> Callable[[HttpFunction], HttpFunction]:
    """Decorate an admin function: 403 unless the caller holds `role` (see check_role)."""

    def decorate(function: HttpFunction) -> HttpFunction:
        @functools.wraps(function)
        def guarded(req: func.HttpRequest) -> func.HttpResponse:
            try:
                settings = get_settings()
            except ConfigurationError as exc:
                # No role can be checked without settings: every admin caller (who holds the
                # function key) is told which settings are wrong, and the log says it too.
                return configuration_response(exc)
            try:
                check_role(req, role, required=settings.require_app_roles)
            except DeskError as exc:
                return refuse(exc)
            return function(req)

        return guarded

    return decorate
