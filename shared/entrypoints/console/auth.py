"""Who may use the console, and which requests may change something.

Kept apart from shared/entrypoints/identity.py, whose `trusted_principal` reads the header:
this module adds the console's own rules on top of it.

- App Service authentication must be on (`WEBSITE_AUTH_ENABLED`): only then does the platform
  strip a client's own `X-MS-CLIENT-PRINCIPAL`, so only then is the header worth anything.
- A request without a principal is sent to sign in (`/.auth/login/aad`), and comes back to
  the page it asked for; a principal without `Desk.Expert` or `Desk.Admin` gets 403.
- A state change is a POST from htmx (`HX-Request: true`) on this site: a cross-site
  `Sec-Fetch-Site` or a foreign `Origin` is 403, and so is a POST that shows neither.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from urllib.parse import quote, urlsplit

import azure.functions as func

from shared.config import Settings
from shared.entrypoints.http import from_another_site
from shared.entrypoints.identity import ADMIN, EXPERT, Principal, trusted_principal
from shared.errors import AuthorizationError, ValidationError

LOGIN_PATH = "/.auth/login/aad"
LOGOUT_PATH = "/.auth/logout"
CONSOLE_ROLES = frozenset({EXPERT, ADMIN})


class Refusal(Enum):
    """Why a console request is not served."""

    AUTH_OFF = "auth_off"  # App Service authentication is not on: 503
    SIGN_IN = "sign_in"  # no principal: sign in first
    BAD_PRINCIPAL = "bad_principal"  # a header that is not a principal: 403
    ROLE = "role"  # neither Desk.Expert nor Desk.Admin: 403
    CROSS_SITE = "cross_site"  # a state change from another site, or not from htmx: 403


@dataclass(frozen=True)
class Staff:
    """A signed-in consultant or supervisor. `name` is shown; it is a StaffRef carrying who
    they are (their Entra object id), which the services compare."""

    name: str
    is_admin: bool


def staff_from(req: func.HttpRequest, settings: Settings) -> Staff | Refusal:
    """The signed-in staff member, or why the request is refused."""
    if not settings.app_service_auth:
        return Refusal.AUTH_OFF
    try:
        principal: Principal | None = trusted_principal(req, settings)
    except (ValidationError, AuthorizationError):
        return Refusal.BAD_PRINCIPAL
    if principal is None:
        return Refusal.SIGN_IN
    if not principal.roles & CONSOLE_ROLES:
        return Refusal.ROLE
    return Staff(name=principal.staff, is_admin=ADMIN in principal.roles)


def same_site_htmx(req: func.HttpRequest) -> bool:
    """May this POST change something? From htmx, and from this site only."""
    headers = req.headers
    if (headers.get("hx-request") or "").lower() != "true":
        return False
    if not headers.get("sec-fetch-site") and not headers.get("origin"):
        return False  # every browser of the last years sends one of them on a POST
    return not from_another_site(req)


def login_url(req: func.HttpRequest) -> str:
    """Where to sign in, coming back to the page asked for (a local path, never a site)."""
    wanted = req.headers.get("hx-current-url") or req.url
    parts = urlsplit(wanted)
    path = parts.path if parts.path.startswith("/console") else "/console/"
    back = path + (f"?{parts.query}" if parts.query else "")
    return f"{LOGIN_PATH}?post_login_redirect_uri={quote(back, safe='')}"
