"""LineMessenger over line-bot-sdk v3's Messaging API client.

Calls skip the SDK's parsing of LINE's answer (`_preload_content=False`): once LINE has
accepted a message, nothing about its answer's shape may turn the send into a failure (and
so into a second send). One ApiClient (one urllib3 connection pool) per process, created on
first use: importing
`linebot.v3.messaging` alone takes most of a second, which must not happen at import time
of `function_app`. SDK exceptions are converted into the desk's LineApiError family here;
their text (which quotes LINE's response) never reaches a log.
"""

from __future__ import annotations

import contextlib
import json
import threading
from typing import Any

from shared.budget import seconds_left
from shared.domain.messages import (
    ButtonsMessage,
    ConfirmMessage,
    OutboundMessage,
    PostbackButton,
    TextMessage,
    check_batch,
)
from shared.errors import LineApiError, MonthlyLimitReached, ReplyTokenRejected
from shared.ports import PushQuota


class LineApiClient:
    """Replies and pushes through LINE (or whatever `base_url` points at: the simulator)."""

    def __init__(self, access_token: str, base_url: str, timeout_seconds: float) -> None:
        self._access_token = access_token
        self._base_url = base_url
        self._timeout = timeout_seconds
        self._lock = threading.Lock()
        self._api: Any = None
        self._bot_user_id: str | None = None

    def warm_up(self) -> None:
        """Import the SDK, build the client and its message models now, not on the first
        message."""
        self._messaging_api()
        # Opens the pooled connection and keeps the bot's id for the webhook (bot info is free
        # and changes nothing); a warm-up that fails must not stop the instance from starting.
        with contextlib.suppress(LineApiError):
            self.bot_user_id()
        button = PostbackButton("-", "-")
        _to_sdk(TextMessage("-", quick_replies=(button,)))
        _to_sdk(ConfirmMessage("-", "-", button, button))
        _to_sdk(ButtonsMessage("-", "-", (button,)))

    def reply(self, reply_token: str, messages: tuple[OutboundMessage, ...]) -> None:
        """Answer with a reply token; ReplyTokenRejected when LINE refuses the token."""
        from linebot.v3.messaging import ReplyMessageRequest  # noqa: PLC0415

        check_batch(messages)
        request = ReplyMessageRequest(
            reply_token=reply_token, messages=[_to_sdk(m) for m in messages]
        )
        self._call(
            "reply",
            lambda api: api.reply_message_with_http_info(
                request, _request_timeout=self._left(), _preload_content=False
            ),
        )

    def show_loading(self, user_id: str, seconds: int) -> None:
        """LINE's loading animation for `seconds` in the user's chat (the typing signal)."""
        from linebot.v3.messaging import ShowLoadingAnimationRequest  # noqa: PLC0415

        request = ShowLoadingAnimationRequest(chat_id=user_id, loading_seconds=seconds)
        self._call(
            "loading",
            lambda api: api.show_loading_animation_with_http_info(
                request, _request_timeout=self._left(), _preload_content=False
            ),
        )

    def push(self, user_id: str, messages: tuple[OutboundMessage, ...], retry_key: str) -> None:
        """Push to one user; LINE's 409 for a repeated retry key means it was already sent."""
        from linebot.v3.messaging import PushMessageRequest  # noqa: PLC0415

        check_batch(messages)
        request = PushMessageRequest(to=user_id, messages=[_to_sdk(m) for m in messages])
        self._call(
            "push",
            lambda api: api.push_message_with_http_info(
                request,
                x_line_retry_key=retry_key,
                _request_timeout=self._left(),
                _preload_content=False,
            ),
            accepted_statuses=frozenset({409}),
        )

    def rich_menu_id(self, alias: str) -> str | None:
        """The rich menu an alias points at (`GET /v2/bot/richmenu/alias/{alias}`); None if
        the alias does not exist."""
        from linebot.v3.messaging.exceptions import ApiException  # noqa: PLC0415

        api = self._messaging_api()
        try:
            found = api.get_rich_menu_alias(alias, _request_timeout=self._left())
        except ApiException as exc:
            if exc.status == 404:
                return None
            raise LineApiError(
                f"LINE rich menu alias failed with HTTP {exc.status}", http_status=exc.status
            ) from None
        except Exception as exc:
            raise LineApiError(f"LINE rich menu alias failed: {type(exc).__name__}") from None
        menu_id = getattr(found, "rich_menu_id", None)
        return str(menu_id) if menu_id else None

    def link_rich_menu(self, user_id: str, rich_menu_id: str) -> None:
        """`POST /v2/bot/user/{userId}/richmenu/{richMenuId}`."""
        self._call(
            "rich menu link",
            lambda api: api.link_rich_menu_id_to_user_with_http_info(
                user_id, rich_menu_id, _request_timeout=self._left(), _preload_content=False
            ),
        )

    def unlink_rich_menu(self, user_id: str) -> None:
        """`DELETE /v2/bot/user/{userId}/richmenu` (the default menu shows again)."""
        self._call(
            "rich menu unlink",
            lambda api: api.unlink_rich_menu_id_from_user_with_http_info(
                user_id, _request_timeout=self._left(), _preload_content=False
            ),
        )

    def bot_user_id(self) -> str:
        """The channel's bot user id from `GET /v2/bot/info`, asked once per process."""
        if self._bot_user_id is None:
            response = self._call(
                "bot info",
                lambda api: api.get_bot_info_with_http_info(
                    _request_timeout=self._left(), _preload_content=False
                ),
            )
            try:
                user_id = json.loads(response.raw_data)["userId"]
            except (AttributeError, TypeError, ValueError, KeyError):
                user_id = None
            if not isinstance(user_id, str) or not user_id:
                raise LineApiError("LINE bot info has no userId")
            self._bot_user_id = user_id
        return self._bot_user_id

    def push_quota(self) -> PushQuota:
        """This month's push limit and consumption (`GET /v2/bot/message/quota` and
        `/v2/bot/message/quota/consumption`)."""
        quota = self._get_json(
            "quota",
            lambda api: api.get_message_quota_with_http_info(
                _request_timeout=self._left(), _preload_content=False
            ),
        )
        consumption = self._get_json(
            "quota consumption",
            lambda api: api.get_message_quota_consumption_with_http_info(
                _request_timeout=self._left(), _preload_content=False
            ),
        )
        try:
            limit = int(quota["value"]) if quota.get("type") == "limited" else None
            return PushQuota(limit=limit, used=int(consumption["totalUsage"]))
        except (KeyError, TypeError, ValueError):
            raise LineApiError("LINE quota answer not understood") from None

    def _get_json(self, what: str, call: Any) -> dict[str, Any]:
        response = self._call(what, call)
        raw = getattr(response, "raw_data", None)
        if raw is None:
            raw = getattr(response, "data", b"")
        try:
            parsed = json.loads(raw or b"{}")
        except ValueError:
            raise LineApiError(f"LINE {what} answer not JSON") from None
        if not isinstance(parsed, dict):
            raise LineApiError(f"LINE {what} answer not an object")
        return parsed

    def _messaging_api(self) -> Any:
        with self._lock:
            if self._api is None:
                from linebot.v3.messaging import (  # noqa: PLC0415
                    ApiClient,
                    Configuration,
                    MessagingApi,
                )

                configuration = Configuration(host=self._base_url, access_token=self._access_token)
                # Retrying is the caller's decision (push retry keys make it safe); urllib3's
                # own three silent retries would blow LINE's webhook time budget.
                configuration.retries = 0
                self._api = MessagingApi(ApiClient(configuration))
            return self._api

    def _left(self) -> float:
        """The call's timeout: LINE_TIMEOUT_SECONDS, or what is left of the call's budget
        (OutOfTime, inside the call, becomes the LineApiError of a LINE that did not answer)."""
        return seconds_left(self._timeout)

    def _call(self, what: str, call: Any, accepted_statuses: frozenset[int] = frozenset()) -> Any:
        from linebot.v3.messaging.exceptions import ApiException  # noqa: PLC0415

        api = self._messaging_api()
        try:
            return call(api)
        except ApiException as exc:
            status = int(exc.status) if exc.status else None
            if status in accepted_statuses:
                return None
            body = exc.body.decode("utf-8", "replace") if isinstance(exc.body, bytes) else exc.body
            if what == "reply" and status == 400 and "reply token" in str(body).lower():
                raise ReplyTokenRejected("LINE refused the reply token", http_status=400) from None
            if status == 429 and "monthly limit" in str(body).lower():
                raise MonthlyLimitReached(
                    f"LINE {what} refused: monthly limit reached", http_status=429
                ) from None
            raise LineApiError(
                f"LINE {what} failed with HTTP {status}",
                http_status=status,
                retry_after=_retry_after(exc.headers) if status == 429 else None,
            ) from None
        except Exception as exc:  # urllib3 raises a zoo of connection and timeout errors
            raise LineApiError(f"LINE {what} failed: {type(exc).__name__}") from None


def _retry_after(headers: Any) -> float | None:
    """Seconds from a 429's Retry-After header, if LINE sent a number of seconds (an HTTP
    date, or anything else, is ignored: the caller's own backoff applies)."""
    try:
        items = dict(headers or {}).items()
    except (TypeError, ValueError):
        return None
    value = next((v for k, v in items if str(k).lower() == "retry-after"), None)
    try:
        seconds = float(value) if value is not None else None
    except (TypeError, ValueError):
        return None
    return seconds if seconds is not None and 0 <= seconds < float("inf") else None


def _to_sdk(message: OutboundMessage) -> Any:
    from linebot.v3 import messaging as sdk  # noqa: PLC0415

    def action(button: PostbackButton) -> Any:
        return sdk.PostbackAction(
            label=button.label, data=button.data, displayText=button.display_text
        )

    if isinstance(message, ConfirmMessage):
        template = sdk.ConfirmTemplate(
            text=message.text, actions=[action(message.yes), action(message.no)]
        )
        return sdk.TemplateMessage(altText=message.alt_text, template=template)
    if isinstance(message, ButtonsMessage):
        buttons = sdk.ButtonsTemplate(
            title=message.title,
            text=message.text,
            actions=[action(b) for b in message.buttons],
        )
        return sdk.TemplateMessage(altText=message.alt_text, template=buttons)
    quick_reply = None
    if message.quick_replies:
        items = [sdk.QuickReplyItem(action=action(b)) for b in message.quick_replies]
        quick_reply = sdk.QuickReply(items=items)
    return sdk.TextMessage(text=message.text, quickReply=quick_reply)
