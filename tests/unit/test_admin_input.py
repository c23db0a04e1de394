"""The admin API's callers and parsers: who is believed, and malformed input named in a 4xx.

Every parser refuses with a ValidationError (400) naming the field; validators match the whole
value, so a trailing newline or a Unicode digit never passes.
"""

from __future__ import annotations

import base64
import json
from datetime import timedelta
from typing import Any

import azure.functions as func
import pytest
from hypothesis import given
from hypothesis import strategies as st

from devtools.host import plays_app_service_authentication
from shared.config import Settings, settings_from
from shared.entrypoints.http import json_body, page_size
from shared.entrypoints.identity import (
    ADMIN,
    EXPERT,
    KEY_CALLER,
    Principal,
    check_role,
    operator_from,
    parse_principal,
    who_from,
)
from shared.entrypoints.views.admin import policy_command
from shared.errors import AuthorizationError, ConfigurationError, ValidationError
from shared.repositories.paging import is_id, page_of
from shared.services.audit import Actor
from shared.services.moderation.actions import check_user_id
from tests.kit.admin_api import api

HEADER = "x-ms-client-principal"
BASE = {
    "LINE_CHANNEL_SECRET": "a-real-looking-secret",
    "LINE_CHANNEL_ACCESS_TOKEN": "a-real-looking-token",
    "DESK_HASH_KEY": "Dok1BrFsHKEQOJ-DvuXLtkSbGdx0GkFGejeyp63R_IE",
    "DESK_CONTACT": "テスト運営事務局（電話 043-000-0000）",
}


def production(**env: str) -> Settings:
    return settings_from({**BASE, "DESK_ENVIRONMENT": "Production", **env})


def development(**env: str) -> Settings:
    return settings_from(
        {"DESK_ENVIRONMENT": "Development", "LINE_API_BASE_URL": "http://127.0.0.1:9", **env}
    )


def encode(data: object) -> str:
    return base64.b64encode(json.dumps(data).encode()).decode()


def principal(name: str, *roles: str) -> str:
    claims = [{"typ": "name", "val": name}] + [{"typ": "roles", "val": r} for r in roles]
    return encode({"auth_typ": "aad", "name_typ": "name", "role_typ": "roles", "claims": claims})


def request(
    headers: dict[str, str] | None = None,
    params: dict[str, str] | None = None,
    body: bytes = b"",
) -> func.HttpRequest:
    return func.HttpRequest(
        "POST",
        "http://localhost/api/admin/x",
        headers=headers or {},
        params=params or {},
        body=body,
    )


# -- settings -------------------------------------------------------------------------------


def test_roles_are_required_by_default_outside_development() -> None:
    assert production().require_app_roles is True
    assert development().require_app_roles is False


def test_roles_may_be_switched_off_in_development_only() -> None:
    assert development(DESK_REQUIRE_APP_ROLES="true").require_app_roles is True
    with pytest.raises(ConfigurationError, match="DESK_REQUIRE_APP_ROLES"):
        production(DESK_REQUIRE_APP_ROLES="false")


def test_app_service_authentication_is_what_the_platform_says() -> None:
    assert production().app_service_auth is False
    assert production(WEBSITE_AUTH_ENABLED="True").app_service_auth is True
    assert production(WEBSITE_AUTH_ENABLED="false").app_service_auth is False


@pytest.mark.parametrize("value", ["", "Desk.Expert", "Desk.Admin"])
def test_the_key_caller_role_is_nothing_or_one_of_the_app_roles(value: str) -> None:
    assert production(DESK_KEY_CALLER_ROLE=value).key_caller_role == (value or None)


@pytest.mark.parametrize("value", ["admin", "Desk.Reader", "desk.admin"])
def test_another_key_caller_role_is_refused_by_name(value: str) -> None:
    with pytest.raises(ConfigurationError, match="DESK_KEY_CALLER_ROLE"):
        production(DESK_KEY_CALLER_ROLE=value)


# -- who may call ---------------------------------------------------------------------------

AUTH_ON = production(WEBSITE_AUTH_ENABLED="true")


def test_a_principal_is_refused_where_app_service_authentication_is_off() -> None:
    forged = request({HEADER: principal("mallory", ADMIN)})
    for settings in (production(), development(), production(DESK_KEY_CALLER_ROLE=ADMIN)):
        with pytest.raises(AuthorizationError, match=HEADER):
            check_role(forged, EXPERT, settings)


def test_a_principal_is_believed_where_app_service_authentication_is_on() -> None:
    check_role(request({HEADER: principal("admin", ADMIN)}), EXPERT, AUTH_ON)
    check_role(request({HEADER: principal("expert", EXPERT)}), EXPERT, AUTH_ON)
    with pytest.raises(AuthorizationError, match=r"Desk\.Admin"):
        check_role(request({HEADER: principal("expert", EXPERT)}), ADMIN, AUTH_ON)
    with pytest.raises(AuthorizationError):
        check_role(request({HEADER: principal("nobody")}), EXPERT, AUTH_ON)


@pytest.mark.parametrize("auth", ["true", "false"])
def test_a_key_only_caller_is_refused_when_roles_are_required(auth: str) -> None:
    settings = production(WEBSITE_AUTH_ENABLED=auth)
    for role in (EXPERT, ADMIN):
        with pytest.raises(AuthorizationError):
            check_role(request(), role, settings)


def test_a_key_only_caller_is_allowed_when_roles_are_not_required_in_development() -> None:
    for role in (EXPERT, ADMIN):
        check_role(request(), role, development())


def test_a_key_only_caller_holds_the_role_the_setting_names() -> None:
    expert = production(DESK_KEY_CALLER_ROLE=EXPERT)
    check_role(request(), EXPERT, expert)
    with pytest.raises(AuthorizationError):
        check_role(request(), ADMIN, expert)
    admin = production(DESK_KEY_CALLER_ROLE=ADMIN)
    check_role(request(), EXPERT, admin)
    check_role(request(), ADMIN, admin)


# -- principals -----------------------------------------------------------------------------


def test_a_principal_names_its_holder_and_roles() -> None:
    parsed = parse_principal(principal("山田 花子", EXPERT, "Other"))
    assert (parsed.name, parsed.roles) == ("山田 花子", frozenset({EXPERT, "Other"}))
    static = parse_principal(encode({"userDetails": "a@b", "userRoles": [ADMIN]}))
    assert (static.name, static.roles) == ("a@b", frozenset({ADMIN}))


@pytest.mark.parametrize(
    "header",
    [
        "not base64!",
        principal("x", ADMIN) + "\n",
        base64.b64encode(b"\xff\xfe").decode(),
        base64.b64encode("{}".encode("utf-16")).decode() + "!",
        encode([1, 2]),
        encode({"claims": 5}),
        encode({"claims": [5]}),
        encode({"claims": [{"typ": "name", "val": 5}]}),
        encode({"claims": [{"typ": 5, "val": "x"}]}),
        encode({"claims": [], "userDetails": 5}),
        encode({"claims": [], "userDetails": "x", "userRoles": 5}),
        encode({"claims": [], "userDetails": "x", "userRoles": [5]}),
        encode({"name_typ": ["name"], "claims": [{"typ": "name", "val": "x"}]}),
        encode({"role_typ": {}, "claims": [{"typ": "name", "val": "x"}]}),
        encode({"claims": [{"typ": "name", "val": "   "}]}),
        encode({"claims": [{"typ": "name", "val": "a\u0000b"}]}),
        encode({"claims": []}),
        base64.b64encode(("[" * 5000 + "]" * 5000).encode()).decode(),
        encode({"claims": [{"typ": "name", "val": "x" * 20_000}]}),
    ],
)
def test_a_malformed_principal_is_a_validation_error_naming_the_header(header: str) -> None:
    with pytest.raises(ValidationError, match=f"^{HEADER}"):
        parse_principal(header)
    with pytest.raises(ValidationError, match=f"^{HEADER}"):
        check_role(request({HEADER: header}), EXPERT, AUTH_ON)


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(
            st.sampled_from(
                ["claims", "typ", "val", "name_typ", "role_typ", "userDetails", "userRoles", "name"]
            ),
            inner,
            max_size=5,
        )
    ),
    max_leaves=12,
)


@given(data=JSON)
def test_any_json_principal_is_read_or_refused_by_name_never_a_crash(data: object) -> None:
    outcome = _read(encode(data))
    assert isinstance(outcome, str) or (outcome.name.strip() == outcome.name != "")


@given(header=st.text(max_size=64))
def test_any_text_principal_is_read_or_refused_by_name_never_a_crash(header: str) -> None:
    _read(header)


def _read(header: str) -> Principal | str:
    """The principal, or the refusal's message (which must name the header)."""
    try:
        return parse_principal(header)
    except ValidationError as exc:
        refusal = exc.message
    assert refusal.startswith(HEADER)
    return refusal


# -- operators ------------------------------------------------------------------------------


def test_a_principal_is_the_operator_and_the_body_is_ignored(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("shared.entrypoints.identity.get_settings", lambda: AUTH_ON)
    req = request({HEADER: principal("山田", EXPERT)}, {"operator": "田中"})
    named = operator_from(req, {"operator": "田中"})
    assert (named, isinstance(named, Actor)) == ("山田", False)
    assert who_from(req) == "山田"


def test_a_key_only_caller_asserts_the_operator(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("shared.entrypoints.identity.get_settings", development)
    named = operator_from(request(), {"operator": " 田中 "})
    assert isinstance(named, Actor)
    assert (named, named.caller) == ("田中", KEY_CALLER)
    read = who_from(request(params={"operator": "田中"}))
    assert isinstance(read, Actor)
    assert (read, read.caller) == ("田中", KEY_CALLER)
    assert who_from(request()) == KEY_CALLER


@pytest.mark.parametrize("operator", [None, "", "  ", 5, ["a"], "x" * 101, "a\nb", "a\u0000"])
def test_a_bad_operator_is_refused_by_name(
    monkeypatch: pytest.MonkeyPatch, operator: object
) -> None:
    monkeypatch.setattr("shared.entrypoints.identity.get_settings", development)
    with pytest.raises(ValidationError, match=r"^operator"):
        operator_from(request(), {"operator": operator})
    if isinstance(operator, str) and operator:
        with pytest.raises(ValidationError, match=r"^operator"):
            who_from(request(params={"operator": operator}))


def test_the_audit_records_the_caller_and_the_asserted_operator(desk, clock) -> None:
    desk.auditor.record(Actor("田中", KEY_CALLER), "x.test")
    clock.advance(minutes=1)
    desk.auditor.record("山田", "x.test")
    records = api(desk).auditor.page(None, 10)["records"]
    assert [(r["who"], r["assertedOperator"]) for r in records] == [
        (KEY_CALLER, "田中"),
        ("山田", None),
    ]


# -- query parameters, cursors and ids -------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    ["²", "１０", "٣", "5\n", " 5", "+5", "0", "201", "9" * 5000, ""],
    ids=[
        "superscript",
        "fullwidth",
        "arabic-indic",
        "newline",
        "space",
        "plus",
        "0",
        "201",
        "5000-digits",
        "empty",
    ],
)
def test_a_bad_limit_is_refused_by_name(raw: str) -> None:
    with pytest.raises(ValidationError, match=r"^limit"):
        page_size(raw)


def test_a_good_limit_is_read() -> None:
    assert (page_size(None), page_size("1"), page_size("200"), page_size("007")) == (50, 1, 200, 7)


@pytest.mark.parametrize("raw", ["abc\n", "", "a" * 81, "a b", "a/b", "٣"])
def test_a_malformed_id_or_cursor_is_refused(raw: str) -> None:
    assert not is_id(raw)
    with pytest.raises(ValidationError, match=r"^cursor"):
        page_of(lambda _after, _n: [], raw, 10, str)


@pytest.mark.parametrize("raw", ["U" + "0" * 32 + "\n", "U" + "0" * 31, "u" + "0" * 32, ""])
def test_a_malformed_user_id_is_refused_by_name(raw: str) -> None:
    with pytest.raises(ValidationError, match=r"^userId"):
        check_user_id(raw)


# -- bodies ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body", [b'{"days": ' + b"9" * 5000 + b"}", b'{"a": ' + b"[" * 5000 + b"]" * 5000 + b"}"]
)
def test_a_body_python_cannot_read_is_a_validation_error(body: bytes) -> None:
    with pytest.raises(ValidationError, match="body"):
        json_body(request(body=body))


POLICY = {
    "versionId": "2026-04-01",
    "url": "https://policy.example/2026",
    "text": "改定後の運用ポリシー",
    "privacyPolicyVersion": "2025-09-26",
}


@pytest.mark.parametrize(
    "raw",
    [
        "0001-01-01",
        "9999-12-31",
        "2026-04-01\n",
        "２０２６-04-01",
        "2026-02-30",
        "2026-4-1",
        20260401,
    ],
)
def test_a_bad_effective_date_is_refused_by_name(raw: Any) -> None:
    with pytest.raises(ValidationError, match=r"^effectiveDate"):
        policy_command({**POLICY, "effectiveDate": raw}).version(None)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("url", "https://[::1/policy"),
        ("url", 5),
        ("privacyPolicyVersion", "2025-09-26\n"),
        ("privacyPolicyVersion", ["2025-09-26"]),
        ("textSha256", "0" * 64 + "\n"),
    ],
)
def test_other_bad_policy_fields_are_refused_by_name(field: str, value: Any) -> None:
    payload = {**POLICY, "effectiveDate": "2026-04-01", field: value}
    if field == "textSha256":
        del payload["text"]
    with pytest.raises(ValidationError, match=f"^{field}"):
        policy_command(payload).version(None)


def test_a_bad_version_id_is_refused_by_name() -> None:
    with pytest.raises(ValidationError, match=r"^versionId"):
        policy_command({**POLICY, "versionId": "v1\n", "effectiveDate": "2026-04-01"}).version(None)


@pytest.mark.parametrize("field", ["until", "from"])
@pytest.mark.parametrize(
    "raw",
    [
        "0001-01-01T00:00:00+09:00",
        "9999-12-31T23:59:59-09:00",
        "9999-12-31T23:59:59+00:00",
        "2030-01-01T00:00:00+09:00\n",
        "２０３０-01-01T00:00:00+09:00",
        "2030-01-01",
        20300101,
        ["2030-01-01T00:00:00+09:00"],
    ],
)
def test_a_bad_service_time_is_refused_by_name(desk, field: str, raw: Any) -> None:
    payload: dict[str, Any] = {"state": "maintenance", "until": "2030-01-02T00:00:00+09:00"}
    with pytest.raises(ValidationError, match=f"^{field}"):
        api(desk).status.change({**payload, field: raw}, "A")


def test_a_planned_window_is_still_accepted(desk, clock) -> None:
    start = clock() + timedelta(days=1)
    api(desk).status.change(
        {
            "state": "maintenance",
            "from": start.isoformat(),
            "until": (start + timedelta(hours=2)).isoformat(),
        },
        "A",
    )
    assert len(api(desk).status.describe()["windows"]) == 1


@pytest.mark.parametrize(
    ("field", "value"),
    [("days", 10**5000), ("days", 1.5), ("perMinute", 10**5000), ("perDay", True)],
    ids=["huge-days", "fractional-days", "huge-perMinute", "boolean-perDay"],
)
def test_bad_restriction_numbers_are_refused_by_name(desk, field: str, value: Any) -> None:
    user_id = "U" + "0" * 32
    payload = {"mode": "lower_limit", "perMinute": 5, "perDay": 50, field: value}
    with pytest.raises(ValidationError, match=f"^{field}"):
        api(desk).moderation.restrict(user_id, "A", payload)


# -- the local host -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        ({"DESK_ENVIRONMENT": "Development"}, "true"),
        ({"AZURE_FUNCTIONS_ENVIRONMENT": "Development"}, "true"),
        ({"DESK_ENVIRONMENT": "Development", "WEBSITE_AUTH_ENABLED": "false"}, "false"),
        ({"DESK_ENVIRONMENT": "Development", "WEBSITE_AUTH_ENABLED": ""}, "true"),
        ({"DESK_ENVIRONMENT": "Production", "AZURE_FUNCTIONS_ENVIRONMENT": "Development"}, None),
        ({"AZURE_FUNCTIONS_ENVIRONMENT": "Production"}, None),
        ({}, None),
    ],
)
def test_the_local_host_plays_app_service_authentication_in_development_only(
    environ: dict[str, str], expected: str | None
) -> None:
    plays_app_service_authentication(environ)
    assert environ.get("WEBSITE_AUTH_ENABLED") == expected
