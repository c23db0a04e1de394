"""The operators' screens added for issue 15's second half: the list of suspended and restricted
users with reinstatement, and erasure by the session reference a user was given in the chat."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone

import pytest

from shared.domain.privacy import user_key
from shared.repositories.desk_records import Restrictions
from shared.repositories.user_records import SessionIndex, Users
from shared.wiring import Desk, install_desk, reset_desk
from tests.kit.admin_api import api
from tests.kit.app import desk_host
from tests.kit.fakes import FakeClock, FakeMessenger, MemoryStore
from tests.unit.conftest import consented, deliver, open_session
from tests.unit.test_console import (
    ADMIN,
    ALICE,
    NOBODY,
    SAME_SITE,
    console_desk,
    get,
    post,
)

JAPAN = timezone(timedelta(hours=9))
CROSS = {"Origin": "http://evil.example", "Sec-Fetch-Site": "cross-site"}
REFERENCE = re.compile(r"受付番号：(\d{6}-\d{3})")


@pytest.fixture
def desk(store: MemoryStore, line: FakeMessenger, clock: FakeClock) -> Iterator[Desk]:
    built = console_desk(store, line, clock, "true")
    install_desk(built)
    yield built
    reset_desk()


def key_of(desk: Desk, user_id: str) -> str:
    return user_key(desk.settings.hash_key, user_id)


def suspended_and_restricted(desk: Desk, sim, line) -> tuple[str, str]:
    one = open_session(desk, sim, line, "one").user_id
    two = open_session(desk, sim, line, "two").user_id
    api(desk).moderation.suspend(one, "管理者C", {"clause": "8(6)", "reason": "なりすまし"})
    api(desk).moderation.restrict(two, "管理者C", {"mode": "text_only"})
    return one, two


# -- the list and reinstatement ---------------------------------------------------------------


def test_the_list_shows_suspended_and_restricted_users_with_the_purge_date_in_japan_time(
    desk: Desk, sim, line, clock: FakeClock
) -> None:
    one, two = suspended_and_restricted(desk, sim, line)
    status, _, page = get("/console/admin/users", principal=ADMIN)
    assert status == 200
    assert one not in page  # never a LINE id
    assert two not in page
    assert key_of(desk, one)[:12] in page
    assert key_of(desk, two)[:12] in page
    assert "利用停止（§8(6)）" in page
    assert "利用制限（テキストのみ）" in page
    purge = clock() + timedelta(days=desk.settings.purge_grace_days)
    assert f"<strong>{purge.astimezone(JAPAN):%Y-%m-%d %H:%M}</strong>" in page
    # the same instant as the admin API's purgeAfter
    view = api(desk).admin.user(one, "test")
    assert datetime.fromisoformat(view["suspension"]["purgeAfter"]) == purge


def test_an_empty_list_says_so(desk: Desk) -> None:
    assert 'id="no-users"' in get("/console/admin/users", principal=ADMIN)[2]


def test_reinstating_needs_a_reason_and_is_audited_with_it(desk: Desk, sim, line) -> None:
    one, two = suspended_and_restricted(desk, sim, line)
    path = f"/console/admin/users/{key_of(desk, one)}/reinstate"
    assert post(path, {"reason": ""}, principal=ADMIN)[0] == 400
    assert post(path, {"reason": "x" * 501}, principal=ADMIN)[0] == 400
    assert post(path, {}, principal=ADMIN)[0] == 400
    assert api(desk).admin.user(one, "test")["status"] == "suspended"
    status, headers, _ = post(path, {"reason": "誤検知でした"}, principal=ADMIN)
    assert status == 204
    assert headers["HX-Redirect"] == "/console/admin/users"
    assert api(desk).admin.user(one, "test")["status"] != "suspended"
    (record,) = [
        r for r in api(desk).auditor.page(None, 200)["records"] if r["action"] == "user.reinstate"
    ]
    assert record["who"] == "管理者C"
    assert record["details"] == {"reason": "誤検知でした"}
    assert record["userKey"] == key_of(desk, one)
    page = get("/console/admin/users", principal=ADMIN)[2]
    assert key_of(desk, one)[:12] not in page
    restricted = f"/console/admin/users/{key_of(desk, two)}/reinstate"
    assert post(restricted, {"reason": "期間満了"}, principal=ADMIN)[0] == 204
    assert api(desk).admin.user(two, "test")["restriction"] is None
    assert 'id="no-users"' in get("/console/admin/users", principal=ADMIN)[2]
    assert post(path, {"reason": "もう一度"}, principal=ADMIN)[0] == 404  # nothing listed


def test_reinstating_refuses_unknown_and_malformed_keys(desk: Desk) -> None:
    assert post("/console/admin/users/nope/reinstate", {"reason": "r"}, principal=ADMIN)[0] == 404
    unknown = "/console/admin/users/" + "0" * 64 + "/reinstate"
    assert post(unknown, {"reason": "r"}, principal=ADMIN)[0] == 404
    bad = b"reason=%ff"
    headers = {**SAME_SITE, "HX-Request": "true", "X-MS-CLIENT-PRINCIPAL": ADMIN}
    assert desk_host().handle("POST", unknown, headers, bad)[0] == 400


def test_the_list_and_reinstating_are_for_admins_from_this_site(desk: Desk, sim, line) -> None:
    one, _ = suspended_and_restricted(desk, sim, line)
    assert get("/console/admin/users", principal=ALICE)[0] == 403
    assert get("/console/admin/users", principal=NOBODY)[0] == 403
    assert get("/console/admin/users", principal=None)[0] == 302
    path = f"/console/admin/users/{key_of(desk, one)}/reinstate"
    form = {"reason": "r"}
    assert post(path, form, principal=ALICE)[0] == 403
    assert post(path, form, principal=NOBODY)[0] == 403
    assert post(path, form, principal=None)[0] in (302, 401)
    assert post(path, form, principal=ADMIN, **CROSS)[0] == 403
    assert post(path, form, principal=ADMIN, **{"HX-Request": "false"})[0] == 403
    assert api(desk).admin.user(one, "test")["status"] == "suspended"


def test_erasure_and_expiry_take_users_off_the_list(desk: Desk, sim, line, clock) -> None:
    one, two = suspended_and_restricted(desk, sim, line)
    desk.eraser.erase(two)
    assert [s.kind for s in desk.moderation.sanctioned(timedelta(days=30))] == ["suspended"]
    three = open_session(desk, sim, line, "three").user_id
    api(desk).moderation.restrict(three, "管理者C", {"mode": "read_only", "days": 1})
    assert [s.mode for s in desk.moderation.sanctioned(timedelta(days=30))] == [
        None,
        "read_only",
    ]
    clock.advance(days=2)
    assert [s.kind for s in desk.moderation.sanctioned(timedelta(days=30))] == ["suspended"]
    assert Restrictions(desk.store).get(key_of(desk, three)) is None  # no LINE id kept
    assert Restrictions(desk.store).get(key_of(desk, two)) is None  # erased
    clock.advance(days=30)
    desk.eraser.purge_suspended(30, 100)  # purged: nothing left to reinstate by the screen
    assert desk.moderation.sanctioned(timedelta(days=30)) == []
    assert one


# -- erasure by session reference -------------------------------------------------------------


def receipt_reference(desk: Desk, sim, line, name: str) -> tuple[str, str]:
    """A user opens a session; the reference their receipt shows, and their LINE id."""
    user = consented(desk, sim, line, name)
    deliver(desk, user.postback_event("action=topic&topic=job-change"))
    (receipt,) = [t for t in line.texts() if "受付番号" in t]
    found = REFERENCE.search(receipt)
    assert found is not None
    line.sent.clear()
    return found.group(1), user.user_id


def test_the_receipt_shows_the_session_reference(desk: Desk, sim, line) -> None:
    ref, user_id = receipt_reference(desk, sim, line, "ref")
    assert desk.eraser.by_reference(ref).user_id == user_id
    # as a user might read it out: full-width, spaces, upper case
    wide = str.maketrans("0123456789-", "０１２３４５６７８９－")
    typed = " " + ref.upper().translate(wide) + " "
    session = desk.eraser.by_reference(typed)
    assert session.reference == ref
    assert desk.eraser.by_reference(ref.replace("-", "")).reference == ref  # without the hyphen
    assert desk.eraser.by_reference(ref.replace("-", "ー")).reference == ref  # a long vowel mark
    # the session id, which older receipts showed, still finds it
    assert desk.eraser.by_reference(session.session_id).reference == ref


def test_finding_then_erasing_by_reference(desk: Desk, sim, line) -> None:
    ref, user_id = receipt_reference(desk, sim, line, "erase-me")
    status, _, page = get(f"/console/admin/erase?ref={ref}", principal=ADMIN)
    assert status == 200
    assert user_id not in page
    assert 'id="found"' in page
    assert "キャリア" in page or "転職" in page  # the topic's label
    assert 'hx-confirm="' in page
    assert "元に戻すことはできません" in page
    # the confirmation box is required
    assert post("/console/admin/erase", {"ref": ref}, principal=ADMIN)[0] == 400
    assert Users(desk.store).get(user_id) is not None
    status, headers, _ = post(
        "/console/admin/erase", {"ref": ref, "confirm": "yes"}, principal=ADMIN
    )
    assert status == 204
    assert headers["HX-Redirect"] == "/console/admin/erase?done=1"
    assert Users(desk.store).get(user_id) is None
    assert SessionIndex(desk.store).by_reference(ref) is None
    records = api(desk).auditor.page(None, 500)["records"]
    (erased,) = [r for r in records if r["action"] == "user.erase"]
    assert erased["who"] == "管理者C"
    assert erased["details"] == {}
    assert erased["userKey"].startswith("erased-")  # the same scrub as the admin API's
    assert not [r for r in records if r["userKey"] == key_of(desk, user_id)]
    assert line.texts() == [desk.replies.text("erased_by_admin").text]
    assert 'id="erase-done"' in get("/console/admin/erase?done=1", principal=ADMIN)[2]
    assert get(f"/console/admin/erase?ref={ref}", principal=ADMIN)[0] == 404


def test_erasure_refuses_malformed_and_unknown_references(desk: Desk) -> None:
    assert get("/console/admin/erase?ref=hello", principal=ADMIN)[0] == 400
    assert get("/console/admin/erase?ref=" + "1" * 5000, principal=ADMIN)[0] == 400
    assert get("/console/admin/erase?ref=20251103T100000-000000", principal=ADMIN)[0] == 404
    form = {"ref": "x" * 70, "confirm": "yes"}
    assert post("/console/admin/erase", form, principal=ADMIN)[0] == 400
    form = {"ref": "20251103T100000-000000", "confirm": "yes"}
    assert post("/console/admin/erase", form, principal=ADMIN)[0] == 404
    assert get("/console/admin/erase", principal=ADMIN)[0] == 200


def test_erasure_is_for_admins_from_this_site(desk: Desk, sim, line) -> None:
    ref, user_id = receipt_reference(desk, sim, line, "kept")
    assert get(f"/console/admin/erase?ref={ref}", principal=ALICE)[0] == 403
    assert get("/console/admin/erase", principal=NOBODY)[0] == 403
    assert get("/console/admin/erase", principal=None)[0] == 302
    form = {"ref": ref, "confirm": "yes"}
    assert post("/console/admin/erase", form, principal=ALICE)[0] == 403
    assert post("/console/admin/erase", form, principal=None)[0] in (302, 401)
    assert post("/console/admin/erase", form, principal=ADMIN, **CROSS)[0] == 403
    assert post("/console/admin/erase", form, principal=ADMIN, **{"HX-Request": "false"})[0] == 403
    assert Users(desk.store).get(user_id) is not None


# -- Japan time on the audit and flags screens ------------------------------------------------


def test_the_audit_shows_japan_time(desk: Desk, clock: FakeClock) -> None:
    desk.auditor.record("管理者C", "service_change")
    jst = f"{clock().astimezone(JAPAN):%Y-%m-%d %H:%M}"
    page = get("/console/admin/audit", principal=ADMIN)[2]
    assert f"<td>{jst}</td>" in page
    assert "日時（日本時間）" in page


# -- canned replies and referral destinations -------------------------------------------------

LIST_CHANGES: tuple[tuple[str, dict[str, str]], ...] = (
    ("/console/admin/lists/replies", {"topic": "", "title": "t", "text": "x"}),
    ("/console/admin/lists/replies/greeting/delete", {}),
    ("/console/admin/lists/referrals", {"label": "新しい紹介先"}),
    ("/console/admin/lists/referrals/hellowork/delete", {}),
)


def test_the_lists_screen_shows_the_stored_lists(desk: Desk) -> None:
    status, _, page = get("/console/admin/lists", principal=ADMIN)
    assert status == 200
    assert "はじめのあいさつ" in page  # seeded from the shipped file
    assert "ハローワーク" in page
    assert "定型文の {name} は" in page
    assert get("/console/admin/lists", principal=ALICE)[0] == 403
    assert get("/console/admin/lists", principal=NOBODY)[0] == 403
    assert get("/console/admin/lists", principal=None)[0] == 302


@pytest.mark.parametrize(("path", "form"), LIST_CHANGES)
def test_list_changes_refuse_experts_strangers_and_cross_site_posts(
    desk: Desk, path: str, form: dict[str, str]
) -> None:
    before = (desk.lists.canned_entries(), desk.lists.referrals())
    assert post(path, form, principal=ALICE)[0] == 403
    assert post(path, form, principal=NOBODY)[0] == 403
    assert post(path, form, principal=None)[0] in (302, 401)
    assert post(path, form, principal=ADMIN, **CROSS)[0] == 403
    assert post(path, form, principal=ADMIN, **{"HX-Request": "false"})[0] == 403
    assert (desk.lists.canned_entries(), desk.lists.referrals()) == before
    assert not [r for r in api(desk).auditor.page(None, 50)["records"] if "." in r["action"]]


def test_edited_lists_reach_the_experts_console_and_closings(desk: Desk, sim, line) -> None:
    user = open_session(desk, sim, line, "lists", topic="income")
    record = Users(desk.store).get(user.user_id)
    assert record is not None
    session_id = record.open_session_id
    assert session_id is not None
    api(desk).experts.claim(session_id, "相談員A")
    form = {"id": "greeting", "topic": "", "title": "最初のあいさつ", "text": "{name}です。"}
    assert post("/console/admin/lists/replies", form, principal=ADMIN)[0] == 204
    new = {"topic": "income", "title": "家計の整理", "text": "家計を一緒に整理しましょう。"}
    assert post("/console/admin/lists/replies", new, principal=ADMIN)[0] == 204
    assert post("/console/admin/lists/replies/takes-time/delete", principal=ADMIN)[0] == 204
    renamed = {"id": "hellowork", "label": "ハローワーク千葉"}
    assert post("/console/admin/lists/referrals", renamed, principal=ADMIN)[0] == 204
    added = {"label": "千葉県ジョブサポートセンター"}
    assert post("/console/admin/lists/referrals", added, principal=ADMIN)[0] == 204
    page = get(f"/console/sessions/{session_id}", principal=ALICE)[2]
    assert "最初のあいさつ" in page
    assert "相談員Aです。" in page
    assert "家計の整理" in page
    assert "回答に時間がかかります" not in page
    assert "ハローワーク千葉" in page
    assert "千葉県ジョブサポートセンター" in page
    new_id = next(r["id"] for r in desk.lists.referrals() if r["label"] == added["label"])
    status, _, _ = post(
        f"/console/sessions/{session_id}/close",
        {"outcome": "referral", "referral": new_id},
        principal=ALICE,
    )
    assert status == 204
    assert any("千葉県ジョブサポートセンター" in t for t in line.texts())
    actions = [r["action"] for r in api(desk).auditor.page(None, 200)["records"]]
    assert actions.count("canned.update") == 1
    assert actions.count("canned.create") == 1
    assert actions.count("canned.delete") == 1
    assert actions.count("referral.update") == 1
    assert actions.count("referral.create") == 1
    trail = get("/console/admin/audit?action=canned", principal=ADMIN)[2]
    assert "canned.update" in trail


def test_malformed_list_edits_are_a_4xx(desk: Desk) -> None:
    path = "/console/admin/lists/replies"
    assert post(path, {"topic": "nope", "title": "t", "text": "x"}, principal=ADMIN)[0] == 400
    assert post(path, {"topic": "", "title": "", "text": "x"}, principal=ADMIN)[0] == 400
    assert post(path, {"topic": "", "title": "t", "text": "x" * 1001}, principal=ADMIN)[0] == 400
    assert post(path, {"topic": "", "title": "t\x07", "text": "x"}, principal=ADMIN)[0] == 400
    assert post(path, {"id": "../x", "title": "t", "text": "x"}, principal=ADMIN)[0] == 404
    assert post(path, {"id": "nope", "title": "t", "text": "x"}, principal=ADMIN)[0] == 404
    assert post("/console/admin/lists/replies/nope/delete", principal=ADMIN)[0] == 404
    referrals = "/console/admin/lists/referrals"
    assert post(referrals, {"label": ""}, principal=ADMIN)[0] == 400
    assert post(referrals, {"label": "ハローワーク"}, principal=ADMIN)[0] == 400  # taken
    assert post(referrals, {}, principal=ADMIN)[0] == 400
    assert post("/console/admin/lists/referrals/nope/delete", principal=ADMIN)[0] == 404
    assert not [r for r in api(desk).auditor.page(None, 50)["records"] if "." in r["action"]]


# -- policies ---------------------------------------------------------------------------------

NEW_POLICY = {
    "versionId": "2026-01-05",
    "effectiveDate": "2026-01-05",
    "url": "https://policy.example/2026",
    "text": "改定後の運用ポリシーの全文です。",
}


def test_the_policies_screen_lists_versions_current_and_consent_counts(
    desk: Desk, sim, line
) -> None:
    for name in ("p1", "p2", "p3"):
        consented(desk, sim, line, name)
    status, _, page = get("/console/admin/policies", principal=ADMIN)
    assert status == 200
    current = api(desk).admin.policies()["current"]
    row = page.split(f'id="policy-{current}"', 1)[1].split("</tr>", 1)[0]
    assert "（現在の版）" in row
    assert '<td class="num">3</td>' in row  # three explicit consents to the current version
    assert "2025-09-26 00:00" in page  # effective dates in Japan time
    assert 'hx-confirm="' in page
    counts = desk.admin.policy_consents()
    (shown,) = [c for c in counts.versions if c.version.version_id == current]
    assert (shown.explicit, shown.deemed) == (3, 0)


def test_publishing_a_version_through_the_screen_is_validated_and_audited(desk: Desk) -> None:
    bad = {**NEW_POLICY, "url": "http://insecure.example"}
    status, _, body = post("/console/admin/policies", bad, principal=ADMIN)
    assert status == 400
    assert "入力内容を確認してください。url：全文を公開している https のアドレス" in body
    assert (
        post("/console/admin/policies", {**NEW_POLICY, "effectiveDate": "x"}, principal=ADMIN)[0]
        == 400
    )
    no_text = {k: v for k, v in NEW_POLICY.items() if k != "text"}
    assert post("/console/admin/policies", no_text, principal=ADMIN)[0] == 400
    assert "2026-01-05" not in [v["versionId"] for v in api(desk).admin.policies()["versions"]]
    status, headers, _ = post("/console/admin/policies", NEW_POLICY, principal=ADMIN)
    assert status == 204
    assert headers["HX-Redirect"] == "/console/admin/policies"
    (made,) = [v for v in api(desk).admin.policies()["versions"] if v["versionId"] == "2026-01-05"]
    assert made["requiresExplicit"] is False
    assert made["url"] == NEW_POLICY["url"]
    assert post("/console/admin/policies", NEW_POLICY, principal=ADMIN)[0] == 409  # once
    (record,) = [
        r for r in api(desk).auditor.page(None, 50)["records"] if r["action"] == "policy.register"
    ]
    assert record["who"] == "管理者C"
    assert record["details"] == {"version": "2026-01-05"}
    assert 'id="policy-2026-01-05"' in get("/console/admin/policies", principal=ADMIN)[2]


def test_the_policies_screen_is_for_admins_from_this_site(desk: Desk) -> None:
    assert get("/console/admin/policies", principal=ALICE)[0] == 403
    assert get("/console/admin/policies", principal=NOBODY)[0] == 403
    assert get("/console/admin/policies", principal=None)[0] == 302
    path = "/console/admin/policies"
    assert post(path, NEW_POLICY, principal=ALICE)[0] == 403
    assert post(path, NEW_POLICY, principal=None)[0] in (302, 401)
    assert post(path, NEW_POLICY, principal=ADMIN, **CROSS)[0] == 403
    assert post(path, NEW_POLICY, principal=ADMIN, **{"HX-Request": "false"})[0] == 403
    assert "2026-01-05" not in [v["versionId"] for v in api(desk).admin.policies()["versions"]]


# -- the statistics screen by satisfaction (the API offers it; the screen answered 500) -------


def test_the_statistics_screen_groups_by_satisfaction(desk: Desk) -> None:
    path = "/console/admin/stats?from=2025-11&to=2025-11&by=satisfaction"
    status, _, page = get(path, principal=ADMIN)
    assert status == 200
    assert "満足度別" in page
    assert "survey_answers" not in page.replace('value="', "")  # a label, not the id
    status, _, body = get(path.replace("/stats?", "/stats.csv?"), principal=ADMIN)
    assert status == 200
    assert body.splitlines()[0] == "\ufeff満足度,回答数"
