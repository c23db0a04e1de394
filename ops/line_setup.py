"""LINE channel set-up from the command line (never deployed).

    python -m ops.line_setup webhook --url https://<app>.azurewebsites.net/api/line/webhook
    python -m ops.line_setup quota

`webhook` sets the channel's webhook endpoint (PUT /v2/bot/channel/webhook/endpoint) and runs
LINE's webhook test (POST /v2/bot/channel/webhook/test): the desk must answer LINE's signed
verify request with 200. `quota` prints this month's push limit and consumption. Both read
LINE_CHANNEL_ACCESS_TOKEN and LINE_API_BASE_URL (default https://api.line.me) from the
environment, so they work against the simulator too. Only the standard library is used.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from typing import Any

DEFAULT_API = "https://api.line.me"


class LineSetupError(Exception):
    """LINE refused a call or could not be reached (the message names the call and status)."""


def _call(base: str, token: str, method: str, path: str, body: Any = None) -> dict[str, Any]:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(  # noqa: S310 -- the operator's configured LINE API URL
        base.rstrip("/") + path,
        data=data,
        method=method,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
            raw = response.read()
    except urllib.error.HTTPError as error:
        try:
            reason = json.loads(error.read() or b"{}").get("message", "")
        except ValueError:
            reason = ""
        raise LineSetupError(f"{method} {path}: HTTP {error.code} {reason}".rstrip()) from None
    except OSError as error:
        raise LineSetupError(f"{method} {path}: {type(error).__name__}") from None
    parsed = json.loads(raw or b"{}")
    return parsed if isinstance(parsed, dict) else {}


def set_webhook(base: str, token: str, url: str) -> dict[str, Any]:
    """Set the webhook endpoint, then run LINE's webhook test; returns the test's result."""
    _call(base, token, "PUT", "/v2/bot/channel/webhook/endpoint", {"endpoint": url})
    return _call(base, token, "POST", "/v2/bot/channel/webhook/test", {"endpoint": url})


def quota(base: str, token: str) -> dict[str, Any]:
    """`{"limit": int | None, "used": int, "percent": float | None}` for this month."""
    limit_answer = _call(base, token, "GET", "/v2/bot/message/quota")
    used = int(_call(base, token, "GET", "/v2/bot/message/quota/consumption")["totalUsage"])
    limit = int(limit_answer["value"]) if limit_answer.get("type") == "limited" else None
    percent = round(100.0 * used / limit, 1) if limit else None
    return {"limit": limit, "used": used, "percent": percent}


def main(argv: Sequence[str] | None = None, env: Mapping[str, str] | None = None) -> int:
    """Run one command; 0 on success, 1 when LINE refused or the webhook test failed."""
    parser = argparse.ArgumentParser(prog="python -m ops.line_setup", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    webhook = commands.add_parser("webhook", help="set the webhook URL and test it")
    webhook.add_argument(
        "--url", required=True, help="https://<app>.azurewebsites.net/api/line/webhook"
    )
    commands.add_parser("quota", help="this month's push quota and consumption")
    options = parser.parse_args(argv)
    env = os.environ if env is None else env
    token = env.get("LINE_CHANNEL_ACCESS_TOKEN", "").strip()
    base = env.get("LINE_API_BASE_URL", "").strip() or DEFAULT_API
    if not token:
        print("LINE_CHANNEL_ACCESS_TOKEN is not set", file=sys.stderr)  # noqa: T201
        return 2
    try:
        if options.command == "webhook":
            result = set_webhook(base, token, options.url)
            print(json.dumps(result, ensure_ascii=False))  # noqa: T201
            return 0 if result.get("success") else 1
        print(json.dumps(quota(base, token)))  # noqa: T201
    except LineSetupError as error:
        print(f"LINE refused: {error}", file=sys.stderr)  # noqa: T201
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
