"""LINE channel set-up from the command line (never deployed).

    python -m ops.line_setup webhook --url https://<app>.azurewebsites.net/api/line/webhook
    python -m ops.line_setup quota
    python -m ops.line_setup richmenus [--dry-run]

`webhook` sets the channel's webhook endpoint (PUT /v2/bot/channel/webhook/endpoint) and runs
LINE's webhook test (POST /v2/bot/channel/webhook/test): the desk must answer LINE's signed
verify request with 200. `quota` prints this month's push limit and consumption. Both read
LINE_CHANNEL_ACCESS_TOKEN and LINE_API_BASE_URL (default https://api.line.me) from the
environment, so they work against the simulator too; they use only the standard library.

`richmenus` creates or replaces the desk's rich menus (ops.richmenus: `desk-default`, the
channel's default, and `desk-session`, linked while a consultation is open) with their images
from ops/menu_images/, through line-bot-sdk's MessagingApi and MessagingApiBlob. It is
idempotent: a menu already on LINE as defined is kept, a changed one is created anew, aliases
and the default are pointed at the current menus, and the desk's stale menus are deleted.
`--dry-run` reads LINE's state and prints what it would do, changing nothing (without a token it
prints the menus it would create). The image upload goes to LINE_DATA_API_BASE_URL (default
https://api-data.line.me; the simulator serves both).
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


DEFAULT_DATA_API = "https://api-data.line.me"


class SdkRichMenus:
    """ops.richmenus.RichMenuAdmin over line-bot-sdk v3 (MessagingApi, MessagingApiBlob)."""

    def __init__(self, base: str, data_base: str, token: str) -> None:
        from linebot.v3.messaging import (  # noqa: PLC0415 -- only this command needs the SDK
            ApiClient,
            Configuration,
            MessagingApi,
            MessagingApiBlob,
        )

        class DataHostClient(ApiClient):  # type: ignore[misc]
            """The SDK pins api-data.line.me for uploads; send them where configured."""

            def call_api(self, *args: Any, **kwargs: Any) -> Any:
                if kwargs.get("_host") == DEFAULT_DATA_API:
                    kwargs["_host"] = data_base.rstrip("/")
                return super().call_api(*args, **kwargs)

        client = DataHostClient(Configuration(host=base.rstrip("/"), access_token=token))
        self._api = MessagingApi(client)
        self._blob = MessagingApiBlob(client)

    def _do(self, what: str, call: Any) -> Any:
        from linebot.v3.messaging.exceptions import ApiException  # noqa: PLC0415

        try:
            return call()
        except ApiException as error:
            try:
                reason = json.loads(error.body or "{}").get("message", "")
            except ValueError:
                reason = ""
            raise LineSetupError(f"{what}: HTTP {error.status} {reason}".rstrip()) from None
        except OSError as error:
            raise LineSetupError(f"{what}: {type(error).__name__}") from None

    def _read(self, what: str, call: Any) -> dict[str, Any]:
        """A list's JSON as LINE sent it (not the SDK's models: a menu another tool made
        may lack fields the models insist on)."""
        answer = self._do(what, lambda: call(_preload_content=False))
        parsed = json.loads(answer.raw_data or b"{}")
        return parsed if isinstance(parsed, dict) else {}

    def menus(self) -> dict[str, str]:
        found = self._read("GET /v2/bot/richmenu/list", self._api.get_rich_menu_list_with_http_info)
        return {str(m["richMenuId"]): str(m.get("name", "")) for m in found.get("richmenus", [])}

    def aliases(self) -> dict[str, str]:
        found = self._read(
            "GET /v2/bot/richmenu/alias/list", self._api.get_rich_menu_alias_list_with_http_info
        )
        return {str(a["richMenuAliasId"]): str(a["richMenuId"]) for a in found.get("aliases", [])}

    def default_menu(self) -> str | None:
        from linebot.v3.messaging.exceptions import ApiException  # noqa: PLC0415

        try:
            return str(self._api.get_default_rich_menu_id().rich_menu_id)
        except ApiException as error:
            if error.status == 404:  # LINE's "no default rich menu"
                return None
            raise LineSetupError(f"GET /v2/bot/user/all/richmenu: HTTP {error.status}") from None

    def validate(self, body: dict[str, Any]) -> None:
        from linebot.v3.messaging import RichMenuRequest  # noqa: PLC0415

        request = RichMenuRequest.from_dict(body)
        self._do(
            f"POST /v2/bot/richmenu/validate ({body['name']})",
            lambda: self._api.validate_rich_menu_object(request),
        )

    def create(self, body: dict[str, Any], image: bytes) -> str:
        from linebot.v3.messaging import RichMenuRequest  # noqa: PLC0415

        request = RichMenuRequest.from_dict(body)
        created = self._do(
            f"POST /v2/bot/richmenu ({body['name']})", lambda: self._api.create_rich_menu(request)
        )
        menu_id = str(created.rich_menu_id)
        self._do(
            f"POST /v2/bot/richmenu/{{id}}/content ({body['name']})",
            lambda: self._blob.set_rich_menu_image(
                menu_id, bytearray(image), _headers={"Content-Type": "image/png"}
            ),
        )
        return menu_id

    def set_alias(self, alias: str, menu_id: str, *, exists: bool) -> None:
        from linebot.v3.messaging import (  # noqa: PLC0415
            CreateRichMenuAliasRequest,
            UpdateRichMenuAliasRequest,
        )

        if exists:
            update = UpdateRichMenuAliasRequest(rich_menu_id=menu_id)
            self._do(
                f"POST /v2/bot/richmenu/alias/{alias}",
                lambda: self._api.update_rich_menu_alias(alias, update),
            )
            return
        create = CreateRichMenuAliasRequest(rich_menu_alias_id=alias, rich_menu_id=menu_id)
        self._do("POST /v2/bot/richmenu/alias", lambda: self._api.create_rich_menu_alias(create))

    def set_default(self, menu_id: str) -> None:
        self._do(
            "POST /v2/bot/user/all/richmenu/{id}", lambda: self._api.set_default_rich_menu(menu_id)
        )

    def delete(self, menu_id: str) -> None:
        self._do("DELETE /v2/bot/richmenu/{id}", lambda: self._api.delete_rich_menu(menu_id))


class _Offline:
    """What `richmenus --dry-run` reads without a token: a channel with no menus yet."""

    def menus(self) -> dict[str, str]:
        return {}

    def aliases(self) -> dict[str, str]:
        return {}

    def default_menu(self) -> str | None:
        return None

    def validate(self, body: dict[str, Any]) -> None:
        return None

    def create(self, body: dict[str, Any], image: bytes) -> str:
        raise LineSetupError("offline")

    def set_alias(self, alias: str, menu_id: str, *, exists: bool) -> None:
        raise LineSetupError("offline")

    def set_default(self, menu_id: str) -> None:
        raise LineSetupError("offline")

    def delete(self, menu_id: str) -> None:
        raise LineSetupError("offline")


def rich_menus(base: str, data_base: str, token: str, *, dry_run: bool) -> list[str]:
    """Set up the desk's rich menus (ops.richmenus.set_up); the steps taken."""
    from ops.richmenus import desk_menus, set_up  # noqa: PLC0415

    admin = SdkRichMenus(base, data_base, token) if token else _Offline()
    return set_up(admin, desk_menus(), dry_run=dry_run)


def main(argv: Sequence[str] | None = None, env: Mapping[str, str] | None = None) -> int:
    """Run one command; 0 on success, 1 when LINE refused or the webhook test failed."""
    parser = argparse.ArgumentParser(prog="python -m ops.line_setup", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    webhook = commands.add_parser("webhook", help="set the webhook URL and test it")
    webhook.add_argument(
        "--url", required=True, help="https://<app>.azurewebsites.net/api/line/webhook"
    )
    commands.add_parser("quota", help="this month's push quota and consumption")
    menus = commands.add_parser("richmenus", help="create or update the desk's rich menus")
    menus.add_argument("--dry-run", action="store_true", help="print what it would do")
    options = parser.parse_args(argv)
    env = os.environ if env is None else env
    token = env.get("LINE_CHANNEL_ACCESS_TOKEN", "").strip()
    base = env.get("LINE_API_BASE_URL", "").strip() or DEFAULT_API
    if options.command == "richmenus" and (token or options.dry_run):
        data_base = env.get("LINE_DATA_API_BASE_URL", "").strip() or (
            DEFAULT_DATA_API if base == DEFAULT_API else base
        )
        try:
            rich_menus(base, data_base, token, dry_run=options.dry_run)
        except LineSetupError as error:
            print(f"LINE refused: {error}", file=sys.stderr)  # noqa: T201
            return 1
        return 0
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
