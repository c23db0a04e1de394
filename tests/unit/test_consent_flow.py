"""The consent lifecycle through the webhook, over fakes and a clock the tests move."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from shared.domain.messages import ConfirmMessage, TextMessage
from shared.entrypoints.views.admin import policy_command
from shared.ports import USERS
from shared.texts.catalogue import load_catalogue
from tests.kit.admin_api import api
from tests.kit.fakes import FakeClock
from tests.unit.conftest import AGREE, CURRENT, DECLINE, consented, deliver

TEXTS = load_catalogue()
CURRENT_LABEL = "2025年10月24日"  # CURRENT as users read it
URL = "https://policy.example/desk"


def history(desk, user) -> list[tuple[str, str]]:
    return [
        (c["policyVersion"], c["method"])
        for c in api(desk).admin.user(user.user_id, "test")["consents"]
    ]


def test_follow_brings_greeting_summary_link_and_two_buttons_naming_the_version(
    desk, sim, line
) -> None:
    deliver(desk, sim.user("alice").follow_event())
    (sent,) = line.sent
    greeting, summary, question = sent.messages
    assert greeting.text == TEXTS.text("greeting")
    assert isinstance(summary, TextMessage)
    for words in (
        "無料",
        "通信料",
        "LINEヤフー株式会社",
        "日本マイクロソフト株式会社",
        "個人情報保護方針",
        URL,
    ):
        assert words in summary.text
    assert isinstance(question, ConfirmMessage)
    assert (question.yes.label, question.no.label) == ("同意する", "同意しない")
    assert question.yes.data == AGREE
    assert question.no.data == DECLINE


def test_before_consent_messages_get_the_prompt_at_most_every_few_minutes(
    desk, sim, line, store, clock: FakeClock
) -> None:
    user = sim.user("alice")
    deliver(desk, user.follow_event())
    line.sent.clear()
    deliver(desk, user.text_event("相談したい内容その1"))
    # The follow's prompt was a moment ago: a one-line reminder, never silence.
    (reminder,) = line.sent[0].messages
    assert reminder.text == TEXTS.text("consent_reminder")
    assert [chip.data for chip in reminder.quick_replies] == [AGREE, DECLINE]
    line.sent.clear()
    clock.advance(minutes=5)
    deliver(desk, user.text_event("相談したい内容その2"), user.sticker_event())
    prompt, again = line.sent
    assert isinstance(prompt.messages[-1], ConfirmMessage)  # the full prompt once per interval
    assert [m.text for m in again.messages] == [TEXTS.text("consent_reminder")]
    stored = json.dumps([doc for doc, _ in store.docs.values()], ensure_ascii=False)
    assert "相談したい内容" not in stored


def test_agreeing_records_an_explicit_consent_and_opens_the_menu(desk, sim, line, clock) -> None:
    user = sim.user("alice")
    deliver(desk, user.follow_event())
    line.sent.clear()
    deliver(desk, user.postback_event(AGREE))
    thanks, menu = line.sent[0].messages
    assert f"{CURRENT_LABEL}版" in thanks.text
    assert menu.text == TEXTS.text("menu")
    labels = [chip.label for chip in menu.quick_replies]
    assert labels == [
        "キャリア・将来",
        "転職・就職",
        "スキルアップ・資格",
        "収入・お金",
        "職場の悩み",
        "その他",
        "同意・データ",  # withdrawal sits in the data menu, away from the topics
    ]
    described = api(desk).admin.user(user.user_id, "test")
    assert described["status"] == "consented"
    (record,) = described["consents"]
    assert record["policyVersion"] == CURRENT
    assert record["method"] == "explicit"
    assert record["at"] == clock().isoformat()
    assert record["textSha256"] == desk.policies.get(CURRENT).text_sha256
    assert record["privacyPolicyVersion"] == "2025-09-26"
    assert record["eventId"]


def test_agreeing_twice_keeps_one_record(desk, sim, line) -> None:
    user = consented(desk, sim, line)
    deliver(desk, user.postback_event(AGREE))
    assert line.texts()[0] == TEXTS.text("consent_already", version=CURRENT_LABEL)
    assert history(desk, user) == [(CURRENT, "explicit")]


def test_agreeing_to_an_older_version_does_not_count(desk, sim, line) -> None:
    user = sim.user("alice")
    deliver(desk, user.follow_event())
    line.sent.clear()
    deliver(desk, user.postback_event("action=consent&version=2025-09-26&answer=yes"))
    stale, _summary, question = line.sent[0].messages
    assert stale.text == TEXTS.text("consent_stale")
    assert question.yes.data == AGREE
    assert history(desk, user) == []


def test_declining_is_recorded_and_explained_and_the_next_message_asks_again(
    desk, sim, line
) -> None:
    user = sim.user("alice")
    deliver(desk, user.follow_event(), user.postback_event(DECLINE))
    assert line.sent[-1].messages[0].text == TEXTS.text("consent_declined")
    assert history(desk, user) == [(CURRENT, "declined")]
    assert api(desk).admin.user(user.user_id, "test")["status"] == "declined"
    line.sent.clear()
    deliver(desk, user.text_event("やっぱり使いたいです"))
    assert isinstance(line.sent[0].messages[-1], ConfirmMessage)


def test_continued_use_after_a_change_is_deemed_consent_announced_once(
    desk, sim, line, clock: FakeClock
) -> None:
    clock.now = datetime(2025, 10, 1, tzinfo=UTC)
    user = sim.user("alice")
    deliver(
        desk,
        user.follow_event(),
        user.postback_event("action=consent&version=2025-09-26&answer=yes"),
    )
    clock.now = datetime(2025, 11, 1, tzinfo=UTC)
    line.sent.clear()
    deliver(desk, user.text_event("こんにちは"))
    notice, *answer = line.sent[0].messages
    assert "2025年10月24日" in notice.text
    assert URL in notice.text
    assert [m.text for m in answer] == [TEXTS.text("draft_kept")]  # the text waits for a topic
    line.sent.clear()
    deliver(desk, user.text_event("もう一度"))
    assert line.texts() == [TEXTS.text("draft_kept")]
    assert history(desk, user) == [("2025-09-26", "explicit"), (CURRENT, "deemed")]


def test_a_material_change_needs_explicit_consent_again(desk, sim, line, clock) -> None:
    user = consented(desk, sim, line)
    desk.policies.register(
        policy_command(
            {
                "versionId": "2025-12-01",
                "effectiveDate": "2025-12-01",
                "url": URL,
                "text": "改定版",
                "requiresExplicit": True,
            }
        )
    )
    clock.now = datetime(2025, 12, 2, tzinfo=UTC)
    deliver(desk, user.text_event("こんにちは"))
    assert isinstance(line.sent[0].messages[-1], ConfirmMessage)
    assert "2025-12-01" in line.sent[0].messages[-1].yes.data
    assert history(desk, user) == [(CURRENT, "explicit")]
    deliver(desk, user.postback_event("action=consent&version=2025-12-01&answer=yes"))
    assert history(desk, user)[-1] == ("2025-12-01", "explicit")


@pytest.mark.parametrize("how", ["phrase", "postback"])
def test_withdrawal_stops_the_desk_and_explains_erasure(desk, sim, line, clock, how) -> None:
    user = consented(desk, sim, line)
    clock.advance(minutes=1)
    event = (
        user.text_event("同意を撤回") if how == "phrase" else user.postback_event("action=withdraw")
    )
    deliver(desk, event)
    (question,) = line.sent[0].messages
    assert isinstance(question, ConfirmMessage)  # one tap does not withdraw
    assert question.text == TEXTS.text("withdraw_question")
    assert history(desk, user)[-1] == (CURRENT, "explicit")
    line.sent.clear()
    deliver(desk, user.postback_event(question.yes.data))
    assert line.texts() == [TEXTS.text("withdrawn")]
    assert "データ削除" in line.texts()[0]
    assert history(desk, user)[-1] == (CURRENT, "withdrawn")
    assert api(desk).admin.user(user.user_id, "test")["status"] == "withdrawn"
    line.sent.clear()
    deliver(desk, user.text_event("こんにちは"))
    assert isinstance(line.sent[0].messages[-1], ConfirmMessage)


def test_the_consent_receipt_names_version_date_method_and_link(desk, sim, line) -> None:
    user = consented(desk, sim, line)
    deliver(desk, user.text_event("同意内容の確認"))
    (receipt,) = line.texts()
    for words in (f"{CURRENT_LABEL}版", "2025年11月3日 10:00", "ボタンによる同意", URL):
        assert words in receipt


def test_withdrawal_can_be_called_off(desk, sim, line, clock) -> None:
    user = consented(desk, sim, line)
    deliver(desk, user.text_event("同意を撤回"))
    (question,) = line.sent[0].messages
    line.sent.clear()
    deliver(desk, user.postback_event(question.no.data))
    assert line.texts() == [TEXTS.text("withdraw_cancelled")]
    assert history(desk, user) == [(CURRENT, "explicit")]
    assert api(desk).admin.user(user.user_id, "test")["status"] == "consented"


def test_a_receipt_before_consent_is_not_given_the_prompt_is(desk, sim, line, clock) -> None:
    user = sim.user("alice")
    clock.advance(minutes=10)
    deliver(desk, user.text_event("同意内容の確認"))
    assert isinstance(line.sent[0].messages[-1], ConfirmMessage)


def test_unfollow_records_the_block_and_a_declined_user_who_returns_is_asked_again(
    desk, sim, line, store
) -> None:
    user = sim.user("alice")
    deliver(desk, user.follow_event(), user.postback_event(DECLINE), user.unfollow_event())
    record = store.read(USERS, user.user_id, "user")
    assert record["followed"] is False
    assert api(desk).admin.user(user.user_id, "test")["status"] == "unfollowed"
    line.sent.clear()
    deliver(desk, user.follow_event(unblocked=True))
    assert isinstance(line.sent[0].messages[-1], ConfirmMessage)


def test_a_consented_user_who_unblocks_is_welcomed_back(desk, sim, line) -> None:
    user = consented(desk, sim, line)
    deliver(desk, user.unfollow_event(), user.follow_event(unblocked=True))
    assert line.texts() == [TEXTS.text("greeting_unblocked"), TEXTS.text("menu")]


def test_standby_events_neither_prompt_nor_count_as_use(desk, sim, line, store, clock) -> None:
    clock.now = datetime(2025, 10, 1, tzinfo=UTC)
    user = sim.user("alice")
    deliver(
        desk,
        user.follow_event(),
        user.postback_event("action=consent&version=2025-09-26&answer=yes"),
    )
    clock.now = datetime(2025, 11, 1, tzinfo=UTC)
    line.sent.clear()
    standby = user.text_event("別のチャネルが応対中")
    standby["mode"] = "standby"
    assert deliver(desk, standby).counts == {"standby": 1}
    assert line.sent == []
    assert history(desk, user) == [("2025-09-26", "explicit")]  # no deemed consent
    stranger = sim.user("bob").follow_event()
    stranger["mode"] = "standby"
    deliver(desk, stranger)
    assert store.read(USERS, sim.user("bob").user_id, "user")["lastPromptAt"] is None
