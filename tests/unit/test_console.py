"""The experts' console through the local host (desk over fakes): sign-in, roles, same-site
POSTs, the queue, a conversation, replies and closing, the security headers and assets."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from urllib.parse import quote, urlencode

import pytest

from devtools.host import dev_principal
from shared.config import settings_from
from shared.entrypoints.console.pages import CONTENT_SECURITY_POLICY
from shared.ports import DESK, USERS
from shared.wiring import Desk, build_desk, install_desk, reset_desk
from tests.kit.admin_api import api
from tests.kit.app import desk_host
from tests.kit.fakes import FakeClock, FakeMessenger, MemoryStore
from tests.unit.conftest import SECRET, deliver, open_session

ROOT = Path(__file__).resolve().parents[2]
CONSOLE = ROOT / "shared" / "entrypoints" / "console"
ALICE = dev_principal("相談員A", ["Desk.Expert"])
BOB = dev_principal("相談員B", ["Desk.Expert"])
ADMIN = dev_principal("管理者C", ["Desk.Admin"])
NOBODY = dev_principal("利用者Z", ["Desk.Reader"])
HOST = "desk.example"
SAME_SITE = {"Host": HOST, "Origin": f"http://{HOST}", "Sec-Fetch-Site": "same-origin"}


def console_desk(store: MemoryStore, line: FakeMessenger, clock: FakeClock, auth: str) -> Desk:
    settings = settings_from(
        {
            "DESK_ENVIRONMENT": "Development",
            "LINE_API_BASE_URL": "http://127.0.0.1:9",
            "LINE_CHANNEL_SECRET": SECRET,
            "WEBSITE_AUTH_ENABLED": auth,
            "DESK_WAIT_ALERT_MINUTES": "30",
        }
    )
    return build_desk(settings, store, line, clock, sleep=lambda _: None)


@pytest.fixture
def desk(store: MemoryStore, line: FakeMessenger, clock: FakeClock) -> Iterator[Desk]:
    built = console_desk(store, line, clock, "true")
    install_desk(built)
    yield built
    reset_desk()


def get(path: str, principal: str | None = ALICE, **headers: str) -> tuple[int, dict, str]:
    sent = {"Host": HOST, **headers}
    if principal:
        sent["X-MS-CLIENT-PRINCIPAL"] = principal
    status, out, body = desk_host().handle("GET", path, sent, b"")
    return status, out, body.decode("utf-8")


def post(
    path: str, form: dict[str, str] | None = None, principal: str | None = ALICE, **headers: str
) -> tuple[int, dict, str]:
    sent = {**SAME_SITE, "HX-Request": "true", **headers}
    if principal:
        sent["X-MS-CLIENT-PRINCIPAL"] = principal
    body = "&".join(f"{k}={quote(v)}" for k, v in (form or {}).items()).encode()
    status, out, answer = desk_host().handle("POST", path, sent, body)
    return status, out, answer.decode("utf-8")


def waiting_ids(desk: Desk) -> set[str]:
    return {s["sessionId"] for s in api(desk).experts.queue("waiting", None, 200)["sessions"]}


def a_session(desk: Desk, sim, line, name: str = "alice", *texts: str) -> str:
    before = waiting_ids(desk)
    user = open_session(desk, sim, line, name)
    for text in texts:
        deliver(desk, user.text_event(text))
    line.sent.clear()  # the desk's acknowledgement of the first message; these tests: the expert
    (session_id,) = waiting_ids(desk) - before
    return session_id


# -- sign-in, roles, the authentication switch ----------------------------------------------


def test_without_a_principal_the_browser_is_sent_to_sign_in_and_back(desk) -> None:
    status, headers, _ = get("/console/?tab=mine", principal=None)
    assert status == 302
    assert headers["Location"] == (
        "/.auth/login/aad?post_login_redirect_uri=%2Fconsole%2F%3Ftab%3Dmine"
    )


def test_htmx_without_a_principal_is_told_where_to_sign_in(desk) -> None:
    status, headers, _ = get("/console/queue", principal=None, **{"HX-Request": "true"})
    assert status == 401
    assert headers["HX-Redirect"].startswith("/.auth/login/aad?post_login_redirect_uri=")


def test_a_principal_without_a_desk_role_gets_a_japanese_403(desk) -> None:
    status, headers, body = get("/console/", principal=NOBODY)
    assert status == 403
    assert "アクセスできません" in body
    assert headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY


def test_a_malformed_principal_is_403_not_500(desk) -> None:
    status, _, body = get("/console/", principal="not base64 at all!")
    assert status == 403
    assert "サインインの情報を読み取れませんでした" in body


def test_the_console_refuses_to_serve_without_app_service_authentication(
    store, line, clock
) -> None:
    install_desk(console_desk(store, line, clock, "false"))
    try:
        status, _, body = get("/console/", principal=ADMIN)
        assert status == 503
        assert "App Serviceの認証" in body
    finally:
        reset_desk()


@pytest.mark.parametrize("principal", [ALICE, ADMIN])
def test_experts_and_admins_see_the_queue(desk, principal) -> None:
    status, headers, body = get("/console/", principal=principal)
    assert status == 200
    assert "待機中" in body
    assert "自分の担当" in body
    assert "対応中（全員）" in body
    assert headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    assert headers["Cache-Control"] == "no-store"


def test_the_console_routes_are_anonymous_at_the_functions_level() -> None:
    routes = [f for f in desk_host().http if f.route.startswith("console")]
    assert len(routes) >= 7
    assert {f.auth_level for f in routes} == {"anonymous"}


# -- same-site state changes ----------------------------------------------------------------


@pytest.mark.parametrize(
    "headers",
    [
        {"Sec-Fetch-Site": "cross-site", "Origin": "https://evil.example"},
        {"Sec-Fetch-Site": "same-site", "Origin": "https://other.desk.example"},
        {"Sec-Fetch-Site": "", "Origin": "https://evil.example"},
        {"Sec-Fetch-Site": "", "Origin": ""},
        {"HX-Request": ""},
    ],
)
def test_cross_site_or_non_htmx_posts_are_403_and_change_nothing(desk, sim, line, headers) -> None:
    session_id = a_session(desk, sim, line)
    status, _, body = post(f"/console/sessions/{session_id}/claim", **headers)
    assert status == 403
    assert "操作を受け付けられません" in body
    assert desk.console.session(session_id).assigned_to is None


# -- the queue --------------------------------------------------------------------------------


def test_queue_rows_show_topic_wait_count_unread_and_the_latest_words(
    desk, sim, line, clock
) -> None:
    clock.now = datetime.fromisoformat("2025-11-04T00:00:00+00:00")  # 09:00 in Japan, a Tuesday
    latest = "二通目です。" + "とても長い相談の文章が続きます。" * 5
    session_id = a_session(desk, sim, line, "alice", "秘密の相談です")
    clock.advance(seconds=30)
    deliver(desk, sim.user("alice").text_event(latest))
    clock.advance(minutes=45)
    _, _, body = get("/console/")
    assert "転職・就職" in body
    assert "45分" in body
    assert "超過" in body
    assert "2件" in body
    assert "未読あり" in body
    assert "秘密" not in body  # only the latest message, and only its first 40 characters
    assert f'<span class="preview">{latest[:40]}…</span>' in body
    assert latest not in body
    assert "U" + "0" * 5 not in body
    previews = [
        r for r in api(desk).auditor.page(None, 100)["records"] if r["action"] == "session.preview"
    ]
    assert [(r["who"], r["details"]["session"]) for r in previews] == [("相談員A", session_id)]
    get("/console/queue?tab=waiting", **{"HX-Request": "true"})  # the poll: the same words
    again = [
        r for r in api(desk).auditor.page(None, 100)["records"] if r["action"] == "session.preview"
    ]
    assert len(again) == 1  # audited once per reader and message
    get(f"/console/sessions/{session_id}")
    _, _, after = get("/console/queue?tab=waiting", **{"HX-Request": "true"})
    assert "未読あり" not in after


def test_the_wait_counts_business_hours_only(desk, sim, line, clock) -> None:
    clock.now = datetime.fromisoformat("2025-11-07T07:30:00+00:00")  # Friday 16:30 in Japan
    a_session(desk, sim, line, "alice", "週末前の相談")
    clock.now = datetime.fromisoformat("2025-11-10T00:10:00+00:00")  # Monday 09:10
    _, _, body = get("/console/")
    assert "40分" in body


def test_mine_lists_only_my_sessions(desk, sim, line) -> None:
    mine = a_session(desk, sim, line, "alice", "a")
    theirs = a_session(desk, sim, line, "bob", "b")
    assert post(f"/console/sessions/{mine}/claim")[0] == 204
    assert post(f"/console/sessions/{theirs}/claim", principal=BOB)[0] == 204
    _, _, body = get("/console/?tab=mine")
    assert f"/console/sessions/{mine}" in body
    assert f"/console/sessions/{theirs}" not in body
    _, _, everyone = get("/console/?tab=active")
    assert f"/console/sessions/{theirs}" in everyone
    assert "相談員B" in everyone


@pytest.mark.parametrize("query", ["?tab=everything", "?tab=waiting&cursor=a%20b"])
def test_bad_queue_parameters_are_400_in_japanese(desk, query) -> None:
    status, _, body = get(f"/console/{query}")
    assert status == 400
    assert "入力内容を確認してください" in body


def test_claiming_opens_the_conversation_and_a_lost_race_names_the_winner(desk, sim, line) -> None:
    session_id = a_session(desk, sim, line)
    status, headers, _ = post(f"/console/sessions/{session_id}/claim", principal=BOB)
    assert status == 204
    assert headers["HX-Redirect"] == f"/console/sessions/{session_id}"
    status, _, body = post(f"/console/sessions/{session_id}/claim")
    assert status == 409
    assert "相談員Bさんがすでに担当しています" in body


# -- a conversation -------------------------------------------------------------------------


def test_the_conversation_shows_the_transcript_under_a_pseudonym_and_is_audited(
    desk, sim, line, store
) -> None:
    user = open_session(desk, sim, line, "alice")
    deliver(desk, user.text_event("はじめまして\n転職の相談です"))
    deliver(desk, user.sticker_event())
    deliver(desk, user.media_event("image"))
    (summary,) = api(desk).experts.queue("waiting", None, 10)["sessions"]
    session_id = summary["sessionId"]
    status, _, body = get(f"/console/sessions/{session_id}")
    assert status == 200
    assert "はじめまして\n転職の相談です" in body
    assert "[スタンプ]" in body
    assert "[画像: 受け付けず]" in body
    assert user.user_id not in body
    assert re.search(r"利用者 [0-9a-f]{8} さんの相談", body)
    audit = api(desk).auditor.page(None, 50)["records"]
    assert any(r["action"] == "session.read" and r["who"] == "相談員A" for r in audit)


def transcript_poll(page: str, swapped: str | None = None) -> str:
    """The URL the transcript's poll asks for: its hx-get and the state inputs it includes
    (as a fragment `swapped` in after the page replaced them)."""
    poll = re.search(r'id="transcript" hx-get="([^"]+)"', page)
    assert poll is not None
    state = re.search(r'<span id="transcript-state"[^>]*>(.*?)</span>', swapped or page)
    assert state is not None
    fields = re.findall(r'name="(\w+)" value="([^"]*)"', state.group(1))
    return poll.group(1) + "?" + urlencode(fields)


def test_polling_an_unchanged_transcript_is_204_and_not_audited_again(desk, sim, line) -> None:
    user = open_session(desk, sim, line, "alice")
    deliver(desk, user.text_event("一通目"))
    (summary,) = api(desk).experts.queue("waiting", None, 10)["sessions"]
    session_id = summary["sessionId"]
    _, _, page = get(f"/console/sessions/{session_id}")
    url = transcript_poll(page)
    reads = len(api(desk).auditor.page(None, 200)["records"])
    status, _, _ = get(url, **{"HX-Request": "true"})
    assert status == 204
    assert len(api(desk).auditor.page(None, 200)["records"]) == reads
    deliver(desk, user.text_event("二通目です"))
    status, _, fragment = get(url, **{"HX-Request": "true"})
    assert status == 200
    assert "二通目です" in fragment
    assert len(api(desk).auditor.page(None, 200)["records"]) == reads + 1


def test_an_unchanged_open_transcript_costs_one_point_read(desk, sim, line, store) -> None:
    """Issue 21: the poll's change count is compared with the tally's, nothing else read."""
    user = open_session(desk, sim, line, "alice")
    deliver(desk, user.text_event("一通目"))
    (summary,) = api(desk).experts.queue("waiting", None, 10)["sessions"]
    _, _, page = get(f"/console/sessions/{summary['sessionId']}")
    url = transcript_poll(page)
    get(url, **{"HX-Request": "true"})  # the presence beat of this minute is written
    before = len(store.operations)
    assert get(url, **{"HX-Request": "true"})[0] == 204
    assert store.operations[before:] == ["read"]


def test_a_changed_transcript_sends_only_the_new_lines(desk, sim, line, clock) -> None:
    user = open_session(desk, sim, line, "alice")
    deliver(desk, user.text_event("一通目です"))
    (summary,) = api(desk).experts.queue("waiting", None, 10)["sessions"]
    _, _, page = get(f"/console/sessions/{summary['sessionId']}")
    url = transcript_poll(page)
    clock.advance(seconds=1)  # later than the first (a message of the same moment: see below)
    deliver(desk, user.text_event("二通目です"), user.text_event("三通目です"))
    status, headers, fragment = get(url, **{"HX-Request": "true"})
    assert status == 200
    assert headers["HX-Reswap"] == "none"
    assert "一通目です" not in fragment
    assert fragment.index("二通目です") < fragment.index("三通目です")
    assert 'hx-swap-oob="beforeend:#transcript-lines"' in fragment
    ids = re.findall(r'<li class="msg[^"]*" id="(m-\d+)"', fragment)
    first = re.findall(r'<li class="msg[^"]*" id="(m-\d+)"', page)
    assert ids == [f"m-{len(first) + 1}", f"m-{len(first) + 2}"]
    again = transcript_poll(page, fragment)  # the new state replaces the old, out of band
    assert get(again, **{"HX-Request": "true"})[0] == 204


def test_a_transcript_whose_shown_lines_changed_is_sent_whole(desk, sim, line) -> None:
    """An unsend (or a delivery status) changes a line already shown: the whole transcript."""
    user = open_session(desk, sim, line, "alice")
    first = user.text_event("取り消す文です")
    deliver(desk, first)
    (summary,) = api(desk).experts.queue("waiting", None, 10)["sessions"]
    _, _, page = get(f"/console/sessions/{summary['sessionId']}")
    url = transcript_poll(page)
    deliver(desk, user.unsend_event(first["message"]["id"]))
    status, headers, fragment = get(url, **{"HX-Request": "true"})
    assert status == 200
    assert "HX-Reswap" not in headers
    assert fragment.startswith('<div id="transcript"')
    assert "取り消す文です" not in fragment


def test_a_change_the_transcript_does_not_show_sends_only_the_new_state(
    desk, sim, line, store
) -> None:
    """A 要注意 mark changes the session's count in the tally, not its transcript: the poll
    gets the count to send back (and no audited read), then costs one read again."""
    session_id = a_session(desk, sim, line, "alice", "相談です")
    _, _, page = get(f"/console/sessions/{session_id}")
    url = transcript_poll(page)
    assert post(f"/console/sessions/{session_id}/flag", {"reason": "様子が心配"})[0] < 400
    reads = len(api(desk).auditor.page(None, 200)["records"])
    status, headers, fragment = get(url, **{"HX-Request": "true"})
    assert (status, headers["HX-Reswap"]) == (200, "none")
    assert "<li" not in fragment
    assert len(api(desk).auditor.page(None, 200)["records"]) == reads
    again = transcript_poll(page, fragment)
    assert again != url
    get(again, **{"HX-Request": "true"})
    before = len(store.operations)
    assert get(again, **{"HX-Request": "true"})[0] == 204
    assert store.operations[before:] == ["read"]


@pytest.mark.parametrize("state", ["t=abc&n=-1", "t=99999999999999999999&n=x", "n=1000"])
def test_a_malformed_poll_state_is_read_as_none(desk, sim, line, state) -> None:
    session_id = a_session(desk, sim, line, "alice", "相談です")
    status, _, _ = get(f"/console/sessions/{session_id}/transcript?v=x&s=y&{state}")
    assert status in (200, 204)


def test_an_unknown_session_is_404_in_japanese(desk) -> None:
    status, _, body = get("/console/sessions/20250101T000000-abcdef")
    assert status == 404
    assert "相談が見つかりません" in body
    assert get("/console/sessions/..%2F..%2Fetc")[0] == 404


# -- replies ----------------------------------------------------------------------------------


def test_the_owner_replies_and_the_user_gets_it_verbatim(desk, sim, line) -> None:
    session_id = a_session(desk, sim, line, "alice", "相談です")
    post(f"/console/sessions/{session_id}/claim")
    text = "お返事です。<b>タグ</b>も & そのまま\n二行目"
    status, headers, body = post(
        f"/console/sessions/{session_id}/messages", {"text": text, "clientMessageId": "abc-1"}
    )
    assert status == 201
    assert headers["HX-Trigger"] == "desk-sent"
    assert "送信しました" in body
    assert line.sent[-1].messages[0].text == text
    _, _, page = get(f"/console/sessions/{session_id}")
    assert "相談員A（相談員）" in page
    assert "LINEが受け付けました" in page
    assert "&lt;b&gt;タグ&lt;/b&gt;" in page


def test_a_repeated_send_with_the_same_client_id_pushes_once(desk, sim, line) -> None:
    session_id = a_session(desk, sim, line, "alice", "相談です")
    post(f"/console/sessions/{session_id}/claim")
    form = {"text": "一度だけ", "clientMessageId": "same-id"}
    post(f"/console/sessions/{session_id}/messages", form)
    post(f"/console/sessions/{session_id}/messages", form)
    assert len(line.sent) == 1


@pytest.mark.parametrize(
    ("owner", "reason"),
    [(None, "まだ誰も担当していません"), (BOB, "相談員Bさんの担当です")],
)
def test_sending_is_refused_unless_the_session_is_yours(desk, sim, line, owner, reason) -> None:
    session_id = a_session(desk, sim, line, "alice", "相談です")
    if owner:
        post(f"/console/sessions/{session_id}/claim", principal=owner)
    status, _, body = post(f"/console/sessions/{session_id}/messages", {"text": "横から"})
    assert status == 409
    assert reason in body
    assert line.sent == []


@pytest.mark.parametrize(
    "body",
    [b"text=", b"text=%20%20", b"text=%ff%fe", b"clientMessageId=bad%20id&text=x"],
)
def test_malformed_replies_are_4xx(desk, sim, line, body) -> None:
    session_id = a_session(desk, sim, line, "alice", "相談です")
    post(f"/console/sessions/{session_id}/claim")
    sent = {**SAME_SITE, "HX-Request": "true", "X-MS-CLIENT-PRINCIPAL": ALICE}
    status, _, _ = desk_host().handle(
        "POST", f"/console/sessions/{session_id}/messages", sent, body
    )
    assert 400 <= status < 500
    assert line.sent == []


def test_a_reply_over_lines_limit_is_refused(desk, sim, line) -> None:
    session_id = a_session(desk, sim, line, "alice", "相談です")
    post(f"/console/sessions/{session_id}/claim")
    status, _, _ = post(f"/console/sessions/{session_id}/messages", {"text": "あ" * 5001})
    assert status == 400
    assert line.sent == []


# -- closing ----------------------------------------------------------------------------------


def test_closing_with_an_outcome_and_a_referral_tells_the_user(desk, sim, line) -> None:
    session_id = a_session(desk, sim, line, "alice", "相談です")
    post(f"/console/sessions/{session_id}/claim")
    status, headers, _ = post(
        f"/console/sessions/{session_id}/close", {"outcome": "referral", "referral": "hellowork"}
    )
    assert status == 204
    assert headers["HX-Redirect"] == f"/console/sessions/{session_id}"
    texts = [m.text for m in line.sent[-1].messages]
    assert any("ハローワーク" in t for t in texts)
    assert desk.console.session(session_id).outcome == "他機関紹介"
    audit = api(desk).auditor.page(None, 50)["records"]
    (closing,) = [r for r in audit if r["action"] == "session.close"]
    assert closing["details"]["referral"] == "ハローワーク"


@pytest.mark.parametrize(
    ("form", "status"),
    [({}, 400), ({"outcome": "nonsense"}, 400), ({"outcome": "advice", "referral": "x"}, 400)],
)
def test_closing_needs_a_known_outcome_and_referral(desk, sim, line, form, status) -> None:
    session_id = a_session(desk, sim, line, "alice", "相談です")
    post(f"/console/sessions/{session_id}/claim")
    assert post(f"/console/sessions/{session_id}/close", form)[0] == status
    assert desk.console.session(session_id).is_open


def test_closing_someone_elses_session_is_refused(desk, sim, line) -> None:
    session_id = a_session(desk, sim, line, "alice", "相談です")
    post(f"/console/sessions/{session_id}/claim", principal=BOB)
    status, _, body = post(f"/console/sessions/{session_id}/close", {"outcome": "advice"})
    assert status == 409
    assert "相談員Bさんの担当です" in body
    assert desk.console.session(session_id).is_open


# -- assets, templates, texts ---------------------------------------------------------------


def test_htmx_is_the_pinned_npm_file() -> None:
    vendored = (CONSOLE / "static" / "htmx.min.js").read_bytes()
    pinned = json.loads((ROOT / "package.json").read_text())["devDependencies"]["htmx.org"]
    package = ROOT / "node_modules" / "htmx.org"
    assert json.loads((package / "package.json").read_text())["version"] == pinned
    npm_file = (package / "dist" / "htmx.min.js").read_bytes()
    assert hashlib.sha256(vendored).hexdigest() == hashlib.sha256(npm_file).hexdigest()
    status, headers, body = desk_host().handle("GET", "/console/static/htmx.min.js", {}, b"")
    assert status == 200
    assert headers["Content-Type"].startswith("text/javascript")
    assert hashlib.sha256(body).digest() == hashlib.sha256(vendored).digest()


@pytest.mark.parametrize("name", ["../function_app.py", "secret.txt", "console.py"])
def test_only_the_listed_assets_are_served(name) -> None:
    assert desk_host().handle("GET", f"/console/static/{name}", {}, b"")[0] == 404


def test_templates_hold_no_inline_script_or_style_nor_japanese() -> None:
    for template in (CONSOLE / "templates").glob("*.html"):
        source = template.read_text("utf-8")
        assert not re.search(r"<script(?![^>]*\bsrc=)", source), template.name
        assert "<style" not in source, template.name
        assert " style=" not in source, template.name
        assert not re.search(r"\son[a-z]+=", source), template.name
        assert not re.search(r"https?://", source), template.name
        assert not re.search(r"[\u3040-\u30ff\u4e00-\u9fff]", source), template.name


def test_every_page_links_only_this_sites_assets(desk, sim, line) -> None:
    session_id = a_session(desk, sim, line, "alice", "相談です")
    post(f"/console/sessions/{session_id}/claim")
    for path in ("/console/", f"/console/sessions/{session_id}"):
        _, _, body = get(path)
        sources = re.findall(r'(?:src|href)="([^"]+)"', body)
        assert sources
        assert all(s.startswith(("/", "#")) for s in sources), sources


def test_seen_markers_hold_no_user_id(desk, sim, line, store) -> None:
    user = open_session(desk, sim, line, "alice")
    deliver(desk, user.text_event("相談"))
    (summary,) = api(desk).experts.queue("waiting", None, 10)["sessions"]
    get(f"/console/sessions/{summary['sessionId']}")
    markers = store.read(DESK, "sessions:open", "tally")
    assert markers is not None
    assert markers[f"s_{summary['sessionId']}"] == markers[f"u_{summary['sessionId']}"] == 1
    assert user.user_id not in json.dumps(markers)


# -- the typing signal ------------------------------------------------------------------------


def test_typing_shows_lines_loading_animation_at_most_every_20_seconds(
    desk, sim, line, clock
) -> None:
    session_id = a_session(desk, sim, line, "alice", "相談です")
    post(f"/console/sessions/{session_id}/claim")
    user_id = desk.console.session(session_id).user_id
    first = post(f"/console/sessions/{session_id}/typing")
    again = post(f"/console/sessions/{session_id}/typing")
    clock.advance(seconds=20)
    later = post(f"/console/sessions/{session_id}/typing")
    assert [r[0] for r in (first, again, later)] == [204, 204, 204]
    assert [r[1]["X-Desk-Typing"] for r in (first, again, later)] == ["shown", "skipped", "shown"]
    assert line.loading == [(user_id, 20), (user_id, 20)]


def test_typing_in_someone_elses_session_is_refused(desk, sim, line) -> None:
    session_id = a_session(desk, sim, line, "alice", "相談です")
    post(f"/console/sessions/{session_id}/claim", principal=BOB)
    assert post(f"/console/sessions/{session_id}/typing")[0] == 409
    assert (
        post(f"/console/sessions/{session_id}/typing", None, **{"Sec-Fetch-Site": "cross-site"})[0]
        == 403
    )
    assert line.loading == []


# -- hand-over --------------------------------------------------------------------------------


def test_the_holder_releases_a_session_to_the_queue_with_a_note(desk, sim, line) -> None:
    session_id = a_session(desk, sim, line, "alice", "相談です")
    post(f"/console/sessions/{session_id}/claim")
    status, headers, _ = post(
        f"/console/sessions/{session_id}/release", {"note": "収入の話は済み。次は職場の件"}
    )
    assert (status, headers["HX-Redirect"]) == (204, "/console/")
    assert desk.console.session(session_id).assigned_to is None
    _, _, page = get(f"/console/sessions/{session_id}", principal=BOB)
    assert "相談員Aさんが一覧に戻しました" in page
    assert "収入の話は済み。次は職場の件" in page
    assert all("収入の話" not in t for t in line.texts())  # staff only: never sent


def test_the_holder_transfers_a_session_and_the_colleague_answers(desk, sim, line) -> None:
    session_id = a_session(desk, sim, line, "alice", "相談です")
    get("/console/", principal=BOB)  # 相談員B has signed in: in the staff directory
    post(f"/console/sessions/{session_id}/claim")
    status, _, _ = post(
        f"/console/sessions/{session_id}/transfer", {"to": "相談員B", "note": "よろしく"}
    )
    assert status == 204
    assert desk.console.session(session_id).assigned_to == "相談員B"
    assert post(f"/console/sessions/{session_id}/messages", {"text": "A"})[0] == 409
    assert post(f"/console/sessions/{session_id}/messages", {"text": "B"}, principal=BOB)[0] == 201


@pytest.mark.parametrize(
    ("form", "status"),
    [
        ({"to": ""}, 400),
        ({"to": "x" * 101}, 400),
        ({"to": "相談員B", "note": "n" * 5000}, 400),
        ({"to": "知らない人"}, 400),  # never signed in: not in the staff directory
    ],
)
def test_a_bad_transfer_is_4xx_and_changes_nothing(desk, sim, line, form, status) -> None:
    get("/console/", principal=BOB)
    session_id = a_session(desk, sim, line, "alice", "相談です")
    post(f"/console/sessions/{session_id}/claim")
    assert post(f"/console/sessions/{session_id}/transfer", form)[0] == status
    assert desk.console.session(session_id).assigned_to == "相談員A"


def test_only_the_holder_hands_over(desk, sim, line) -> None:
    session_id = a_session(desk, sim, line, "alice", "相談です")
    post(f"/console/sessions/{session_id}/claim")
    status, _, body = post(f"/console/sessions/{session_id}/release", principal=BOB)
    assert status == 409
    assert "相談員Aさんの担当です" in body
    assert (
        post(f"/console/sessions/{session_id}/transfer", {"to": "相談員B"}, principal=BOB)[0] == 409
    )
    assert desk.console.session(session_id).assigned_to == "相談員A"


def test_an_admin_takes_a_session_over_and_it_is_audited(desk, sim, line) -> None:
    session_id = a_session(desk, sim, line, "alice", "相談です")
    post(f"/console/sessions/{session_id}/claim")
    _, _, page = get(f"/console/sessions/{session_id}", principal=ADMIN)
    assert "管理者として引き継ぐ" in page
    assert post(f"/console/sessions/{session_id}/claim", principal=BOB)[0] == 409
    assert post(f"/console/sessions/{session_id}/claim", principal=ADMIN)[0] == 204
    assert desk.console.session(session_id).assigned_to == "管理者C"
    actions = [r["action"] for r in api(desk).auditor.page(None, 100)["records"]]
    assert any("takeover" in a for a in actions)


# -- contrast (WCAG AA) -------------------------------------------------------------------------


def _luminance(colour: str) -> float:
    channels = [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def _contrast(a: str, b: str) -> float:
    high, low = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def test_the_style_sheets_text_colours_pass_wcag_aa() -> None:
    css = (CONSOLE / "static" / "console.css").read_text("utf-8")
    colour = dict(re.findall(r"--([a-z-]+): (#[0-9a-f]{6});", css))
    pairs = [
        ("ink", "#ffffff"),
        ("muted", "#ffffff"),
        ("muted", colour["soft"]),
        ("ink", colour["soft"]),
        ("brand", "#ffffff"),
        ("brand-ink", colour["brand"]),
        ("alert", colour["alert-soft"]),
        ("#ffffff", colour["alert"]),
        ("ok", colour["ok-soft"]),
        ("brand", "#e7f0fb"),
        ("#7a4a00", "#fff1d6"),
        ("#ffffff", "#6b6b6b"),
        ("ink", "#fff6d6"),
        ("ink", "#e9f1fb"),
    ]
    for foreground, background in pairs:
        fg = colour.get(foreground, foreground)
        assert _contrast(fg, background) >= 4.5, (foreground, background)


def test_a_text_erased_by_retention_is_shown_as_erased(desk, sim, line, store) -> None:
    session_id = a_session(desk, sim, line, "alice", "消える本文")
    session = desk.console.session(session_id)
    (doc,) = store.query_partition(USERS, session.user_id, doc_type="message")
    store.upsert(USERS, {**doc, "text": None})
    _, _, page = get(f"/console/sessions/{session_id}")
    assert "本文は削除済み" in page
    assert "消える本文" not in page
    assert ">None<" not in page
