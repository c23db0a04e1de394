"""開示 on screen (issue 19, item 8): an operator finds a person by their 受付番号 and gets the
Japanese text to post them: everything the desk holds, no raw codes, each heading explained,
the closing messages, outcomes and referrals, and the operator's contact."""

from __future__ import annotations

import re

import pytest

from tests.kit.admin_api import api
from tests.unit.conftest import deliver
from tests.unit.test_console import ADMIN, ALICE, NOBODY, a_session, desk, get, post

__all__ = ["desk"]

RAW_CODES = (
    "consented",
    "explicit",
    "deemed",
    "sticker",
    "image-refused",
    "text_only",
    "closing",
    "expert",
    "user",
    "link shortener",
    "8(3)",
    "§",
)


def consultation(desk, sim, line) -> tuple[str, str]:
    """A consultation with text, a sticker, a refused image, a flagged link, an answer and a
    closing with a referral; its 受付番号 and session id."""
    session_id = a_session(desk, sim, line, "mina", "転職の相談です")
    user = sim.user("mina")
    deliver(desk, user.sticker_event())
    deliver(desk, user.media_event("image"))
    deliver(desk, user.text_event("こちらを見てください https://bit.ly/x"))
    post(f"/console/sessions/{session_id}/claim")
    post(f"/console/sessions/{session_id}/messages", {"text": "ハローワークをご案内します。"})
    post(f"/console/sessions/{session_id}/close", {"outcome": "referral", "referral": "hellowork"})
    reference = desk.console.session(session_id).reference
    assert reference is not None
    return reference, session_id


def test_the_printed_text_holds_everything_in_plain_japanese(desk, sim, line) -> None:
    reference, session_id = consultation(desk, sim, line)
    status, headers, page = get(f"/console/admin/export?ref={reference}", principal=ADMIN)
    assert status == 200
    assert headers["Cache-Control"] == "no-store"
    text = page[page.index('<pre class="export-text"') : page.index("</pre>")]
    assert sim.user("mina").user_id not in page  # no LINE id on the screen
    for code in RAW_CODES:
        assert code not in text, code
    assert f"受付番号 {reference}" in text
    assert "転職の相談です" in text
    assert "［スタンプ］" in text
    assert "［画像：受け付けず、保存していません］" in text
    assert "ハローワークをご案内します。" in text
    assert "結果：他機関紹介" in text
    assert "窓口（終了時のお知らせ）" in text  # the closing message and the referral it names
    assert "ハローワーク" in text[text.index("窓口（終了時のお知らせ）") :]
    assert "同意しています" in text
    assert "短縮URLを含む" in text
    headings = re.findall(r"■(.+)\n(.+)", text.replace("&#34;", '"'))
    assert len(headings) >= 7
    assert all(explained.endswith("。") for _, explained in headings)
    assert "お問い合わせは、" in text
    records = api(desk).auditor.page(None, 200)["records"]
    assert [r["who"] for r in records if r["action"] == "user.export"] == ["管理者C"]
    assert session_id  # the long id stays internal


@pytest.mark.parametrize(
    ("principal", "ref", "status"),
    [
        (None, "251104-001", 302),
        (NOBODY, "251104-001", 403),
        (ALICE, "251104-001", 403),
        (ADMIN, "not a number", 400),
        (ADMIN, "1" * 500, 400),
        (ADMIN, "991231-999", 404),
    ],
)
def test_the_export_screen_refuses_as_it_should(desk, principal, ref: str, status: int) -> None:
    assert get(f"/console/admin/export?ref={ref}", principal=principal)[0] == status


def test_without_a_reference_the_screen_asks_for_one(desk) -> None:
    status, _, page = get("/console/admin/export", principal=ADMIN)
    assert status == 200
    assert 'id="export-text"' not in page
    assert 'name="ref"' in page
