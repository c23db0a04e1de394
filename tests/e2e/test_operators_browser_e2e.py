"""The rest of the operators' screens in Chromium, against the local host and the LINE
simulator: a supervisor reinstates a suspended and a restricted user (reason required, the
purge date shown in Japan time), erases a user found by the session reference their chat
receipt showed, edits a canned reply and a referral that an expert then uses, and publishes a
policy version. An expert gets 403 on each screen; cross-site POSTs are refused. Screenshots go
to `DESK_SCREENSHOTS` (docs/console/) or a temporary folder.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from devtools.linesim import user_id_for
from tests.e2e.browser_kit import (
    TABLET,
    accepting_page,
    fits,
    open_consultation,
    sign_in,
    unlabelled,
)
from tests.e2e.conftest import RunningDesk

playwright_api = pytest.importorskip("playwright.sync_api")
from playwright.sync_api import Browser, expect  # noqa: E402

pytestmark = pytest.mark.e2e
CROSS_SITE = {
    "HX-Request": "true",
    "Origin": "https://evil.example",
    "Sec-Fetch-Site": "cross-site",
}
REFERENCE = re.compile(r"受付番号：(\d{6}-\d{3})")


@pytest.mark.parametrize("running_desk", ["sqlite"], indirect=True)
def test_a_supervisor_reinstates_erases_edits_lists_and_publishes_a_policy(
    running_desk: RunningDesk, browser: Browser, shots: Path
) -> None:
    desk = running_desk
    desk.sim.reset()
    open_consultation(desk, "suzu", "job-change", "転職を考えています。")
    open_consultation(desk, "kaito", "income", "収入のことで相談です。")
    open_consultation(desk, "mio", "career", "将来のことで相談です。")
    suzu, kaito = user_id_for("suzu"), user_id_for("kaito")
    assert (
        desk.admin(
            "POST",
            f"/api/admin/users/{suzu}/suspend",
            {"clause": "8(6)", "reason": "なりすまし", "operator": "運用者E"},
        )[0]
        == 200
    )
    assert (
        desk.admin(
            "POST",
            f"/api/admin/users/{kaito}/restrict",
            {"mode": "text_only", "operator": "運用者E"},
        )[0]
        == 200
    )
    admin = sign_in(browser, desk, "管理者C", "Desk.Admin")
    expert = sign_in(browser, desk, "相談員A", "Desk.Expert")
    page, dialogs = accepting_page(admin)

    # -- suspended and restricted users: purge date, reinstatement with a reason ---------------
    page.goto(desk.base_url + "/console/admin")
    page.get_by_role("link", name="利用停止・制限中の利用者").first.click()
    rows = page.locator("#sanctioned tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.first).to_contain_text("利用停止（§8(6)）")
    expect(rows.first.locator("strong")).to_have_text(
        re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}$")
    )
    expect(rows.nth(1)).to_contain_text("利用制限（テキストのみ）")
    assert suzu not in page.content()
    assert kaito not in page.content()
    assert unlabelled(page) == []
    page.screenshot(path=shots / "admin-users.png", full_page=True)
    rows.first.get_by_label("理由（監査ログに残ります）").fill("誤検知のため解除します。")
    rows.first.get_by_role("button", name="措置を解除する").click()
    expect(rows).to_have_count(1)
    assert any("利用停止を解除します" in d for d in dialogs)
    assert desk.admin("GET", f"/api/admin/users/{suzu}")[1]["status"] != "suspended"
    rows.first.get_by_label("理由（監査ログに残ります）").fill("期間を終えたため解除します。")
    rows.first.get_by_role("button", name="措置を解除する").click()
    expect(page.locator("#no-users")).to_be_visible()

    # -- erasure by the session reference the user's receipt showed ------------------------------
    (receipt,) = [t for t in desk.sim.texts("mio") if "受付番号" in t]
    found = REFERENCE.search(receipt)
    assert found is not None
    # -- 開示: the same person's data as the Japanese text to post them ------------------------
    page.get_by_role("link", name="データの開示").first.click()
    page.get_by_label("受付番号").fill("　" + found.group(1).replace("-", "ー") + " ")  # as typed
    page.get_by_role("button", name="開示する内容を表示").click()
    text = page.locator("#export-text")
    expect(text).to_contain_text("保有個人データの開示")
    expect(text).to_contain_text(f"受付番号 {found.group(1)}")
    expect(text).to_contain_text("将来のことで相談です。")
    expect(text).to_contain_text("お問い合わせは、")
    for code in ("consented", "explicit", "sticker"):
        expect(text).not_to_contain_text(code)
    assert unlabelled(page) == []
    assert fits(page)
    page.screenshot(path=shots / "admin-export.png", full_page=True)

    # -- the supervisor's internal figures ------------------------------------------------------
    page.get_by_role("link", name="対応状況（内部用）").first.click()
    expect(page.get_by_role("heading", name="対応状況（内部用）", level=1)).to_be_visible()
    expect(page.locator("#per-day")).to_be_visible()
    with page.expect_download() as download:
        page.get_by_role("link", name="CSVで保存").click()
    assert download.value.suggested_filename.startswith("figures-")
    assert unlabelled(page) == []
    assert fits(page)
    page.screenshot(path=shots / "admin-figures.png", full_page=True)

    page.get_by_role("link", name="データの削除依頼").first.click()
    page.get_by_label("受付番号").fill(found.group(1))
    page.get_by_role("button", name="利用者を探す").click()
    expect(page.locator("#found-ref")).to_have_text(found.group(1))
    expect(page.locator("#found")).to_contain_text("キャリア")
    assert unlabelled(page) == []
    page.screenshot(path=shots / "admin-erase.png", full_page=True)
    page.get_by_label("利用者本人からの削除依頼であることを確認しました").check()
    page.get_by_role("button", name="データを削除する").click()
    expect(page.locator("#erase-done")).to_be_visible()
    assert any("元に戻すことはできません" in d for d in dialogs)
    assert desk.admin("GET", f"/api/admin/users/{user_id_for('mio')}")[0] == 404
    assert any("削除" in t for t in desk.sim.texts("mio")[-1:])  # told in the chat

    # -- canned replies and referrals, used by the experts' console ------------------------------
    page.get_by_role("link", name="定型文・紹介先").first.click()
    greeting = page.locator("#reply-greeting")
    greeting.get_by_label("見出し").fill("最初のごあいさつ")
    with page.expect_navigation():  # the save answers with HX-Redirect: wait for the reload
        greeting.get_by_role("button", name="保存").click()
    expect(page.locator("#reply-greeting").get_by_label("見出し")).to_have_value("最初のごあいさつ")
    page.locator("#new-referral").get_by_label("紹介先を追加する").fill(
        "千葉県ジョブサポートセンター"
    )
    with page.expect_navigation():
        page.locator("#new-referral").get_by_role("button", name="追加").click()
    expect(page.get_by_label("紹介先の名前").last).to_have_value("千葉県ジョブサポートセンター")
    assert unlabelled(page) == []
    page.screenshot(path=shots / "admin-lists.png", full_page=True)
    theirs = expert.new_page()
    theirs.goto(desk.base_url + "/console/")
    theirs.get_by_role("row").filter(has_text="収入・お金").get_by_role("link").first.click()
    theirs.get_by_role("button", name="担当する").click()
    expect(theirs.locator("#canned option").filter(has_text="最初のごあいさつ")).to_have_count(1)
    expect(
        theirs.locator("#referral option").filter(has_text="千葉県ジョブサポートセンター")
    ).to_have_count(1)

    # -- policies: versions with consent counts, publish one ------------------------------------
    page.get_by_role("link", name="運用ポリシー").first.click()
    current = page.locator("#policies tr.current")
    expect(current).to_contain_text("（現在の版）")
    page.get_by_label("版", exact=True).fill("2099-04-01")
    page.get_by_label("発効日").fill("2099-04-01")
    page.get_by_label("全文", exact=True).fill("http://insecure.example/policy")
    page.get_by_label("全文の本文").fill("改定後の運用ポリシーの全文です。")
    page.get_by_role("button", name="登録する").click()
    expect(page.locator("#policy-status")).to_contain_text("url：")  # the reason names the field
    page.get_by_label("全文", exact=True).fill("https://policy.example/2099")
    page.get_by_role("button", name="登録する").click()
    expect(page.locator("#policy-2099-04-01")).to_be_visible()
    assert any("登録した版は削除できません" in d for d in dialogs)
    assert unlabelled(page) == []
    page.screenshot(path=shots / "admin-policies.png", full_page=True)
    page.set_viewport_size(TABLET)
    assert fits(page)
    page.screenshot(path=shots / "admin-policies-768.png", full_page=True)

    # -- refusals ---------------------------------------------------------------------------------
    for path in (
        "/console/admin/users",
        "/console/admin/erase",
        "/console/admin/export",
        "/console/admin/figures",
        "/console/admin/lists",
        "/console/admin/policies",
    ):
        response = theirs.goto(desk.base_url + path)
        assert response is not None
        assert response.status == 403
    forged: tuple[tuple[str, dict[str, str | float | bool]], ...] = (
        ("/console/admin/erase", {"ref": found.group(1), "confirm": "yes"}),
        ("/console/admin/lists/referrals", {"label": "偽の紹介先"}),
        ("/console/admin/policies", {"versionId": "x"}),
        ("/console/admin/users/" + "0" * 64 + "/reinstate", {"reason": "偽"}),
    )
    for path, form in forged:
        assert admin.request.post(desk.base_url + path, form=form, headers=CROSS_SITE).status == 403
    for context in (admin, expert):
        context.close()
