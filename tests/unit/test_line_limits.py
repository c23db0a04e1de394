"""LINE's limits as LINE counts them: texts, policy links, maintenance bounds, the bot's id."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from devtools.linesim import BOT_USER_ID, LineSimulator
from shared.adapters.line_messaging import LineApiClient
from shared.config import settings_from
from shared.domain.consent import PolicyVersion
from shared.domain.messages import (
    ConfirmMessage,
    PostbackButton,
    TextMessage,
    policy_url_problem,
    utf16_length,
)
from shared.entrypoints.views.admin import policy_command
from shared.errors import ConfigurationError, ValidationError
from shared.services.consent.policies import PolicyRegistry, load_shipped_policies
from shared.services.line.replies import Replies
from shared.texts.catalogue import load_catalogue
from tests.kit.admin_api import api
from tests.kit.fakes import FakeClock, MemoryStore

PRODUCTION = {
    "AZURE_FUNCTIONS_ENVIRONMENT": "Production",
    "LINE_CHANNEL_SECRET": "a-real-looking-secret",
    "LINE_CHANNEL_ACCESS_TOKEN": "a-real-looking-token",
    "DESK_HASH_KEY": "Dok1BrFsHKEQOJ-DvuXLtkSbGdx0GkFGejeyp63R_IE",
    "DESK_CONTACT": "テスト運営事務局（電話 043-000-0000）",
}


@pytest.mark.parametrize(
    ("text", "units"),
    [("", 0), ("abc", 3), ("あいう", 3), ("😀", 2), ("👨‍👩‍👧", 8), ("𠮷野家", 4), ("\ud800", 1)],
)
def test_utf16_length_counts_as_line_does(text: str, units: int) -> None:
    assert utf16_length(text) == units


def test_a_text_of_2501_emoji_is_over_lines_limit() -> None:
    TextMessage("😀" * 2500)
    with pytest.raises(ValueError, match="text"):
        TextMessage("😀" * 2501)


def test_labels_alt_texts_and_postback_data_count_utf16_units() -> None:
    with pytest.raises(ValueError, match="label"):
        PostbackButton("😀" * 11, "x")
    with pytest.raises(ValueError, match="postback"):
        PostbackButton("ok", "x" * 301)
    button = PostbackButton("😀" * 10, "x")
    with pytest.raises(ValueError, match="alt text"):
        ConfirmMessage("😀" * 201, "q", button, button)
    with pytest.raises(ValueError, match="confirm"):
        ConfirmMessage("alt", "😀" * 121, button, button)


@pytest.mark.parametrize(
    "url",
    [
        "http://policy.example/",
        "https:///no-host",
        "ftp://policy.example/",
        "https://policy.example/a b",
        "https://policy.example/\u3000",
        "https://policy.example/\u202e",
        "https://policy.example/\n",
        "https://[::1",
        "https://policy.example/" + "a" * 978,
    ],
)
def test_policy_urls_line_would_not_show_are_refused(url: str) -> None:
    assert policy_url_problem(url) is not None


def test_a_policy_url_of_1000_characters_is_accepted() -> None:
    assert policy_url_problem("https://policy.example/" + "a" * 977) is None


@pytest.fixture
def registry(clock: FakeClock) -> PolicyRegistry:
    replies = Replies(load_catalogue())
    return PolicyRegistry(
        MemoryStore(clock),
        load_shipped_policies("https://p.example/"),
        clock,
        check_messages=replies.check_policy_messages,
    )


def version(url: str, **extra: object) -> dict[str, object]:
    return {
        "versionId": "2030-04-01",
        "effectiveDate": "2030-04-01",
        "url": url,
        "text": "改定版",
        **extra,
    }


@pytest.mark.parametrize(
    "url", ["http://policy.example/", "https://policy.example/" + "a" * 6000, "https://x/\x00"]
)
def test_a_version_with_a_link_line_would_not_take_is_refused(registry, url) -> None:
    with pytest.raises(ValidationError, match=r"^url"):
        registry.register(policy_command(version(url)))
    assert registry.get("2030-04-01") is None


def test_a_version_whose_prompt_would_exceed_lines_limits_is_refused(clock) -> None:
    def too_long(policy: PolicyVersion, at: object) -> None:
        TextMessage("x" * 5001)

    registry = PolicyRegistry(MemoryStore(clock), [], clock, check_messages=too_long)
    with pytest.raises(ValidationError, match="同意確認メッセージが LINE の上限を超えます"):
        registry.register(
            policy_command(version("https://policy.example/", privacyPolicyVersion="1"))
        )


def test_every_message_carrying_a_version_is_built_to_check_it() -> None:
    replies = Replies(load_catalogue())
    fits = PolicyVersion(
        "v1", date(2030, 1, 1), "https://p.example/" + "a" * 982, "0" * 64, "1", False
    )
    replies.check_policy_messages(fits, FakeClock()())
    too_long = PolicyVersion(
        "v1", date(2030, 1, 1), "https://p.example/" + "a" * 6000, "0" * 64, "1", False
    )
    with pytest.raises(ValueError, match="text"):
        replies.check_policy_messages(too_long, FakeClock()())


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("DESK_POLICY_URL", "http://policy.example/"),
        ("DESK_POLICY_URL", "https://policy.example/" + "a" * 6000),
        ("DESK_POLICY_URL", "https://policy.example/a b"),
        ("LINE_BOT_USER_ID", "Ubot"),
        ("LINE_BOT_USER_ID", "U" + "F" * 32),
    ],
)
def test_settings_line_would_refuse_are_refused_by_name(name: str, value: str) -> None:
    with pytest.raises(ConfigurationError, match=name):
        settings_from({**PRODUCTION, name: value})


def test_the_bot_user_id_setting_is_optional() -> None:
    assert settings_from(PRODUCTION).line_bot_user_id is None
    assert settings_from({**PRODUCTION, "LINE_BOT_USER_ID": BOT_USER_ID}).line_bot_user_id == (
        BOT_USER_ID
    )


def test_the_bot_user_id_is_asked_of_line_once_per_process() -> None:
    sim = LineSimulator("secret", "token")
    sim.start()
    try:
        client = LineApiClient("token", sim.base_url, timeout_seconds=5)
        assert client.bot_user_id() == BOT_USER_ID
        assert client.bot_user_id() == BOT_USER_ID
        assert len(sim.calls_to("info")) == 1
    finally:
        sim.stop()


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"state": "maintenance", "until": 91}, "until"),
        ({"state": "maintenance", "from": 91, "until": 92}, "from"),
        ({"state": "maintenance", "from": 89, "until": 91}, "until"),
    ],
)
def test_maintenance_is_bounded_to_90_days_ahead(desk, clock, payload, field) -> None:
    now = clock()
    body = {
        k: (now + timedelta(days=v)).isoformat() if isinstance(v, int) else v
        for k, v in payload.items()
    }
    with pytest.raises(ValidationError, match=rf"^{field}：90日先まで"):
        api(desk).status.change(body, "A")
    assert api(desk).status.describe()["state"] == "open"


def test_maintenance_89_days_ahead_is_accepted(desk, clock) -> None:
    until = (clock() + timedelta(days=89)).isoformat()
    assert api(desk).status.change({"state": "maintenance", "until": until}, "A")["state"] == (
        "maintenance"
    )


@pytest.mark.parametrize("moment", ["0001-01-01T00:00:00+09:00", "9999-12-31T23:59:59-09:00"])
def test_a_time_no_clock_can_hold_is_refused_not_a_crash(desk, moment) -> None:
    with pytest.raises(ValidationError, match="until"):
        api(desk).status.change({"state": "maintenance", "until": moment}, "A")
