"""A LINE simulator for local runs and tests: LINE's two sides, on loopback.

- The fake Messaging API (`/v2/bot/...`) answers the desk's replies and pushes like LINE does,
  records every call, and enforces LINE's rules: the bearer token, 1-5 messages per call,
  texts of at most 5,000 characters (counted as LINE counts them, in UTF-16 code units),
  single-use reply tokens that expire, and push retry keys (`X-Line-Retry-Key`: a UUID; a
  repeat of an accepted key gets 409). `GET /v2/bot/info` names the bot (`BOT_USER_ID`),
  which every event it sends names as its `destination`.
- The user side (`SimUser`) builds events as LINE sends them (`webhookEventId`,
  `deliveryContext`, `timestamp`, `source`), signs them with the channel secret and posts them
  to the desk's webhook, and can redeliver an event.
- Rich menus (`/v2/bot/richmenu...`, the default menu, aliases, per-user links and the image
  upload LINE serves on api-data.line.me) within LINE's limits: 800-2,500 px wide, at least
  250 px high, width/height at least 1.45, 1-20 areas inside the image, `chatBarText` at most
  14 characters, a PNG or JPEG image of the menu's size and at most 1 MB, uploaded once.
  `menu_shown(user)` is the menu a user sees (their linked one, else the default).
- A small control API (`/_sim/...`) lets another process (`make chat`) act as a user.

Run alone: `python -m devtools.linesim --port 7072 --webhook http://127.0.0.1:7071/api/line/webhook`.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import hmac
import itertools
import json
import re
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

MAX_MESSAGES = 5
MAX_TEXT = 5000
MAX_QUICK_REPLY_ITEMS = 13
MESSAGE_TYPES = {
    "text",
    "sticker",
    "image",
    "video",
    "audio",
    "location",
    "imagemap",
    "template",
    "flex",
}
_USER_ID = re.compile(r"^U[0-9a-f]{32}$")
_ALIAS = re.compile(r"^[A-Za-z0-9_-]{1,32}$")
MENU_MIN_WIDTH, MENU_MAX_WIDTH, MENU_MIN_HEIGHT, MENU_MIN_RATIO = 800, 2500, 250, 1.45
MENU_MAX_AREAS = 20
MENU_MAX_CHAT_BAR = 14
MENU_MAX_NAME = 300
MENU_MAX_LABEL = 20
MENU_MAX_IMAGE_BYTES = 1024 * 1024
MAX_RICH_MENUS = 1000
BOT_USER_ID = "U" + "f" * 32
# One Messaging API endpoint: (path, lower-cased headers, body) -> (status, headers, body).
_Endpoint = Callable[[str, dict[str, str], bytes], tuple[int, dict[str, str], bytes]]
"""The simulated channel's bot: `GET /v2/bot/info` names it and every event's `destination`."""
_ids = itertools.count(100_000_000_000_000)


def user_id_for(name: str) -> str:
    """A LINE-shaped user id (U + 32 hex) derived from a readable name."""
    if _USER_ID.match(name):
        return name
    return "U" + hashlib.sha256(name.encode("utf-8")).hexdigest()[:32]


def sign(secret: str, body: bytes) -> str:
    """The x-line-signature LINE would send for `body`."""
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


@dataclass
class ApiCall:
    """One call the desk made to the fake Messaging API."""

    endpoint: str
    status: int
    body: Any
    retry_key: str | None = None
    at: float = field(default_factory=time.time)


@dataclass
class Delivered:
    """A message that reached (or would have reached) a user's phone."""

    user_id: str
    via: str
    message: dict[str, Any]
    delivered: bool = True
    at: float = field(default_factory=time.time)


@dataclass
class Delivery:
    """What the webhook answered when a simulated user sent something."""

    status: int
    body: bytes
    events: list[dict[str, Any]]

    @property
    def event_ids(self) -> list[str]:
        """The `webhookEventId` of each event sent."""
        return [e["webhookEventId"] for e in self.events]


@dataclass
class _Failure:
    status: int
    body: dict[str, Any]
    retry_after: int | None


class LineSimulator:
    """The fake Messaging API plus the user side, sharing one record of the conversation."""

    def __init__(
        self,
        channel_secret: str,
        access_token: str,
        webhook_url: str | None = None,
        *,
        reply_token_ttl: float = 60.0,
        push_quota: int | None = None,
        clock: Callable[[], float] = time.monotonic,
        event_clock: Callable[[], float] = time.time,
    ) -> None:
        self.channel_secret = channel_secret
        self.access_token = access_token
        self.bot_user_id = BOT_USER_ID
        self.webhook_url = webhook_url
        self.reply_token_ttl = reply_token_ttl
        self.push_quota = push_quota
        """The channel's monthly push limit (None: no limit, LINE's `type: none`)."""
        self.https_routes: dict[str, str] = {}
        """Where webhook tests for an https host really go (`host` -> `http://127.0.0.1:port`):
        LINE only accepts https endpoints, the local host serves http."""
        self._clock = clock
        self._event_clock = event_clock
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self.reset()

    # -- state ------------------------------------------------------------------------------

    def reset(self) -> None:
        """Forget every call, token, key, inbox and injected failure."""
        with self._lock:
            self.calls: list[ApiCall] = []
            self.delivered: list[Delivered] = []
            self.unfollowed: set[str] = set()
            self.events_sent: dict[str, dict[str, Any]] = {}
            self._reply_tokens: dict[str, tuple[str, float, bool]] = {}
            self._retry_keys: dict[str, str] = {}
            self._failures: dict[str, list[_Failure]] = {}
            self._contents: dict[str, bytes] = {}
            self.rich_menus: dict[str, dict[str, Any]] = {}
            self.rich_menu_images: dict[str, bytes] = {}
            self.rich_menu_aliases: dict[str, str] = {}
            self.default_rich_menu: str | None = None
            self.user_menus: dict[str, str] = {}
            self.pushes_this_month = 0
            self.channel_webhook: str | None = None

    def add_rich_menu(self, rich_menu_id: str, alias: str | None = None) -> None:
        """A rich menu exists (as `ops.line_setup richmenus` would leave it), maybe aliased."""
        with self._lock:
            self.rich_menus[rich_menu_id] = {
                "size": {"width": 2500, "height": 843},
                "selected": False,
                "name": rich_menu_id,
                "chatBarText": "menu",
                "areas": [],
            }
            self.rich_menu_images[rich_menu_id] = b""
            if alias is not None:
                self.rich_menu_aliases[alias] = rich_menu_id

    def menu_shown(self, user: str) -> dict[str, Any] | None:
        """The rich menu `user` sees (their linked one, else the default; None: no menu), with
        its `richMenuId`."""
        user_id = user_id_for(user)
        with self._lock:
            menu_id = self.user_menus.get(user_id) or self.default_rich_menu
            body = self.rich_menus.get(menu_id or "")
            return None if body is None else {"richMenuId": menu_id, **body}

    def menu_of(self, user: str) -> str | None:
        """The rich menu linked to one user (None: the default menu)."""
        with self._lock:
            return self.user_menus.get(user)

    def inbox(self, user: str) -> list[Delivered]:
        """Messages the desk sent to `user` (a name or a user id), in order."""
        user_id = user_id_for(user)
        with self._lock:
            return [d for d in self.delivered if d.user_id == user_id]

    def clear_inbox(self, user: str) -> None:
        """Forget what was delivered to `user` so far."""
        user_id = user_id_for(user)
        with self._lock:
            self.delivered = [d for d in self.delivered if d.user_id != user_id]

    def texts(self, user: str) -> list[str]:
        """What `user` reads in each bubble: a text, or a template's question."""
        return [_readable(d.message) for d in self.inbox(user)]

    def calls_to(self, endpoint: str) -> list[ApiCall]:
        """The recorded calls to one endpoint (`reply`, `push`, `profile`, ...)."""
        with self._lock:
            return [c for c in self.calls if c.endpoint == endpoint]

    def fail_next(
        self,
        endpoint: str,
        status: int,
        *,
        times: int = 1,
        message: str = "simulated failure",
        retry_after: int | None = None,
    ) -> None:
        """Make the next `times` calls to `endpoint` fail with `status`."""
        with self._lock:
            queue = self._failures.setdefault(endpoint, [])
            queue.extend(_Failure(status, {"message": message}, retry_after) for _ in range(times))

    def expire_reply_tokens(self) -> None:
        """Age every issued reply token past LINE's validity."""
        with self._lock:
            self._reply_tokens = {
                token: (user, issued - self.reply_token_ttl - 1, used)
                for token, (user, issued, used) in self._reply_tokens.items()
            }

    def set_monthly_limit(self, limit: int | None, used: int = 0) -> None:
        """LINE's monthly message limit (None: unlimited) and how much of it is used: a push
        over it gets 429 "You have reached your monthly limit." Replies are free."""
        with self._lock:
            self.push_quota = limit
            self.pushes_this_month = used

    def user(self, name: str) -> SimUser:
        """The user side for `name` (a readable name or a LINE user id)."""
        return SimUser(self, user_id_for(name))

    # -- server -----------------------------------------------------------------------------

    def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Serve the fake API in a background thread; returns its base URL."""
        simulator = self

        class Handler(_SimHandler):
            sim = simulator

        self._server = ThreadingHTTPServer((host, port), Handler)
        self._server.daemon_threads = True
        threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()
        return self.base_url

    @property
    def base_url(self) -> str:
        """Where the fake API listens."""
        assert self._server is not None, "simulator not started"
        host, port = self._server.server_address[:2]
        assert isinstance(host, str), "bound to an IPv4 or IPv6 host name"
        return f"http://{host}:{port}"

    def stop(self) -> None:
        """Stop serving."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    # -- the Messaging API ------------------------------------------------------------------

    def api(
        self, method: str, path: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, dict[str, str], bytes]:
        """Answer one Messaging API request like LINE would."""
        endpoint, handler = self._route(method, path)
        if handler is None:
            return _json(404, {"message": "Not found"})
        if headers.get("authorization") != f"Bearer {self.access_token}":
            return self._record(endpoint, 401, {"message": "Authentication failed"}, None)
        with self._lock:
            queue = self._failures.get(endpoint)
            failure = queue.pop(0) if queue else None
        if failure is not None:
            extra = {"Retry-After": str(failure.retry_after)} if failure.retry_after else {}
            status, hdrs, payload = self._record(
                endpoint, failure.status, failure.body, headers.get("x-line-retry-key")
            )
            return status, {**hdrs, **extra}, payload
        return handler(path, headers, body)

    def _route(self, method: str, path: str) -> tuple[str, _Endpoint | None]:
        table: list[tuple[str, str, str, _Endpoint]] = [
            ("POST", r"^/v2/bot/message/reply$", "reply", self._reply),
            ("POST", r"^/v2/bot/message/push$", "push", self._push),
            ("GET", r"^/v2/bot/profile/[^/]+$", "profile", self._profile),
            ("GET", r"^/v2/bot/info$", "info", self._info),
            ("POST", r"^/v2/bot/chat/loading/start$", "loading", self._loading),
            ("GET", r"^/v2/bot/message/quota$", "quota", self._quota),
            ("GET", r"^/v2/bot/message/quota/consumption$", "consumption", self._consumption),
            ("GET", r"^/v2/bot/message/[^/]+/content$", "content", self._content),
            ("POST", r"^/v2/bot/richmenu/validate$", "richmenu_validate", self._menu_validate),
            ("POST", r"^/v2/bot/richmenu$", "richmenu_create", self._menu_create),
            ("GET", r"^/v2/bot/richmenu/list$", "richmenu_list", self._menu_list),
            ("GET", r"^/v2/bot/richmenu/alias/list$", "richmenu_aliases", self._alias_list),
            ("POST", r"^/v2/bot/richmenu/alias$", "richmenu_alias_create", self._alias_create),
            (
                "POST",
                r"^/v2/bot/richmenu/alias/[^/]+$",
                "richmenu_alias_update",
                self._alias_update,
            ),
            (
                "DELETE",
                r"^/v2/bot/richmenu/alias/[^/]+$",
                "richmenu_alias_delete",
                self._alias_delete,
            ),
            ("GET", r"^/v2/bot/richmenu/alias/[^/]+$", "richmenu_alias", self._menu_alias),
            ("POST", r"^/v2/bot/richmenu/[^/]+/content$", "richmenu_image", self._menu_image),
            ("DELETE", r"^/v2/bot/richmenu/[^/]+$", "richmenu_delete", self._menu_delete),
            ("POST", r"^/v2/bot/user/all/richmenu/[^/]+$", "richmenu_default", self._menu_default),
            ("GET", r"^/v2/bot/user/all/richmenu$", "richmenu_get_default", self._get_default),
            ("POST", r"^/v2/bot/user/[^/]+/richmenu/[^/]+$", "richmenu_link", self._menu_link),
            ("DELETE", r"^/v2/bot/user/[^/]+/richmenu$", "richmenu_unlink", self._menu_unlink),
            ("PUT", r"^/v2/bot/channel/webhook/endpoint$", "set_webhook", self._set_webhook),
            ("GET", r"^/v2/bot/channel/webhook/endpoint$", "get_webhook", self._get_webhook),
            ("POST", r"^/v2/bot/channel/webhook/test$", "test_webhook", self._test_webhook),
        ]
        for verb, pattern, endpoint, handler in table:
            if verb == method and re.match(pattern, path):
                return endpoint, handler
        return "unknown", None

    def _record(
        self, endpoint: str, status: int, body: Any, retry_key: str | None, request: Any = None
    ) -> tuple[int, dict[str, str], bytes]:
        with self._lock:
            self.calls.append(ApiCall(endpoint, status, request, retry_key))
        return _json(status, body)

    def _reply(
        self, path: str, headers: dict[str, str], raw: bytes
    ) -> tuple[int, dict[str, str], bytes]:
        request, problem = _parse_messages_request(raw)
        if problem:
            return self._record("reply", 400, {"message": problem}, None, request)
        token = request.get("replyToken")
        with self._lock:
            entry = self._reply_tokens.get(token) if isinstance(token, str) else None
            valid = (
                entry is not None
                and not entry[2]
                and self._clock() - entry[1] <= self.reply_token_ttl
            )
            if valid and entry is not None and isinstance(token, str):
                self._reply_tokens[token] = (entry[0], entry[1], True)
                for message in request["messages"]:
                    self.delivered.append(Delivered(entry[0], "reply", message))
        if not valid:
            return self._record("reply", 400, {"message": "Invalid reply token"}, None, request)
        return self._record("reply", 200, _sent(request), None, request)

    def _push(
        self, path: str, headers: dict[str, str], raw: bytes
    ) -> tuple[int, dict[str, str], bytes]:
        retry_key = headers.get("x-line-retry-key")
        request, problem = _parse_messages_request(raw)
        if not problem and not _USER_ID.match(str(request.get("to", ""))):
            problem = "The property, 'to', in the request body is invalid"
        if not problem and retry_key is not None:
            try:
                uuid.UUID(retry_key)
            except ValueError:
                problem = "The retry key is invalid"
        if problem:
            return self._record("push", 400, {"message": problem}, retry_key, request)
        request_id = uuid.uuid4().hex
        with self._lock:
            accepted = self._retry_keys.get(retry_key) if retry_key else None
            over_quota = (
                accepted is None
                and self.push_quota is not None
                and self.pushes_this_month >= self.push_quota
            )
            if accepted is None and not over_quota:
                self.pushes_this_month += 1  # one per recipient per request, whatever the bubbles
                if retry_key:
                    self._retry_keys[retry_key] = request_id
                to = request["to"]
                for message in request["messages"]:
                    self.delivered.append(
                        Delivered(to, "push", message, delivered=to not in self.unfollowed)
                    )
        if over_quota:
            return self._record(
                "push", 429, {"message": "You have reached your monthly limit."}, retry_key, request
            )
        if accepted is not None:
            status, hdrs, payload = self._record(
                "push", 409, {"message": "The retry key is already accepted"}, retry_key, request
            )
            return status, {**hdrs, "x-line-accepted-request-id": accepted}, payload
        status, hdrs, payload = self._record("push", 200, _sent(request), retry_key, request)
        return status, {**hdrs, "x-line-request-id": request_id}, payload

    def _profile(
        self, path: str, headers: dict[str, str], raw: bytes
    ) -> tuple[int, dict[str, str], bytes]:
        user_id = path.rsplit("/", 1)[-1]
        if not _USER_ID.match(user_id) or user_id in self.unfollowed:
            return self._record("profile", 404, {"message": "Not found"}, None)
        return self._record(
            "profile", 200, {"userId": user_id, "displayName": "シミュレーター"}, None
        )

    def _info(
        self, path: str, headers: dict[str, str], raw: bytes
    ) -> tuple[int, dict[str, str], bytes]:
        return self._record(
            "info", 200, {"userId": self.bot_user_id, "displayName": "みらいキャリアポート"}, None
        )

    def _loading(
        self, path: str, headers: dict[str, str], raw: bytes
    ) -> tuple[int, dict[str, str], bytes]:
        try:
            request = json.loads(raw or b"{}")
        except ValueError:
            return self._record(
                "loading", 400, {"message": "The request body has 1 error(s)"}, None
            )
        chat, seconds = request.get("chatId"), request.get("loadingSeconds", 20)
        if not isinstance(chat, str) or not re.fullmatch(r"U[0-9a-f]{32}", chat):
            # LINE shows the animation in one-to-one chats only.
            return self._record("loading", 400, {"message": "Invalid chatId"}, None, request)
        if not isinstance(seconds, int) or not 5 <= seconds <= 60 or seconds % 5:
            return self._record(
                "loading", 400, {"message": "Invalid loadingSeconds"}, None, request
            )
        return self._record("loading", 202, {}, None, request)

    def _menu_alias(
        self, path: str, headers: dict[str, str], raw: bytes
    ) -> tuple[int, dict[str, str], bytes]:
        alias = path.rsplit("/", 1)[-1]
        with self._lock:
            menu_id = self.rich_menu_aliases.get(alias)
        if menu_id is None:
            return self._record("richmenu_alias", 404, {"message": "Not found"}, None)
        body = {"richMenuAliasId": alias, "richMenuId": menu_id}
        return self._record("richmenu_alias", 200, body, None)

    def _menu_validate(
        self, path: str, headers: dict[str, str], raw: bytes
    ) -> tuple[int, dict[str, str], bytes]:
        body, problem = _parse_rich_menu(raw)
        status = 400 if problem else 200
        return self._record(
            "richmenu_validate", status, {"message": problem} if problem else {}, None, body
        )

    def _menu_create(
        self, path: str, headers: dict[str, str], raw: bytes
    ) -> tuple[int, dict[str, str], bytes]:
        body, problem = _parse_rich_menu(raw)
        if problem:
            return self._record("richmenu_create", 400, {"message": problem}, None, body)
        menu_id = f"richmenu-{uuid.uuid4().hex}"
        with self._lock:
            if len(self.rich_menus) >= MAX_RICH_MENUS:
                problem = "The maximum number of rich menus has been reached"
            else:
                self.rich_menus[menu_id] = body
        if problem:
            return self._record("richmenu_create", 400, {"message": problem}, None, body)
        return self._record("richmenu_create", 200, {"richMenuId": menu_id}, None, body)

    def _menu_list(
        self, path: str, headers: dict[str, str], raw: bytes
    ) -> tuple[int, dict[str, str], bytes]:
        with self._lock:
            menus = [{"richMenuId": k, **v} for k, v in self.rich_menus.items()]
        return self._record("richmenu_list", 200, {"richmenus": menus}, None)

    def _menu_delete(
        self, path: str, headers: dict[str, str], raw: bytes
    ) -> tuple[int, dict[str, str], bytes]:
        menu_id = path.rsplit("/", 1)[-1]
        with self._lock:
            known = self.rich_menus.pop(menu_id, None) is not None
            self.rich_menu_images.pop(menu_id, None)
            if self.default_rich_menu == menu_id:
                self.default_rich_menu = None
            self.user_menus = {u: m for u, m in self.user_menus.items() if m != menu_id}
        if not known:
            return self._record("richmenu_delete", 404, {"message": "Not found"}, None)
        return self._record("richmenu_delete", 200, {}, None, {"richMenuId": menu_id})

    def _menu_image(
        self, path: str, headers: dict[str, str], raw: bytes
    ) -> tuple[int, dict[str, str], bytes]:
        menu_id = path.strip("/").split("/")[3]
        kind = headers.get("content-type", "").split(";")[0].strip()
        with self._lock:
            menu = self.rich_menus.get(menu_id)
            uploaded = menu_id in self.rich_menu_images
        if menu is None:
            return self._record("richmenu_image", 404, {"message": "Not found"}, None)
        size = menu.get("size") or {}
        problem = _image_problem(kind, raw, (size.get("width"), size.get("height")))
        if uploaded:
            problem = "An image has already been uploaded to the richmenu"
        if problem:
            return self._record("richmenu_image", 400, {"message": problem}, None)
        with self._lock:
            self.rich_menu_images[menu_id] = raw
        return self._record(
            "richmenu_image", 200, {}, None, {"richMenuId": menu_id, "bytes": len(raw)}
        )

    def _with_image(self, menu_id: str) -> bool:
        with self._lock:
            return menu_id in self.rich_menus and menu_id in self.rich_menu_images

    def _menu_default(
        self, path: str, headers: dict[str, str], raw: bytes
    ) -> tuple[int, dict[str, str], bytes]:
        menu_id = path.rsplit("/", 1)[-1]
        if not self._with_image(menu_id):
            return self._record(
                "richmenu_default",
                400,
                {"message": "must upload richmenu image before applying it to user"},
                None,
            )
        with self._lock:
            self.default_rich_menu = menu_id
        return self._record("richmenu_default", 200, {}, None, {"richMenuId": menu_id})

    def _get_default(
        self, path: str, headers: dict[str, str], raw: bytes
    ) -> tuple[int, dict[str, str], bytes]:
        with self._lock:
            menu_id = self.default_rich_menu
        if menu_id is None:
            return self._record(
                "richmenu_get_default", 404, {"message": "no default richmenu"}, None
            )
        return self._record("richmenu_get_default", 200, {"richMenuId": menu_id}, None)

    def _alias_list(
        self, path: str, headers: dict[str, str], raw: bytes
    ) -> tuple[int, dict[str, str], bytes]:
        with self._lock:
            aliases = [
                {"richMenuAliasId": a, "richMenuId": m} for a, m in self.rich_menu_aliases.items()
            ]
        return self._record("richmenu_aliases", 200, {"aliases": aliases}, None)

    def _alias_create(
        self, path: str, headers: dict[str, str], raw: bytes
    ) -> tuple[int, dict[str, str], bytes]:
        try:
            body = json.loads(raw or b"{}")
            alias, menu_id = str(body["richMenuAliasId"]), str(body["richMenuId"])
        except (ValueError, KeyError, TypeError):
            return self._record("richmenu_alias_create", 400, {"message": "Invalid request"}, None)
        problem = None
        if not _ALIAS.match(alias):
            problem = "richMenuAliasId: 1-32 of a-z, A-Z, 0-9, _ and -"
        elif not self._with_image(menu_id):
            problem = "richmenu not found or without an image"
        with self._lock:
            if problem is None and alias in self.rich_menu_aliases:
                problem = "conflict richmenu alias id"
            if problem is None:
                self.rich_menu_aliases[alias] = menu_id
        status = 400 if problem else 200
        return self._record(
            "richmenu_alias_create", status, {"message": problem} if problem else {}, None, body
        )

    def _alias_update(
        self, path: str, headers: dict[str, str], raw: bytes
    ) -> tuple[int, dict[str, str], bytes]:
        alias = path.rsplit("/", 1)[-1]
        try:
            menu_id = str(json.loads(raw or b"{}")["richMenuId"])
        except (ValueError, KeyError, TypeError):
            return self._record("richmenu_alias_update", 400, {"message": "Invalid request"}, None)
        with self._lock:
            known = alias in self.rich_menu_aliases
        if not known:
            return self._record("richmenu_alias_update", 404, {"message": "Not found"}, None)
        if not self._with_image(menu_id):
            return self._record(
                "richmenu_alias_update",
                400,
                {"message": "richmenu not found or without an image"},
                None,
            )
        with self._lock:
            self.rich_menu_aliases[alias] = menu_id
        body = {"richMenuAliasId": alias, "richMenuId": menu_id}
        return self._record("richmenu_alias_update", 200, {}, None, body)

    def _alias_delete(
        self, path: str, headers: dict[str, str], raw: bytes
    ) -> tuple[int, dict[str, str], bytes]:
        alias = path.rsplit("/", 1)[-1]
        with self._lock:
            known = self.rich_menu_aliases.pop(alias, None) is not None
        status = 200 if known else 404
        return self._record(
            "richmenu_alias_delete", status, {} if known else {"message": "Not found"}, None
        )

    def _menu_link(
        self, path: str, headers: dict[str, str], raw: bytes
    ) -> tuple[int, dict[str, str], bytes]:
        parts = path.strip("/").split("/")  # v2 bot user {userId} richmenu {richMenuId}
        user_id, menu_id = parts[3], parts[5]
        with self._lock:
            known = menu_id in self.rich_menus
            if known and _USER_ID.match(user_id):
                self.user_menus[user_id] = menu_id
        if not known or not _USER_ID.match(user_id):
            return self._record("richmenu_link", 400, {"message": "Invalid request"}, None)
        return self._record("richmenu_link", 200, {}, None, {"userId": user_id})

    def _menu_unlink(
        self, path: str, headers: dict[str, str], raw: bytes
    ) -> tuple[int, dict[str, str], bytes]:
        user_id = path.strip("/").split("/")[3]
        with self._lock:
            self.user_menus.pop(user_id, None)
        return self._record("richmenu_unlink", 200, {}, None, {"userId": user_id})

    def _content(
        self, path: str, headers: dict[str, str], raw: bytes
    ) -> tuple[int, dict[str, str], bytes]:
        message_id = path.split("/")[-2]
        with self._lock:
            content = self._contents.get(message_id)
            self.calls.append(ApiCall("content", 200 if content else 404, None))
        if content is None:
            return _json(404, {"message": "Not found"})
        return 200, {"Content-Type": "application/octet-stream"}, content

    def _quota(
        self, path: str, headers: dict[str, str], raw: bytes
    ) -> tuple[int, dict[str, str], bytes]:
        if self.push_quota is None:
            return self._record("quota", 200, {"type": "none"}, None)
        return self._record("quota", 200, {"type": "limited", "value": self.push_quota}, None)

    def _consumption(
        self, path: str, headers: dict[str, str], raw: bytes
    ) -> tuple[int, dict[str, str], bytes]:
        with self._lock:
            used = self.pushes_this_month
        return self._record("consumption", 200, {"totalUsage": used}, None)

    def _set_webhook(
        self, path: str, headers: dict[str, str], raw: bytes
    ) -> tuple[int, dict[str, str], bytes]:
        try:
            endpoint = json.loads(raw or b"{}").get("endpoint")
        except (ValueError, AttributeError):
            endpoint = None
        problem = _webhook_problem(endpoint)
        if problem:
            return self._record("set_webhook", 400, {"message": problem}, None, endpoint)
        with self._lock:
            self.channel_webhook = endpoint
        return self._record("set_webhook", 200, {}, None, endpoint)

    def _get_webhook(
        self, path: str, headers: dict[str, str], raw: bytes
    ) -> tuple[int, dict[str, str], bytes]:
        with self._lock:
            endpoint = self.channel_webhook
        if endpoint is None:
            return self._record("get_webhook", 404, {"message": "Not found"}, None)
        return self._record("get_webhook", 200, {"endpoint": endpoint, "active": True}, None)

    def _test_webhook(
        self, path: str, headers: dict[str, str], raw: bytes
    ) -> tuple[int, dict[str, str], bytes]:
        """LINE's webhook test: a signed verify request (`"events": []`) to the endpoint."""
        try:
            given = json.loads(raw or b"{}").get("endpoint")
        except (ValueError, AttributeError):
            given = None
        with self._lock:
            endpoint = given or self.channel_webhook
        problem = _webhook_problem(endpoint) if endpoint else "The webhook URL is not set"
        if problem:
            return self._record("test_webhook", 400, {"message": problem}, None, endpoint)
        url = urlsplit(str(endpoint))
        target = str(endpoint)
        if url.netloc in self.https_routes:
            target = self.https_routes[url.netloc].rstrip("/") + url.path
        body = json.dumps({"destination": self.bot_user_id, "events": []}).encode()
        request = urllib.request.Request(
            target,
            data=body,
            headers={
                "Content-Type": "application/json; charset=utf-8",
                "x-line-signature": sign(self.channel_secret, body),
            },
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=2) as response:
                status, reason = response.status, "OK"
        except urllib.error.HTTPError as error:
            status, reason = error.code, "ERROR"
        except OSError:
            status, reason = 0, "COULD_NOT_CONNECT"
        result = {
            "success": status == 200,
            "timestamp": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "statusCode": status,
            "reason": reason if status != 200 else "OK",
            "detail": str(status),
        }
        return self._record("test_webhook", 200, result, None, endpoint)

    # -- the user side ----------------------------------------------------------------------

    def issue_reply_token(self, user_id: str, age: float = 0.0) -> str:
        """A reply token bound to `user_id`, issued `age` seconds ago (it expires after
        `reply_token_ttl` seconds, as LINE's do after about a minute)."""
        token = uuid.uuid4().hex
        with self._lock:
            self._reply_tokens[token] = (user_id, self._clock() - age, False)
        return token

    def post_events(
        self,
        events: list[dict[str, Any]],
        *,
        signature: str | None = None,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> Delivery:
        """Sign and post events to the desk's webhook (or post exactly `body`/`signature`)."""
        assert self.webhook_url, "no webhook URL configured"
        raw = (
            body
            if body is not None
            else json.dumps(
                {"destination": self.bot_user_id, "events": events},
                ensure_ascii=False,
            ).encode()
        )
        sent_headers = {"Content-Type": "application/json; charset=utf-8"}
        sent_headers["x-line-signature"] = (
            signature if signature is not None else sign(self.channel_secret, raw)
        )
        sent_headers.update(headers or {})
        request = urllib.request.Request(
            self.webhook_url, data=raw, headers=sent_headers, method="POST"
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return Delivery(response.status, response.read(), events)
        except urllib.error.HTTPError as error:
            return Delivery(error.code, error.read(), events)

    def _event(
        self,
        user_id: str,
        event_type: str,
        *,
        reply: bool = True,
        age: float = 0.0,
        **fields: Any,
    ) -> dict[str, Any]:
        """One event; `age` seconds old (its timestamp and its reply token's issue time),
        as when LINE delivers an event late or the desk handles it later."""
        event: dict[str, Any] = {
            "type": event_type,
            "mode": "active",
            "timestamp": int((self._event_clock() - age) * 1000),
            "source": {"type": "user", "userId": user_id},
            "webhookEventId": "01" + uuid.uuid4().hex[:24].upper(),
            "deliveryContext": {"isRedelivery": False},
            **fields,
        }
        if reply:
            event["replyToken"] = self.issue_reply_token(user_id, age)
        with self._lock:
            self.events_sent[event["webhookEventId"]] = event
        return event

    def redeliver(self, event_id: str) -> Delivery:
        """Post an earlier event again, as LINE's webhook redelivery does."""
        with self._lock:
            original = self.events_sent[event_id]
        again = {**original, "deliveryContext": {"isRedelivery": True}}
        return self.post_events([again])


class SimUser:
    """One LINE user talking to the desk."""

    def __init__(self, sim: LineSimulator, user_id: str) -> None:
        self.sim = sim
        self.user_id = user_id

    def event(
        self, event_type: str, *, reply: bool = True, age: float = 0.0, **fields: Any
    ) -> dict[str, Any]:
        """Build (without sending) one event from this user, `age` seconds old."""
        return self.sim._event(self.user_id, event_type, reply=reply, age=age, **fields)

    def send(self, *events: dict[str, Any]) -> Delivery:
        """Post events in one webhook call."""
        return self.sim.post_events(list(events))

    # Builders: one event each, shaped as LINE sends it (required fields included).

    def follow_event(self, *, unblocked: bool = False) -> dict[str, Any]:
        """A follow (friend added) or unblock event."""
        return self.event("follow", follow={"isUnblocked": unblocked})

    def unfollow_event(self) -> dict[str, Any]:
        """A block event (no reply token)."""
        return self.event("unfollow", reply=False)

    def text_event(self, text: str, *, age: float = 0.0) -> dict[str, Any]:
        """A text message event (`age` seconds old)."""
        message = {"type": "text", "id": str(next(_ids)), "text": text, "quoteToken": _token()}
        return self.event("message", age=age, message=message)

    def sticker_event(self, *, age: float = 0.0) -> dict[str, Any]:
        """A sticker message event (`age` seconds old)."""
        message = {
            "type": "sticker",
            "id": str(next(_ids)),
            "packageId": "446",
            "stickerId": "1988",
            "stickerResourceType": "STATIC",
            "quoteToken": _token(),
        }
        return self.event("message", age=age, message=message)

    def media_event(self, kind: str = "image") -> dict[str, Any]:
        """An image, video, audio or file message; its content waits on the data API."""
        message_id = str(next(_ids))
        message: dict[str, Any] = {"type": kind, "id": message_id}
        if kind in {"image", "video", "audio"}:
            message["contentProvider"] = {"type": "line"}
        if kind in {"image", "video"}:
            message["quoteToken"] = _token()
        if kind in {"video", "audio"}:
            message["duration"] = 1000
        if kind == "file":
            message.update(fileName="document.pdf", fileSize=1234)
        with self.sim._lock:
            self.sim._contents[message_id] = b"\x89PNG fake content"
        return self.event("message", message=message)

    def postback_event(self, data: str, params: dict[str, str] | None = None) -> dict[str, Any]:
        """A button press carrying `data`."""
        postback: dict[str, Any] = {"data": data}
        if params:
            postback["params"] = params
        return self.event("postback", postback=postback)

    def unsend_event(self, message_id: str) -> dict[str, Any]:
        """An unsend of an earlier message (no reply token)."""
        return self.event("unsend", reply=False, unsend={"messageId": message_id})

    # Actions: build one event and post it.

    def follow(self, *, unblocked: bool = False) -> Delivery:
        """Add the account as a friend (or unblock it)."""
        with self.sim._lock:
            self.sim.unfollowed.discard(self.user_id)
        return self.send(self.follow_event(unblocked=unblocked))

    def unfollow(self) -> Delivery:
        """Block the account."""
        with self.sim._lock:
            self.sim.unfollowed.add(self.user_id)
        return self.send(self.unfollow_event())

    def say(self, text: str, *, age: float = 0.0) -> Delivery:
        """Send a text message (as an event `age` seconds old)."""
        return self.send(self.text_event(text, age=age))

    def sticker(self, *, age: float = 0.0) -> Delivery:
        """Send a sticker (as an event `age` seconds old)."""
        return self.send(self.sticker_event(age=age))

    def media(self, kind: str = "image") -> Delivery:
        """Send an image, video, audio clip or file."""
        return self.send(self.media_event(kind))

    def postback(self, data: str) -> Delivery:
        """Press a button that sends `data`."""
        return self.send(self.postback_event(data))

    def unsend(self, message_id: str) -> Delivery:
        """Unsend an earlier message."""
        return self.send(self.unsend_event(message_id))

    def redeliver(self, delivery: Delivery) -> Delivery:
        """Have LINE redeliver the first event of an earlier delivery."""
        return self.sim.redeliver(delivery.event_ids[0])


def _readable(message: dict[str, Any]) -> str:
    if message.get("type") == "template":
        return str(message.get("template", {}).get("text", message.get("altText", "")))
    return str(message.get("text", ""))


def _token() -> str:
    return uuid.uuid4().hex


def _parse_messages_request(raw: bytes) -> tuple[dict[str, Any], str | None]:
    try:
        request = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        return {}, "The request body is not valid JSON"
    if not isinstance(request, dict):
        return {}, "The request body must be an object"
    messages = request.get("messages")
    if not isinstance(messages, list) or not 1 <= len(messages) <= MAX_MESSAGES:
        return request, f"messages must hold 1 to {MAX_MESSAGES} items"
    for message in messages:
        problem = _message_problem(message)
        if problem:
            return request, problem
    return request, None


def _message_problem(message: Any) -> str | None:
    if not isinstance(message, dict) or message.get("type") not in MESSAGE_TYPES:
        return "a message has an unknown type"
    if message["type"] == "text":
        text = message.get("text")
        if not isinstance(text, str) or not text:
            return "a text message needs text"
        if _units(text) > MAX_TEXT:
            return f"a text message holds at most {MAX_TEXT} characters"
    if message["type"] == "template" and not 1 <= _units(str(message.get("altText", ""))) <= 400:
        return "a template message needs an altText of 1 to 400 characters"
    quick = message.get("quickReply")
    if quick is not None:
        items = quick.get("items") if isinstance(quick, dict) else None
        if not isinstance(items, list) or not 1 <= len(items) <= MAX_QUICK_REPLY_ITEMS:
            return f"quickReply holds 1 to {MAX_QUICK_REPLY_ITEMS} items"
        for item in items:
            label = (item.get("action") or {}).get("label", "") if isinstance(item, dict) else ""
            if not 1 <= _units(str(label)) <= 20:
                return "a quick reply label holds 1 to 20 characters"
    return None


def _units(text: str) -> int:
    """A length as LINE counts it: UTF-16 code units (an emoji beyond U+FFFF counts 2)."""
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def _sent(request: dict[str, Any]) -> dict[str, Any]:
    """LINE's answer to an accepted reply or push: an id and quote token per message."""
    return {
        "sentMessages": [
            {"id": str(next(_ids)), "quoteToken": uuid.uuid4().hex} for _ in request["messages"]
        ]
    }


def _webhook_problem(endpoint: Any) -> str | None:
    """Why LINE would refuse `endpoint` as a webhook URL (https only, at most 500 chars)."""
    if not isinstance(endpoint, str) or not endpoint:
        return "The property, 'endpoint', in the request body is invalid"
    if len(endpoint) > 500:
        return "The webhook URL must be 500 characters or less"
    url = urlsplit(endpoint)
    if url.scheme != "https" or not url.hostname:
        return "The webhook URL must be an HTTPS URL"
    return None


def _parse_rich_menu(raw: bytes) -> tuple[Any, str | None]:
    """A rich menu object and the first of LINE's rules it breaks (None: valid)."""
    try:
        menu = json.loads(raw or b"{}")
    except ValueError:
        return None, "The request body has 1 error(s)"
    if not isinstance(menu, dict):
        return menu, "The request body has 1 error(s)"
    return menu, _rich_menu_problem(menu)


def _rich_menu_problem(menu: dict[str, Any]) -> str | None:
    size = menu.get("size")
    if not isinstance(size, dict):
        return "size: required"
    width, height = size.get("width"), size.get("height")
    if not isinstance(width, int) or not isinstance(height, int):
        return "size: width and height are integers"
    if not MENU_MIN_WIDTH <= width <= MENU_MAX_WIDTH:
        return f"size.width: {MENU_MIN_WIDTH}-{MENU_MAX_WIDTH}"
    if height < MENU_MIN_HEIGHT:
        return f"size.height: at least {MENU_MIN_HEIGHT}"
    if width / height < MENU_MIN_RATIO:
        return f"size: width/height at least {MENU_MIN_RATIO}"
    if not isinstance(menu.get("selected"), bool):
        return "selected: required (a boolean)"
    name = menu.get("name")
    if not isinstance(name, str) or not 1 <= len(name) <= MENU_MAX_NAME:
        return f"name: 1-{MENU_MAX_NAME} characters"
    chat_bar = menu.get("chatBarText")
    if not isinstance(chat_bar, str) or not 1 <= len(chat_bar) <= MENU_MAX_CHAT_BAR:
        return f"chatBarText: 1-{MENU_MAX_CHAT_BAR} characters"
    areas = menu.get("areas")
    if not isinstance(areas, list) or not 1 <= len(areas) <= MENU_MAX_AREAS:
        return f"areas: 1-{MENU_MAX_AREAS}"
    for n, area in enumerate(areas):
        problem = _area_problem(area, width, height)
        if problem:
            return f"areas[{n}].{problem}"
    return None


def _area_problem(area: Any, width: int, height: int) -> str | None:
    bounds = area.get("bounds") if isinstance(area, dict) else None
    if not isinstance(bounds, dict):
        return "bounds: required"
    values = [bounds.get(k) for k in ("x", "y", "width", "height")]
    numbers = [v for v in values if isinstance(v, int)]
    if len(numbers) != len(values):
        return "bounds: integers"
    x, y, w, h = numbers
    if x < 0 or y < 0 or w <= 0 or h <= 0 or x + w > width or y + h > height:
        return "bounds: inside the image"
    action = area.get("action")
    if not isinstance(action, dict):
        return "action: required"
    kind = action.get("type")
    label = action.get("label")
    if label is not None and (not isinstance(label, str) or len(label) > MENU_MAX_LABEL):
        return f"action.label: at most {MENU_MAX_LABEL} characters"
    if kind == "postback":
        data = action.get("data")
        if not isinstance(data, str) or not 1 <= len(data) <= 300:
            return "action.data: 1-300 characters"
        shown = action.get("displayText")
        if shown is not None and (not isinstance(shown, str) or not 1 <= len(shown) <= 300):
            return "action.displayText: 1-300 characters"
    elif kind == "message":
        text = action.get("text")
        if not isinstance(text, str) or not 1 <= len(text) <= 300:
            return "action.text: 1-300 characters"
    elif kind == "uri":
        if not isinstance(action.get("uri"), str) or not action["uri"].startswith(
            ("https://", "http://", "tel:", "line://")
        ):
            return "action.uri: a URL"
    elif kind not in ("richmenuswitch", "datetimepicker", "camera", "cameraRoll", "location"):
        return "action.type: unknown"
    return None


def image_size(data: bytes) -> tuple[int, int] | None:
    """(width, height) of a PNG or baseline/progressive JPEG, read from its header."""
    if data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR":
        return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    if data[:2] == b"\xff\xd8":
        at = 2
        while at + 9 < len(data) and data[at] == 0xFF:
            marker = data[at + 1]
            length = int.from_bytes(data[at + 2 : at + 4], "big")
            if marker in (0xC0, 0xC1, 0xC2):
                height = int.from_bytes(data[at + 5 : at + 7], "big")
                return int.from_bytes(data[at + 7 : at + 9], "big"), height
            at += 2 + length
    return None


def _image_problem(kind: str, data: bytes, size: tuple[Any, Any]) -> str | None:
    """Why LINE would refuse this rich menu image (None: it accepts it)."""
    if kind not in ("image/png", "image/jpeg"):
        return "Content-Type: image/png or image/jpeg"
    if len(data) > MENU_MAX_IMAGE_BYTES:
        return "The image is larger than 1 MB"
    found = image_size(data)
    if found is None or (kind == "image/png") != data.startswith(b"\x89PNG"):
        return "The image is not a PNG or JPEG of the stated type"
    if found != size:
        return f"The image is {found[0]}x{found[1]}, the rich menu {size[0]}x{size[1]}"
    return None


def _json(status: int, payload: Any) -> tuple[int, dict[str, str], bytes]:
    return (
        status,
        {"Content-Type": "application/json"},
        json.dumps(payload, ensure_ascii=False).encode(),
    )


class _SimHandler(BaseHTTPRequestHandler):
    """HTTP front of the simulator: the Messaging API, the data API and `/_sim` controls."""

    sim: LineSimulator
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out as separate writes

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the simulator's record is its log."""

    def _answer(self, status: int, headers: dict[str, str], body: bytes) -> None:
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def do_GET(self) -> None:
        """Profile, content, and the control API's reads."""
        self._dispatch("GET")

    def do_POST(self) -> None:
        """Reply, push, loading, and the control API's actions."""
        self._dispatch("POST")

    def do_DELETE(self) -> None:
        """Unlinking a user's rich menu."""
        self._dispatch("DELETE")

    def do_PUT(self) -> None:
        """The channel's webhook endpoint."""
        self._dispatch("PUT")

    def _dispatch(self, method: str) -> None:
        url = urlsplit(self.path)
        body = self._body()
        if url.path.startswith("/_sim/"):
            self._answer(*_control(self.sim, method, url.path, parse_qs(url.query), body))
            return
        headers = {k.lower(): v for k, v in self.headers.items()}
        self._answer(*self.sim.api(method, url.path, headers, body))


def _control(
    sim: LineSimulator, method: str, path: str, query: dict[str, list[str]], body: bytes
) -> tuple[int, dict[str, str], bytes]:
    """`/_sim/users/{name}/{action}` (POST), `/_sim/users/{name}/inbox` (GET) and
    `/_sim/quota` (POST `{"limit": n or null, "used"?: n}`: LINE's monthly limit)."""
    parts = path.strip("/").split("/")
    if parts == ["_sim", "quota"] and method == "POST":
        args = json.loads(body or b"{}")
        limit = args.get("limit")
        if limit is not None and (not isinstance(limit, int) or limit < 0):
            return _json(400, {"message": "limit: a count of messages, or null"})
        sim.set_monthly_limit(limit, int(args.get("used", 0)))
        return _json(200, {"limit": sim.push_quota, "used": sim.pushes_this_month})
    if len(parts) == 4 and parts[1] == "users":
        user = sim.user(parts[2])
        action = parts[3]
        if method == "GET" and action == "inbox":
            since = int(query.get("since", ["0"])[0])
            items = [
                {"via": d.via, "message": d.message, "delivered": d.delivered}
                for d in sim.inbox(user.user_id)[since:]
            ]
            return _json(200, {"userId": user.user_id, "messages": items})
        if method == "GET" and action == "menu":
            shown = sim.menu_shown(user.user_id)
            return _json(
                200,
                {"userId": user.user_id, "richMenuId": sim.menu_of(user.user_id), "shown": shown},
            )
        if method == "POST":
            args = json.loads(body or b"{}")
            actions: dict[str, Callable[[], Delivery]] = {
                "follow": lambda: user.follow(unblocked=bool(args.get("unblocked"))),
                "unfollow": user.unfollow,
                "say": lambda: user.say(str(args.get("text", "")), age=float(args.get("age", 0))),
                "sticker": user.sticker,
                "media": lambda: user.media(str(args.get("kind", "image"))),
                "postback": lambda: user.postback(str(args.get("data", ""))),
                "redeliver": lambda: sim.redeliver(str(args.get("eventId"))),
            }
            if action in actions:
                delivery = actions[action]()
                return _json(200, {"status": delivery.status, "eventIds": delivery.event_ids})
    return _json(404, {"message": "no such control"})


def main() -> None:
    """Run the simulator alone, pointed at a desk's webhook."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=7072)
    parser.add_argument("--webhook", default="http://127.0.0.1:7071/api/line/webhook")
    parser.add_argument("--secret", default="local-dev-channel-secret")
    parser.add_argument("--token", default="local-dev-access-token")
    options = parser.parse_args()
    sim = LineSimulator(options.secret, options.token, options.webhook)
    print(f"LINE simulator on {sim.start(port=options.port)} -> {options.webhook}", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        sim.stop()


if __name__ == "__main__":
    main()
