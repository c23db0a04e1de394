"""Errors become HTTP in one place, with one JSON shape and no leaked details."""

from __future__ import annotations

import json

import pytest

from shared import errors
from shared.entrypoints.http import error_response, respond

CASES = [
    (errors.SignatureError("x"), 401, "invalid_signature"),
    (errors.MalformedPayload("x"), 400, "malformed_payload"),
    (errors.PayloadTooLarge("x"), 413, "payload_too_large"),
    (errors.ValidationError("x"), 400, "invalid_request"),
    (errors.AuthorizationError("x"), 403, "forbidden"),
    (errors.NotFoundError("x"), 404, "not_found"),
    (errors.AlreadyExists("x"), 409, "conflict"),
    (errors.PreconditionFailed("x"), 409, "conflict"),
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
    assert (body["error"]["message"] == "x") is (status < 500)


def test_an_unexpected_exception_is_a_500_that_says_nothing_about_it() -> None:
    def fail() -> object:
        raise KeyError("U0123456789abcdef")

    response = respond(fail)  # type: ignore[arg-type]
    assert response.status_code == 500
    assert b"U0123" not in response.get_body()
