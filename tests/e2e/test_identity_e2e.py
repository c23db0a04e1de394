"""Who is calling the admin API, through the local host: principals, keys, forged headers.

Three deployments are served: the usual local-development host (it plays App Service
authentication, so principals are believed and DESK_REQUIRE_APP_ROLES defaults to false), a
production host without App Service authentication in front, and a production host with it on
(WEBSITE_AUTH_ENABLED=true, as the platform sets it) where key-only callers hold Desk.Expert.
"""

from __future__ import annotations

import base64
import json
import os
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from devtools.host import dev_principal
from devtools.linesim import LineSimulator
from tests.e2e.conftest import (
    AGREE,
    FUNCTION_KEY,
    POLICY_URL,
    SECRET,
    TOKEN,
    RunningDesk,
    host_process,
)

pytestmark = pytest.mark.e2e
KEY = {"x-functions-key": FUNCTION_KEY}


def principal(name: str, *roles: str, **extra: Any) -> str:
    """An X-MS-CLIENT-PRINCIPAL as App Service authentication writes it (base64 JSON)."""
    claims = [{"typ": "name", "val": name}] + [{"typ": "roles", "val": r} for r in roles]
    data = {"auth_typ": "aad", "name_typ": "name", "role_typ": "roles", "claims": claims}
    data.update(extra)
    return encode(data)


def encode(data: object) -> str:
    return base64.b64encode(json.dumps(data).encode()).decode()


@dataclass
class Host:
    """A production-like host: its URL and its LINE."""

    base_url: str
    sim: LineSimulator

    def call(
        self, method: str, path: str, payload: object = None, headers: dict[str, str] | None = None
    ) -> tuple[int, Any]:
        body = json.dumps(payload).encode() if payload is not None else None
        declared = {"Content-Type": "application/json"} if body is not None else {}
        request = urllib.request.Request(
            self.base_url + path,
            data=body,
            method=method,
            headers={**KEY, **declared, **(headers or {})},
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                status, answer = response.status, response.read()
        except urllib.error.HTTPError as error:
            status, answer = error.code, error.read()
        try:
            return status, json.loads(answer) if answer else None
        except ValueError:  # a console page
            return status, answer.decode("utf-8")


def production_host(tmp_path_factory: pytest.TempPathFactory, **extra: str) -> Iterator[Host]:
    workdir = tmp_path_factory.mktemp("identity")
    sim = LineSimulator(SECRET, TOKEN)
    sim.start()
    env = {
        **{k: v for k, v in os.environ.items() if k != "WEBSITE_AUTH_ENABLED"},
        "DESK_ENVIRONMENT": "Production",
        "AZURE_FUNCTIONS_ENVIRONMENT": "Production",
        "LINE_CHANNEL_SECRET": SECRET,
        "LINE_CHANNEL_ACCESS_TOKEN": TOKEN,
        "LINE_API_BASE_URL": sim.base_url,
        "LINE_DATA_API_BASE_URL": sim.base_url,
        "DESK_FUNCTION_KEY": FUNCTION_KEY,
        "DESK_HASH_KEY": "Dok1BrFsHKEQOJ-DvuXLtkSbGdx0GkFGejeyp63R_IE",
        "DESK_CONTACT": "テスト運営事務局（電話 043-000-0000）",
        "DESK_POLICY_URL": POLICY_URL,
        "COSMOS_ENDPOINT": "",
        "DESK_SQLITE_PATH": str(workdir / "desk.sqlite3"),
        **extra,
    }
    with host_process(env, workdir / "host.log") as base_url:
        sim.webhook_url = f"{base_url}/api/line/webhook"
        try:
            yield Host(base_url, sim)
        finally:
            sim.stop()


@pytest.fixture(scope="module")
def unauthenticated(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Host]:
    """Production with no App Service authentication in front (nothing strips the header)."""
    yield from production_host(tmp_path_factory)


@pytest.fixture(scope="module")
def authenticated(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Host]:
    """Production behind App Service authentication; key-only callers hold Desk.Expert."""
    yield from production_host(
        tmp_path_factory, WEBSITE_AUTH_ENABLED="true", DESK_KEY_CALLER_ROLE="Desk.Expert"
    )


@pytest.fixture(scope="module")
def weak_key(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Host]:
    """Production with the one-letter DESK_HASH_KEY a pen test found accepted."""
    yield from production_host(tmp_path_factory, DESK_HASH_KEY="a")


def test_a_weak_hash_key_is_refused_at_start_in_production(weak_key: Host) -> None:
    """Issue 22, item 7: the health check names the setting, and nothing is served."""
    status, body = weak_key.call("GET", "/api/admin/health")
    assert (status, body["status"]) == (503, "misconfigured")
    assert body["settings"] == ["DESK_HASH_KEY"]
    assert weak_key.call("GET", "/api/admin/sessions")[0] == 503


ADMIN_READS = ["/api/admin/health", "/api/admin/flags", "/api/admin/audit", "/api/admin/service"]


# -- production without App Service authentication ------------------------------------------


@pytest.mark.parametrize("path", [*ADMIN_READS, "/api/admin/sessions"])
def test_a_key_without_a_principal_is_refused_by_default_in_production(
    unauthenticated: Host, path: str
) -> None:
    status, body = unauthenticated.call("GET", path)
    assert (status, body["error"]["code"]) == (403, "forbidden")


@pytest.mark.parametrize("path", [*ADMIN_READS, "/api/admin/sessions"])
def test_a_forged_principal_grants_nothing_without_app_service_authentication(
    unauthenticated: Host, path: str
) -> None:
    forged = principal("mallory", "Desk.Admin", "Desk.Expert")
    status, body = unauthenticated.call("GET", path, headers={"x-ms-client-principal": forged})
    assert (status, body["error"]["code"]) == (403, "forbidden")
    assert body["error"]["field"] == "x-ms-client-principal"
    assert body["error"]["message"] == (
        "x-ms-client-principal：App Service 認証が無効のため、このヘッダーは受け付けません。"
    )


def test_a_forged_principal_changes_nothing(unauthenticated: Host) -> None:
    forged = principal("mallory", "Desk.Admin")
    status, _ = unauthenticated.call(
        "PUT", "/api/admin/service", {"state": "ended"}, {"x-ms-client-principal": forged}
    )
    assert status == 403
    user = unauthenticated.sim.user("identity-unaffected")
    user.follow()
    user.postback(AGREE)
    assert unauthenticated.sim.calls_to("reply")  # the desk still answers: it did not end


# -- production behind App Service authentication -------------------------------------------


def test_an_admin_principal_is_believed_behind_app_service_authentication(
    authenticated: Host,
) -> None:
    admin = {"x-ms-client-principal": principal("管理者", "Desk.Admin")}
    for path in ADMIN_READS:
        assert authenticated.call("GET", path, headers=admin)[0] == 200, path


def test_a_wrong_role_is_refused(authenticated: Host) -> None:
    reader = {"x-ms-client-principal": principal("閲覧者", "Desk.Reader")}
    expert = {"x-ms-client-principal": principal("専門家", "Desk.Expert")}
    assert authenticated.call("GET", "/api/admin/sessions", headers=reader)[0] == 403
    assert authenticated.call("GET", "/api/admin/sessions", headers=expert)[0] == 200
    assert authenticated.call("GET", "/api/admin/flags", headers=expert)[0] == 403


def test_key_only_callers_hold_exactly_the_role_the_setting_grants(authenticated: Host) -> None:
    assert authenticated.call("GET", "/api/admin/sessions")[0] == 200  # Desk.Expert
    for path in ADMIN_READS:
        assert authenticated.call("GET", path)[0] == 403, path


def open_session(host: Host, name: str) -> str:
    user = host.sim.user(name)
    user.follow()
    user.postback(AGREE)
    user.postback("action=topic&topic=career")
    status, queue = host.call("GET", "/api/admin/sessions?status=waiting&limit=200")
    assert status == 200
    return str(queue["sessions"][-1]["sessionId"])


def audit_of(host: Host, action: str) -> list[dict[str, Any]]:
    admin = {"x-ms-client-principal": principal("監査役", "Desk.Admin")}
    records: list[dict[str, Any]] = []
    cursor = ""
    while True:
        status, page = host.call("GET", f"/api/admin/audit?limit=200{cursor}", headers=admin)
        assert status == 200
        records += [r for r in page["records"] if r["action"] == action]
        if not page["nextCursor"]:
            return records
        cursor = f"&cursor={page['nextCursor']}"


def test_a_key_only_caller_is_audited_as_the_key_with_the_operator_asserted(
    authenticated: Host,
) -> None:
    session_id = open_session(authenticated, "identity-key-only")
    status, claimed = authenticated.call(
        "POST", f"/api/admin/sessions/{session_id}/claim", {"operator": "田中"}
    )
    assert status == 200
    assert claimed["assignedTo"] == "田中"
    claims = audit_of(authenticated, "session.claim")
    (record,) = [r for r in claims if r["details"]["session"] == session_id]
    assert record["who"] == "function-key"
    assert record["assertedOperator"] == "田中"


def test_a_principal_is_audited_as_itself_and_the_body_operator_is_ignored(
    authenticated: Host,
) -> None:
    session_id = open_session(authenticated, "identity-principal")
    expert = {"x-ms-client-principal": principal("山田 花子", "Desk.Expert")}
    status, _ = authenticated.call(
        "GET", f"/api/admin/sessions/{session_id}?operator=%E7%94%B0%E4%B8%AD", headers=expert
    )
    assert status == 200
    reads = audit_of(authenticated, "session.read")
    assert reads[-1]["who"] == "山田 花子"
    assert reads[-1]["assertedOperator"] is None


# -- who a member of staff is (issue 22, items 1 and 2) -------------------------------------


def person(name: str, object_id: str, *roles: str) -> dict[str, str]:
    """A signed-in person as App Service vouches for them: name, roles, Entra object id."""
    return {
        "x-ms-client-principal": dev_principal(name, list(roles or ("Desk.Expert",)), object_id)
    }


TANAKA_1 = person("田中", "11111111-1111-4111-8111-111111111111")
TANAKA_2 = person("田中", "22222222-2222-4222-8222-222222222222")


def test_two_people_of_one_name_are_two_people(authenticated: Host) -> None:
    """The pen test: a second principal with the same name sent a message in the first's
    session (201). The holder is who someone is, not what they are called."""
    session_id = open_session(authenticated, "identity-namesakes")
    path = f"/api/admin/sessions/{session_id}"
    assert authenticated.call("POST", f"{path}/claim", {}, TANAKA_1)[0] == 200
    status, refused = authenticated.call("POST", f"{path}/messages", {"text": "横から"}, TANAKA_2)
    assert status == 409
    assert "田中" in refused["error"]["message"]
    assert authenticated.call("POST", f"{path}/close", {"outcome": "助言"}, TANAKA_2)[0] == 409
    status, sent = authenticated.call("POST", f"{path}/messages", {"text": "担当です"}, TANAKA_1)
    assert status == 201
    assert sent["message"]["sentBy"] == "staff"
    claims = [
        r for r in audit_of(authenticated, "session.claim") if r["details"]["session"] == session_id
    ]
    assert claims[-1]["who"] == "田中"
    assert claims[-1]["whoId"].endswith(":11111111-1111-4111-8111-111111111111")


def test_a_function_key_never_acts_as_the_person_it_names(authenticated: Host) -> None:
    """With DESK_KEY_CALLER_ROLE=Desk.Expert, a key-only call naming 田中 answered and closed
    the session 田中 held in the console; now it may not, and what a key sends says so."""
    session_id = open_session(authenticated, "identity-key-as-person")
    path = f"/api/admin/sessions/{session_id}"
    assert authenticated.call("POST", f"{path}/claim", {}, TANAKA_1)[0] == 200
    as_tanaka = {"operator": "田中", "text": "鍵から"}
    assert authenticated.call("POST", f"{path}/messages", as_tanaka)[0] == 409
    closing = {"operator": "田中", "outcome": "助言"}
    assert authenticated.call("POST", f"{path}/close", closing)[0] == 409
    status, seen = authenticated.call("GET", path, headers=TANAKA_1)
    assert (status, seen["status"], seen["assignedTo"]) == (200, "active", "田中")
    assert [m for m in seen["messages"] if m["role"] == "expert"] == []
    # On a session nobody holds, a key may act, and its answer is marked as a script's.
    other = open_session(authenticated, "identity-key-unheld")
    other_path = f"/api/admin/sessions/{other}"
    status, sent = authenticated.call("POST", f"{other_path}/messages", as_tanaka)
    assert status == 201
    assert sent["message"]["sentBy"] == "script"
    status, page = authenticated.call("GET", f"/console/sessions/{other}", headers=TANAKA_1)
    assert status == 200
    assert "スクリプトから送信" in page


MALFORMED_PRINCIPALS = [
    "not base64!",
    base64.b64encode(b"\xff\xfe").decode(),
    encode([1, 2]),
    encode({"claims": 5}),
    encode({"claims": [{"typ": "name", "val": 5}]}),
    encode({"claims": [], "userDetails": 5}),
    encode({"claims": [], "userDetails": "x", "userRoles": 5}),
    encode({"name_typ": ["name"], "claims": [{"typ": "name", "val": "x"}]}),
    base64.b64encode(("[" * 5000 + "]" * 5000).encode()).decode(),
    encode({"claims": [{"typ": "name", "val": "   "}]}),
]


@pytest.mark.parametrize("header", MALFORMED_PRINCIPALS)
def test_a_malformed_principal_is_a_4xx_naming_the_header(authenticated: Host, header: str) -> None:
    status, body = authenticated.call(
        "GET", "/api/admin/health", headers={"x-ms-client-principal": header}
    )
    assert (status, body["error"]["field"]) == (400, "x-ms-client-principal")
    assert body["error"]["message"].startswith("x-ms-client-principal：")


# -- local development (the shared host: principals believed, key-only callers allowed) ----


def test_in_development_a_key_only_caller_is_allowed_and_audited_as_the_key(
    desk: RunningDesk,
) -> None:
    user = desk.consented_user("identity-dev-key")
    user.postback("action=topic&topic=career")
    status, queue = desk.admin("GET", "/api/admin/sessions?status=waiting&limit=200")
    session_id = queue["sessions"][-1]["sessionId"]
    status, _ = desk.admin("POST", f"/api/admin/sessions/{session_id}/claim", {"operator": "鈴木"})
    assert status == 200
    status, _ = desk.admin("GET", f"/api/admin/sessions/{session_id}?operator=%E9%88%B4%E6%9C%A8")
    assert status == 200
    status, page = desk.admin("GET", "/api/admin/audit?limit=200")
    mine = [r for r in page["records"] if r["details"].get("session") == session_id]
    assert [(r["action"], r["who"], r["assertedOperator"]) for r in mine] == [
        ("session.claim", "function-key", "鈴木"),
        ("session.read", "function-key", "鈴木"),
    ]


def test_in_development_the_local_host_plays_app_service_authentication(
    desk: RunningDesk,
) -> None:
    status, _ = desk.http(
        "GET",
        "/api/admin/flags",
        b"",
        {**KEY, "x-ms-client-principal": principal("x", "Desk.Expert")},
    )
    assert status == 403  # the principal is believed, and an expert may not see flags


# -- malformed input: a 4xx naming the field, never a 500 ----------------------------------

NEWLINE_USER = "U" + "0" * 32 + "%0A"
HUGE = "9" * 5000


@pytest.mark.parametrize(
    ("path", "field"),
    [
        ("/api/admin/sessions?limit=%C2%B2", "limit"),  # "²" passes str.isdigit
        ("/api/admin/flags?limit=%EF%BC%91", "limit"),  # a full-width "１"
        (f"/api/admin/audit?limit={HUGE}", "limit"),  # past Python's int conversion limit
        ("/api/admin/audit?limit=5%0A", "limit"),
        ("/api/admin/sessions?cursor=abc%0A", "cursor"),
        ("/api/admin/flags?cursor=a%20b", "cursor"),
        (f"/api/admin/users/{NEWLINE_USER}", "userId"),
        ("/api/admin/users/U" + "0" * 32 + "?operator=a%00b", "operator"),
    ],
)
def test_a_malformed_query_or_path_is_a_400_naming_it(
    desk: RunningDesk, path: str, field: str
) -> None:
    status, body = desk.admin("GET", path)
    assert (status, body["error"]["code"], body["error"]["field"]) == (
        400,
        "invalid_request",
        field,
    ), body
    assert body["error"]["message"].startswith(f"{field}：")


def huge_number_body(field: str, rest: str) -> bytes:
    return ("{" + rest + f', "{field}": ' + HUGE + "}").encode()


@pytest.mark.parametrize(
    ("method", "path", "payload", "field"),
    [
        (
            "PUT",
            "/api/admin/service",
            {"state": "maintenance", "until": "0001-01-01T00:00:00+09:00"},
            "until",
        ),
        (
            "PUT",
            "/api/admin/service",
            {"state": "maintenance", "until": "9999-12-31T23:59:59-09:00"},
            "until",
        ),
        (
            "PUT",
            "/api/admin/service",
            {"state": "maintenance", "until": "2030-01-01T00:00:00+09:00\n"},
            "until",
        ),
        (
            "PUT",
            "/api/admin/service",
            {
                "state": "maintenance",
                "from": "0001-01-01T00:00:00+09:00",
                "until": "2030-01-01T00:00:00+09:00",
            },
            "from",
        ),
        (
            "POST",
            "/api/admin/policies",
            {"versionId": "ancient", "effectiveDate": "0001-01-01", "url": POLICY_URL, "text": "x"},
            "effectiveDate",
        ),
        (
            "POST",
            "/api/admin/policies",
            {
                "versionId": "newline",
                "effectiveDate": "2030-01-01\n",
                "url": POLICY_URL,
                "text": "x",
            },
            "effectiveDate",
        ),
        (
            "POST",
            "/api/admin/policies",
            {"versionId": "v1\n", "effectiveDate": "2030-01-01", "url": POLICY_URL, "text": "x"},
            "versionId",
        ),
        (
            "POST",
            "/api/admin/policies",
            {
                "versionId": "ipv6",
                "effectiveDate": "2030-01-01",
                "url": "https://[::1/x",
                "text": "x",
            },
            "url",
        ),
        ("POST", f"/api/admin/users/{NEWLINE_USER}/reinstate", {"operator": "A"}, "userId"),
        ("POST", "/api/admin/flags/x/dismiss", {"operator": "a\u0000"}, "operator"),
    ],
)
def test_a_malformed_body_field_is_a_400_naming_it(
    desk: RunningDesk, method: str, path: str, payload: dict[str, Any], field: str
) -> None:
    status, body = desk.admin(method, path, payload)
    assert (status, body["error"]["code"], body["error"]["field"]) == (
        400,
        "invalid_request",
        field,
    ), body
    assert body["error"]["message"].startswith(f"{field}：")


@pytest.mark.parametrize(
    ("path", "raw"),
    [
        (
            "/api/admin/users/U" + "0" * 32 + "/restrict",
            huge_number_body("days", '"mode": "text_only"'),
        ),
        ("/api/admin/service", huge_number_body("message", '"state": "open"')),
    ],
)
def test_a_number_python_cannot_read_is_a_400_naming_the_body(
    desk: RunningDesk, path: str, raw: bytes
) -> None:
    method = "PUT" if path.endswith("service") else "POST"
    status, answer = desk.http(method, path, raw, KEY)
    assert status == 400
    assert json.loads(answer)["error"]["field"] == "body"
