"""The operators' screens in a real browser (Chromium through Playwright), against the local
host and the LINE simulator: a supervisor changes the service state (confirming a dialog that
names the consequence), plans and cancels a maintenance window, reads the statistics with
suppressed cells and downloads the CSV, filters the audit trail; an expert gets 403, and a
cross-site POST is refused. Screenshots go to `DESK_SCREENSHOTS` (docs/console/) or a
temporary folder.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.e2e.browser_kit import (
    accepting_page,
    open_consultation,
    sign_in,
    unlabelled,
)
from tests.e2e.conftest import RunningDesk

playwright_api = pytest.importorskip("playwright.sync_api")
from playwright.sync_api import Browser, expect  # noqa: E402

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize("running_desk", ["sqlite"], indirect=True)
def test_a_supervisor_runs_the_desk_from_the_admin_screens(
    running_desk: RunningDesk, browser: Browser, shots: Path
) -> None:
    desk = running_desk
    desk.sim.reset()
    open_consultation(desk, "hana", "job-change", "転職を考えています。")
    open_consultation(desk, "taro", "income", "収入のことで相談です。")
    open_consultation(desk, "jiro", "workplace", "同僚になりすまして連絡したい")
    admin = sign_in(browser, desk, "管理者C", "Desk.Admin")
    expert = sign_in(browser, desk, "相談員A", "Desk.Expert")

    # -- the start page, reached from the console's navigation ---------------------------------
    page, dialogs = accepting_page(admin)
    page.goto(desk.base_url + "/console/")
    page.get_by_role("link", name="運用管理").first.click()
    expect(page.get_by_role("heading", name="運用管理", level=1)).to_be_visible()
    assert unlabelled(page) == []
    expect(page.locator("#state-now")).to_have_text("受付中")
    page.screenshot(path=shots / "admin.png", full_page=True)

    # -- service status: suspend now with a message, confirmed ---------------------------------
    page.get_by_role("link", name="サービス状態").first.click()
    expect(page.get_by_role("heading", name="サービス状態", level=1)).to_be_visible()
    assert unlabelled(page) == []
    page.get_by_label("状態", exact=True).select_option(label="受付停止")
    page.get_by_label("利用者に表示するメッセージ").fill("本日は臨時に受付を停止しています。")
    page.get_by_role("button", name="変更する").click()
    expect(page.locator("#state-now")).to_have_text("受付停止")
    expect(page.locator("#message-now")).to_have_text("本日は臨時に受付を停止しています。")
    assert any("届くメッセージは保存されず" in d for d in dialogs)
    status, service = desk.admin("GET", "/api/admin/service")
    assert status == 200
    assert service["state"] == "suspended"

    # -- plan a window for tomorrow, then cancel it --------------------------------------------
    page.get_by_label("状態", exact=True).select_option(label="受付中")
    page.get_by_role("button", name="変更する").click()
    expect(page.locator("#state-now")).to_have_text("受付中")
    page.get_by_label("状態", exact=True).select_option(label="メンテナンス中")
    page.get_by_label("利用者に表示するメッセージ").fill("システムメンテナンスを行います。")
    page.get_by_label("開始", exact=True).fill(_tomorrow("01:00"))
    page.get_by_label("終了予定", exact=True).fill(_tomorrow("03:00"))
    page.get_by_role("button", name="変更する").click()
    windows = page.locator("#windows tbody tr")
    expect(windows.first).to_contain_text("システムメンテナンスを行います。")
    page.screenshot(path=shots / "admin-status.png", full_page=True)
    page.get_by_role("button", name="予定をすべて取り消す").click()
    expect(page.locator("#no-windows")).to_be_visible()
    assert any("取り消します" in d for d in dialogs)

    # -- flags: listed by pseudonym, dismissed with a confirmation ------------------------------
    page.get_by_role("link", name="要確認（フラグ）").first.click()
    flag = page.locator("section.flag").first
    expect(flag).to_contain_text("§8(6)")
    assert "なりすまして" not in page.content()  # no message text on the list
    assert unlabelled(page) == []
    page.screenshot(path=shots / "admin-flags.png", full_page=True)
    flag.get_by_role("button", name="問題なし（却下）").click()
    expect(page.locator("#no-flags")).to_be_visible()
    assert any("利用者への対応は行われません" in d for d in dialogs)

    # -- statistics: suppressed cells as 秘匿, CSV download ------------------------------------
    page.get_by_role("link", name="統計").first.click()
    page.get_by_label("集計の単位").select_option(label="相談テーマ別")
    page.get_by_role("button", name="表示").click()
    row = page.locator("#stats tbody tr").filter(has_text="収入・お金")
    expect(row.locator("td.suppressed").first).to_have_text("秘匿")  # 1 < k
    page.screenshot(path=shots / "admin-stats.png", full_page=True)
    with page.expect_download() as download:
        page.get_by_role("link", name="CSVをダウンロード").click()
    saved = Path(download.value.path())
    raw = saved.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    assert "収入・お金,秘匿" in raw.decode("utf-8-sig")

    # -- the audit trail, filtered ---------------------------------------------------------------
    page.get_by_role("link", name="監査ログ").first.click()
    page.get_by_label("操作者").fill("管理者C")
    page.get_by_role("button", name="表示").click()
    expect(page.locator("#audit tbody tr").first).to_contain_text("管理者C")
    assert "U" + "0" * 10 not in page.content()  # no LINE ids, only keyed hashes
    page.screenshot(path=shots / "admin-audit.png", full_page=True)

    # -- refusals: an expert gets 403, a cross-site POST is refused ------------------------------
    theirs = expert.new_page()
    response = theirs.goto(desk.base_url + "/console/admin/status")
    assert response is not None
    assert response.status == 403
    expect(theirs.get_by_text("運用管理の画面は管理者（Desk.Admin）専用です")).to_be_visible()
    theirs.screenshot(path=shots / "admin-forbidden.png")
    theirs.goto(desk.base_url + "/console/")
    expect(theirs.get_by_role("heading", name="相談の一覧")).to_be_visible()
    expect(theirs.get_by_role("link", name="運用管理")).to_have_count(0)
    forged = admin.request.post(
        desk.base_url + "/console/admin/status",
        form={"state": "ended"},
        headers={
            "HX-Request": "true",
            "Origin": "https://evil.example",
            "Sec-Fetch-Site": "cross-site",
        },
    )
    assert forged.status == 403
    assert desk.admin("GET", "/api/admin/service")[1]["state"] == "open"
    for context in (admin, expert):
        context.close()


def _tomorrow(hour: str) -> str:
    """Tomorrow in Japan at `hour`, as a datetime-local value."""
    day = (datetime.now(UTC) + timedelta(hours=9) + timedelta(days=1)).date()
    return f"{day.isoformat()}T{hour}"
