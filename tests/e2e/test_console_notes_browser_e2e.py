"""Notes, the history panel and presence in a real browser (Debian's Chromium via Playwright),
against the local host and the LINE simulator.

An expert answers a user, writes a private note on the session and a note about the user,
and closes; the user comes back; a colleague opening the new consultation reads the note and
the earlier session in the history panel; two experts with the same session open each see
「○○さんが閲覧中」, and so does the queue. Screenshots go to a temporary folder, or to
`DESK_SCREENSHOTS` (`make screenshots` writes docs/console/).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.e2e.browser_kit import (
    TABLET,
    fits,
    open_consultation,
    sign_in,
    unlabelled,
    watch,
)
from tests.e2e.conftest import RunningDesk

playwright_api = pytest.importorskip("playwright.sync_api")
from playwright.sync_api import Browser, expect  # noqa: E402

pytestmark = pytest.mark.e2e
NOTE = "家族の事情で転職を急いでいる様子。"
USER_NOTE = "前回はハローワークを紹介済み。丁寧に状況を確認すること。"
# The presence heartbeat runs every 10 s: a colleague's arrival shows within that, plus a poll.
PRESENCE = 15_000


@pytest.mark.parametrize("running_desk", ["sqlite"], indirect=True)
def test_notes_history_and_presence_in_a_browser(
    running_desk: RunningDesk,
    browser: Browser,
    shots: Path,
) -> None:
    desk = running_desk
    desk.sim.reset()
    open_consultation(desk, "natsu", "job-change", "転職を考えています。")
    alice = sign_in(browser, desk, "相談員A", "Desk.Expert")
    bob = sign_in(browser, desk, "相談員B", "Desk.Expert")
    admin = sign_in(browser, desk, "管理者C", "Desk.Admin")

    # -- the first consultation: answered, noted, closed ---------------------------------------
    first = alice.new_page()
    problems = watch(first)
    first.goto(desk.base_url + "/console/")
    row = first.locator("tbody tr").filter(has_text="転職・就職")
    row.get_by_role("button", name=re.compile("担当する")).click()
    first.wait_for_url(re.compile(r"/console/sessions/"))
    first_session = first.url
    expect(first.get_by_text("過去の相談はありません。")).to_be_visible()
    first.get_by_label("相談メモを追加").fill(NOTE)
    first.get_by_role("button", name="相談メモを保存").click()
    expect(first.locator("#notes-panel")).to_contain_text("相談メモを保存しました。")
    expect(first.locator("#notes-panel .notes-list")).to_contain_text(NOTE)
    first.get_by_label("利用者メモ", exact=True).fill(USER_NOTE)
    first.get_by_role("button", name="利用者メモを保存").click()
    expect(first.locator("#user-note-panel")).to_contain_text("利用者メモを保存しました。")
    first.get_by_label("返信の本文").fill(
        "ご相談ありがとうございます。ハローワークをご案内します。"
    )
    first.get_by_role("button", name="送信").click()
    expect(first.locator("#reply-status")).to_contain_text("送信しました")
    first.get_by_label("結果").select_option(label="他機関紹介")
    first.once("dialog", lambda dialog: dialog.accept())  # closing asks first
    first.get_by_role("button", name="終了する").click()
    expect(first.get_by_text("この相談は終了しています。")).to_be_visible()
    inbox = desk.sim.texts("natsu")
    assert all(NOTE not in t and USER_NOTE not in t for t in inbox)  # never sent to LINE

    # -- the user comes back; a colleague opens the new consultation ---------------------------
    desk.sim.user("natsu").postback("action=topic&topic=income")
    desk.sim.user("natsu").say("先日はありがとうございました。収入の相談もしたいです。")
    bobs_queue = bob.new_page()
    bobs_queue.goto(desk.base_url + "/console/")
    bobs_queue.locator("tbody tr").filter(has_text="収入・お金").get_by_role(
        "link", name=re.compile("開く")
    ).click()
    bobs_queue.wait_for_url(re.compile(r"/console/sessions/"))
    second_session = bobs_queue.url
    conversation = bobs_queue
    expect(conversation.get_by_label("利用者メモ", exact=True)).to_have_value(USER_NOTE)
    expect(conversation.locator("#user-note-panel")).to_contain_text("相談員Aさん")
    history = conversation.locator("#history-panel")
    expect(history).to_contain_text("転職・就職")
    expect(history).to_contain_text("他機関紹介")
    expect(history).to_contain_text("相談員A")
    expect(history).to_contain_text(NOTE)
    expect(history).to_contain_text(re.compile(r"\d{4}年\d{1,2}月\d{1,2}日"))

    # -- presence: both experts on the new session ---------------------------------------------
    alices_view = alice.new_page()
    alices_view.goto(second_session)
    expect(alices_view.locator("#presence")).to_contain_text("相談員Bさんが閲覧中")
    expect(conversation.locator("#presence")).to_contain_text(
        "相談員Aさんが閲覧中", timeout=PRESENCE
    )
    supervisor = admin.new_page()
    supervisor.goto(desk.base_url + "/console/")
    expect(
        supervisor.locator("tbody tr").filter(has_text="収入・お金").locator(".badge.viewing")
    ).to_contain_text(re.compile("相談員Aさん、相談員Bさんが閲覧中"))
    assert fits(supervisor)
    supervisor.screenshot(path=shots / "queue-presence.png", full_page=True)
    supervisor.set_viewport_size(TABLET)
    assert fits(supervisor)

    # -- a session note by keyboard alone ------------------------------------------------------
    conversation.get_by_label("相談メモを追加").focus()
    conversation.keyboard.type("収入の内訳を次回確認。")
    conversation.keyboard.press("Tab")
    focused = conversation.evaluate("document.activeElement.id")
    assert focused == "note-save"
    conversation.keyboard.press("Enter")
    expect(conversation.locator("#notes-panel .notes-list")).to_contain_text(
        "収入の内訳を次回確認。"
    )
    assert unlabelled(conversation) == []
    assert fits(conversation)
    conversation.screenshot(path=shots / "notes-history.png", full_page=True)

    # -- the earlier session opens from the history panel, at a tablet's width -----------------
    tablet = bob.new_page()
    tablet.set_viewport_size(TABLET)
    tablet.goto(second_session)
    expect(tablet.locator("#history-panel")).to_contain_text(NOTE)
    assert fits(tablet)
    assert unlabelled(tablet) == []
    tablet.screenshot(path=shots / "notes-history-768.png", full_page=True)
    tablet.locator("#history-panel").get_by_role("link", name=re.compile("転職・就職")).click()
    tablet.wait_for_url(first_session)
    expect(tablet.locator(".transcript")).to_contain_text("転職を考えています。")
    expect(tablet.locator("#notes-panel")).to_contain_text(NOTE)
    assert fits(tablet)

    # -- refusals: cross-site and signed-out note writes ----------------------------------------
    path = second_session.removeprefix(desk.base_url)
    forged = bob.request.post(
        desk.base_url + path + "/notes",
        form={"text": "偽のメモ"},
        headers={"HX-Request": "true", "Origin": "https://evil.example"},
    )
    assert forged.status == 403
    anonymous = browser.new_context()
    signed_out = anonymous.request.post(
        desk.base_url + path + "/notes",
        form={"text": "偽のメモ"},
        headers={"HX-Request": "true", "Origin": desk.base_url},
        max_redirects=0,
    )
    assert signed_out.status == 401
    anonymous.close()
    conversation.reload()
    expect(conversation.locator("#notes-panel")).not_to_contain_text("偽のメモ")

    assert [p for p in problems if "Content Security Policy" in p] == []
    for context in (alice, bob, admin):
        context.close()
