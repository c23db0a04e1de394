"""The operators' screens `/console/admin/...` through the local host: Desk.Admin only, the
console's sign-in and same-site rules, service status, statistics (秘匿, CSV) and the audit."""

from __future__ import annotations

import csv
from collections.abc import Iterator

import pytest

from shared.services.ports import PushQuota
from shared.wiring import Desk, install_desk, reset_desk
from tests.kit.fakes import FakeClock, FakeMessenger, MemoryStore
from tests.unit.conftest import deliver, open_session
from tests.unit.test_console import ADMIN, ALICE, NOBODY, console_desk, get, post
from tests.unit.test_reporting import busy_month

PAGES = ("/console/admin", "/console/admin/status", "/console/admin/audit")
STATS = "/console/admin/stats?from=2025-11&to=2025-11&by=topic"
CSV = "/console/admin/stats.csv?from=2025-11&to=2025-11&by=topic"


@pytest.fixture
def desk(store: MemoryStore, line: FakeMessenger, clock: FakeClock) -> Iterator[Desk]:
    built = console_desk(store, line, clock, "true")
    install_desk(built)
    yield built
    reset_desk()


CHANGES = ("/console/admin/status", "/console/admin/status/cancel")


@pytest.mark.parametrize("path", [*PAGES, STATS, CSV])
def test_pages_are_for_admins_only(desk: Desk, path: str) -> None:
    assert get(path, principal=ADMIN)[0] == 200
    status, headers, body = get(path, principal=ALICE)
    assert status == 403
    assert "運用管理の画面は管理者（Desk.Admin）専用です" in body
    assert "Content-Security-Policy" in headers
    assert get(path, principal=NOBODY)[0] == 403
    status, headers, _ = get(path, principal=None)
    assert status == 302
    assert headers["Location"].startswith(
        "/.auth/login/aad?post_login_redirect_uri=%2Fconsole%2Fadmin"
    )


@pytest.mark.parametrize("path", CHANGES)
def test_changes_refuse_experts_strangers_and_cross_site_posts(desk: Desk, path: str) -> None:
    form = {"state": "open"}
    assert post(path, form, principal=ALICE)[0] == 403
    assert post(path, form, principal=None)[0] in (302, 401)
    cross = {"Origin": "http://evil.example", "Sec-Fetch-Site": "cross-site"}
    assert post(path, form, principal=ADMIN, **cross)[0] == 403
    assert post(path, form, principal=ADMIN, **{"HX-Request": "false"})[0] == 403
    assert desk.status.describe()["state"] == "open"
    assert not [r for r in desk.auditor.page(None, 100)["records"] if "service" in r["action"]]


def test_the_expert_sees_no_admin_link_and_the_admin_does(desk: Desk) -> None:
    assert "/console/admin" not in get("/console/", principal=ALICE)[2]
    assert 'href="/console/admin"' in get("/console/", principal=ADMIN)[2]


def test_changing_the_state_is_audited_and_shown(desk: Desk) -> None:
    status, headers, _ = post(
        "/console/admin/status",
        {"state": "suspended", "message": "本日は受付を停止しています。"},
        principal=ADMIN,
    )
    assert status == 204
    assert headers["HX-Redirect"] == "/console/admin/status"
    assert desk.status.describe()["state"] == "suspended"
    page = get("/console/admin/status", principal=ADMIN)[2]
    assert "本日は受付を停止しています。" in page
    assert "受付停止" in page
    records = desk.auditor.page(None, 100)["records"]
    assert any(r["who"] == "管理者C" for r in records)


def test_a_planned_window_is_listed_and_cancelled(desk: Desk) -> None:
    assert desk.status.describe()["windows"] == []
    # the fake clock stands at 2025-11-03 10:00 in Japan; the form's times are Japan time
    status, _, _ = post(
        "/console/admin/status",
        {
            "state": "maintenance",
            "from": "2025-11-04T01:00",
            "until": "2025-11-04T03:00",
            "message": "メンテナンスのお知らせです。",
        },
        principal=ADMIN,
    )
    assert status == 204
    service = desk.status.describe()
    assert service["state"] == "open"  # planned, not in force
    (window,) = service["windows"]
    assert window["from"] == "2025-11-04T01:00:00+09:00"
    page = get("/console/admin/status", principal=ADMIN)[2]
    assert 'id="windows"' in page
    assert "メンテナンスのお知らせです。" in page
    assert 'hx-confirm="' in page
    assert post("/console/admin/status/cancel", principal=ADMIN)[0] == 204
    assert desk.status.describe()["windows"] == []
    assert desk.status.describe()["state"] == "open"
    assert 'id="no-windows"' in get("/console/admin/status", principal=ADMIN)[2]


def test_malformed_input_is_a_4xx(desk: Desk) -> None:
    assert post("/console/admin/status", {"state": "nonsense"}, principal=ADMIN)[0] == 400
    assert (
        post("/console/admin/status", {"state": "open", "until": "tomorrow"}, principal=ADMIN)[0]
        == 400
    )
    assert post("/console/admin/status", {}, principal=ADMIN)[0] == 400
    assert get("/console/admin/stats?from=2025-13&to=2025-11", principal=ADMIN)[0] == 400
    assert get("/console/admin/stats?from=2025-11&to=2025-11&by=x", principal=ADMIN)[0] == 400
    assert get("/console/admin/stats.csv?from=x&to=y", principal=ADMIN)[0] == 400
    assert get("/console/admin/audit?day=yesterday", principal=ADMIN)[0] == 400
    assert desk.status.describe()["state"] == "open"


def test_statistics_show_labels_and_suppressed_cells(desk: Desk, sim, line) -> None:
    busy_month(desk, sim, line)
    page = get(STATS, principal=ADMIN)[2]
    assert "キャリア・将来" in page
    assert '<td class="suppressed">秘匿</td>' in page  # income: 2 < k = 3
    assert "career" not in page.replace('value="', "")  # labels, not ids
    status, headers, body = get(CSV, principal=ADMIN)
    assert status == 200
    assert headers["Content-Type"].startswith("text/csv")
    assert "attachment" in headers["Content-Disposition"]
    assert body.startswith("\ufeff")
    rows = list(csv.reader(body[1:].splitlines()))
    assert rows[0][:2] == ["相談テーマ", "相談開始"]
    income = next(r for r in rows if r[0] == "収入・お金")
    assert income[1] == "秘匿"
    total = next(r for r in rows if r[0] == "合計")
    expected = desk.reports.table("2025-11", "2025-11", "topic")["totals"]
    assert total[1:4] == [
        "秘匿" if expected[c] is None else str(expected[c])
        for c in ("sessions_opened", "sessions_closed", "messages")
    ]


def test_the_audit_filters_by_who_action_and_day(desk: Desk) -> None:
    desk.auditor.record("管理者C", "service_change")
    desk.auditor.record("監督者D", "flag_dismiss")
    page = get("/console/admin/audit?who=監督者D", principal=ADMIN)[2]
    assert "flag_dismiss" in page
    assert "service_change" not in page
    page = get("/console/admin/audit?action=service", principal=ADMIN)[2]
    assert "service_change" in page
    assert "flag_dismiss" not in page
    assert (
        "条件に合う記録はありません"
        in get("/console/admin/audit?day=2000-01-01", principal=ADMIN)[2]
    )


class QuotaMessenger(FakeMessenger):
    """A LINE fake that also reports this month's push quota."""

    def __init__(self, limit: int | None, used: int) -> None:
        super().__init__()
        self.quota = PushQuota(limit, used)

    def push_quota(self) -> PushQuota:
        return self.quota


@pytest.mark.parametrize(
    "case",
    [
        (1000, 850, "今月の送信数：850通／上限1000通（85.0％）", True),
        (1000, 800, "今月の送信数：800通／上限1000通（80.0％）", False),
        (None, 42, "今月の送信数：42通（上限なし）", False),
    ],
)
def test_the_push_quota_warns_above_80_percent(
    store: MemoryStore, clock: FakeClock, case: tuple[int | None, int, str, bool]
) -> None:
    limit, used, shown, warned = case
    install_desk(console_desk(store, QuotaMessenger(limit, used), clock, "true"))
    try:
        page = get("/console/admin", principal=ADMIN)[2]
    finally:
        reset_desk()
    assert "<title>運用管理 | " in page
    main = page.split('<main id="main"', 1)[1]
    assert shown in main
    assert page.count(shown) == 1
    assert ('id="quota-warning"' in main) is warned


def test_the_push_quota_says_when_line_cannot_tell(desk: Desk) -> None:
    assert "LINEから送信数を取得できませんでした" in get("/console/admin", principal=ADMIN)[2]


def a_flag(desk: Desk, sim, line, name: str = "flagged") -> tuple[dict, str]:
    user = open_session(desk, sim, line, name)
    deliver(desk, user.text_event("同僚になりすまして連絡したい"))
    (flag,) = [
        f
        for f in desk.moderation.flag_page("open", None, 50)["flags"]
        if f["userId"] == user.user_id
    ]
    return flag, user.user_id


def test_flags_are_listed_by_pseudonym_never_by_line_id(desk: Desk, sim, line) -> None:
    flag, user_id = a_flag(desk, sim, line)
    page = get("/console/admin/flags", principal=ADMIN)[2]
    assert "8(6)" in page
    assert user_id not in page
    assert "同僚になりすまして" not in page  # no message text on the list
    assert f'hx-post="/console/admin/flags/{flag["flagId"]}/suspend"' in page
    assert "データは自動的に削除されます" in page  # the suspension's confirmation
    assert get("/console/admin/flags", principal=ALICE)[0] == 403


def test_dismissing_a_flag(desk: Desk, sim, line) -> None:
    flag, _ = a_flag(desk, sim, line)
    path = f"/console/admin/flags/{flag['flagId']}/dismiss"
    cross = {"Origin": "http://evil.example", "Sec-Fetch-Site": "cross-site"}
    assert post(path, None, principal=ADMIN, **cross)[0] == 403
    assert post(path, principal=ALICE)[0] == 403
    assert desk.moderation.flag(flag["flagId"])["status"] == "open"
    status, headers, _ = post(path, principal=ADMIN)
    assert status == 204
    assert headers["HX-Redirect"] == "/console/admin/flags"
    assert desk.moderation.flag(flag["flagId"])["status"] == "dismissed"
    assert post(path, principal=ADMIN)[0] == 409  # once only
    assert 'id="no-flags"' in get("/console/admin/flags", principal=ADMIN)[2]


def test_suspending_and_restricting_from_a_flag(desk: Desk, sim, line) -> None:
    flag, user_id = a_flag(desk, sim, line, "one")
    path = f"/console/admin/flags/{flag['flagId']}/suspend"
    assert post(path, {"clause": "9(9)", "reason": "x"}, principal=ADMIN)[0] == 400
    assert post(path, {"clause": "8(6)", "reason": ""}, principal=ADMIN)[0] == 400
    assert post(path, {"clause": "8(6)", "reason": "なりすまし"}, principal=ADMIN)[0] == 204
    view = desk.admin.user(user_id, "test")
    assert view["status"] == "suspended"
    assert view["suspension"]["purgeAfter"]
    assert desk.moderation.flag(flag["flagId"])["action"] == "suspend"
    other, _ = a_flag(desk, sim, line, "two")
    path = f"/console/admin/flags/{other['flagId']}/restrict"
    assert post(path, {"mode": "nonsense"}, principal=ADMIN)[0] == 400
    assert post(path, {"mode": "text_only"}, principal=ADMIN)[0] == 204
    assert desk.moderation.flag(other["flagId"])["action"] == "restrict"
    actions = [r["action"] for r in desk.auditor.page(None, 200)["records"]]
    assert "user.suspend" in actions
    assert "user.restrict" in actions


def test_flag_actions_refuse_unknown_flags_and_actions(desk: Desk) -> None:
    assert post("/console/admin/flags/nope/dismiss", principal=ADMIN)[0] == 404
    assert post("/console/admin/flags/nope/erase", principal=ADMIN)[0] == 404
