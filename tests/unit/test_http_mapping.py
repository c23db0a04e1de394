"""Errors become HTTP in one place, with one JSON shape and no leaked details."""

from __future__ import annotations

import json

import azure.functions as func
import pytest

from shared import errors
from shared.entrypoints.http import error_response, respond
from shared.logsafe import describe

CASES = [
    (errors.SignatureError("x"), 401, "invalid_signature"),
    (errors.MalformedPayload("x"), 400, "malformed_payload"),
    (errors.PayloadTooLarge("x"), 413, "payload_too_large"),
    (errors.UnsupportedMediaType("x"), 415, "unsupported_media_type"),
    (errors.ValidationError("limit", "cursor"), 400, "invalid_request"),
    (errors.AuthorizationError(None, "role_needed", role="Desk.Expert"), 403, "forbidden"),
    (errors.NotFoundError("sessionId", "no_session"), 404, "not_found"),
    (errors.AlreadyExists(None, "store_exists"), 409, "conflict"),
    (errors.PreconditionFailed(None, "store_changed"), 409, "conflict"),
    (errors.ConfigurationError("x"), 500, "configuration"),
    (errors.StoreUnavailable("x"), 503, "unavailable"),
    (errors.LineApiError("x", http_status=500), 503, "unavailable"),
]


@pytest.mark.parametrize(("error", "status", "code"), CASES)
def test_each_error_has_its_status_and_code(
    error: errors.DeskError, status: int, code: str
) -> None:
    response = error_response(error)
    assert response.status_code == status
    body = json.loads(response.get_body())
    assert body["error"]["code"] == code
    # Client errors say what is wrong; server errors keep their details for the log.
    assert (body["error"]["message"] == error.message) is (status < 500)


def test_a_staff_error_is_japanese_and_names_its_field() -> None:
    body = json.loads(error_response(errors.ValidationError("cursor", "cursor")).get_body())
    assert body == {
        "error": {
            "code": "invalid_request",
            "message": "cursor：前のページの nextCursor を指定してください。",
            "field": "cursor",
        }
    }
    unfielded = json.loads(error_response(errors.ConflictError(None, "session_closed")).get_body())
    assert "field" not in unfielded["error"]


def test_the_webhook_refusals_stay_english() -> None:
    body = json.loads(error_response(errors.PayloadTooLarge("body too large")).get_body())
    assert body == {"error": {"code": "payload_too_large", "message": "body too large"}}


def test_a_staff_error_is_logged_by_key_and_field_without_its_parameters() -> None:
    error = errors.ConflictError(None, "claimed_by_other", holder="田中")
    assert "田中" in error.message  # staff are told who holds the session
    assert describe(error) == "ConflictError: claimed_by_other"
    assert describe(errors.ValidationError("limit", "cursor")) == (
        "ValidationError: cursor field=limit"
    )


def test_an_unexpected_exception_is_a_500_that_says_nothing_about_it() -> None:
    def fail() -> func.HttpResponse:
        raise KeyError("U0123456789abcdef")

    response = respond(fail)
    assert response.status_code == 500
    assert b"U0123" not in response.get_body()
