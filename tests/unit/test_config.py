"""Settings: defaults, parsing, and refusal of placeholder secrets outside local development."""

from __future__ import annotations

import json

import pytest

from devtools.host import ROOT, load_local_settings
from shared.config import get_settings, settings_from
from shared.errors import ConfigurationError

PRODUCTION = {
    "AZURE_FUNCTIONS_ENVIRONMENT": "Production",
    "LINE_CHANNEL_SECRET": "a-real-looking-secret",
    "LINE_CHANNEL_ACCESS_TOKEN": "a-real-looking-token",
    "DESK_HASH_KEY": "a-real-looking-hash-key",
}


def test_production_settings_with_real_values_load_with_defaults() -> None:
    settings = settings_from(PRODUCTION)
    assert not settings.is_local
    assert settings.line_api_base_url == "https://api.line.me"
    assert settings.line_data_api_base_url == "https://api-data.line.me"
    assert settings.store_kind == "sqlite"
    assert settings.cosmos_verify_tls is True


@pytest.mark.parametrize(
    "name", ["LINE_CHANNEL_SECRET", "LINE_CHANNEL_ACCESS_TOKEN", "DESK_HASH_KEY"]
)
@pytest.mark.parametrize("value", ["", "placeholder", "local-dev-channel-secret", "<secret>"])
def test_production_refuses_missing_or_placeholder_secrets(name: str, value: str) -> None:
    with pytest.raises(ConfigurationError, match=name):
        settings_from({**PRODUCTION, name: value})


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
    assert settings.is_local
    assert settings.line_channel_secret == "local-dev-channel-secret"


def test_local_development_against_the_real_line_needs_real_secrets() -> None:
    with pytest.raises(ConfigurationError, match="LINE_CHANNEL_SECRET"):
        settings_from({"AZURE_FUNCTIONS_ENVIRONMENT": "Development"})


def test_desk_environment_wins_over_the_functions_environment() -> None:
    settings = settings_from({**PRODUCTION, **SIMULATED, "DESK_ENVIRONMENT": "Development"})
    assert settings.is_local
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


def test_the_sample_settings_name_every_contract_setting() -> None:
    values = json.loads((ROOT / "local.settings.sample.json").read_text("utf-8"))["Values"]
    for name in [
        "LINE_CHANNEL_SECRET",
        "LINE_CHANNEL_ACCESS_TOKEN",
        "LINE_API_BASE_URL",
        "LINE_DATA_API_BASE_URL",
        "COSMOS_ENDPOINT",
        "COSMOS_KEY",
        "COSMOS_DATABASE",
        "COSMOS_VERIFY_TLS",
        "DESK_SQLITE_PATH",
        "DESK_FUNCTION_KEY",
        "DESK_MASTER_KEY",
    ]:
        assert name in values
