"""The webhook edge: signatures are checked before parsing, and LINE's JSON becomes our events."""

from __future__ import annotations

import json

import pytest

from devtools.linesim import BOT_USER_ID, LineSimulator, sign
from shared.adapters.line_webhook import LineWebhookDecoder, parse_events, verify_signature
from shared.domain.events import (
    FollowEvent,
    MediaKind,
    MediaMessageEvent,
    OtherEvent,
    OtherMessageEvent,
    PostbackEvent,
    SourceKind,
    StickerMessageEvent,
    TextMessageEvent,
    UnfollowEvent,
    UnsendEvent,
)
from shared.errors import MalformedPayload, SignatureError

SECRET = "test-secret"
sim = LineSimulator(SECRET, "token")


def body_of(*events: object) -> bytes:
    return json.dumps({"destination": BOT_USER_ID, "events": list(events)}).encode()


def test_a_correct_signature_is_accepted() -> None:
    body = body_of()
    verify_signature(SECRET, body, sign(SECRET, body))


@pytest.mark.parametrize(
    "signature",
    [None, "", "not-base64!", sign("other-secret", body_of()), sign(SECRET, body_of() + b" ")],
)
def test_a_missing_or_wrong_signature_is_refused(signature: str | None) -> None:
    with pytest.raises(SignatureError):
        verify_signature(SECRET, body_of(), signature)


def test_the_decoder_refuses_before_parsing() -> None:
    # Not even JSON: a parse would raise MalformedPayload, the signature check comes first.
    with pytest.raises(SignatureError):
        LineWebhookDecoder(SECRET).decode(b"\xff\xfe not json", sign("wrong", b"x"))


def test_the_verify_request_has_no_events() -> None:
    body = b'{"destination":"Ubot","events":[]}'
    assert LineWebhookDecoder(SECRET).decode(body, sign(SECRET, body)).events == []


def test_a_text_message_becomes_a_text_event_with_its_meta() -> None:
    user = sim.user("alice")
    raw = user.text_event("転職の相談です")
    (event,) = parse_events(body_of(raw)).events
    assert isinstance(event, TextMessageEvent)
    assert event.text == "転職の相談です"
    assert event.message_id == raw["message"]["id"]
    assert event.meta.event_id == raw["webhookEventId"]
    assert event.meta.reply_token == raw["replyToken"]
    assert event.meta.source.user_id == user.user_id
    assert event.meta.source.is_one_to_one
    assert not event.meta.standby
    assert not event.meta.is_redelivery


def test_follow_unfollow_postback_unsend_and_sticker_convert() -> None:
    user = sim.user("bob")
    events = parse_events(
        body_of(
            user.follow_event(unblocked=True),
            user.unfollow_event(),
            user.postback_event("a=1", {"date": "2025-10-24"}),
            user.unsend_event("7"),
            user.sticker_event(),
        )
    ).events
    follow, unfollow, postback, unsend, sticker = events
    assert isinstance(follow, FollowEvent)
    assert follow.is_unblocked
    assert isinstance(unfollow, UnfollowEvent)
    assert unfollow.meta.reply_token is None
    assert isinstance(postback, PostbackEvent)
    assert (postback.data, postback.params) == ("a=1", (("date", "2025-10-24"),))
    assert isinstance(unsend, UnsendEvent)
    assert unsend.message_id == "7"
    assert isinstance(sticker, StickerMessageEvent)


@pytest.mark.parametrize("kind", list(MediaKind))
def test_media_messages_are_recognised_without_their_content(kind: MediaKind) -> None:
    (event,) = parse_events(body_of(sim.user("c").media_event(kind.value))).events
    assert isinstance(event, MediaMessageEvent)
    assert event.kind is kind


def test_standby_redelivered_and_group_events_keep_their_flags() -> None:
    raw = sim.user("d").text_event("x")
    raw["mode"] = "standby"
    raw["deliveryContext"] = {"isRedelivery": True}
    raw["source"] = {"type": "group", "groupId": "Cgroup", "userId": sim.user("m").user_id}
    (event,) = parse_events(body_of(raw)).events
    assert event.meta.standby
    assert event.meta.is_redelivery
    assert event.meta.source.kind is SourceKind.GROUP
    assert event.meta.source.chat_id == "Cgroup"
    assert not event.meta.source.is_one_to_one


def test_an_event_type_line_adds_later_is_kept_as_other() -> None:
    raw = sim.user("e").event("somethingNew", reply=False, somethingNew={"x": 1})
    (event,) = parse_events(body_of(raw)).events
    assert isinstance(event, OtherEvent)
    assert event.meta.event_type == "somethingNew"


def test_a_message_type_line_adds_later_is_kept_as_other_message() -> None:
    raw = sim.user("f").event("message", message={"type": "hologram", "id": "5"})
    (event,) = parse_events(body_of(raw)).events
    assert isinstance(event, OtherMessageEvent)
    assert event.kind == "hologram"


@pytest.mark.parametrize(
    "body",
    [
        b"\xff\xfe\x00",
        b"not json",
        b"[]",
        b'{"events": {}}',
        ("[" * 100_000 + "]" * 100_000).encode(),
    ],
    ids=["not-utf8", "not-json", "array", "events-object", "deeply-nested"],
)
def test_a_body_that_is_not_a_line_payload_is_refused(body: bytes) -> None:
    with pytest.raises(MalformedPayload):
        parse_events(body)


def test_an_unreadable_event_is_skipped_and_counted_without_losing_the_others() -> None:
    good = sim.user("g").text_event("こんにちは")
    no_id = sim.user("g").follow_event()
    del no_id["webhookEventId"]
    broken_text = sim.user("g").text_event("x")
    del broken_text["message"]["text"]
    decoded = parse_events(body_of(1, {"type": "message"}, no_id, broken_text, good))
    assert decoded.unreadable == 4
    assert [e.meta.event_id for e in decoded.events] == [good["webhookEventId"]]


def test_unfamiliar_modes_and_sources_are_kept_but_never_one_to_one_or_answered() -> None:
    passive = sim.user("h").text_event("x")
    passive["mode"] = "passive"
    channel = sim.user("h").text_event("y")
    channel["source"] = {"type": "channel", "channelId": "C1"}
    first, second = parse_events(body_of(passive, channel)).events
    assert isinstance(first, OtherEvent)
    assert first.meta.standby
    assert isinstance(second, OtherEvent)
    assert not second.meta.source.is_one_to_one
