"""The LINE webhook edge: signature check (stdlib hmac) and event parsing (line-bot-sdk v3).

The signature is checked over the raw bytes before anything is parsed, with the standard
library only, so a forged request costs microseconds and imports nothing heavy. Events are
then parsed one by one with line-bot-sdk's models (imported on first use) and converted into
the desk's own dataclasses; SDK objects never leave this module.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from dataclasses import replace
from typing import Any

from shared.domain.events import (
    DecodedBody,
    Event,
    EventMeta,
    FollowEvent,
    MediaKind,
    MediaMessageEvent,
    OtherEvent,
    OtherMessageEvent,
    PostbackEvent,
    Source,
    SourceKind,
    StickerMessageEvent,
    TextMessageEvent,
    UnfollowEvent,
    UnsendEvent,
    is_line_user_id,
    is_readable_timestamp,
)
from shared.errors import MalformedPayload, SignatureError

_MEDIA_KINDS = {kind.value: kind for kind in MediaKind}


def signature_for(secret: str, body: bytes) -> str:
    """base64(HMAC-SHA256(secret, body)): what LINE sends in x-line-signature."""
    digest = hmac.new(secret.encode("utf-8"), body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def verify_signature(secret: str, body: bytes, signature: str | None) -> None:
    """Raise SignatureError unless `signature` is LINE's signature of `body` (constant time)."""
    if not signature:
        raise SignatureError("x-line-signature is missing")
    expected = signature_for(secret, body).encode("ascii")
    if not hmac.compare_digest(expected, signature.encode("utf-8", "replace")):
        raise SignatureError("x-line-signature does not match the body")


class LineWebhookDecoder:
    """EventDecoder for LINE's webhook format."""

    def __init__(self, channel_secret: str) -> None:
        self._secret = channel_secret

    def decode(self, body: bytes, signature: str | None) -> DecodedBody:
        """Verify, then parse; the order matters (nothing unsigned is parsed)."""
        verify_signature(self._secret, body, signature)
        return parse_events(body)


def parse_events(body: bytes) -> DecodedBody:
    """The events of a signed webhook body, as the desk's dataclasses.

    A body that is not a LINE payload is refused whole (MalformedPayload). One event that
    cannot be read is skipped and counted, so it does not take the others down with it, and
    neither does one that no retry could ever store: a string holding a lone surrogate (valid
    JSON, not encodable text), or a timestamp beyond what a clock can hold (the year 10000).
    An event whose `userId` is not of LINE's form is skipped and counted apart.
    """
    try:
        payload = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
        raise MalformedPayload("body is not UTF-8 JSON") from None
    if not isinstance(payload, dict) or not isinstance(payload.get("events"), list):
        raise MalformedPayload("body has no events list")
    events: list[Event] = []
    unreadable = bad_user_id = 0
    for position, raw in enumerate(payload["events"]):
        try:
            _check_encodable(raw)
            event = _parse_event(raw)
        except MalformedPayload:
            unreadable += 1
            continue
        user_id = event.meta.source.user_id
        if user_id is not None and not is_line_user_id(user_id):
            bad_user_id += 1
            continue
        events.append(replace(event, meta=replace(event.meta, position=position)))
    destination = payload.get("destination")
    return DecodedBody(
        events,
        unreadable,
        bad_user_id,
        destination if isinstance(destination, str) else None,
    )


def _check_encodable(raw: Any) -> None:
    """Refuse an event holding a lone surrogate (`"\\ud800"`): JSON allows it, UTF-8 does not,
    so no store would ever take it and every redelivery would fail the same way."""
    try:
        json.dumps(raw, ensure_ascii=False).encode("utf-8")
    except (UnicodeEncodeError, RecursionError):
        raise MalformedPayload("an event holds text that is not Unicode") from None


def _timestamp(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not is_readable_timestamp(value):
        raise MalformedPayload("an event's timestamp is not a readable time")
    return value


def _parse_event(raw: Any) -> Event:
    if not isinstance(raw, dict) or not isinstance(raw.get("type"), str):
        raise MalformedPayload("an event has no type")
    from linebot.v3.webhooks import Event as SdkEvent  # noqa: PLC0415 -- costly; only when signed

    try:
        sdk_event = SdkEvent.from_dict(raw)
    except (ValueError, TypeError, KeyError):
        # pydantic's ValidationError is a ValueError. An unknown event or message type is
        # LINE adding something new (counted and skipped); a known one that fails is malformed.
        return _parse_unknown(raw)
    if sdk_event is None:
        raise MalformedPayload("an event is empty")
    return _convert(sdk_event, raw)


def _parse_unknown(raw: dict[str, Any]) -> Event:
    from linebot.v3.webhooks import Event as SdkEvent  # noqa: PLC0415
    from linebot.v3.webhooks import MessageContent  # noqa: PLC0415

    meta = _meta_from_raw(raw)
    event_type = raw["type"]
    unfamiliar = (
        raw.get("mode") not in ("active", "standby") or meta.source.kind is SourceKind.OTHER
    )
    if unfamiliar or SdkEvent.get_discriminator_value({"type": event_type}) is None:
        return OtherEvent(meta)
    message = raw.get("message")
    if (
        event_type == "message"
        and isinstance(message, dict)
        and MessageContent.get_discriminator_value({"type": message.get("type")}) is None
    ):
        return OtherMessageEvent(meta, str(message.get("id", "")), str(message.get("type")))
    raise MalformedPayload(f"a {event_type} event is malformed")


def _object(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _meta_from_raw(raw: dict[str, Any]) -> EventMeta:
    """Meta of an event the SDK does not know, read defensively from the JSON."""
    source = _object(raw.get("source"))
    event_id = raw.get("webhookEventId")
    if not isinstance(event_id, str) or not event_id:
        raise MalformedPayload("an event has no webhookEventId")
    delivery = _object(raw.get("deliveryContext"))
    return EventMeta(
        event_id=event_id,
        event_type=str(raw["type"]),
        timestamp_ms=_timestamp(raw.get("timestamp")),
        source=_source(
            str(source.get("type", "")),
            source.get("userId"),
            source.get("groupId") or source.get("roomId"),
        ),
        is_redelivery=bool(delivery.get("isRedelivery", False)),
        standby=raw.get("mode") != "active",
        reply_token=raw.get("replyToken") if isinstance(raw.get("replyToken"), str) else None,
    )


def _source(kind: str, user_id: Any, chat_id: Any) -> Source:
    try:
        source_kind = SourceKind(kind)
    except ValueError:
        source_kind = SourceKind.OTHER  # a source LINE adds later: never one-to-one
    return Source(
        kind=source_kind,
        user_id=user_id if isinstance(user_id, str) and user_id else None,
        chat_id=chat_id if isinstance(chat_id, str) and chat_id else None,
    )


def _meta(sdk_event: Any, raw: dict[str, Any]) -> EventMeta:
    event_id = sdk_event.webhook_event_id
    if not event_id:
        raise MalformedPayload("an event has no webhookEventId")
    sdk_source = sdk_event.source
    if sdk_source is None:
        raise MalformedPayload("an event has no source")
    mode = getattr(sdk_event.mode, "value", sdk_event.mode)
    return EventMeta(
        event_id=event_id,
        event_type=raw["type"],
        timestamp_ms=_timestamp(sdk_event.timestamp),
        source=_source(
            sdk_source.type,
            getattr(sdk_source, "user_id", None),
            getattr(sdk_source, "group_id", None) or getattr(sdk_source, "room_id", None),
        ),
        is_redelivery=bool(sdk_event.delivery_context and sdk_event.delivery_context.is_redelivery),
        standby=mode != "active",  # standby, or a mode LINE adds later: never answer
        reply_token=getattr(sdk_event, "reply_token", None),
    )


def _convert(sdk_event: Any, raw: dict[str, Any]) -> Event:
    from linebot.v3 import webhooks as wh  # noqa: PLC0415

    meta = _meta(sdk_event, raw)
    if isinstance(sdk_event, wh.FollowEvent):
        follow = sdk_event.follow
        return FollowEvent(meta, is_unblocked=bool(follow and follow.is_unblocked))
    if isinstance(sdk_event, wh.UnfollowEvent):
        return UnfollowEvent(meta)
    if isinstance(sdk_event, wh.MessageEvent):
        return _convert_message(meta, sdk_event.message)
    if isinstance(sdk_event, wh.PostbackEvent):
        params = sdk_event.postback.params or {}
        return PostbackEvent(
            meta,
            data=sdk_event.postback.data,
            params=tuple(sorted((str(k), str(v)) for k, v in params.items())),
        )
    if isinstance(sdk_event, wh.UnsendEvent):
        return UnsendEvent(meta, message_id=sdk_event.unsend.message_id)
    return OtherEvent(meta)


def _convert_message(meta: EventMeta, message: Any) -> Event:
    from linebot.v3 import webhooks as wh  # noqa: PLC0415

    if isinstance(message, wh.TextMessageContent):
        return TextMessageEvent(meta, message_id=message.id, text=message.text)
    if isinstance(message, wh.StickerMessageContent):
        return StickerMessageEvent(meta, message_id=message.id)
    kind = _MEDIA_KINDS.get(message.type)
    if kind is not None:
        return MediaMessageEvent(meta, message_id=message.id, kind=kind)
    return OtherMessageEvent(meta, message_id=message.id, kind=message.type)
