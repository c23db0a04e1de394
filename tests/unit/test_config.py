"""Settings: defaults, parsing, and refusal of placeholder secrets outside local development."""

from __future__ import annotations

import base64
import json
import os
import re
import secrets

import pytest

from devtools.host import ROOT, load_local_settings
from shared.config import SETTINGS, Kind, Settings, get_settings, parse, settings_from
from shared.errors import ConfigurationError

PRODUCTION = {
    "AZURE_FUNCTIONS_ENVIRONMENT": "Production",
    "LINE_CHANNEL_SECRET": "a-real-looking-secret",
    "LINE_CHANNEL_ACCESS_TOKEN": "a-real-looking-token",
    "DESK_HASH_KEY": "Dok1BrFsHKEQOJ-DvuXLtkSbGdx0GkFGejeyp63R_IE",
    "DESK_CONTACT": "テスト運営事務局（電話 043-000-0000）",
}


def test_production_settings_with_real_values_load_with_defaults() -> None:
    settings = settings_from(PRODUCTION)
    assert settings.line_api_base_url == "https://api.line.me"
    assert settings.store_kind == "sqlite"
    assert settings.cosmos_verify_tls is True


@pytest.mark.parametrize(
    "name", ["LINE_CHANNEL_SECRET", "LINE_CHANNEL_ACCESS_TOKEN", "DESK_HASH_KEY"]
)
@pytest.mark.parametrize("value", ["", "placeholder", "local-dev-channel-secret", "<secret>"])
def test_production_refuses_missing_or_placeholder_secrets(name: str, value: str) -> None:
    with pytest.raises(ConfigurationError, match=name):
        settings_from({**PRODUCTION, name: value})


@pytest.mark.parametrize(
    "weak",
    [
        "a",  # accepted in Production before issue 22
        "a-real-looking-hash-key",
        "0123456789abcdef" * 3,  # 48 hex digits: 192 bits
        "ab" * 40,  # long, but two characters
        secrets.token_urlsafe(24),  # 192 bits
    ],
)
def test_production_refuses_a_hash_key_without_32_bytes_of_randomness(weak: str) -> None:
    with pytest.raises(ConfigurationError, match="DESK_HASH_KEY") as refused:
        settings_from({**PRODUCTION, "DESK_HASH_KEY": weak})
    assert len(weak) < 2 or weak not in str(refused.value)
    assert "secrets.token_urlsafe(32)" in str(refused.value)  # how to make one


@pytest.mark.parametrize(
    "strong",
    [secrets.token_urlsafe(32), secrets.token_hex(32), base64.b64encode(os.urandom(32)).decode()],
)
def test_production_takes_a_generated_hash_key(strong: str) -> None:
    assert settings_from({**PRODUCTION, "DESK_HASH_KEY": strong}).hash_key == strong


def test_local_development_keeps_its_short_hash_key() -> None:
    assert settings_from({**SIMULATED, "DESK_HASH_KEY": "a"}).hash_key == "a"


def test_the_refusal_names_settings_but_never_their_values() -> None:
    with pytest.raises(ConfigurationError) as refused:
        settings_from({**PRODUCTION, "LINE_CHANNEL_SECRET": "placeholder-123"})
    assert "placeholder-123" not in str(refused.value)


SIMULATED = {
    "AZURE_FUNCTIONS_ENVIRONMENT": "Development",
    "LINE_API_BASE_URL": "http://127.0.0.1:7072",
}


def test_local_development_against_the_simulator_fills_in_development_secrets() -> None:
    settings = settings_from(SIMULATED)
    assert settings.line_channel_secret == "local-dev-channel-secret"


def test_local_development_against_the_real_line_needs_real_secrets() -> None:
    with pytest.raises(ConfigurationError, match="LINE_CHANNEL_SECRET"):
        settings_from({"AZURE_FUNCTIONS_ENVIRONMENT": "Development"})


def test_desk_environment_wins_over_the_functions_environment() -> None:
    settings = settings_from({**PRODUCTION, **SIMULATED, "DESK_ENVIRONMENT": "Development"})
    assert settings.line_channel_secret == "a-real-looking-secret"


def test_cosmos_is_chosen_when_an_endpoint_is_set() -> None:
    settings = settings_from({**PRODUCTION, "COSMOS_ENDPOINT": "https://x.documents.azure.com"})
    assert settings.store_kind == "cosmos"
    assert settings.cosmos_verify_tls is True


def test_tls_verification_may_be_off_only_for_an_emulator_on_this_machine() -> None:
    off = {"COSMOS_VERIFY_TLS": "false"}
    emulator = settings_from({**PRODUCTION, **off, "COSMOS_ENDPOINT": "https://localhost:8081"})
    assert emulator.cosmos_verify_tls is False
    with pytest.raises(ConfigurationError, match="COSMOS_VERIFY_TLS"):
        settings_from({**PRODUCTION, **off, "COSMOS_ENDPOINT": "https://x.documents.azure.com"})


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("COSMOS_VERIFY_TLS", "maybe"),
        ("LINE_TIMEOUT_SECONDS", "soon"),
        ("LINE_TIMEOUT_SECONDS", "0"),
    ],
)
def test_malformed_values_are_refused_by_name(name: str, value: str) -> None:
    with pytest.raises(ConfigurationError, match=name):
        settings_from({**PRODUCTION, name: value})


def test_settings_are_read_lazily_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DESK_ENVIRONMENT", "Development")
    monkeypatch.setenv("LINE_API_BASE_URL", "http://127.0.0.1:9/")
    assert get_settings().line_api_base_url == "http://127.0.0.1:9"


def test_environment_wins_over_local_settings_json(tmp_path) -> None:
    (tmp_path / "local.settings.json").write_text(
        json.dumps({"Values": {"A": "from-file", "B": "from-file"}}), "utf-8"
    )
    environ = {"A": "from-env"}
    assert load_local_settings(tmp_path, environ) == tmp_path / "local.settings.json"
    assert environ == {"A": "from-env", "B": "from-file"}


# Keys of the Functions host itself (or of the local host), not of the desk: they belong in the
# sample and the README's table, but the desk does not read them.
HOST_KEYS = {
    "FUNCTIONS_WORKER_RUNTIME",
    "AzureWebJobsStorage",
    "AzureWebJobsFeatureFlags",
    "AZURE_FUNCTIONS_ENVIRONMENT",
    "DESK_FUNCTION_KEY",
    "DESK_MASTER_KEY",
    "WEBSITE_TIME_ZONE",
    "TZ",
}
# Host keys the README need not document (the sample sets them for Core Tools).
CORE_TOOLS_KEYS = {"FUNCTIONS_WORKER_RUNTIME", "AzureWebJobsStorage", "AzureWebJobsFeatureFlags"}
# Host keys the sample leaves to the machine (time zone).
MACHINE_KEYS = {"WEBSITE_TIME_ZONE", "TZ"}
DECLARED = {setting.name for setting in SETTINGS}


def _readme_settings() -> set[str]:
    text = (ROOT / "README.md").read_text("utf-8")
    table = text.split("## Settings", 1)[1].split("\n## ", 1)[0]
    names: set[str] = set()
    for line in table.splitlines():
        if line.startswith("| `"):
            names.update(re.findall(r"`([A-Za-z_][A-Za-z0-9_]*)`", line.split("|")[1]))
    return names


def test_the_readme_documents_exactly_the_declared_settings() -> None:
    assert _readme_settings() == DECLARED | (HOST_KEYS - CORE_TOOLS_KEYS)


def test_the_sample_lists_exactly_the_declared_settings() -> None:
    values = json.loads((ROOT / "local.settings.sample.json").read_text("utf-8"))["Values"]
    assert set(values) == DECLARED | (HOST_KEYS - MACHINE_KEYS)


def test_every_declared_default_is_valid() -> None:
    for setting in SETTINGS:
        if setting.kind is not Kind.SECRET:
            parse(setting, "")


def test_every_settings_attribute_is_declared_once() -> None:
    fields = [s.field for s in SETTINGS if s.field is not None]
    assert len(fields) == len(set(fields))
    derived = {"environment", "business_hours"}
    assert set(fields) | derived == set(Settings.__dataclass_fields__)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("DESK_FLOOD_PER_MINUTE", "2.9"),
        ("DESK_FLOOD_PER_MINUTE", "1e3"),
        ("DESK_FLOOD_PER_DAY", "²"),
        ("DESK_FLOOD_PER_DAY", "1" * 5000),
        ("PURGE_BATCH", "-7"),
        ("DESK_STATS_K", "1_0"),
        ("DESK_SESSION_IDLE_DAYS", "14 days"),
        ("LINE_TIMEOUT_SECONDS", "nan"),
        ("LINE_TIMEOUT_SECONDS", "inf"),
        ("DESK_CLOSED_ON_HOLIDAYS", "maybe"),
        ("DESK_BUSINESS_HOURS", "17:00-09:00"),
        ("DESK_CLOSED_DATES", "13-45"),
    ],
)
def test_a_bad_value_is_refused_with_its_name_and_without_its_value(name: str, value: str) -> None:
    with pytest.raises(ConfigurationError) as refused:
        settings_from({**PRODUCTION, name: value})
    assert name in refused.value.settings
    assert name in refused.value.message
    assert value not in refused.value.message


def test_a_whole_number_is_not_truncated() -> None:
    assert settings_from({**PRODUCTION, "DESK_FLOOD_PER_MINUTE": " 7 "}).flood_per_minute == 7


def test_every_problem_is_reported_at_once() -> None:
    with pytest.raises(ConfigurationError) as refused:
        settings_from(
            {
                **PRODUCTION,
                "LINE_CHANNEL_SECRET": "placeholder",
                "DESK_FLOOD_PER_MINUTE": "2.9",
                "PURGE_GRACE_DAYS": "-1",
            }
        )
    assert set(refused.value.settings) == {
        "LINE_CHANNEL_SECRET",
        "DESK_FLOOD_PER_MINUTE",
        "PURGE_GRACE_DAYS",
    }
    for name in refused.value.settings:
        assert name in refused.value.message
