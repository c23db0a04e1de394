"""The admin API in a browser's world (issue 22, item 3), from outside: the pen-test's
requests replayed against a running host. A state-changing call takes the key in its header,
comes from no other site and declares a JSON body; otherwise it changes nothing."""

from __future__ import annotations

import json

import pytest

from tests.e2e.conftest import FUNCTION_KEY, RunningDesk

pytestmark = pytest.mark.e2e

KEY = {"x-functions-key": FUNCTION_KEY}
SUSPEND = json.dumps({"clause": "8(3)", "reason": "宣伝目的の利用", "operator": "運用者A"}).encode()


def status_of(desk: RunningDesk, user_id: str) -> str:
    status, answer = desk.http("GET", f"/api/admin/users/{user_id}?code={FUNCTION_KEY}")
    assert status == 200
    return str(json.loads(answer)["status"])


@pytest.mark.parametrize(
    ("query", "headers", "expected", "key"),
    [
        (f"?code={FUNCTION_KEY}", {"Content-Type": "application/json"}, 403, "key_in_query"),
        ("", {**KEY, "Content-Type": "text/plain"}, 415, "json_only"),
        ("", {**KEY, "Content-Type": "application/x-www-form-urlencoded"}, 415, "json_only"),
        ("", {**KEY, "Content-Type": "multipart/form-data; boundary=x"}, 415, "json_only"),
        (
            "",
            {**KEY, "Content-Type": "application/json", "Sec-Fetch-Site": "cross-site"},
            403,
            "cross_site",
        ),
        (
            "",
            {**KEY, "Content-Type": "application/json", "Sec-Fetch-Site": "same-site"},
            403,
            "cross_site",
        ),
        (
            "",
            {**KEY, "Content-Type": "application/json", "Origin": "https://evil.example"},
            403,
            "cross_site",
        ),
        ("", {**KEY, "Content-Type": "application/json", "Origin": "null"}, 403, "cross_site"),
    ],
)
def test_a_suspension_a_foreign_page_could_send_changes_nothing(
    desk: RunningDesk, query: str, headers: dict[str, str], expected: int, key: str
) -> None:
    user = desk.consented_user(f"browser-{expected}-{key}-{len(headers)}")
    path = f"/api/admin/users/{user.user_id}/suspend{query}"
    status, answer = desk.http("POST", path, SUSPEND, headers)
    assert status == expected
    error = json.loads(answer)["error"]
    assert error["code"] == ("forbidden" if expected == 403 else "unsupported_media_type")
    assert "。" in error["message"]  # the staff catalogue's Japanese, not a stack trace
    assert status_of(desk, user.user_id) == "consented"


def test_an_empty_form_post_does_not_reinstate(desk: RunningDesk) -> None:
    user = desk.consented_user("browser-reinstate")
    path = f"/api/admin/users/{user.user_id}"
    assert desk.http("POST", f"{path}/suspend", SUSPEND, KEY)[0] == 200
    form = {**KEY, "Content-Type": "application/x-www-form-urlencoded"}
    assert desk.http("POST", f"{path}/reinstate", b"", form)[0] == 415
    assert status_of(desk, user.user_id) == "suspended"
    script = json.dumps({"operator": "運用者A"}).encode()
    assert desk.http("POST", f"{path}/reinstate", script, KEY)[0] == 200  # a script's JSON
    assert status_of(desk, user.user_id) == "consented"


def test_a_script_and_the_desks_own_origin_are_served(desk: RunningDesk) -> None:
    user = desk.consented_user("browser-own-origin")
    own = {**KEY, "Origin": desk.base_url, "Sec-Fetch-Site": "same-origin"}
    path = f"/api/admin/users/{user.user_id}/suspend"
    answer = desk.http("POST", path, SUSPEND, {**own, "Content-Type": "application/json"})
    assert answer[0] == 200, answer
    assert status_of(desk, user.user_id) == "suspended"
