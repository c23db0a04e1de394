"""azd postdeploy hook: register the webhook with LINE and smoke-test the deployed desk.

1. The webhook URL https://<app>.azurewebsites.net/api/line/webhook is set on the channel
   and LINE's webhook test runs (`ops.line_setup`), with the access token read from Key Vault.
2. Smoke test: an unsigned webhook call must get 401, an admin call without a key 401, and a
   console page asked with a forged `X-MS-CLIENT-PRINCIPAL` must be sent to sign in (App
   Service authentication strips the header: without that, anyone could claim Desk.Admin).
Standard library only; the token is never printed.
"""

from __future__ import annotations

import base64
import json
import os
import sys
import urllib.error
import urllib.request

from infra.hooks.postprovision import API_VERSION, SECRETS, vault_token
from ops import line_setup

WEBHOOK_PATH = "/api/line/webhook"
ADMIN_PROBE = "/api/admin/health"
CONSOLE_PROBE = "/console/"
SIGN_IN = "/.auth/login/"
# What a forger would send: a principal holding every desk role, in App Service's format.
FORGED_PRINCIPAL = base64.b64encode(
    json.dumps(
        {
            "auth_typ": "aad",
            "name_typ": "name",
            "role_typ": "roles",
            "claims": [
                {"typ": "name", "val": "smoke-test-forger"},
                {"typ": "roles", "val": "Desk.Admin"},
                {"typ": "roles", "val": "Desk.Expert"},
            ],
        }
    ).encode()
).decode()


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        """Answer the redirect itself: the smoke test reads where it points."""
        return


def webhook_url(app_name: str) -> str:
    """The public webhook URL of a Function App."""
    return f"https://{app_name}.azurewebsites.net{WEBHOOK_PATH}"


def _answer(
    method: str, url: str, body: bytes | None = None, headers: dict[str, str] | None = None
) -> tuple[int, str]:
    """Status and `Location` of one request, redirects not followed."""
    request = urllib.request.Request(  # noqa: S310 -- the app azd deployed
        url,
        data=body,
        method=method,
        headers={"Content-Type": "application/json", **(headers or {})},
    )
    opener = urllib.request.build_opener(_NoRedirect)
    try:
        with opener.open(request, timeout=60) as response:
            return int(response.status), str(response.headers.get("Location") or "")
    except urllib.error.HTTPError as error:
        return int(error.code), str(error.headers.get("Location") or "")


def _status(method: str, url: str, body: bytes | None = None) -> int:
    return _answer(method, url, body)[0]


def smoke_test(base_url: str) -> list[str]:
    """Problems found (empty when the deployed desk refuses what it must refuse)."""
    problems = []
    unsigned = _status("POST", base_url.rstrip("/") + WEBHOOK_PATH, b'{"events": []}')
    if unsigned != 401:
        problems.append(f"unsigned webhook call answered {unsigned}, expected 401")
    keyless = _status("GET", base_url.rstrip("/") + ADMIN_PROBE)
    if keyless != 401:
        problems.append(f"admin call without a key answered {keyless}, expected 401")
    forged = {"X-MS-CLIENT-PRINCIPAL": FORGED_PRINCIPAL}
    status, location = _answer("GET", base_url.rstrip("/") + CONSOLE_PROBE, headers=forged)
    if status != 302 or SIGN_IN not in location:
        problems.append(
            f"a forged principal on {CONSOLE_PROBE} answered {status}, expected a redirect to"
            f" sign in ({SIGN_IN}): App Service authentication must strip the header"
        )
    return problems


def _access_token(vault_uri: str) -> str:
    name = SECRETS["LINE_CHANNEL_ACCESS_TOKEN"]
    request = urllib.request.Request(  # noqa: S310 -- the vault azd provisioned
        f"{vault_uri.rstrip('/')}/secrets/{name}?api-version={API_VERSION}",
        headers={"Authorization": f"Bearer {vault_token()}"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
        return str(json.loads(response.read())["value"])


def main() -> int:
    """Run as the azd hook (names come from the deployment's outputs)."""
    app = os.environ.get("AZURE_FUNCTION_APP_NAME", "")
    vault = os.environ.get("AZURE_KEY_VAULT_ENDPOINT", "")
    if not app or not vault:
        print("AZURE_FUNCTION_APP_NAME / AZURE_KEY_VAULT_ENDPOINT not set", file=sys.stderr)  # noqa: T201
        return 2
    problems = smoke_test(f"https://{app}.azurewebsites.net")
    env = {
        "LINE_CHANNEL_ACCESS_TOKEN": _access_token(vault),
        "LINE_API_BASE_URL": os.environ.get("LINE_API_BASE_URL", line_setup.DEFAULT_API),
    }
    if line_setup.main(["webhook", "--url", webhook_url(app)], env) != 0:
        problems.append("LINE's webhook test failed (see above)")
    for problem in problems:
        print(f"smoke test: {problem}", file=sys.stderr)  # noqa: T201
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
