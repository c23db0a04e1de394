"""The conversation as a chat (issue 19, item 4): with a long transcript and a crisis banner, the
reply box and its send button sit under the transcript without scrolling, at 1280×800 and at
768 px; the newest message is in view; notes, 要注意, hand-over and history sit in the side
panel."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.e2e.browser_kit import TABLET, WIDE, fits, open_consultation, sign_in, unlabelled, watch
from tests.e2e.conftest import RunningDesk

playwright_api = pytest.importorskip("playwright.sync_api")
from playwright.sync_api import Browser, Locator, Page, expect  # noqa: E402

pytestmark = pytest.mark.e2e


def in_view(page: Page, locator: Locator) -> bool:
    """Wholly inside the viewport as the page opens (no scrolling)."""
    box = locator.bounding_box()
    size = page.viewport_size
    assert box is not None
    assert size is not None
    return box["y"] >= 0 and box["y"] + box["height"] <= size["height"]


@pytest.mark.parametrize("running_desk", ["sqlite"], indirect=True)
def test_the_reply_box_sits_under_the_transcript_without_scrolling(
    running_desk: RunningDesk, browser: Browser, shots: Path
) -> None:
    desk = running_desk
    desk.sim.reset()
    texts = [f"{n}通目です。仕事のことで相談させてください。" for n in range(1, 31)]
    open_consultation(desk, "sora", "workplace", *texts, "もう消えたいです")
    alice = sign_in(browser, desk, "相談員B", "Desk.Expert")
    page = alice.new_page()
    page.goto(desk.base_url + "/console/")
    row = page.locator("tbody tr").filter(has_text="職場の悩み")
    row.get_by_role("button", name=re.compile("担当する")).click()
    page.wait_for_url(re.compile(r"/console/sessions/"))
    expect(page.locator("#crisis-banner")).to_be_visible()
    for viewport, name in ((WIDE, "conversation-chat.png"), (TABLET, "conversation-chat-768.png")):
        page.set_viewport_size(viewport)
        page.reload()
        expect(page.get_by_label("返信の本文")).to_be_visible()
        assert in_view(page, page.get_by_label("返信の本文")), viewport
        assert in_view(page, page.get_by_role("button", name="送信")), viewport
        newest = page.locator(".transcript li").last
        expect(newest).to_contain_text("もう消えたいです")
        expect(newest).to_be_in_viewport()
        side = page.get_by_role("complementary", name="メモ・要注意・引き継ぎ・履歴")
        for heading in ("利用者メモ（次回以降も表示）", "要注意・SVに相談", "引き継ぎ"):
            expect(side.get_by_role("heading", name=heading)).to_have_count(1)
        assert fits(page)
        assert unlabelled(page) == []
        page.screenshot(path=shots / name)
    alice.close()


@pytest.mark.parametrize("running_desk", ["sqlite"], indirect=True)
def test_the_browser_kit_catches_an_inline_style_the_policy_blocks(
    running_desk: RunningDesk, browser: Browser
) -> None:
    """The CSP listener every browser test relies on reports a blocked inline style."""
    context = sign_in(browser, running_desk, "相談員B", "Desk.Expert")
    page = context.new_page()
    problems = watch(page)
    page.goto(running_desk.base_url + "/console/")
    expect(page.get_by_role("heading", name="相談の一覧")).to_be_visible()
    assert not [p for p in problems if "Content Security Policy" in p]
    with page.expect_console_message(lambda m: "Content Security Policy violation" in m.text):
        page.evaluate("document.body.setAttribute('style', 'color: red')")
    assert any("Content Security Policy violation: style-src" in p for p in problems), problems
    context.close()
