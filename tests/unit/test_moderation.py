"""Prohibited acts and operators' actions through the webhook and the services, over fakes."""

from __future__ import annotations

import json

import pytest

from shared.domain.privacy import user_key
from shared.errors import ConflictError, NotFoundError, ValidationError
from shared.services.ports import DESK, USERS
from shared.texts.catalogue import load_catalogue
from tests.unit.conftest import consented, deliver, open_session

TEXTS = load_catalogue()
HASH_KEY = "local-dev-hash-key"


def flags(desk, status: str = "open") -> list[dict]:
    return desk.moderation.flag_page(status, None, 200)["flags"]


def docs_about(store, user) -> list[str]:
    """Every stored document that names the user's LINE id anywhere."""
    return [
        f"{c}/{p}/{i}"
        for (c, p, i), (doc, _) in store.docs.items()
        if user.user_id in json.dumps(doc, ensure_ascii=False) or p == user.user_id
    ]


def test_a_link_is_stored_and_flagged_without_a_copy_of_the_text(desk, sim, line, store) -> None:
    user = open_session(desk, sim, line)
    deliver(desk, user.text_event("副業はこちら https://bit.ly/kasegu"))
    (stored,) = store.query_partition(USERS, user.user_id, doc_type="message")
    assert "bit.ly" in stored["text"]
    raised = flags(desk)
    assert {(f["clause"], f["reason"]) for f in raised} == {
        ("8(3)", "link"),
        ("8(3)", "link shortener"),
    }
    assert all(f["messageRef"] == stored["id"] for f in raised)
    assert "bit.ly" not in json.dumps(raised)
    assert "副業" not in json.dumps(raised)
    assert line.sent == []  # nothing blocked, nothing said


def test_wording_raises_a_flag_and_blocks_nothing(desk, sim, line, store) -> None:
    user = open_session(desk, sim, line)
    deliver(desk, user.text_event("同僚になりすまして連絡したい"))
    assert [(f["clause"]) for f in flags(desk)] == ["8(6)"]
    assert len(store.query_partition(USERS, user.user_id, doc_type="message")) == 1


def test_repeated_files_raise_one_flag(desk, sim, line) -> None:
    user = open_session(desk, sim, line)
    for _ in range(4):
        deliver(desk, user.media_event("file"))
    assert [(f["clause"], f["reason"]) for f in flags(desk)] == [("8(4)", "repeated files")]
    assert line.texts() == [TEXTS.text("media_refused")] * 4


def test_a_flood_is_told_once_not_stored_and_flagged_when_sustained(desk, sim, line, store, clock):
    user = open_session(desk, sim, line)
    clock.advance(minutes=2)
    for burst in range(3):
        for n in range(22):
            deliver(desk, user.text_event(f"連投{burst}-{n}"))
        clock.advance(minutes=2)
    stored = store.query_partition(USERS, user.user_id, doc_type="message")
    assert len(stored) == 60  # 20 a minute got through
    assert line.texts() == [TEXTS.text("flood_notice")] * 3
    assert [(f["clause"], f["reason"]) for f in flags(desk)] == [("8(5)", "sustained flood")]


def test_a_suspended_user_gets_one_notice_then_silence_and_nothing_is_stored(
    desk, sim, line, store
) -> None:
    user = open_session(desk, sim, line)
    desk.moderation.suspend(user.user_id, "運用者A", {"clause": "8(3)", "reason": "宣伝の繰り返し"})
    deliver(
        desk, user.text_event("まだ使えますか"), user.sticker_event(), user.text_event("おーい")
    )
    assert line.texts() == [TEXTS.text("suspended_notice")]
    assert store.query_partition(USERS, user.user_id, doc_type="message") == []
    (session,) = [d for (c, p, _), (d, _) in store.docs.items() if p == "sessions"]
    assert session["status"] == "closed"
    assert desk.admin.user(user.user_id, "test")["status"] == "suspended"


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"clause": "9", "reason": "x"}, "clause"),
        ({"clause": "8(3)"}, "reason"),
        ({"clause": "8(3)", "reason": "  "}, "reason"),
    ],
)
def test_a_suspension_needs_a_clause_and_a_reason(desk, sim, line, payload, field) -> None:
    user = consented(desk, sim, line)
    with pytest.raises(ValidationError, match=field):
        desk.moderation.suspend(user.user_id, "運用者A", payload)


def test_read_only_keeps_messages_out_and_says_so_once(desk, sim, line, store) -> None:
    user = open_session(desk, sim, line)
    desk.moderation.restrict(user.user_id, "運用者A", {"mode": "read_only", "days": 7})
    deliver(desk, user.text_event("一通目"), user.text_event("二通目"))
    assert line.texts() == [TEXTS.text("restricted_read_only")]
    assert store.query_partition(USERS, user.user_id, doc_type="message") == []
    desk.moderation.reinstate(user.user_id, "運用者A")
    deliver(desk, user.text_event("三通目"))
    assert len(store.query_partition(USERS, user.user_id, doc_type="message")) == 1


def test_text_only_refuses_stickers_but_keeps_texts(desk, sim, line, store) -> None:
    user = open_session(desk, sim, line)
    desk.moderation.restrict(user.user_id, "運用者A", {"mode": "text_only"})
    deliver(desk, user.sticker_event(), user.text_event("文章です"))
    assert line.texts() == [TEXTS.text("restricted_text_only")]
    kinds = [m["kind"] for m in store.query_partition(USERS, user.user_id, doc_type="message")]
    assert kinds == ["text"]


def test_a_lower_limit_applies_to_that_user(desk, sim, line, store, clock) -> None:
    user = open_session(desk, sim, line)
    clock.advance(minutes=2)
    desk.moderation.restrict(
        user.user_id, "運用者A", {"mode": "lower_limit", "perMinute": 2, "perDay": 10}
    )
    deliver(desk, *(user.text_event(f"{n}") for n in range(4)))
    assert len(store.query_partition(USERS, user.user_id, doc_type="message")) == 2
    assert line.texts() == [TEXTS.text("flood_notice")]


@pytest.mark.parametrize(
    "payload",
    [{"mode": "mute"}, {"mode": "read_only", "days": 0}, {"mode": "lower_limit", "perMinute": 1}],
)
def test_bad_restrictions_are_refused(desk, sim, line, payload) -> None:
    user = consented(desk, sim, line)
    with pytest.raises(ValidationError):
        desk.moderation.restrict(user.user_id, "運用者A", payload)


def test_flags_are_paged_and_dismissed_once(desk, sim, line) -> None:
    user = open_session(desk, sim, line)
    deliver(
        desk, user.text_event("https://a.example.com"), user.text_event("https://b.example.com")
    )
    first = desk.moderation.flag_page("open", None, 1)
    rest = desk.moderation.flag_page("open", first["nextCursor"], 10)
    assert len(first["flags"]) + len(rest["flags"]) == 2
    flag_id = first["flags"][0]["flagId"]
    assert desk.moderation.dismiss(flag_id, "運用者A")["status"] == "dismissed"
    with pytest.raises(ConflictError):
        desk.moderation.dismiss(flag_id, "運用者A")
    with pytest.raises(NotFoundError):
        desk.moderation.dismiss("20990101T000000-0000000000", "運用者A")
    assert [f["flagId"] for f in flags(desk, "dismissed")] == [flag_id]


def test_erasure_on_request_asks_first_then_erases_everything(desk, sim, line, store) -> None:
    user = open_session(desk, sim, line)
    deliver(desk, user.text_event("相談内容 https://x.example.com"))
    deliver(desk, user.text_event("データ削除"))
    question = line.sent[-1].messages[0]
    assert question.text == TEXTS.text("erase_question")
    deliver(desk, user.postback_event("action=erase&confirm=no"))
    assert line.texts()[-1] == TEXTS.text("erase_cancelled")
    assert docs_about(store, user)
    deliver(desk, user.postback_event("action=erase&confirm=yes"))
    assert line.texts()[-1] == TEXTS.text("erased")
    assert docs_about(store, user) == []
    assert "相談内容" not in json.dumps([d for d, _ in store.docs.values()], ensure_ascii=False)


def test_a_withdrawn_user_may_still_ask_for_erasure(desk, sim, line, store) -> None:
    user = consented(desk, sim, line)
    deliver(
        desk,
        user.text_event("同意を撤回"),
        user.text_event("データ削除"),
        user.postback_event("action=erase&confirm=yes"),
    )
    assert line.texts()[-1] == TEXTS.text("erased")
    assert docs_about(store, user) == []


def test_the_purge_erases_suspended_users_after_the_grace_and_the_hash_keeps_them_out(
    desk, sim, line, store, clock
) -> None:
    user = open_session(desk, sim, line)
    deliver(desk, user.text_event("宣伝です https://bit.ly/x"))
    desk.moderation.suspend(user.user_id, "運用者A", {"clause": "8(3)", "reason": "宣伝"})
    stats_before = sorted(i for (c, p, i) in store.docs if p.startswith("stats:"))
    waiting = desk.eraser.purge_suspended(grace_days=30, limit=100)
    assert (waiting.examined, waiting.acted, waiting.skipped["grace"]) == (1, 0, 1)  # in the grace
    assert waiting.line() == "purge_suspended examined=1 purged=0 skipped=1 grace=1"
    clock.advance(days=30)
    assert desk.eraser.purge_suspended(grace_days=30, limit=100).acted == 1
    assert desk.eraser.purge_suspended(grace_days=30, limit=100).acted == 0  # idempotent
    assert docs_about(store, user) == []
    suspension = store.read(DESK, "suspensions", user_key(HASH_KEY, user.user_id))
    assert suspension["purged"] is True
    assert "userId" not in suspension
    stats_after = sorted(i for (c, p, i) in store.docs if p.startswith("stats:"))
    assert set(stats_before) <= set(stats_after)  # nothing counted is lost
    assert any(i.startswith("erasure:") for i in stats_after)
    line.sent.clear()
    deliver(desk, user.follow_event(), user.text_event("また来ました"))
    assert line.texts() == [TEXTS.text("suspended_notice")]  # told once more after the purge
    deliver(desk, user.text_event("もう一度"))
    assert len(line.sent) == 1  # then silence
    assert docs_about(store, user) == []  # and still nothing stored


def test_reinstating_a_purged_user_lifts_the_hash(desk, sim, line, store, clock) -> None:
    user = consented(desk, sim, line)
    desk.moderation.suspend(user.user_id, "運用者A", {"clause": "8(5)", "reason": "連投"})
    clock.advance(days=31)
    desk.eraser.purge_suspended(grace_days=30, limit=100)
    desk.moderation.reinstate(user.user_id, "運用者A")
    line.sent.clear()
    deliver(desk, user.follow_event())
    assert line.texts()[0] == TEXTS.text("greeting")


def test_every_admin_action_and_read_is_audited_by_hash(desk, sim, line) -> None:
    user = open_session(desk, sim, line)
    session_id = desk.experts.queue("waiting", None, 50)["sessions"][0]["sessionId"]
    desk.experts.detail(session_id, "田中")
    desk.experts.claim(session_id, "田中")
    desk.experts.send(session_id, "田中", {"text": "回答です"})
    desk.admin.user(user.user_id, "田中")
    desk.moderation.restrict(user.user_id, "運用者A", {"mode": "text_only"})
    desk.moderation.suspend(user.user_id, "運用者A", {"clause": "8(1)", "reason": "暴言"})
    desk.moderation.reinstate(user.user_id, "運用者A")
    records = desk.auditor.page(None, 200)["records"]
    assert sorted(r["action"] for r in records) == sorted(
        [
            "session.read",
            "session.claim",
            "session.message",
            "user.read",
            "user.restrict",
            "user.suspend",
            "user.reinstate",
        ]
    )
    assert {r["userKey"] for r in records} == {user_key(HASH_KEY, user.user_id)}
    assert user.user_id not in json.dumps(records)
