"""One frozen Settings object, built lazily from environment variables.

Nothing here runs at import time: the Functions host imports `function_app` before any
setting may be readable, and an import error would leave it with zero functions. A bad
setting is reported on the first invocation instead, as a `ConfigurationError` naming it.

Precedence is environment > `local.settings.json` > defaults. The Functions host (and the
devtools host) load `local.settings.json` into the environment, so this module only reads
the environment.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from shared.domain.hours import BusinessHours
from shared.errors import ConfigurationError

LOCAL_ENVIRONMENTS = frozenset({"development", "local"})

# Where the full operations policy is published. The prefecture's page address is set per
# deployment; this default only keeps local runs working.
DEFAULT_POLICY_URL = "https://www.pref.chiba.lg.jp/"
# Where users are sent once the desk has ended (§7); each deployment names its own.
DEFAULT_REFERRAL = "お困りのことがあれば、お近くのハローワークなどの相談窓口をご利用ください。"

# Values that mean "nobody filled this in". Accepted in local development only.
_PLACEHOLDER_PREFIXES = ("placeholder", "changeme", "local-dev", "<")

_DEV_SECRETS = {
    "LINE_CHANNEL_SECRET": "local-dev-channel-secret",
    "LINE_CHANNEL_ACCESS_TOKEN": "local-dev-access-token",
    "DESK_HASH_KEY": "local-dev-hash-key",
}


@dataclass(frozen=True)
class Settings:
    """Every setting the desk reads; see the README's settings table."""

    environment: str
    line_channel_secret: str
    line_channel_access_token: str
    line_api_base_url: str
    line_data_api_base_url: str
    line_timeout_seconds: float
    cosmos_endpoint: str | None
    cosmos_key: str | None
    cosmos_database: str
    cosmos_verify_tls: bool
    cosmos_partition_delete: bool
    sqlite_path: str
    hash_key: str
    event_ttl_seconds: int
    event_lease_seconds: int
    policy_url: str
    consent_prompt_interval_seconds: int
    business_hours: BusinessHours
    flood_per_minute: int
    flood_per_day: int
    flag_domains: tuple[str, ...]
    flag_words: tuple[str, ...]
    purge_grace_days: int
    status_cache_seconds: float
    stats_k: int
    require_app_roles: bool
    ended_referral: str
    purge_batch: int
    session_idle_days: int
    push_backoff_seconds: float
    wait_alert_minutes: int
    website_auth_enabled: bool

    @property
    def is_local(self) -> bool:
        """True in local development (placeholder secrets need the LINE simulator too)."""
        return self.environment.lower() in LOCAL_ENVIRONMENTS

    @property
    def store_kind(self) -> str:
        """`cosmos` when an endpoint is configured, otherwise the embedded `sqlite`."""
        return "cosmos" if self.cosmos_endpoint else "sqlite"


def _is_placeholder(value: str) -> bool:
    return not value.strip() or value.strip().lower().startswith(_PLACEHOLDER_PREFIXES)


def _is_loopback(url: str) -> bool:
    return urlsplit(url).hostname in {"localhost", "127.0.0.1", "::1"}


def _parse_bool(name: str, raw: str) -> bool:
    lowered = raw.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    raise ConfigurationError(f"{name} must be true or false")


def _parse_number(name: str, raw: str, *, minimum: float) -> float:
    try:
        value = float(raw)
    except ValueError:
        raise ConfigurationError(f"{name} must be a number") from None
    if value < minimum:
        raise ConfigurationError(f"{name} must be at least {minimum:g}")
    return value


def settings_from(env: Mapping[str, str]) -> Settings:
    """Build and validate Settings from a mapping of variables (the environment in production)."""

    def get(name: str, default: str = "") -> str:
        return env.get(name, default).strip()

    environment = get("DESK_ENVIRONMENT") or get("AZURE_FUNCTIONS_ENVIRONMENT") or "Production"
    line_api = get("LINE_API_BASE_URL", "https://api.line.me").rstrip("/")
    # Development secrets are public: they are tolerated only while LINE is simulated on this
    # machine, so a desk that talks to the real LINE can never run with a forgeable secret.
    simulated = environment.lower() in LOCAL_ENVIRONMENTS and _is_loopback(line_api)

    problems: list[str] = []
    secrets: dict[str, str] = {}
    for name, dev_value in _DEV_SECRETS.items():
        value = get(name)
        if simulated:
            secrets[name] = value or dev_value
        elif _is_placeholder(value):
            problems.append(f"{name} is missing or a placeholder")
        else:
            secrets[name] = value
    cosmos_endpoint = get("COSMOS_ENDPOINT") or None
    verify_tls = _parse_bool("COSMOS_VERIFY_TLS", get("COSMOS_VERIFY_TLS", "true"))
    if cosmos_endpoint and not verify_tls and not _is_loopback(cosmos_endpoint):
        problems.append("COSMOS_VERIFY_TLS=false is only for an emulator on this machine")
    if problems:
        raise ConfigurationError(
            "settings refused (placeholders are for local development against the LINE "
            "simulator only): " + "; ".join(problems)
        )

    return Settings(
        environment=environment,
        line_channel_secret=secrets["LINE_CHANNEL_SECRET"],
        line_channel_access_token=secrets["LINE_CHANNEL_ACCESS_TOKEN"],
        line_api_base_url=line_api,
        line_data_api_base_url=get("LINE_DATA_API_BASE_URL", "https://api-data.line.me").rstrip(
            "/"
        ),
        line_timeout_seconds=_parse_number(
            "LINE_TIMEOUT_SECONDS", get("LINE_TIMEOUT_SECONDS", "3"), minimum=0.1
        ),
        cosmos_endpoint=cosmos_endpoint,
        cosmos_key=get("COSMOS_KEY") or None,
        cosmos_database=get("COSMOS_DATABASE", "desk") or "desk",
        cosmos_verify_tls=verify_tls,
        cosmos_partition_delete=_parse_bool(
            "COSMOS_PARTITION_DELETE", get("COSMOS_PARTITION_DELETE", "false")
        ),
        sqlite_path=get("DESK_SQLITE_PATH", ".desk/desk.sqlite3") or ".desk/desk.sqlite3",
        hash_key=secrets["DESK_HASH_KEY"],
        event_ttl_seconds=int(
            _parse_number(
                "DESK_EVENT_TTL_SECONDS", get("DESK_EVENT_TTL_SECONDS", "604800"), minimum=60
            )
        ),
        event_lease_seconds=int(
            _parse_number(
                "DESK_EVENT_LEASE_SECONDS", get("DESK_EVENT_LEASE_SECONDS", "60"), minimum=0
            )
        ),
        policy_url=get("DESK_POLICY_URL", DEFAULT_POLICY_URL) or DEFAULT_POLICY_URL,
        consent_prompt_interval_seconds=int(
            _parse_number(
                "DESK_CONSENT_PROMPT_INTERVAL_SECONDS",
                get("DESK_CONSENT_PROMPT_INTERVAL_SECONDS", "300"),
                minimum=0,
            )
        ),
        business_hours=_business_hours(get),
        flood_per_minute=int(
            _parse_number("DESK_FLOOD_PER_MINUTE", get("DESK_FLOOD_PER_MINUTE", "20"), minimum=1)
        ),
        flood_per_day=int(
            _parse_number("DESK_FLOOD_PER_DAY", get("DESK_FLOOD_PER_DAY", "300"), minimum=1)
        ),
        flag_domains=_list(get("DESK_FLAG_DOMAINS")),
        flag_words=_list(get("DESK_FLAG_WORDS")),
        purge_grace_days=int(
            _parse_number("PURGE_GRACE_DAYS", get("PURGE_GRACE_DAYS", "30"), minimum=0)
        ),
        purge_batch=int(_parse_number("PURGE_BATCH", get("PURGE_BATCH", "200"), minimum=1)),
        status_cache_seconds=_parse_number(
            "DESK_STATUS_CACHE_SECONDS", get("DESK_STATUS_CACHE_SECONDS", "30"), minimum=0
        ),
        ended_referral=get("DESK_ENDED_REFERRAL", DEFAULT_REFERRAL) or DEFAULT_REFERRAL,
        stats_k=int(_parse_number("DESK_STATS_K", get("DESK_STATS_K", "10"), minimum=2)),
        require_app_roles=_parse_bool(
            "DESK_REQUIRE_APP_ROLES", get("DESK_REQUIRE_APP_ROLES", "false")
        ),
        session_idle_days=int(
            _parse_number("DESK_SESSION_IDLE_DAYS", get("DESK_SESSION_IDLE_DAYS", "14"), minimum=1)
        ),
        push_backoff_seconds=_parse_number(
            "LINE_PUSH_BACKOFF_SECONDS", get("LINE_PUSH_BACKOFF_SECONDS", "0.5"), minimum=0
        ),
        wait_alert_minutes=int(
            _parse_number(
                "DESK_WAIT_ALERT_MINUTES", get("DESK_WAIT_ALERT_MINUTES", "30"), minimum=1
            )
        ),
        # Set by App Service itself when its authentication is on: only then is a client's own
        # X-MS-CLIENT-PRINCIPAL header stripped, so only then does the console trust it.
        website_auth_enabled=_parse_bool(
            "WEBSITE_AUTH_ENABLED", get("WEBSITE_AUTH_ENABLED", "false") or "false"
        ),
    )


def _list(raw: str) -> tuple[str, ...]:
    return tuple(item.strip() for item in raw.split(",") if item.strip())


def _business_hours(get: Callable[[str, str], str]) -> BusinessHours:
    try:
        return BusinessHours.parse(
            get("DESK_BUSINESS_HOURS", "09:00-17:00"),
            get("DESK_BUSINESS_DAYS", "mon,tue,wed,thu,fri"),
            get("DESK_CLOSED_DATES", "12-29,12-30,12-31,01-01,01-02,01-03"),
            _parse_bool("DESK_CLOSED_ON_HOLIDAYS", get("DESK_CLOSED_ON_HOLIDAYS", "true")),
        )
    except ValueError as exc:
        raise ConfigurationError(
            f"DESK_BUSINESS_HOURS / DESK_BUSINESS_DAYS / DESK_CLOSED_DATES: {exc}"
        ) from None


_lock = threading.Lock()
_cached: Settings | None = None


def get_settings() -> Settings:
    """The process's Settings, read from the environment on first use."""
    global _cached  # noqa: PLW0603 -- one Settings per process is the point
    with _lock:
        if _cached is None:
            _cached = settings_from(os.environ)
        return _cached


def reset_settings() -> None:
    """Forget the cached Settings (tests and the devtools host change the environment)."""
    global _cached  # noqa: PLW0603
    with _lock:
        _cached = None
