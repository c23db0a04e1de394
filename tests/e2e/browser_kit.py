"""What every browser test of the console shares: Debian's Chromium driven by Playwright, the
viewports, the screenshot folder, signing in through the local host's development form, and
checks of a page (console errors, overflow, unlabelled controls). The fixtures `browser` and
`shots` are in tests/e2e/conftest.py."""

from __future__ import annotations

import re

import pytest

from tests.e2e.conftest import RunningDesk

playwright_api = pytest.importorskip("playwright.sync_api")
from playwright.sync_api import (  # noqa: E402
    Browser,
    BrowserContext,
    Dialog,
    Page,
    ViewportSize,
    expect,
)

WIDE: ViewportSize = {"width": 1280, "height": 800}
TABLET: ViewportSize = {"width": 768, "height": 1024}
POLL = 10_000  # the console promises a refresh within 10 s


def sign_in(browser: Browser, desk: RunningDesk, name: str, *roles: str) -> BrowserContext:
    """A browser profile signed in through the development sign-in form."""
    context = browser.new_context(viewport=WIDE, locale="ja-JP", timezone_id="Asia/Tokyo")
    page = context.new_page()
    page.goto(desk.base_url + "/console/")
    expect(page).to_have_url(re.compile(r"/\.auth/login/aad\?post_login_redirect_uri="))
    page.get_by_label("Name").fill(name)
    for role in roles:
        page.get_by_label(role).check()
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r"/console/$"))
    page.close()
    return context


# Every Content-Security-Policy violation, reported as a console error whether or not the
# browser logs it itself (an inline style set by a script, say).
_REPORT_CSP = """
document.addEventListener("securitypolicyviolation", (e) =>
  console.error("Content Security Policy violation: " + e.violatedDirective + " " + e.blockedURI));
"""


def watch(page: Page) -> list[str]:
    """Console errors of a page, every CSP violation among them (as they happen, from the
    next navigation on)."""
    page.add_init_script(_REPORT_CSP)
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    return problems


def fits(page: Page) -> bool:
    """No horizontal scrolling at this viewport."""
    return bool(page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"))


def unlabelled(page: Page) -> list[str]:
    """Visible form controls without an accessible name."""
    return list(
        page.evaluate(
            """() => Array.from(document.querySelectorAll('input, select, textarea, button'))
              .filter(e => e.type !== 'hidden' && e.offsetParent !== null)
              .filter(e => !(e.labels && e.labels.length) && !e.getAttribute('aria-label')
                           && !(e.textContent || '').trim())
              .map(e => e.outerHTML)"""
        )
    )


def open_consultation(desk: RunningDesk, name: str, topic: str, *texts: str) -> None:
    user = desk.consented_user(name)
    user.postback(f"action=topic&topic={topic}")
    for text in texts:
        user.say(text)


def accepting_page(context: BrowserContext) -> tuple[Page, list[str]]:
    """A page that accepts every confirmation dialog, and the dialogs' messages so far."""
    dialogs: list[str] = []

    def accept(dialog: Dialog) -> None:
        dialogs.append(dialog.message)
        dialog.accept()

    page = context.new_page()
    page.on("dialog", accept)
    return page, dialogs
