"""The user's side of a consultation, through the webhook over fakes."""

from __future__ import annotations

from datetime import UTC, datetime

from shared.domain.messages import ConfirmMessage
from shared.ports import USERS
from shared.texts.catalogue import load_catalogue
from tests.unit.conftest import consented, deliver, open_session

TEXTS = load_catalogue()
TUESDAY_10_JST = datetime(2025, 11, 4, 1, 0, tzinfo=UTC)


def sessions(store) -> list[dict]:
    return [doc for (c, p, _), (doc, _) in store.docs.items() if doc.get("type") == "session"]


def messages(store, user) -> list[dict]:
    docs = store.query_partition(USERS, user.user_id, doc_type="message")
    return sorted(docs, key=lambda d: (d["at"], d["position"], d["id"]))


def test_choosing_a_topic_opens_a_session_and_says_when_experts_answer(
    desk, sim, line, store, clock
) -> None:
    clock.now = TUESDAY_10_JST
    user = consented(desk, sim, line)
    deliver(desk, user.postback_event("action=topic&topic=job-change"))
    (ack,) = line.texts()
    assert "転職・就職" in ack
    assert "月〜金 9:00〜17:00" in ack
    assert "受付時間外" not in ack
    (session,) = sessions(store)
    assert (session["status"], session["topic"], session["userId"]) == (
        "waiting",
        "job-change",
        user.user_id,
    )
    assert store.read(USERS, user.user_id, "user")["openSessionId"] == session["id"]


def test_outside_hours_the_acknowledgement_names_the_next_opening(desk, sim, line, clock) -> None:
    clock.now = datetime(2025, 11, 3, 1, 0, tzinfo=UTC)  # 文化の日, a public holiday
    user = consented(desk, sim, line)
    deliver(desk, user.postback_event("action=topic&topic=career"))
    (ack,) = line.texts()
    assert "対応時間外" in ack
    assert "11月4日（火） 9:00" in ack


def test_messages_go_into_the_session_in_order_without_an_answer_each(
    desk, sim, line, store, clock
) -> None:
    user = open_session(desk, sim, line)
    first = user.text_event("転職を考えています")
    assert deliver(desk, first).counts == {"handled": 1}
    (ack,) = line.texts()  # the first message is acknowledged: place in the queue, hours
    assert TEXTS.text("ack_first") in ack
    assert TEXTS.text("wait_place", place="1") in ack
    line.sent.clear()
    clock.advance(seconds=0.5)  # within DESK_STATUS_CACHE_SECONDS: the status is not re-read
    second, third = user.text_event("30代です"), user.sticker_event()
    before = len(store.operations)
    result = deliver(desk, second, third)
    assert result.counts == {"handled": 2}
    assert line.sent == []
    # A point read, the shared flood count, one write and the consoles' tally each.
    assert store.operations[before:] == ["read", "increment", "create", "increment"] * 2
    stored = messages(store, user)
    assert [(m["kind"], m["text"]) for m in stored] == [
        ("text", "転職を考えています"),
        ("text", "30代です"),
        ("sticker", None),
    ]
    assert {m["sessionId"] for m in stored} == {sessions(store)[0]["id"]}


def test_a_redelivered_message_is_not_filed_twice(desk, sim, line, store) -> None:
    user = open_session(desk, sim, line)
    event = user.text_event("転職を考えています")
    deliver(desk, event)
    result = deliver(desk, {**event, "deliveryContext": {"isRedelivery": True}})
    assert result.counts == {"duplicate": 1}
    assert len(messages(store, user)) == 1


def test_media_is_refused_and_nothing_is_kept(desk, sim, line, store) -> None:
    user = open_session(desk, sim, line)
    deliver(desk, user.media_event("image"), user.media_event("file"))
    assert line.texts() == [TEXTS.text("media_refused")] * 2
    # Only a content-free marker goes into the transcript (the console shows「[画像: 受け付けず]」).
    kept = messages(store, user)
    assert sorted(m["kind"] for m in kept) == ["file-refused", "image-refused"]
    assert all(m["text"] is None for m in kept)


def test_one_open_session_at_a_time(desk, sim, line, store) -> None:
    user = open_session(desk, sim, line)
    deliver(desk, user.postback_event("action=topic&topic=income"))
    assert "転職・就職" in line.texts()[0]
    assert len(sessions(store)) == 1


def test_the_user_ends_the_session_by_phrase_or_button(desk, sim, line, store) -> None:
    for name, event in (("alice", "phrase"), ("bob", "postback")):
        user = open_session(desk, sim, line, name)
        deliver(
            desk,
            user.text_event("相談を終了")
            if event == "phrase"
            else user.postback_event("action=end"),
        )
        (question,) = line.sent[-1].messages
        assert isinstance(question, ConfirmMessage)  # one tap does not end it
        assert question.text == TEXTS.text("end_question")
        deliver(desk, user.postback_event(question.yes.data))
        assert line.texts()[-1] == TEXTS.text("session_ended")
        assert store.read(USERS, user.user_id, "user")["openSessionId"] is None
    assert {s["status"] for s in sessions(store)} == {"closed"}
    assert {s["closedBy"] for s in sessions(store)} == {"user"}
    line.sent.clear()
    deliver(desk, user.text_event("もう一度相談したい"))
    assert line.texts() == [TEXTS.text("draft_kept")]


def test_ending_without_a_session_says_so(desk, sim, line) -> None:
    user = consented(desk, sim, line)
    deliver(desk, user.text_event("相談を終了"))
    assert line.texts()[0] == TEXTS.text("no_open_session")


def test_unsend_removes_the_text_from_the_store(desk, sim, line, store) -> None:
    user = open_session(desk, sim, line)
    event = user.text_event("やっぱり消したい内容")
    deliver(desk, event, user.text_event("残す内容"))
    deliver(desk, user.unsend_event(event["message"]["id"]))
    stored = messages(store, user)
    assert [(m["text"], m["unsent"]) for m in stored] == [(None, True), ("残す内容", False)]
    assert "やっぱり" not in str(store.docs)


def test_withdrawing_consent_also_ends_the_open_session(desk, sim, line, store) -> None:
    user = open_session(desk, sim, line)
    deliver(desk, user.text_event("同意を撤回"), user.postback_event("action=withdraw&confirm=yes"))
    assert line.texts()[-1] == TEXTS.text("withdrawn")
    (session,) = sessions(store)
    assert session["status"] == "closed"
