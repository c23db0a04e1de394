"""azd postprovision hook: put the desk's secrets into Key Vault when they are missing.

The values never pass through a deployment parameter (so never into deployment history):
they come from this shell's environment (LINE_CHANNEL_SECRET, LINE_CHANNEL_ACCESS_TOKEN) or
a hidden prompt, and DESK_HASH_KEY is generated. An existing secret is never overwritten.
Talks to Key Vault's REST API with a token from `azd auth token` (standard library only).
"""

from __future__ import annotations

import getpass
import json
import os
import secrets
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping

API_VERSION = "7.4"
# App setting -> Key Vault secret name (Key Vault names allow no underscore).
SECRETS = {
    "LINE_CHANNEL_SECRET": "LINE-CHANNEL-SECRET",
    "LINE_CHANNEL_ACCESS_TOKEN": "LINE-CHANNEL-ACCESS-TOKEN",
    "DESK_HASH_KEY": "DESK-HASH-KEY",
}


def vault_token() -> str:
    """An access token for Key Vault from azd's own sign-in."""
    out = subprocess.run(
        ["azd", "auth", "token", "--scope", "https://vault.azure.net/.default", "--output", "json"],  # noqa: S607
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return str(json.loads(out)["token"])


def _request(method: str, url: str, token: str, body: dict[str, str] | None = None) -> int:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(  # noqa: S310 -- the vault URI azd provisioned
        url,
        data=data,
        method=method,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
            return int(response.status)
    except urllib.error.HTTPError as error:
        return int(error.code)


def ensure_secrets(
    vault_uri: str,
    token: str,
    env: Mapping[str, str],
    ask: Callable[[str], str],
) -> dict[str, str]:
    """Create each missing secret; returns {secret name: 'kept' | 'created'}."""
    outcome = {}
    for setting, name in SECRETS.items():
        url = f"{vault_uri.rstrip('/')}/secrets/{name}"
        if _request("GET", f"{url}?api-version={API_VERSION}", token) == 200:
            outcome[name] = "kept"
            continue
        if setting == "DESK_HASH_KEY":
            value = env.get(setting) or secrets.token_urlsafe(48)
        else:
            value = env.get(setting) or ask(f"{setting} (LINE Developers console): ")
        if not value.strip():
            raise SystemExit(f"{setting} is empty: nothing stored")
        status = _request("PUT", f"{url}?api-version={API_VERSION}", token, {"value": value})
        if status != 200:
            raise SystemExit(f"Key Vault refused {name}: HTTP {status}")
        outcome[name] = "created"
    return outcome


def main() -> int:
    """Run as the azd hook (AZURE_KEY_VAULT_ENDPOINT comes from the deployment's outputs)."""
    vault_uri = os.environ.get("AZURE_KEY_VAULT_ENDPOINT", "")
    if not vault_uri:
        print("AZURE_KEY_VAULT_ENDPOINT is not set (run through azd)", file=sys.stderr)  # noqa: T201
        return 2
    outcome = ensure_secrets(vault_uri, vault_token(), os.environ, getpass.getpass)
    for name, what in outcome.items():
        print(f"{name}: {what}")  # noqa: T201 -- names only, never values
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
