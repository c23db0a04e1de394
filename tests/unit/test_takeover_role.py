"""Only a principal holding Desk.Admin may take another expert's session over."""

from __future__ import annotations

import base64
import json

import azure.functions as func
import pytest

from shared.entrypoints.identity import holds_admin


@pytest.fixture(autouse=True)
def behind_app_service_authentication(monkeypatch: pytest.MonkeyPatch) -> None:
    """Principals are believed only where App Service authentication is on."""
    monkeypatch.setenv("DESK_ENVIRONMENT", "Development")
    monkeypatch.setenv("LINE_API_BASE_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("WEBSITE_AUTH_ENABLED", "true")


def request(principal: str | None) -> func.HttpRequest:
    headers = {"x-ms-client-principal": principal} if principal is not None else {}
    return func.HttpRequest("POST", "/api/admin/sessions/x/release", headers=headers, body=b"")


def principal(*roles: str) -> str:
    claims = [{"typ": "name", "val": "山田"}] + [{"typ": "roles", "val": r} for r in roles]
    data = {"name_typ": "name", "role_typ": "roles", "claims": claims}
    return base64.b64encode(json.dumps(data).encode()).decode()


@pytest.mark.parametrize(
    ("header", "admin"),
    [
        (None, False),  # a function key alone
        (principal("Desk.Expert"), False),
        (principal("Desk.Expert", "Desk.Admin"), True),
        (principal("Desk.Admin"), True),
        ("not base64 json", False),
    ],
)
def test_holds_admin(header: str | None, admin: bool) -> None:
    assert holds_admin(request(header)) is admin


def test_a_principal_where_authentication_is_off_never_holds_admin(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("WEBSITE_AUTH_ENABLED", "false")
    assert holds_admin(request(principal("Desk.Admin"))) is False
