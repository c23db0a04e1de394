"""The experts' console in a real browser: Debian's Chromium driven by Playwright, against the
local host (which plays App Service authentication) and the LINE simulator.

Two experts and an admin sign in through the development sign-in form and walk every flow:
the queue refreshing itself, claiming (and losing a race), the conversation with new user
messages appearing, the reply box (counter, Ctrl+Enter, drafts, canned replies), closing with
a referral, and the refusals (no principal, wrong role, cross-site POST, someone else's
session). Screenshots of every screen go to a temporary folder, or to
`DESK_SCREENSHOTS` (`make screenshots` writes docs/console/).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.e2e.browser_kit import (
    POLL,
    TABLET,
    WIDE,
    fits,
    open_consultation,
    sign_in,
    unlabelled,
    watch,
)
from tests.e2e.conftest import RunningDesk

playwright_api = pytest.importorskip("playwright.sync_api")
from playwright.sync_api import Browser, BrowserContext, Dialog, expect  # noqa: E402

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize("running_desk", ["sqlite"], indirect=True)
def test_two_experts_and_an_admin_work_the_desk_in_a_browser(
    running_desk: RunningDesk, browser: Browser, shots: Path
) -> None:
    desk = running_desk
    desk.sim.reset()
    open_consultation(desk, "hana", "job-change", "転職を考えています。\n相談に乗ってください。")
    alice = sign_in(browser, desk, "相談員A", "Desk.Expert")
    bob = sign_in(browser, desk, "相談員B", "Desk.Expert")
    admin = sign_in(browser, desk, "管理者C", "Desk.Admin")

    # -- the queue: rows, unread, refreshing itself -------------------------------------------
    queue = alice.new_page()
    problems = watch(queue)
    queue.goto(desk.base_url + "/console/")
    expect(queue.get_by_role("heading", name="相談の一覧")).to_be_visible()
    row = queue.locator("table.queue tbody tr").filter(has_text="転職・就職")
    expect(row).to_contain_text("未読あり")
    expect(row).to_contain_text("未担当")
    assert unlabelled(queue) == []
    open_consultation(desk, "taro", "income", "収入のことで相談です。")
    expect(queue.locator("table.queue tbody tr").filter(has_text="収入・お金")).to_be_visible(
        timeout=POLL
    )
    assert fits(queue)
    queue.screenshot(path=shots / "queue.png", full_page=True)

    # -- claiming, and a lost race -------------------------------------------------------------
    bobs_queue = bob.new_page()
    bobs_queue.goto(desk.base_url + "/console/")
    expect(bobs_queue.locator("tbody tr").filter(has_text="転職・就職")).to_be_visible()
    row.get_by_role("button", name=re.compile("担当する")).click()
    queue.wait_for_url(re.compile(r"/console/sessions/"))
    hana_session = queue.url
    bobs_row = bobs_queue.locator("tbody tr").filter(has_text="転職・就職")
    bobs_row.get_by_role("button", name=re.compile("担当する")).click()
    expect(bobs_queue.locator("#queue-status")).to_contain_text(
        "相談員Aさんがすでに担当しています", timeout=POLL
    )

    # -- the conversation: transcript, new messages appearing ----------------------------------
    conversation = queue
    expect(conversation.locator(".transcript")).to_contain_text("相談に乗ってください。")
    assert "U" not in re.sub(r"[^U0-9a-f]", "", conversation.locator("h1").inner_text())
    desk.sim.user("hana").sticker()
    desk.sim.user("hana").media("image")
    desk.sim.user("hana").say("いまの会社は三年目です。")
    expect(conversation.locator(".transcript")).to_contain_text(
        "いまの会社は三年目です。", timeout=POLL
    )
    expect(conversation.locator(".transcript")).to_contain_text("[スタンプ]")
    expect(conversation.locator(".transcript")).to_contain_text("[画像: 受け付けず]")

    # -- the reply box -------------------------------------------------------------------------
    reply = conversation.get_by_label("返信の本文")
    with conversation.expect_response(re.compile(r"/typing$")) as typing:
        reply.fill("こんにちは😀")  # the typing signal: LINE's loading animation for the user
    assert typing.value.status == 204
    (loading,) = desk.sim.calls_to("loading")
    assert loading.status == 202
    assert loading.body == {"chatId": desk.sim.user("hana").user_id, "loadingSeconds": 20}
    expect(conversation.locator("#reply-counter")).to_contain_text("7 / 5000")  # 5 + 😀 (two units)
    conversation.reload()
    expect(conversation.get_by_label("返信の本文")).to_have_value("こんにちは😀")  # the draft
    reply = conversation.get_by_label("返信の本文")
    reply.fill("")
    conversation.get_by_label("定型文").select_option(label="回答に時間がかかります")
    conversation.get_by_role("button", name="挿入").click()
    expect(reply).to_have_value(re.compile("少しお時間をいただきます"))
    reply.press("End")
    reply.type("（相談員A）")
    assert unlabelled(conversation) == []
    assert fits(conversation)
    conversation.screenshot(path=shots / "conversation.png", full_page=True)
    reply.press("Control+Enter")
    expect(conversation.locator("#reply-status")).to_contain_text("送信しました")
    expect(reply).to_have_value("")
    inbox = desk.sim.texts("hana")
    assert any(t.endswith("いましばらくお待ちください。（相談員A）") for t in inbox)
    expect(conversation.locator(".transcript")).to_contain_text(
        "LINEが受け付けました", timeout=POLL
    )
    conversation.get_by_label("返信の本文").fill("一行目\n<b>二行目</b>")
    conversation.get_by_role("button", name="送信").click()
    expect(conversation.locator(".transcript")).to_contain_text("<b>二行目</b>", timeout=POLL)
    assert "一行目\n<b>二行目</b>" in desk.sim.texts("hana")

    # -- someone else's session ----------------------------------------------------------------
    bobs_view = bob.new_page()
    bobs_view.goto(hana_session)
    expect(bobs_view.get_by_text("この相談は相談員Aさんの担当です")).to_be_visible()
    assert bobs_view.get_by_label("返信の本文").count() == 0
    bobs_view.screenshot(path=shots / "someone-elses-session.png", full_page=True)
    session_path = hana_session.removeprefix(desk.base_url)
    sneaky = bob.request.post(
        desk.base_url + session_path + "/messages",
        form={"text": "横から失礼します"},
        headers={"HX-Request": "true", "Origin": desk.base_url, "Sec-Fetch-Site": "same-origin"},
    )
    assert sneaky.status == 409
    assert "横から失礼します" not in desk.sim.texts("hana")

    # -- a cross-site POST ---------------------------------------------------------------------
    forged = alice.request.post(
        desk.base_url + session_path + "/messages",
        form={"text": "偽の送信"},
        headers={
            "HX-Request": "true",
            "Origin": "https://evil.example",
            "Sec-Fetch-Site": "cross-site",
        },
    )
    assert forged.status == 403
    assert "偽の送信" not in desk.sim.texts("hana")

    # -- the tablet width ----------------------------------------------------------------------
    tablet = alice.new_page()
    tablet.set_viewport_size(TABLET)
    tablet.goto(hana_session)
    assert fits(tablet)
    tablet.screenshot(path=shots / "conversation-768.png", full_page=True)
    tablet.goto(desk.base_url + "/console/")
    assert fits(tablet)
    tablet.screenshot(path=shots / "queue-768.png", full_page=True)

    # -- keyboard ------------------------------------------------------------------------------
    keys = alice.new_page()
    keys.goto(desk.base_url + "/console/")
    keys.locator("body").press("j")
    expect(keys.locator("tbody tr.selected")).to_have_count(1)
    keys.keyboard.press("?")
    expect(keys.get_by_role("dialog")).to_be_visible()
    keys.screenshot(path=shots / "shortcuts.png")
    keys.keyboard.press("Escape")

    # -- the admin sees everyone's work --------------------------------------------------------
    board = admin.new_page()
    board.goto(desk.base_url + "/console/?tab=active")
    expect(board.locator("tbody tr").filter(has_text="相談員A")).to_be_visible()
    board.screenshot(path=shots / "active-all.png", full_page=True)

    # -- closing with an outcome and a referral ------------------------------------------------
    conversation.get_by_label("結果").select_option(label="他機関紹介")
    conversation.get_by_label("紹介先（任意）").select_option(label="ハローワーク")
    asked: list[str] = []

    def confirm(dialog: Dialog) -> None:
        asked.append(dialog.message)
        dialog.accept()

    conversation.once("dialog", confirm)
    conversation.get_by_role("button", name="終了する").click()
    expect(conversation.get_by_text("この相談は終了しています。")).to_be_visible()
    assert asked == [
        "この相談を終了します。利用者に終了のメッセージと満足度のアンケートが送られ、"
        "取り消せません。よろしいですか。"
    ]
    assert any("ハローワーク" in t for t in desk.sim.texts("hana"))
    # The transcript shows what the user received at the end: closing, referral, survey.
    ending = conversation.locator(".msg.from-desk").last
    expect(ending).to_contain_text("終了時に利用者へ送ったメッセージ")
    expect(ending).to_contain_text("ハローワーク")
    expect(ending).to_contain_text("［満足］［ふつう］［不満］")
    expect(ending).to_contain_text("LINEが受け付けました")
    conversation.screenshot(path=shots / "closed-session.png", full_page=True)
    closed = alice.new_page()
    closed.goto(desk.base_url + "/console/?tab=closed")
    expect(closed.locator("tbody tr").filter(has_text="他機関紹介")).to_be_visible()
    closed.screenshot(path=shots / "closed.png", full_page=True)

    # -- hand-over: back to the queue with a note, which the next expert reads -----------------
    open_consultation(desk, "jiro", "workplace", "上司との関係で悩んでいます。")
    mine = alice.new_page()
    mine.goto(desk.base_url + "/console/")
    jiro = mine.locator("tbody tr").filter(has_text="職場の悩み")
    jiro.get_by_role("button", name=re.compile("担当する")).click()
    mine.wait_for_url(re.compile(r"/console/sessions/"))
    jiro_session = mine.url
    mine.get_by_label("引き継ぎメモ（利用者には送られません）").fill("夜勤明けの連絡が多い方です。")
    mine.get_by_role("button", name="一覧に戻す").click()
    mine.wait_for_url(re.compile(r"/console/$"))
    next_expert = bob.new_page()
    next_expert.goto(jiro_session)
    expect(next_expert.get_by_text("相談員Aさんが一覧に戻しました")).to_be_visible()
    expect(next_expert.get_by_text("夜勤明けの連絡が多い方です。")).to_be_visible()
    assert all("夜勤明け" not in t for t in desk.sim.texts("jiro"))
    next_expert.screenshot(path=shots / "handover.png", full_page=True)

    assert [p for p in problems if "Content Security Policy" in p] == []
    for context in (alice, bob, admin):
        context.close()


@pytest.mark.parametrize("running_desk", ["sqlite"], indirect=True)
def test_refusals_in_the_browser(running_desk: RunningDesk, browser: Browser, shots: Path) -> None:
    desk = running_desk
    anonymous = browser.new_context(viewport=WIDE)
    page = anonymous.new_page()
    page.goto(desk.base_url + "/console/?tab=closed")
    expect(page).to_have_url(
        re.compile(r"/\.auth/login/aad\?post_login_redirect_uri=%2Fconsole%2F%3Ftab%3Dclosed")
    )
    page.screenshot(path=shots / "sign-in.png")
    anonymous.close()

    stranger = sign_in_without_role(browser, desk)
    page = stranger.new_page()
    response = page.goto(desk.base_url + "/console/")
    assert response is not None
    assert response.status == 403
    expect(page.get_by_role("heading", name="アクセスできません")).to_be_visible()
    page.screenshot(path=shots / "forbidden.png")
    me = stranger.request.get(desk.base_url + "/.auth/me")
    assert me.status == 200
    assert me.json()[0]["user_claims"][0]["val"] == "来訪者D"
    page.goto(desk.base_url + "/.auth/logout?post_logout_redirect_uri=%2Fconsole%2F")
    expect(page).to_have_url(re.compile(r"/\.auth/login/aad"))
    assert stranger.request.get(desk.base_url + "/.auth/me").status == 401
    stranger.close()


def sign_in_without_role(browser: Browser, desk: RunningDesk) -> BrowserContext:
    context = browser.new_context(viewport=WIDE)
    page = context.new_page()
    page.goto(desk.base_url + "/.auth/login/aad?post_login_redirect_uri=%2Fconsole%2F")
    page.get_by_label("Name").fill("来訪者D")
    page.get_by_role("button", name="Sign in").click()
    # Close only once the redirect has settled: closing a page mid-navigation can hang Chromium.
    page.wait_for_url(re.compile(r"/console/$"))
    expect(page.get_by_role("heading", name="アクセスできません")).to_be_visible()
    page.close()
    return context
