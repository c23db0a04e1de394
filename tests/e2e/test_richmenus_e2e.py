"""The desk's rich menus through the simulator, as a LINE user sees them: set up by
`ops.line_setup richmenus`, the default menu for everyone, the consultation menu while a
session is open, and every button answered."""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from devtools.host import ROOT
from devtools.linesim import SimUser
from ops.line_setup import SdkRichMenus
from ops.richmenus import DEFAULT_ALIAS, SESSION_ALIAS, desk_menus, set_up
from shared.texts.catalogue import load_catalogue
from tests.e2e.conftest import AGREE, TOKEN, RunningDesk, free_port, start_like_make_run

pytestmark = pytest.mark.e2e
TEXTS = load_catalogue()


@pytest.fixture
def menus(desk: RunningDesk) -> dict[str, list[str]]:
    """The menus set up on the desk's simulator (idempotent: once per module in effect);
    each menu's postback data by label."""
    set_up(SdkRichMenus(desk.sim.base_url, desk.sim.base_url, TOKEN), desk_menus(), say=print)
    return {spec.alias: [a.data for a in spec.areas] for spec in desk_menus()}


def press(desk: RunningDesk, user: SimUser, label: str) -> list[str]:
    """Tap the button `label` on the menu the user sees; what the desk answered."""
    shown = desk.sim.menu_shown(user.user_id)
    assert shown is not None
    (action,) = [a["action"] for a in shown["areas"] if a["action"]["label"] == label]
    desk.sim.clear_inbox(user.user_id)
    user.postback(action["data"])
    return desk.sim.texts(user.user_id)


def test_every_default_button_is_answered_for_a_consented_user(
    desk: RunningDesk, menus: dict[str, list[str]]
) -> None:
    user = desk.consented_user("menu-consented")
    shown = desk.sim.menu_shown(user.user_id)
    assert shown is not None
    assert shown["richMenuId"] == desk.sim.rich_menu_aliases[DEFAULT_ALIAS]
    assert press(desk, user, "相談する") == [TEXTS.text("menu")]
    hours, topics = press(desk, user, "受付時間・状況")
    assert hours.startswith("専門家がお答えする対応時間は、")
    assert topics == TEXTS.text("menu")
    assert press(desk, user, "同意・データ") == [TEXTS.text("data_menu")]
    assert press(desk, user, "よくある質問") == [TEXTS.text("faq")]
    (helplines,) = press(desk, user, "緊急のとき")
    assert helplines.startswith(TEXTS.text("crisis_intro"))
    assert "よりそいホットライン" in helplines


def test_before_consent_faq_and_help_lines_answer_and_store_nothing(
    desk: RunningDesk, menus: dict[str, list[str]]
) -> None:
    user = desk.sim.user("menu-no-consent")
    user.follow()
    before = desk.stored_rows()
    assert press(desk, user, "よくある質問") == [TEXTS.text("faq")]
    (helplines,) = press(desk, user, "緊急のとき")
    assert helplines.startswith(TEXTS.text("crisis_intro"))
    consult = press(desk, user, "相談する")  # a consultation still needs consent
    assert TEXTS.text("faq") not in consult
    assert consult
    assert "よりそい" not in desk.stored_text()
    # The events' receipts and the day's flood counter only, no messages.
    assert desk.stored_rows() - before <= 4
    assert "message" not in {d.get("type") for d in desk.documents() if user.user_id in str(d)}


def test_the_consultation_menu_while_a_session_is_open(
    desk: RunningDesk, menus: dict[str, list[str]]
) -> None:
    user = desk.consented_user("menu-session")
    user.postback("action=topic&topic=career")
    assert desk.sim.menu_of(user.user_id) == desk.sim.rich_menu_aliases[SESSION_ALIAS]
    assert press(desk, user, "受付時間")[0].startswith("専門家がお答えする対応時間は、")
    (status,) = press(desk, user, "状況を確認")
    assert "番目" in status or TEXTS.text("wait_assigned") in status
    assert press(desk, user, "相談を終了") == [TEXTS.text("end_question")]
    question = desk.sim.inbox(user.user_id)[-1].message
    user.postback(question["template"]["actions"][0]["data"])
    assert desk.sim.menu_of(user.user_id) is None  # unlinked: the default menu shows again
    url = desk.sim.base_url + f"/_sim/users/{user.user_id}/menu"
    with urllib.request.urlopen(url, timeout=10) as response:  # what make chat reads
        seen = json.loads(response.read())
    assert seen["shown"]["chatBarText"] == TEXTS.text("richmenu_bar_default")


def test_make_run_sets_the_menus_up_and_make_chat_prints_their_buttons(tmp_path: Path) -> None:
    port = free_port()
    host = start_like_make_run(tmp_path, port)
    assert host.stdout is not None
    try:
        for line in host.stdout:
            if line.startswith("LINE simulator on"):
                break
        chat = subprocess.run(  # noqa: S603 -- this interpreter, fixed arguments
            [sys.executable, "-m", "devtools.chat", "--simulator", f"http://127.0.0.1:{port}"],
            cwd=ROOT,
            input="\n".join(("/follow", f"/postback {AGREE}", "/tap 4", "/quit", "")),
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    finally:
        host.terminate()
        host.wait(timeout=10)
        host.stdout.close()
    assert chat.returncode == 0, chat.stderr
    out = chat.stdout
    assert f"[rich menu desk-default@{desk_menus()[0].fingerprint()}: メニュー]" in out
    assert "    1. [相談する] -> /postback action=menu" in out
    assert "    5. [緊急のとき] -> /postback action=helplines" in out
    assert TEXTS.text("faq").splitlines()[0] in out  # /tap 4: よくある質問
