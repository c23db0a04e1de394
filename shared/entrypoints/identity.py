"""Who is calling the admin API: App Service authentication's principal, or the function key.

The rules (README, "Who may call the admin API"):
- `X-MS-CLIENT-PRINCIPAL` is believed only where App Service authentication is on
  (`WEBSITE_AUTH_ENABLED`, set by the platform, which then replaces any header a client sends;
  the local host sets it in local development, where it plays that part). Anywhere else a
  request carrying the header is refused with 403: a forged principal never grants a role.
- A caller without a principal is the function key (`function-key`). Where app roles are
  required (DESK_REQUIRE_APP_ROLES, the default outside development) it holds only the role
  DESK_KEY_CALLER_ROLE grants it, none by default; in development without them, every role.
- The `operator` a key-only caller names is asserted, not verified: it names the assignee or
  author, and the audit records the key as who acted and the operator as asserted.
- A principal is who its Entra object id and tenant say (`Principal.staff`, a StaffRef): the
  name is shown, the key is compared. An asserted operator is keyed as a script's, so it never
  passes for the person it names (shared/domain/staff.py).
"""

from __future__ import annotations

import base64
import binascii
import functools
import json
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import azure.functions as func

from shared.config import Settings, get_settings
from shared.domain.staff import StaffRef, principal_key, staff_key
from shared.entrypoints.http import configuration_response, refuse
from shared.errors import AuthorizationError, ConfigurationError, DeskError, ValidationError
from shared.services.audit import Actor

HttpFunction = Callable[[func.HttpRequest], func.HttpResponse]

PRINCIPAL_HEADER = "x-ms-client-principal"
_NAME_CLAIMS = ("name", "preferred_username", "email")
MAX_OPERATOR = 100
MAX_PRINCIPAL = 16_384  # characters of the header; App Service's are a few hundred to a few KB
KEY_CALLER = "function-key"  # who a caller with only the function key is, in the audit

EXPERT = "Desk.Expert"
ADMIN = "Desk.Admin"


OBJECT_ID_CLAIMS = ("http://schemas.microsoft.com/identity/claims/objectidentifier", "oid")
TENANT_ID_CLAIMS = ("http://schemas.microsoft.com/identity/claims/tenantid", "tid")


@dataclass(frozen=True)
class Principal:
    """A caller signed in through App Service authentication: the name shown, and the
    immutable Entra object id and tenant that say who they are."""

    name: str
    roles: frozenset[str]
    object_id: str = ""
    tenant_id: str = ""

    @property
    def staff(self) -> StaffRef:
        """The principal as the services know staff: the name, keyed by the object id (a
        principal without one, from another identity provider, by the name alone)."""
        key = principal_key(self.tenant_id, self.object_id) if self.object_id else None
        return StaffRef(self.name, key) if key else StaffRef(self.name, staff_key(self.name))


def _strings(value: object, field: str) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValidationError(PRINCIPAL_HEADER, "principal_string_list", name=field)
    return value


def _printable_name(value: str) -> str | None:
    name = value.strip()
    if not name or any(unicodedata.category(ch).startswith("C") for ch in name):
        return None
    return name


def parse_principal(header: str) -> Principal:
    """The principal in an `X-MS-CLIENT-PRINCIPAL` header (base64 JSON), or a ValidationError
    naming the header and what is wrong with it."""
    if len(header) > MAX_PRINCIPAL:
        raise ValidationError(PRINCIPAL_HEADER, "principal_too_long", max=MAX_PRINCIPAL)
    try:
        data: Any = json.loads(base64.b64decode(header, validate=True))
    except (binascii.Error, ValueError, RecursionError):
        raise ValidationError(PRINCIPAL_HEADER, "principal_not_base64") from None
    if not isinstance(data, dict):
        raise ValidationError(PRINCIPAL_HEADER, "principal_not_object")
    claims = data.get("claims")
    if claims is None:
        claims = []
    if not isinstance(claims, list) or not all(
        isinstance(c, dict) and isinstance(c.get("typ"), str) and isinstance(c.get("val"), str)
        for c in claims
    ):
        raise ValidationError(PRINCIPAL_HEADER, "principal_claims")
    types: dict[str, str] = {}
    for field in ("name_typ", "role_typ"):
        value = data.get(field)
        if value is not None and not isinstance(value, str):
            raise ValidationError(PRINCIPAL_HEADER, "principal_string", name=field)
        types[field] = value or ""
    details = data.get("userDetails")
    if details is not None and not isinstance(details, str):
        raise ValidationError(PRINCIPAL_HEADER, "principal_string", name="userDetails")
    name_types = [t for t in (types["name_typ"], *_NAME_CLAIMS) if t]
    named = [c["val"] for t in name_types for c in claims if c["typ"] == t]
    name = next(iter(named), details or "")
    role_types = {types["role_typ"] or "roles", "roles"}
    roles = {c["val"] for c in claims if c["typ"] in role_types}
    roles.update(_strings(data.get("userRoles"), "userRoles"))
    printable = _printable_name(name)
    if printable is None:
        raise ValidationError(PRINCIPAL_HEADER, "principal_no_name")
    object_id = next((c["val"] for t in OBJECT_ID_CLAIMS for c in claims if c["typ"] == t), "")
    tenant_id = next((c["val"] for t in TENANT_ID_CLAIMS for c in claims if c["typ"] == t), "")
    return Principal(
        name=printable[:MAX_OPERATOR],
        roles=frozenset(roles),
        object_id=object_id.strip()[:64],
        tenant_id=tenant_id.strip()[:64],
    )


def trusted_principal(req: func.HttpRequest, settings: Settings) -> Principal | None:
    """The caller App Service authentication vouches for; None without the header.

    A header where authentication is off is refused (AuthorizationError): nothing stripped a
    client's own, so it proves nothing.
    """
    header = req.headers.get(PRINCIPAL_HEADER)
    if header is None or header == "":
        return None
    if not settings.app_service_auth:
        raise AuthorizationError(PRINCIPAL_HEADER, "principal_auth_off")
    return parse_principal(header)


def _asserted(value: object) -> str | None:
    if not isinstance(value, str) or len(value.strip()) > MAX_OPERATOR:
        return None
    return _printable_name(value)


def operator_from(req: func.HttpRequest, body: dict[str, Any]) -> str:
    """The expert acting: the signed-in principal, else `operator` in the body (an Actor: the
    function key's caller asserting that name)."""
    principal = trusted_principal(req, get_settings())
    if principal is not None:
        return principal.staff
    operator = _asserted(body.get("operator"))
    if operator is None:
        raise ValidationError("operator", "operator_required", max=MAX_OPERATOR)
    return Actor(operator, KEY_CALLER)


def who_from(req: func.HttpRequest) -> str:
    """Who to name in the audit for a read: the principal, else the key (with the `operator`
    parameter, if given, as asserted)."""
    principal = trusted_principal(req, get_settings())
    if principal is not None:
        return principal.staff
    raw = req.params.get("operator")
    if raw is None:
        return KEY_CALLER
    operator = _asserted(raw)
    if operator is None:
        raise ValidationError("operator", "operator_optional", max=MAX_OPERATOR)
    return Actor(operator, KEY_CALLER)


def holds_admin(req: func.HttpRequest) -> bool:
    """Does the signed-in principal hold Desk.Admin? A function key alone never does (whatever
    DESK_KEY_CALLER_ROLE grants): taking over another expert's session needs the app role from
    App Service authentication."""
    try:
        principal = trusted_principal(req, get_settings())
    except DeskError:
        return False
    return principal is not None and ADMIN in principal.roles


def check_role(req: func.HttpRequest, role: str, settings: Settings) -> None:
    """403 unless the caller holds `role` (Desk.Admin may do all); 400 for a malformed
    principal. The function key is checked by the host before this."""
    principal = trusted_principal(req, settings)
    if principal is None:
        if not settings.require_app_roles:
            return  # local development only (config refuses it elsewhere)
        granted = settings.key_caller_role
        if granted is not None and granted in (role, ADMIN):
            return
        raise AuthorizationError(None, "role_sign_in", role=role)
    if role not in principal.roles and ADMIN not in principal.roles:
        raise AuthorizationError(None, "role_needed", role=role)


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
                check_role(req, role, settings)
            except DeskError as exc:
                return refuse(exc)
            return function(req)

        return guarded

    return decorate
