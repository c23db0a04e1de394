"""Crisis in plain sight, in a real browser (issue 19, items 1 and 3): a consultant with the
queue open sees a crisis case arrive first in 待機中 with its reason, the tab title counts it,
the notification they turned on is shown, and the conversation opens with the crisis on top."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.e2e.browser_kit import TABLET, fits, open_consultation, sign_in, unlabelled, watch
from tests.e2e.conftest import RunningDesk

playwright_api = pytest.importorskip("playwright.sync_api")
from playwright.sync_api import Browser, expect  # noqa: E402

pytestmark = pytest.mark.e2e

# The counts are cached for 10 s per instance and polled every 10 s.
COUNTS = 25_000

# Records what the console asks the browser to notify (and still shows it): the page's own
# Notification API is what the consultant turned on.
RECORD_NOTIFICATIONS = """
(() => {
  const Real = window.Notification;
  window.__notified = [];
  function Recording(title, options) {
    window.__notified.push({ title: title, body: (options || {}).body });
    return new Real(title, options);
  }
  Recording.requestPermission = Real.requestPermission.bind(Real);
  Object.defineProperty(Recording, "permission", { get: () => Real.permission });
  window.Notification = Recording;
})();
"""


@pytest.mark.parametrize("running_desk", ["sqlite"], indirect=True)
def test_a_crisis_case_reaches_a_consultant_with_the_queue_open(
    running_desk: RunningDesk, browser: Browser, shots: Path
) -> None:
    desk = running_desk
    desk.sim.reset()
    open_consultation(desk, "mika", "job-change", "転職の相談です。")
    alice = sign_in(browser, desk, "相談員A", "Desk.Expert")
    alice.grant_permissions(["notifications"], origin=desk.base_url)
    alice.add_init_script(RECORD_NOTIFICATIONS)
    queue = alice.new_page()
    problems = watch(queue)
    queue.goto(desk.base_url + "/console/")
    expect(queue).to_have_title(re.compile(r"^（待機\d+）相談の一覧"), timeout=COUNTS)
    notify = queue.get_by_label("デスクトップ通知で知らせる")
    notify.check()
    expect(notify).to_be_checked()
    sound = queue.get_by_label("新しい相談と危機・要注意を音で知らせる")
    sound.press("Space")  # keyboard only
    expect(sound).to_be_checked()
    assert unlabelled(queue) == []

    open_consultation(desk, "ken", "income", "収入のことで相談です。")
    desk.sim.user("ken").say("もう死にたいです")
    crisis_row = queue.locator("table.queue tbody tr").first
    expect(crisis_row).to_contain_text("収入・お金", timeout=COUNTS)
    expect(crisis_row).to_contain_text("危機")
    expect(crisis_row).to_contain_text("危機を示す言葉")
    expect(queue).to_have_title(re.compile(r"^（危機/要注意1・待機\d+）"), timeout=COUNTS)
    expect(queue.locator("#marked-waiting")).to_contain_text("危機・要注意 1件")
    expect(queue.locator("body")).to_have_attribute("data-alerted", "marked")
    notified = queue.evaluate("window.__notified")
    assert {
        "title": "相談の一覧 | みらいキャリアポート（千葉県公式）",
        "body": ("危機・要注意の相談があります。すぐに確認してください。"),
    } in notified
    assert all("死にたい" not in str(n) for n in notified)
    assert fits(queue)
    queue.screenshot(path=shots / "queue-crisis.png", full_page=True)

    crisis_row.get_by_role("link", name=re.compile("開く")).click()
    queue.wait_for_url(re.compile(r"/console/sessions/"))
    banner = queue.locator("#crisis-banner")
    expect(banner).to_be_visible()
    expect(banner).to_contain_text("危機対応が必要な相談です")
    top, transcript = banner.bounding_box(), queue.locator("#transcript-title").bounding_box()
    assert top is not None
    assert transcript is not None
    assert top["y"] < transcript["y"]
    expect(queue).to_have_title(re.compile(r"^（危機/要注意1・待機\d+）"), timeout=COUNTS)
    assert fits(queue)
    assert unlabelled(queue) == []
    queue.screenshot(path=shots / "conversation-crisis.png")
    queue.set_viewport_size(TABLET)
    assert fits(queue)
    queue.screenshot(path=shots / "conversation-crisis-768.png")
    # No script error and no CSP violation (the browser's own favicon request may 404).
    assert [p for p in problems if not p.startswith("Failed to load resource")] == []
    alice.close()
