"""Prohibited acts and operators' actions through the webhook and the services, over fakes."""

from __future__ import annotations

import json

import pytest

from shared.config import DEFAULT_CONTACT
from shared.domain.moderation import normalise_clause
from shared.domain.privacy import user_key
from shared.errors import ConflictError, NotFoundError, ValidationError
from shared.ports import DESK, USERS
from shared.services.audit import ERASED_SUBJECT_PREFIX
from shared.texts.catalogue import load_catalogue
from tests.kit.admin_api import api
from tests.unit.conftest import consented, deliver, open_session

TEXTS = load_catalogue()
HASH_KEY = "local-dev-hash-key"


def flags(desk, status: str = "open") -> list[dict]:
    return api(desk).moderation.flag_page(status, None, 200)["flags"]


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
    (flag,) = raised  # one message, one flag listing every reason
    assert flag["reasons"] == [
        {"clause": "8(3)", "reason": "link"},
        {"clause": "8(3)", "reason": "link shortener"},
    ]
    assert flag["messageRef"] == stored["id"]
    assert "bit.ly" not in json.dumps(raised)
    assert "副業" not in json.dumps(raised)
    (ack,) = line.texts()  # nothing blocked; only the first message's acknowledgement
    assert ack.startswith(TEXTS.text("ack_first"))


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
    ack, *notices = line.texts()
    assert ack.startswith(TEXTS.text("ack_first"))
    assert notices == [TEXTS.text("flood_notice")] * 3
    assert [(f["clause"], f["reason"]) for f in flags(desk)] == [("8(5)", "sustained flood")]


def test_a_suspended_user_gets_one_notice_then_silence_and_nothing_is_stored(
    desk, sim, line, store
) -> None:
    user = open_session(desk, sim, line)
    api(desk).moderation.suspend(
        user.user_id, "運用者A", {"clause": "8(3)", "reason": "宣伝の繰り返し"}
    )
    deliver(
        desk, user.text_event("まだ使えますか"), user.sticker_event(), user.text_event("おーい")
    )
    assert line.texts() == [TEXTS.text("suspended_notice", contact=DEFAULT_CONTACT)]
    assert store.query_partition(USERS, user.user_id, doc_type="message") == []
    (session,) = [d for (c, p, _), (d, _) in store.docs.items() if d.get("type") == "session"]
    assert session["status"] == "closed"
    assert api(desk).admin.user(user.user_id, "test")["status"] == "suspended"


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
    with pytest.raises(ValidationError) as refused:
        api(desk).moderation.suspend(user.user_id, "運用者A", payload)
    assert refused.value.field == field


def test_read_only_keeps_messages_out_and_says_so_once(desk, sim, line, store) -> None:
    user = open_session(desk, sim, line)
    api(desk).moderation.restrict(user.user_id, "運用者A", {"mode": "read_only", "days": 7})
    deliver(desk, user.text_event("一通目"), user.text_event("二通目"))
    assert line.texts() == [TEXTS.text("restricted_read_only")]
    assert store.query_partition(USERS, user.user_id, doc_type="message") == []
    api(desk).moderation.reinstate(user.user_id, "運用者A")
    deliver(desk, user.text_event("三通目"))
    assert len(store.query_partition(USERS, user.user_id, doc_type="message")) == 1


def test_text_only_refuses_stickers_but_keeps_texts(desk, sim, line, store) -> None:
    user = open_session(desk, sim, line)
    api(desk).moderation.restrict(user.user_id, "運用者A", {"mode": "text_only"})
    deliver(desk, user.sticker_event(), user.text_event("文章です"))
    refused, ack = line.texts()
    assert refused == TEXTS.text("restricted_text_only")
    assert ack.startswith(TEXTS.text("ack_first"))  # the text is the session's first message
    kinds = [m["kind"] for m in store.query_partition(USERS, user.user_id, doc_type="message")]
    assert kinds == ["text"]


def test_a_lower_limit_applies_to_that_user(desk, sim, line, store, clock) -> None:
    user = open_session(desk, sim, line)
    clock.advance(minutes=2)
    api(desk).moderation.restrict(
        user.user_id, "運用者A", {"mode": "lower_limit", "perMinute": 2, "perDay": 10}
    )
    deliver(desk, *(user.text_event(f"{n}") for n in range(4)))
    assert len(store.query_partition(USERS, user.user_id, doc_type="message")) == 2
    ack, notice = line.texts()
    assert ack.startswith(TEXTS.text("ack_first"))
    assert notice == TEXTS.text("flood_notice")


@pytest.mark.parametrize(
    "payload",
    [{"mode": "mute"}, {"mode": "read_only", "days": 0}, {"mode": "lower_limit", "perMinute": 1}],
)
def test_bad_restrictions_are_refused(desk, sim, line, payload) -> None:
    user = consented(desk, sim, line)
    with pytest.raises(ValidationError):
        api(desk).moderation.restrict(user.user_id, "運用者A", payload)


def test_flags_are_paged_and_dismissed_once(desk, sim, line) -> None:
    user = open_session(desk, sim, line)
    deliver(
        desk, user.text_event("https://a.example.com"), user.text_event("https://b.example.com")
    )
    first = api(desk).moderation.flag_page("open", None, 1)
    rest = api(desk).moderation.flag_page("open", first["nextCursor"], 10)
    assert len(first["flags"]) + len(rest["flags"]) == 2
    flag_id = first["flags"][0]["flagId"]
    assert api(desk).moderation.dismiss(flag_id, "運用者A")["status"] == "dismissed"
    with pytest.raises(ConflictError):
        api(desk).moderation.dismiss(flag_id, "運用者A")
    with pytest.raises(NotFoundError):
        api(desk).moderation.dismiss("20990101T000000-0000000000", "運用者A")
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
        user.postback_event("action=withdraw&confirm=yes"),
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
    api(desk).moderation.suspend(user.user_id, "運用者A", {"clause": "8(3)", "reason": "宣伝"})
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
    assert line.texts() == [
        TEXTS.text("suspended_notice", contact=DEFAULT_CONTACT)
    ]  # told once more after the purge
    deliver(desk, user.text_event("もう一度"))
    assert len(line.sent) == 1  # then silence
    assert docs_about(store, user) == []  # and still nothing stored


def test_reinstating_a_purged_user_lifts_the_hash(desk, sim, line, store, clock) -> None:
    user = consented(desk, sim, line)
    api(desk).moderation.suspend(user.user_id, "運用者A", {"clause": "8(5)", "reason": "連投"})
    clock.advance(days=31)
    desk.eraser.purge_suspended(grace_days=30, limit=100)
    api(desk).moderation.reinstate(user.user_id, "運用者A")
    line.sent.clear()
    deliver(desk, user.follow_event())
    assert line.texts()[0] == TEXTS.text("greeting")


def test_every_admin_action_and_read_is_audited_by_hash(desk, sim, line) -> None:
    user = open_session(desk, sim, line)
    session_id = api(desk).experts.queue("waiting", None, 50)["sessions"][0]["sessionId"]
    api(desk).experts.detail(session_id, "田中")
    api(desk).experts.claim(session_id, "田中")
    api(desk).experts.send(session_id, "田中", {"text": "回答です"})
    api(desk).admin.user(user.user_id, "田中")
    api(desk).moderation.restrict(user.user_id, "運用者A", {"mode": "text_only"})
    api(desk).moderation.suspend(user.user_id, "運用者A", {"clause": "8(1)", "reason": "暴言"})
    api(desk).moderation.reinstate(user.user_id, "運用者A")
    records = api(desk).auditor.page(None, 200)["records"]
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


def audit_of(desk, subject: str) -> list[dict]:
    return [r for r in api(desk).auditor.page(None, 200)["records"] if r["userKey"] == subject]


def test_a_message_with_several_findings_raises_one_flag_with_every_reason(desk, sim, line):
    user = open_session(desk, sim, line)
    deliver(desk, user.text_event("なりすましで宣伝 https://bit.ly/x?utm_source=a"))
    (flag,) = flags(desk)
    assert flag["clauses"] == ["8(3)", "8(6)"]
    assert [r["reason"] for r in flag["reasons"]] == [
        "link",
        "link shortener",
        "affiliate or tracking parameter",
        "listed wording (impersonation)",
    ]


@pytest.mark.parametrize(
    ("written", "stored"),
    [
        ("8(3)", "8(3)"),
        ("§8(3)", "8(3)"),
        ("８(３)", "8(3)"),
        ("§８（３）", "8(3)"),
        ("８（１０）", "8(10)"),
        ("8(1)", "8(1)"),
    ],
)
def test_clauses_are_read_in_every_written_form(written, stored) -> None:
    assert normalise_clause(written) == stored


@pytest.mark.parametrize(
    "written",
    [
        "8(0)",
        "8(11)",
        "8(03)",
        "8(3)\n",
        " 8(3)",
        "§§8(3)",
        "8⑶",
        "⁸(3)",
        "9(1)",
        "8-3",
        "",
        3,
        None,
    ],
)
def test_anything_else_is_not_a_clause(written) -> None:
    assert normalise_clause(written) is None


def test_suspending_and_restricting_action_the_users_open_flags_only(desk, sim, line, clock):
    alice = open_session(desk, sim, line, "alice")
    bob = open_session(desk, sim, line, "bob")
    deliver(
        desk, alice.text_event("https://a.example.com"), alice.text_event("https://b.example.com")
    )
    deliver(desk, bob.text_event("https://c.example.com"))
    dismissed = next(f for f in flags(desk) if f["userId"] == alice.user_id)["flagId"]
    api(desk).moderation.dismiss(dismissed, "運用者A")
    clock.advance(minutes=5)
    body = api(desk).moderation.suspend(
        alice.user_id, "運用者B", {"clause": "８(３)", "reason": "宣伝"}
    )
    assert body["clause"] == "8(3)"
    (actioned,) = flags(desk, "actioned")
    assert (actioned["userId"], actioned["action"], actioned["actionedBy"]) == (
        alice.user_id,
        "suspend",
        "運用者B",
    )
    assert actioned["actionedAt"] == clock().isoformat()
    assert [f["flagId"] for f in flags(desk, "dismissed")] == [dismissed]  # stays dismissed
    assert [f["userId"] for f in flags(desk)] == [bob.user_id]
    with pytest.raises(ConflictError):
        api(desk).moderation.dismiss(actioned["flagId"], "運用者A")
    api(desk).moderation.restrict(bob.user_id, "運用者C", {"mode": "read_only"})
    assert flags(desk) == []
    assert {(f["action"], f["actionedBy"]) for f in flags(desk, "actioned")} == {
        ("suspend", "運用者B"),
        ("restrict", "運用者C"),
    }


def test_a_flag_stored_with_one_reason_is_still_read(desk, store) -> None:
    store.create(
        DESK,
        {
            "id": "20251101T000000-0123456789",
            "pk": "flags",
            "type": "flag",
            "userId": "U" + "1" * 32,
            "clause": "8(3)",
            "reason": "link",
            "createdAt": "2025-11-01T00:00:00+00:00",
            "status": "open",
        },
    )
    (flag,) = flags(desk)
    assert flag["reasons"] == [{"clause": "8(3)", "reason": "link"}]


def _busy_user(desk, sim, line, name: str = "alice"):
    """A user with a session, a flag, expert reads and answers, a suspension and a
    reinstatement: every kind of audit record, with session ids, a flag id and a reason."""
    user = open_session(desk, sim, line, name)
    deliver(desk, user.text_event("https://a.example.com"))
    session_id = api(desk).experts.queue("waiting", None, 50)["sessions"][0]["sessionId"]
    api(desk).experts.detail(session_id, "田中")
    api(desk).experts.send(session_id, "田中", {"text": "回答です"})
    api(desk).admin.user(user.user_id, "田中")
    flag_id = flags(desk)[0]["flagId"]
    api(desk).moderation.dismiss(flag_id, "運用者A")
    api(desk).moderation.suspend(user.user_id, "運用者A", {"clause": "8(3)", "reason": "自由記述"})
    api(desk).moderation.reinstate(user.user_id, "運用者A")
    return user, session_id, flag_id


def _audit_text(store) -> str:
    return json.dumps(
        [d for (c, p, _), (d, _) in store.docs.items() if c == DESK and p.startswith("audit")],
        ensure_ascii=False,
    )


def test_erasure_on_request_scrubs_the_audit_down_to_action_time_and_actor(desk, sim, line, store):
    user, session_id, flag_id = _busy_user(desk, sim, line)
    key = user_key(HASH_KEY, user.user_id)
    before = [(r["action"], r["who"], r["at"]) for r in audit_of(desk, key)]
    assert session_id in _audit_text(store)

    desk.eraser.erase_on_request(user.user_id, "窓口担当", lambda _: True)

    assert audit_of(desk, key) == []
    text = _audit_text(store)
    for linked in (key, session_id, flag_id, "自由記述"):
        assert linked not in text
    (erase,) = [
        r for r in api(desk).auditor.page(None, 200)["records"] if r["action"] == "user.erase"
    ]
    token = erase["userKey"]
    assert token.startswith(ERASED_SUBJECT_PREFIX)
    theirs = audit_of(desk, token)
    assert sorted((r["action"], r["who"], r["at"]) for r in theirs) == sorted(
        [*before, ("user.erase", "窓口担当", erase["at"])]
    )
    assert all(r["details"] == {} for r in theirs)


def test_each_erasure_draws_its_own_token(desk, sim, line) -> None:
    alice, _, _ = _busy_user(desk, sim, line, "alice")
    desk.eraser.erase_on_request(alice.user_id, "A", lambda _: True)
    bob = consented(desk, sim, line, "bob")
    api(desk).admin.user(bob.user_id, "A")
    desk.eraser.erase_on_request(bob.user_id, "A", lambda _: True)
    erasures = [
        r for r in api(desk).auditor.page(None, 200)["records"] if r["action"] == "user.erase"
    ]
    assert len({r["userKey"] for r in erasures}) == 2


def test_erasure_in_the_chat_scrubs_the_audit_too(desk, sim, line, store) -> None:
    user, session_id, _ = _busy_user(desk, sim, line)
    key = user_key(HASH_KEY, user.user_id)
    deliver(desk, user.postback_event("action=erase&confirm=yes"))
    assert audit_of(desk, key) == []
    assert session_id not in _audit_text(store)


def test_a_purged_user_keeps_the_hash_only_and_loses_it_when_reinstated(
    desk, sim, line, store, clock
) -> None:
    user = open_session(desk, sim, line)
    session_id = api(desk).experts.queue("waiting", None, 50)["sessions"][0]["sessionId"]
    api(desk).experts.detail(session_id, "田中")
    api(desk).moderation.suspend(
        user.user_id, "運用者A", {"clause": "8(5)", "reason": "連投の記述"}
    )
    clock.advance(days=31)
    desk.eraser.purge_suspended(grace_days=30, limit=100)
    key = user_key(HASH_KEY, user.user_id)
    kept = audit_of(desk, key)
    assert sorted(r["action"] for r in kept) == ["session.read", "user.purge", "user.suspend"]
    assert all(r["details"] == {} for r in kept)
    assert "連投の記述" not in _audit_text(store)
    assert session_id not in _audit_text(store)

    api(desk).moderation.reinstate(user.user_id, "運用者A")

    assert audit_of(desk, key) == []
    assert key not in json.dumps([d for d, _ in store.docs.values()])
    (reinstate,) = [
        r for r in api(desk).auditor.page(None, 200)["records"] if r["action"] == "user.reinstate"
    ]
    token = reinstate["userKey"]
    assert token.startswith(ERASED_SUBJECT_PREFIX)
    assert sorted(r["action"] for r in audit_of(desk, token)) == [
        "session.read",
        "user.purge",
        "user.reinstate",
        "user.suspend",
    ]


def test_erasing_a_purged_user_again_adds_no_link(desk, sim, line, clock) -> None:
    user = consented(desk, sim, line)
    api(desk).moderation.suspend(user.user_id, "運用者A", {"clause": "8(5)", "reason": "連投"})
    clock.advance(days=31)
    desk.eraser.purge_suspended(grace_days=30, limit=100)
    desk.eraser.erase_on_request(user.user_id, "窓口担当", lambda _: True)
    (erase,) = [
        r for r in api(desk).auditor.page(None, 200)["records"] if r["action"] == "user.erase"
    ]
    assert erase["details"] == {}
    assert erase["userKey"] == user_key(HASH_KEY, user.user_id)  # still suspended


def test_erasure_in_the_chat_is_honoured_whatever_the_service_status(desk, sim, line, store):
    for state in ("maintenance", "suspended", "ended"):
        user = open_session(desk, sim, line, f"user-{state}")
        api(desk).status.change({"state": state}, "運用者A")
        deliver(desk, user.text_event("データ削除"))
        assert line.texts()[-1] == TEXTS.text("erase_question")
        deliver(desk, user.postback_event("action=erase&confirm=yes"))
        assert line.texts()[-1] == TEXTS.text("erased")
        assert docs_about(store, user) == []
        api(desk).status.change({"state": "open"}, "運用者A")


def test_erasure_in_the_chat_is_honoured_over_the_flood_limit(desk, sim, line, store) -> None:
    user = open_session(desk, sim, line)
    api(desk).moderation.restrict(
        user.user_id, "運用者A", {"mode": "lower_limit", "perMinute": 1, "perDay": 1}
    )
    deliver(desk, *(user.text_event(f"連投{n}") for n in range(3)))
    assert TEXTS.text("flood_notice") in line.texts()
    deliver(desk, user.text_event("データ削除"), user.postback_event("action=erase&confirm=yes"))
    assert line.texts()[-2:] == [TEXTS.text("erase_question"), TEXTS.text("erased")]
    assert docs_about(store, user) == []


def test_a_user_back_after_an_erasure_starts_as_after_a_first_follow(desk, sim, line, store):
    newcomer = sim.user("newcomer")
    deliver(desk, newcomer.follow_event())
    first_follow = [m for call in line.sent for m in call.messages]
    line.sent.clear()
    user = open_session(desk, sim, line)
    desk.eraser.erase_on_request(user.user_id, "窓口担当", lambda _: True)
    line.sent.clear()
    stats_before = sum(1 for (c, p, i) in store.docs if i.startswith("user_new:"))

    deliver(desk, user.text_event("また来ました"))

    assert [m for call in line.sent for m in call.messages] == first_follow
    view = api(desk).admin.user(user.user_id, "運用者A")
    assert (view["followed"], view["status"], view["firstFollowedAt"] is not None) == (
        True,
        "pending",
        True,
    )
    assert sum(1 for (c, p, i) in store.docs if i.startswith("user_new:")) == stats_before + 1
    assert "また来ました" not in json.dumps([d for d, _ in store.docs.values()], ensure_ascii=False)
    line.sent.clear()
    deliver(desk, user.follow_event())  # a later follow is not a second first follow
    assert sum(1 for (c, p, i) in store.docs if i.startswith("user_new:")) == stats_before + 1
