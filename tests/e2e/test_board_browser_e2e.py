"""The supervisor's board in a real browser (Debian's Chromium, Playwright), against the local
host and the LINE simulator: a supervisor and two experts through every flow of the board.

Experts toggle 受付可/受付停止, flag a session 要注意 and ask a supervisor (「SVに相談」); a claim
over DESK_EXPERT_MAX_OPEN is refused with the reason (in the console and in the JSON API); the
supervisor's board shows who is signed in, what each holds, the urgent sessions first and the
escalations, refreshing itself; the supervisor reassigns and releases sessions with a note. And
the refusals: an expert opening the board gets 403, a cross-site POST gets 403, no principal is
sent to sign in. Screenshots go to a temporary folder, or to `DESK_SCREENSHOTS`
(`make screenshots` writes docs/console/).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from devtools.host import dev_principal
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
from tests.e2e.conftest import FUNCTION_KEY, RunningDesk

playwright_api = pytest.importorskip("playwright.sync_api")
from playwright.sync_api import Browser, expect  # noqa: E402

pytestmark = pytest.mark.e2e
HOST_ENV = {"DESK_EXPERT_MAX_OPEN": "1", "DESK_ESCALATION_ALERT_MINUTES": "15"}
SAME_SITE = {"HX-Request": "true", "Sec-Fetch-Site": "same-origin"}


def api_principal(name: str, *roles: str) -> str:
    """The person the browser signed in as (the development sign-in's object id), calling the
    JSON API: the same person, so the same limit."""
    return dev_principal(name, list(roles))


@pytest.mark.parametrize("running_desk", ["sqlite"], indirect=True)
def test_a_supervisor_and_two_experts_work_the_board(
    running_desk: RunningDesk, browser: Browser, shots: Path
) -> None:
    desk = running_desk
    desk.sim.reset()
    open_consultation(desk, "hana", "job-change", "転職を考えています。")
    open_consultation(desk, "taro", "income", "収入のことで相談です。")
    alice = sign_in(browser, desk, "相談員A", "Desk.Expert")
    bob = sign_in(browser, desk, "相談員B", "Desk.Expert")
    admin = sign_in(browser, desk, "管理者C", "Desk.Admin")

    # -- an expert claims one session; a second is over DESK_EXPERT_MAX_OPEN -------------------
    queue = alice.new_page()
    problems = watch(queue)
    queue.goto(desk.base_url + "/console/")
    queue.locator("tbody tr").filter(has_text="転職・就職").get_by_role(
        "button", name=re.compile("担当する")
    ).click()
    queue.wait_for_url(re.compile(r"/console/sessions/"))
    hana_session = queue.url
    hana_id = hana_session.rsplit("/", 1)[1]
    queue.goto(desk.base_url + "/console/")
    queue.locator("tbody tr").filter(has_text="収入・お金").get_by_role(
        "button", name=re.compile("担当する")
    ).click()
    expect(queue.locator("#queue-status")).to_contain_text(
        "担当できる相談の上限に達しています（1件担当中、上限1件）"
    )
    queue.screenshot(path=shots / "claim-over-limit.png", full_page=True)
    # The JSON API says the same, naming the setting.
    taro_id = queue.locator("tbody tr").filter(has_text="収入・お金").get_attribute("data-session")
    assert taro_id
    status, answer = desk.http(
        "POST",
        f"/api/admin/sessions/{taro_id}/claim",
        b"",
        {
            "x-functions-key": FUNCTION_KEY,
            "x-ms-client-principal": api_principal("相談員A", "Desk.Expert"),
        },
    )
    assert status == 409
    assert "DESK_EXPERT_MAX_OPEN" in json.loads(answer)["error"]["message"]

    # -- 受付停止 ------------------------------------------------------------------------------
    queue.get_by_role("button", name="受付停止にする").click()
    expect(queue.locator("#availability")).to_contain_text("受付停止")
    expect(queue.get_by_role("button", name="受付可にする")).to_be_visible()
    assert unlabelled(queue) == []

    # -- 要注意 and 「SVに相談」 from the conversation ------------------------------------------
    conversation = alice.new_page()
    conversation.goto(hana_session)
    conversation.get_by_label("要注意の理由").fill("強い不安の訴えがあります")
    conversation.get_by_role("button", name="要注意にする").click()
    expect(conversation.locator("#attention")).to_contain_text(
        "要注意（相談員Aさん）：強い不安の訴えがあります"
    )
    conversation.get_by_label("SVへのメモ（任意・利用者には送られません）").fill(
        "今後の対応方針を相談したいです。"
    )
    conversation.get_by_role("button", name="SVに相談").click()
    expect(conversation.locator("#attention")).to_contain_text("相談員AさんがSVに相談しています")
    assert unlabelled(conversation) == []
    conversation.screenshot(path=shots / "escalate.png", full_page=True)
    assert all("強い不安" not in t for t in desk.sim.texts("hana"))  # staff only

    # -- an expert may not open the board ----------------------------------------------------------
    bobs = bob.new_page()
    response = bobs.goto(desk.base_url + "/console/board")
    assert response is not None
    assert response.status == 403
    expect(bobs.get_by_role("heading", name="アクセスできません")).to_be_visible()
    bobs.screenshot(path=shots / "board-forbidden.png")
    bobs.goto(desk.base_url + "/console/")
    assert bobs.locator("#nav-board").count() == 0

    # -- the board ---------------------------------------------------------------------------------
    board = admin.new_page()
    board_problems = watch(board)
    board.goto(desk.base_url + "/console/")
    board.locator("#nav-board").click()
    board.wait_for_url(re.compile(r"/console/board$"))
    expect(board.get_by_role("heading", name="スーパーバイザーボード")).to_be_visible()
    escalation = board.locator("table.board-escalations tbody tr").filter(has_text="転職・就職")
    expect(escalation).to_contain_text("今後の対応方針を相談したいです。")
    expect(escalation).to_contain_text("要注意")
    alice_row = board.locator("table.board-staff tbody tr").filter(has_text="相談員A")
    expect(alice_row).to_contain_text("在席")
    expect(alice_row).to_contain_text("受付停止")
    expect(alice_row).to_contain_text("1件／上限1件")
    expect(board.locator("table.board-staff tbody tr").filter(has_text="相談員B")).to_contain_text(
        "受付可"
    )
    first = board.locator("table.board-sessions tbody tr").first
    expect(first).to_contain_text("転職・就職")  # urgent first
    expect(first).to_contain_text("強い不安の訴えがあります")
    assert fits(board)
    board.screenshot(path=shots / "board.png", full_page=True)
    board.set_viewport_size(TABLET)  # a supervisor's tablet: no horizontal scrolling
    expect(first).to_contain_text("転職・就職")
    assert fits(board)
    board.screenshot(path=shots / "board-768.png", full_page=True)
    board.set_viewport_size(WIDE)

    # The board refreshes itself: Bob's escalation appears without a reload.
    taro = bob.new_page()
    taro.goto(desk.base_url + f"/console/sessions/{taro_id}")
    taro.get_by_role("button", name="SVに相談").click()
    expect(taro.locator("#attention")).to_contain_text("相談員BさんがSVに相談しています")
    expect(
        board.locator("table.board-escalations tbody tr").filter(has_text="収入・お金")
    ).to_be_visible(timeout=POLL)

    # -- the supervisor reassigns, answers the escalation, releases --------------------------------
    sv = admin.new_page()
    sv.goto(hana_session)
    expect(sv.locator("#sv-actions")).to_be_visible()
    sv.get_by_label("担当を変える相手").select_option(value="相談員B")  # the staff directory
    sv.get_by_label("メモ（利用者には送られません）").fill("相談員Bさんに交代します。")
    sv.get_by_role("button", name="担当を変更する").click()
    expect(sv.get_by_text("管理者Cさんが相談員Bさんに引き継ぎました")).to_be_visible()
    expect(sv.get_by_text("相談員Bさんに交代します。")).to_be_visible()
    sv.get_by_role("button", name="相談に対応済みにする").click()
    expect(sv.locator("#attention")).not_to_contain_text("SVに相談しています")
    assert unlabelled(sv) == []
    sv.screenshot(path=shots / "sv-actions.png", full_page=True)
    expect(
        board.locator("table.board-escalations tbody tr").filter(has_text="転職・就職")
    ).to_have_count(0, timeout=POLL)
    expect(board.locator("table.board-staff tbody tr").filter(has_text="相談員B")).to_contain_text(
        "1件／上限1件", timeout=POLL
    )

    bobs_view = bob.new_page()
    bobs_view.goto(hana_session)
    expect(bobs_view.get_by_label("返信の本文")).to_be_visible()  # now Bob's to answer

    sv.get_by_label("メモ（利用者には送られません）").fill("いったん一覧に戻します。")
    sv.get_by_role("button", name="一覧に戻す（SV）").click()
    expect(sv.get_by_text("待機中").first).to_be_visible()
    expect(sv.get_by_text("いったん一覧に戻します。")).to_be_visible()
    assert all("交代" not in t and "一覧に戻します" not in t for t in desk.sim.texts("hana"))

    # -- refusals ----------------------------------------------------------------------------------
    forged = admin.request.post(
        desk.base_url + f"/console/board/sessions/{taro_id}/release",
        form={"note": "偽"},
        headers={
            "HX-Request": "true",
            "Origin": "https://evil.example",
            "Sec-Fetch-Site": "cross-site",
        },
    )
    assert forged.status == 403
    sneaky = bob.request.post(
        desk.base_url + f"/console/board/sessions/{hana_id}/reassign",
        form={"to": "相談員B"},
        headers={**SAME_SITE, "Origin": desk.base_url},
    )
    assert sneaky.status == 403
    anonymous = browser.new_context(viewport=WIDE)
    page = anonymous.new_page()
    page.goto(desk.base_url + "/console/board")
    expect(page).to_have_url(
        re.compile(r"/\.auth/login/aad\?post_login_redirect_uri=%2Fconsole%2Fboard")
    )
    anonymous.close()

    assert [p for p in problems + board_problems if "Content Security Policy" in p] == []
    for context in (alice, bob, admin):
        context.close()
