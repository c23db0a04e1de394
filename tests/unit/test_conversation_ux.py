"""The conversation rules of issue 14 over fakes: acknowledgements, waiting questions, drafts,
crisis help lines, confirmations, loose commands and the words themselves."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime

import pytest

from shared.domain.consent import ConsentMethod
from shared.domain.messages import ConfirmMessage
from shared.errors import LineApiError
from shared.ports import USERS
from shared.repositories.user_records import Users
from shared.services.catalog import load_outcomes, load_topics
from shared.texts.catalogue import MAX_COMMAND_LENGTH, command_for, load_catalogue, normalise
from tests.kit.admin_api import api
from tests.kit.fakes import FakeClock, MemoryStore
from tests.unit.conftest import AGREE, consented, deliver, open_session

TEXTS = load_catalogue()
TUESDAY_10_JST = datetime(2025, 11, 4, 1, 0, tzinfo=UTC)
ROOT = "shared"


def dumped(store: MemoryStore) -> str:
    return json.dumps([doc for doc, _ in store.docs.values()], ensure_ascii=False)


def redelivered(event: dict) -> dict:
    return {**event, "deliveryContext": {"isRedelivery": True}}


# -- the first message and questions about waiting ----------------------------------------------


def test_the_first_message_is_acknowledged_once_even_when_redelivered(
    desk, sim, line, store, clock: FakeClock
) -> None:
    clock.now = TUESDAY_10_JST
    user = open_session(desk, sim, line)
    first = user.text_event("転職を考えています")
    deliver(desk, first)
    (ack,) = line.texts()
    assert ack.startswith(TEXTS.text("ack_first"))
    assert TEXTS.text("wait_place", place="1") in ack
    assert "対応時間内" in ack
    line.sent.clear()
    assert deliver(desk, redelivered(first)).counts == {"duplicate": 1}
    deliver(desk, user.text_event("よろしくお願いします"))
    assert line.sent == []  # later messages stay unanswered
    assert len(store.query_partition(USERS, user.user_id, doc_type="message")) == 2


def test_the_acknowledgement_names_the_place_behind_earlier_sessions(
    desk, sim, line, clock: FakeClock
) -> None:
    for name in ("alice", "bob"):
        user = open_session(desk, sim, line, name)
        deliver(desk, user.text_event("はじめまして"))
        clock.advance(seconds=1)
    assert TEXTS.text("wait_place", place="2") in line.texts()[-1]


def test_questions_about_waiting_are_answered_at_most_every_three_minutes(
    desk, sim, line, store, clock: FakeClock
) -> None:
    user = open_session(desk, sim, line)
    deliver(desk, user.text_event("相談です"))
    line.sent.clear()
    clock.advance(minutes=1)
    deliver(desk, user.text_event("まだですか"))
    assert line.sent == []  # the acknowledgement was a minute ago
    clock.advance(minutes=3)
    deliver(desk, user.text_event("返事はいつ？"))
    (answer,) = line.texts()
    assert TEXTS.text("wait_place", place="1") in answer
    assert not answer.startswith(TEXTS.text("ack_first"))
    line.sent.clear()
    deliver(desk, user.postback_event("action=status"))
    assert line.sent == []  # the button too, within the interval
    stored = store.query_partition(USERS, user.user_id, doc_type="message")
    texts = [m["text"] for m in sorted(stored, key=lambda m: m["at"])]
    assert texts == ["相談です", "まだですか", "返事はいつ？"]  # questions are consultation text


# -- drafts ---------------------------------------------------------------------------------


def test_text_before_a_topic_is_filed_into_the_consultation_then_opened(
    desk, sim, line, store, clock: FakeClock
) -> None:
    user = consented(desk, sim, line)
    deliver(desk, user.text_event("転職について相談したいです"))
    (kept,) = line.sent[0].messages
    assert kept.text == TEXTS.text("draft_kept")
    clock.advance(minutes=20)
    deliver(desk, user.postback_event("action=topic&topic=job-change"))
    (session,) = api(desk).experts.queue("waiting", None, 10)["sessions"]
    assert session["messageCount"] == 1
    detail = api(desk).experts.detail(session["sessionId"], "田中")
    assert [m["text"] for m in detail["messages"]] == ["転職について相談したいです"]


def test_a_draft_older_than_thirty_minutes_is_dropped(
    desk, sim, line, store, clock: FakeClock
) -> None:
    user = consented(desk, sim, line)
    deliver(desk, user.text_event("古い下書きです"))
    clock.advance(minutes=31)
    deliver(desk, user.postback_event("action=topic&topic=career"))
    (session,) = api(desk).experts.queue("waiting", None, 10)["sessions"]
    assert session["messageCount"] == 0
    assert "古い下書き" not in dumped(store)


# -- before consent -------------------------------------------------------------------------


def test_every_message_before_consent_gets_an_answer_and_none_is_stored(
    desk, sim, line, store
) -> None:
    user = sim.user("alice")
    deliver(desk, user.follow_event())
    line.sent.clear()
    for n in range(3):
        deliver(desk, user.text_event(f"同意前の相談{n}"))
    assert len(line.sent) == 3
    assert line.texts() == [TEXTS.text("consent_reminder")] * 3
    assert "同意前の相談" not in dumped(store)


# -- crisis ---------------------------------------------------------------------------------


def test_a_crisis_message_before_consent_gets_help_lines_and_nothing_is_stored(
    desk, sim, line, store
) -> None:
    user = sim.user("alice")
    event = user.text_event("もう死にたいです")
    deliver(desk, event)
    (sent,) = line.sent
    help_lines = sent.messages[0].text
    assert help_lines.startswith(TEXTS.text("crisis_intro"))
    assert "よりそいホットライン" in help_lines
    assert isinstance(sent.messages[-1], ConfirmMessage)  # then the consent prompt
    assert "死にたい" not in dumped(store)
    assert deliver(desk, redelivered(event)).counts == {"duplicate": 1}
    assert len(line.sent) == 1


@pytest.mark.parametrize("state", ["maintenance", "suspended"])
def test_a_crisis_message_in_a_consultation_is_filed_whatever_the_desk_status(
    desk, sim, line, alerts, state: str
) -> None:
    store = desk.store
    user = open_session(desk, sim, line)
    api(desk).status.change({"state": state}, "A")
    line.sent.clear()
    event = user.text_event("消えたい")
    deliver(desk, event)
    (answer,) = line.texts()
    assert answer.startswith(TEXTS.text("crisis_intro"))
    # It says what is true: the expert has it, the answer will take time, no "keep writing".
    assert answer.endswith(TEXTS.text("crisis_outro_filed_closed"))
    assert TEXTS.text("crisis_outro_session") not in answer
    (session,) = api(desk).experts.queue("waiting", None, 10)["sessions"]
    assert session["urgent"] is True
    detail = api(desk).experts.detail(session["sessionId"], "田中")
    assert [m["text"] for m in detail["messages"] if m["role"] == "user"] == ["消えたい"]
    (alert,) = alerts.sent
    assert alert[0] == session["reference"]
    assert re.fullmatch(r"\d{6}-\d{3}", alert[0])  # the short 受付番号, not the session id
    assert alert[1] == "crisis"
    assert "消えたい" not in alert[2]
    assert deliver(desk, redelivered(event)).counts == {"duplicate": 1}
    assert len(alerts.sent) == 1
    # An ordinary text in the same maintenance is still not kept (§7).
    deliver(desk, user.text_event("ふつうの相談です"))
    assert "ふつうの相談です" not in dumped(store)


def test_a_crisis_message_without_a_consultation_while_closed_stores_nothing(
    desk, sim, line, store
) -> None:
    consented(desk, sim, line)
    user = sim.user("alice")
    api(desk).status.change({"state": "maintenance"}, "A")
    line.sent.clear()
    deliver(desk, user.text_event("消えたい"))
    (answer,) = line.texts()
    assert answer.startswith(TEXTS.text("crisis_intro"))
    assert answer.endswith(TEXTS.text("crisis_outro_closed"))
    assert "消えたい" not in dumped(store)  # no consultation: nothing is kept while closed


def test_the_help_lines_say_when_an_expert_answers_after_hours(
    desk, sim, line, clock: FakeClock
) -> None:
    clock.now = datetime(2025, 11, 4, 13, 0, tzinfo=UTC)  # 22:00 JST, a Tuesday
    user = open_session(desk, sim, line)
    line.sent.clear()
    deliver(desk, user.text_event("死にたい"))
    (answer,) = line.texts()
    assert TEXTS.text("crisis_outro_filed_after_hours", next="11月5日（水） 9:00") in answer


def test_the_help_lines_in_an_open_consultation_say_it_reached_the_expert(
    desk, sim, line, clock: FakeClock
) -> None:
    clock.now = TUESDAY_10_JST
    user = open_session(desk, sim, line)
    line.sent.clear()
    deliver(desk, user.text_event("死にたい"))
    assert line.texts()[0].endswith(TEXTS.text("crisis_outro_filed"))


def test_a_crisis_alert_that_failed_is_sent_by_the_housekeeping_run_once(
    desk, sim, line, alerts, clock: FakeClock
) -> None:
    user = open_session(desk, sim, line)
    alerts.down = True
    deliver(desk, user.text_event("死にたい"))
    assert alerts.sent == []
    alerts.down = False
    summary = desk.alerts.send_pending()
    assert (summary.examined, summary.acted) == (1, 1)
    assert len(alerts.sent) == 1
    assert desk.alerts.send_pending().examined == 0  # sent: not pending any more
    deliver(desk, user.text_event("やっぱり消えたい"))  # marked already: no second alert
    assert len(alerts.sent) == 1


def test_a_crisis_message_in_a_consultation_marks_it_urgent_and_first_in_the_queue(
    desk, sim, line, store, clock: FakeClock
) -> None:
    early = open_session(desk, sim, line, "early")
    deliver(desk, early.text_event("相談です"))
    clock.advance(seconds=1)
    late = open_session(desk, sim, line, "late")
    deliver(desk, late.text_event("はじめまして"))
    clock.advance(seconds=1)
    line.sent.clear()
    deliver(desk, late.text_event("生きるのがつらいです"))
    assert line.texts()[0].startswith(TEXTS.text("crisis_intro"))
    queue = api(desk).experts.queue("waiting", None, 10)["sessions"]
    assert [s["urgent"] for s in queue] == [True, False]
    urgent_id = queue[0]["sessionId"]
    detail = api(desk).experts.detail(urgent_id, "田中")
    assert detail["urgent"] is True
    assert [m["text"] for m in detail["messages"]][-1] == "生きるのがつらいです"  # filed
    one = api(desk).experts.queue("waiting", None, 1)
    assert one["sessions"][0]["sessionId"] == urgent_id
    rest = (
        api(desk).experts.queue("waiting", one["nextCursor"], 10)["sessions"]
        if one["nextCursor"]
        else []
    )
    listed = [s["sessionId"] for s in (*one["sessions"], *rest)]
    assert sorted(listed) == sorted(s["sessionId"] for s in queue)  # each listed once
    assert len(listed) == len(set(listed))
    clock.advance(minutes=3)
    deliver(desk, early.text_event("まだですか"))
    assert TEXTS.text("wait_place", place="2") in line.texts()[-1]  # behind the urgent one


# -- confirmations and loose commands -------------------------------------------------------


def test_ending_is_confirmed_and_can_be_called_off(desk, sim, line, store) -> None:
    user = open_session(desk, sim, line)
    deliver(desk, user.text_event("終わります"))
    (question,) = line.sent[0].messages
    assert isinstance(question, ConfirmMessage)
    line.sent.clear()
    deliver(desk, user.postback_event(question.no.data))
    assert line.texts() == [TEXTS.text("end_cancelled")]
    (session,) = api(desk).experts.queue("waiting", None, 10)["sessions"]
    assert session["status"] == "waiting"


@pytest.mark.parametrize(
    ("typed", "command"),
    [
        ("データを消してください", "erase"),
        ("削除して", "erase"),
        ("退会したい", "erase"),
        ("終わります", "end"),
        ("終了", "end"),
        ("メニュー", "menu"),
        ("状況", "status"),
        ("いつ", "status"),
        ("ＭＥＮＵ", None),
        ("ｍｅｎｕ", None),
        ("状況。", "status"),
        ("相 談 を 終 了", "end"),
    ],
)
def test_commands_are_understood_loosely(typed, command) -> None:
    assert command_for(typed) == command


def test_nothing_over_fifteen_characters_is_a_command(
    desk, sim, line, store, clock: FakeClock
) -> None:
    long_text = "相談を終了したいのですが、その前に一つ質問です"
    assert len(normalise(long_text)) > MAX_COMMAND_LENGTH
    assert command_for(long_text) is None
    assert command_for("いつ頃お返事をいただけるのか教えてください") is None
    user = open_session(desk, sim, line)
    deliver(desk, user.text_event("はじめまして"))
    line.sent.clear()
    clock.advance(seconds=1)
    deliver(desk, user.text_event(long_text))
    assert line.sent == []  # filed, not taken for 相談を終了
    stored = store.query_partition(USERS, user.user_id, doc_type="message")
    assert [m["text"] for m in sorted(stored, key=lambda m: m["at"])] == ["はじめまして", long_text]


def test_erasure_typed_loosely_asks_first(desk, sim, line) -> None:
    user = consented(desk, sim, line)
    deliver(desk, user.text_event("データを消してください"))
    (question,) = line.sent[0].messages
    assert isinstance(question, ConfirmMessage)
    assert "erase" in question.yes.data


def test_the_menu_ends_with_the_data_chip_and_the_data_menu_holds_withdrawal(
    desk, sim, line
) -> None:
    user = sim.user("alice")
    deliver(desk, user.follow_event(), user.postback_event(AGREE))
    menu = line.sent[-1].messages[-1]
    assert menu.quick_replies[-1].data == "action=data_menu"
    line.sent.clear()
    deliver(desk, user.postback_event("action=data_menu"))
    (data_menu,) = line.sent[0].messages
    assert [c.data for c in data_menu.quick_replies] == [
        "action=receipt",
        "action=withdraw",
        "action=erase",
    ]


# -- the words ------------------------------------------------------------------------------

_HALF_WIDTH = re.compile(r"[():]")


def _user_facing() -> dict[str, str]:
    """Every catalogue text, help line, topic and outcome label, by a name for the report."""
    with open(f"{ROOT}/texts/ja.json", encoding="utf-8") as f:
        texts = {k: v for k, v in json.load(f).items() if not k.startswith("_")}
    with open(f"{ROOT}/data/helplines.json", encoding="utf-8") as f:
        lines = json.load(f)["lines"]
    texts.update({f"helplines[{n}]": line for n, line in enumerate(lines)})
    texts.update({f"topic {t.topic_id}": t.label for t in load_topics()})
    texts.update({f"outcome {o.outcome_id}": o.label for o in load_outcomes()})
    return texts


def test_user_facing_text_uses_full_width_brackets_and_colons() -> None:
    offending = {k: v for k, v in _user_facing().items() if _HALF_WIDTH.search(v)}
    assert offending == {}


def test_the_catalogue_check_refuses_half_width_punctuation() -> None:
    assert _HALF_WIDTH.search("運用ポリシー(2025年10月24日版)")
    assert _HALF_WIDTH.search("全文:https://example.org")
    assert not _HALF_WIDTH.search("運用ポリシー（2025年10月24日版）：全文")


def test_every_typed_phrase_can_be_a_command() -> None:
    with open(f"{ROOT}/texts/phrases.json", encoding="utf-8") as f:
        table = json.load(f)
    for name, phrases in table.items():
        if name.startswith("_"):
            continue
        for phrase in phrases:
            assert len(normalise(phrase)) <= MAX_COMMAND_LENGTH, phrase
            assert command_for(phrase) is not None, phrase


def test_dates_read_as_a_prefecture_writes_them(desk, sim, line) -> None:
    user = sim.user("alice")
    deliver(desk, user.follow_event())
    question = line.sent[0].messages[-1]
    assert "2025年10月24日版" in question.text
    assert "2025-10-24" not in question.text


def test_a_draft_never_filed_leaves_the_store_by_itself(
    desk, sim, line, store, clock: FakeClock
) -> None:
    user = consented(desk, sim, line)
    deliver(desk, user.text_event("誰にも読まれない下書き"))
    assert "誰にも読まれない下書き" in dumped(store)
    clock.advance(hours=1, seconds=1)
    assert store.query_partition(USERS, user.user_id, doc_type="message") == []


def test_a_filed_draft_no_longer_expires(desk, sim, line, store, clock: FakeClock) -> None:
    user = consented(desk, sim, line)
    deliver(desk, user.text_event("ファイルされる下書き"))
    clock.advance(minutes=10)
    deliver(desk, user.postback_event("action=topic&topic=career"))
    clock.advance(hours=2)
    (message,) = store.query_partition(USERS, user.user_id, doc_type="message")
    assert message["text"] == "ファイルされる下書き"
    assert message["sessionId"] != "draft"


# -- typed consent ------------------------------------------------------------------------------


@pytest.mark.parametrize("typed", ["同意します", "同意します。", "同意する", " 同意 ", "ＤＯＵＩ"])
def test_typing_i_agree_after_the_prompt_is_an_explicit_consent(desk, sim, line, typed) -> None:
    user = sim.user("alice")
    deliver(desk, user.follow_event())
    line.sent.clear()
    deliver(desk, user.text_event(typed))
    stored = Users(desk.store).get(user.user_id)
    assert stored is not None
    if typed == "ＤＯＵＩ":  # not one of the phrases: the reminder, no consent
        assert stored.consent_method is None
        assert line.texts() == [TEXTS.text("consent_reminder")]
        return
    assert stored.consent_method is ConsentMethod.EXPLICIT
    assert TEXTS.text("consent_reminder") not in line.texts()
    assert desk.store.query_partition(USERS, user.user_id, doc_type="message") == []


def test_a_consented_user_typing_i_agree_in_a_consultation_is_filed_as_text(
    desk, sim, line
) -> None:
    user = open_session(desk, sim, line)
    deliver(desk, user.text_event("はじめまして"))
    deliver(desk, user.text_event("同意します"))
    (session,) = api(desk).experts.queue("waiting", None, 10)["sessions"]
    texts = [m["text"] for m in api(desk).experts.detail(session["sessionId"], "田中")["messages"]]
    assert "同意します" in texts


def test_a_crisis_alert_goes_out_even_when_the_help_lines_reply_fails(
    desk, sim, line, alerts
) -> None:
    user = open_session(desk, sim, line)
    line.reply_failures.append(LineApiError("LINE answered 500", http_status=500))
    line.push_failures.append(LineApiError("LINE answered 500", http_status=500))
    event = user.text_event("死にたい")
    deliver(desk, event)
    assert len(alerts.sent) == 1  # the supervisors know, whatever LINE did
    deliver(desk, redelivered(event))
    assert len(alerts.sent) == 1
