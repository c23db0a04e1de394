"""Hostile and broken webhook requests: never accepted, never a crash, nothing stored."""

from __future__ import annotations

import base64
import json

import azure.functions as func
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from devtools.linesim import BOT_USER_ID, LineSimulator, sign
from shared.adapters.line_webhook import verify_signature
from shared.entrypoints.webhook import line_webhook
from shared.errors import SignatureError
from shared.wiring import reset_desk

SECRET = "hostile-secret"
SIM = LineSimulator(SECRET, "token")
BODY = json.dumps(
    {"destination": BOT_USER_ID, "events": [SIM.user("h").text_event("こんにちは")]},
    ensure_ascii=False,
).encode()
GOOD = sign(SECRET, BODY)


def flip(data: bytes, index: int, bit: int) -> bytes:
    i = index % len(data)
    return data[:i] + bytes([data[i] ^ (1 << bit)]) + data[i + 1 :]


@settings(max_examples=300, deadline=None)
@given(index=st.integers(0, 10_000), bit=st.integers(0, 7))
def test_a_flipped_bit_in_the_body_is_refused(index: int, bit: int) -> None:
    with pytest.raises(SignatureError):
        verify_signature(SECRET, flip(BODY, index, bit), GOOD)


@settings(max_examples=300, deadline=None)
@given(index=st.integers(0, 10_000), bit=st.integers(0, 7))
def test_a_flipped_bit_in_the_signature_is_refused(index: int, bit: int) -> None:
    mutated = flip(GOOD.encode(), index, bit).decode("latin-1")
    with pytest.raises(SignatureError):
        verify_signature(SECRET, BODY, mutated)


@given(cut=st.integers(1, len(BODY) - 1))
def test_a_truncated_body_is_refused(cut: int) -> None:
    with pytest.raises(SignatureError):
        verify_signature(SECRET, BODY[:cut], GOOD)


@given(cut=st.integers(0, len(GOOD) - 1))
def test_a_truncated_signature_is_refused(cut: int) -> None:
    with pytest.raises(SignatureError):
        verify_signature(SECRET, BODY, GOOD[:cut])


@pytest.mark.parametrize(
    "variant",
    [
        json.dumps(json.loads(BODY), ensure_ascii=True).encode(),  # \\u escapes
        json.dumps(json.loads(BODY), indent=2, ensure_ascii=False).encode(),
        json.dumps(json.loads(BODY), ensure_ascii=False, separators=(",", ":")).encode(),
        BODY.decode().encode("utf-16"),
        BODY + b"\n",
    ],
    ids=["ascii-escapes", "indented", "compact", "utf-16", "trailing-newline"],
)
def test_a_re_encoded_body_is_refused(variant: bytes) -> None:
    assert variant != BODY
    with pytest.raises(SignatureError):
        verify_signature(SECRET, variant, GOOD)


@pytest.mark.parametrize(
    "signature",
    [
        GOOD.lower(),
        GOOD.upper(),
        f" {GOOD}",
        f"{GOOD} ",
        GOOD.replace("=", ""),
        GOOD + "=",
        base64.urlsafe_b64encode(base64.b64decode(GOOD)).decode() + "x",
        sign("another-secret", BODY),
        sign(SECRET.upper(), BODY),
        sign(SECRET + " ", BODY),
    ],
    ids=[
        "lower",
        "upper",
        "leading-space",
        "trailing-space",
        "unpadded",
        "overpadded",
        "urlsafe",
        "other-secret",
        "secret-case",
        "secret-space",
    ],
)
def test_a_mangled_signature_or_another_secret_is_refused(signature: str) -> None:
    if signature == GOOD:
        pytest.skip("this mutation leaves the signature unchanged for this body")
    with pytest.raises(SignatureError):
        verify_signature(SECRET, BODY, signature)


@pytest.fixture
def desk_env(monkeypatch: pytest.MonkeyPatch, tmp_path):
    monkeypatch.setenv("DESK_ENVIRONMENT", "Development")
    monkeypatch.setenv("LINE_CHANNEL_SECRET", SECRET)
    monkeypatch.setenv("LINE_API_BASE_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("DESK_SQLITE_PATH", str(tmp_path / "desk.sqlite3"))
    monkeypatch.setenv("COSMOS_ENDPOINT", "")
    reset_desk()
    yield tmp_path / "desk.sqlite3"
    reset_desk()


def post(body: bytes, content_type: str = "application/json", signature: str | None = None):
    headers = {
        "content-type": content_type,
        "x-line-signature": sign(SECRET, body) if signature is None else signature,
    }
    return line_webhook(
        func.HttpRequest("POST", "http://h/api/line/webhook", headers=headers, body=body)
    )


@pytest.mark.parametrize(
    ("body", "content_type", "status"),
    [
        (b'{"events": []}' + b" " * 1_000_001, "application/json", 413),
        (("[" * 200_000 + "]" * 200_000).encode(), "application/json", 400),
        (b'{"events": ' + b'{"a":' * 5000 + b"1" + b"}" * 5000 + b"}", "application/json", 400),
        (b'{"events": []}', "text/plain", 415),
        (b'{"events": []}', "application/x-www-form-urlencoded", 415),
        (b'{"events": []}', "", 415),
        ('{"events": ["ありがとう"]}'.encode("shift_jis"), "application/json", 400),
        (b"\xff\xfe\xfd", "application/json", 400),
        (b"", "application/json", 400),
    ],
    ids=[
        "over-1MB",
        "deep-array",
        "deep-object",
        "text-plain",
        "form",
        "no-type",
        "shift-jis",
        "not-utf8",
        "empty",
    ],
)
def test_broken_bodies_get_a_4xx_and_nothing_is_stored(desk_env, body, content_type, status):
    response = post(body, content_type)
    assert response.status_code == status
    assert json.loads(response.get_body())["error"]["code"]
    assert not desk_env.exists() or b"events" not in desk_env.read_bytes()
