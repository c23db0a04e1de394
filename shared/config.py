"""Every setting the desk reads, declared once; one frozen Settings object, built lazily.

`SETTINGS` is the table: one `Setting` per environment variable, with its type, default,
meaning and bounds. The README's settings table and `local.settings.sample.json` list exactly
these names (a test checks it), so a new setting is added here first.

Nothing here runs at import time: the Functions host imports `function_app` before any
setting may be readable, and an import error would leave it with zero functions. A bad
setting is reported on the first invocation instead, as one `ConfigurationError` that names
every bad setting (never its value) and lists all the problems at once.

Precedence is environment > `local.settings.json` > defaults. The Functions host (and the
devtools host) load `local.settings.json` into the environment, so this module only reads
the environment.
"""

from __future__ import annotations

import math
import os
import re
import string
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, assert_never
from urllib.parse import urlsplit

from shared.domain.events import is_line_user_id
from shared.domain.hours import BusinessHours
from shared.domain.messages import policy_url_problem
from shared.errors import ConfigurationError

LOCAL_ENVIRONMENTS = frozenset({"development", "local"})

# Where the full operations policy is published. The prefecture's page address is set per
# deployment; this default only keeps local runs working.
DEFAULT_POLICY_URL = "https://www.pref.chiba.lg.jp/"
# Where users are sent once the desk has ended (§7); each deployment names its own.
DEFAULT_REFERRAL = "お困りのことがあれば、お近くのハローワークなどの相談窓口をご利用ください。"

# The app roles of the admin API (see shared/entrypoints/identity.py).
APP_ROLES = ("Desk.Expert", "Desk.Admin")

# How users reach the operator by post or phone; each deployment names its own.
DEFAULT_CONTACT = "みらいキャリアポート運営事務局（千葉県公式サイトの窓口案内をご覧ください）"

# Values that mean "nobody filled this in". Accepted in local development only.
_PLACEHOLDER_PREFIXES = ("placeholder", "changeme", "local-dev", "<")


class Kind(StrEnum):
    """How a setting's text is read."""

    TEXT = "text"  # as given (stripped); empty means the default
    OPTIONAL = "optional"  # empty means None
    SECRET = "secret"  # noqa: S105 -- a kind of setting, not a password; required outside local development against the simulator
    URL = "url"  # without a trailing slash
    INT = "int"  # a whole number (no fraction, no exponent), within the bounds
    FLOAT = "float"  # a finite decimal number, within the bounds
    BOOL = "bool"  # true/false, 1/0, yes/no, on/off
    LIST = "list"  # comma-separated, blanks dropped
    SCHEDULE = "schedule"  # NCRONTAB read by the Functions host through %NAME% bindings


@dataclass(frozen=True)
class Setting:
    """One environment variable the desk (or its Functions host bindings) reads."""

    name: str
    kind: Kind
    default: str
    meaning: str
    # The Settings attribute it fills; None for settings combined into another value or read
    # only by the Functions host (timer schedules).
    field: str | None
    minimum: float | None = None
    maximum: float | None = None
    # The value local development uses when it talks to the LINE simulator (secrets only).
    development: str = ""


_DAY = 86_400

SETTINGS: tuple[Setting, ...] = (
    Setting(
        "DESK_ENVIRONMENT",
        Kind.TEXT,
        "",
        "`Development` tolerates placeholder secrets, but only while `LINE_API_BASE_URL` is on "
        "this machine (the simulator); empty: `AZURE_FUNCTIONS_ENVIRONMENT`, else `Production`",
        None,
    ),
    Setting(
        "LINE_CHANNEL_SECRET",
        Kind.SECRET,
        "",
        "signs webhooks; a Key Vault reference in Azure",
        "line_channel_secret",
        development="local-dev-channel-secret",
    ),
    Setting(
        "LINE_CHANNEL_ACCESS_TOKEN",
        Kind.SECRET,
        "",
        "bearer token for the Messaging API",
        "line_channel_access_token",
        development="local-dev-access-token",
    ),
    Setting(
        "LINE_API_BASE_URL",
        Kind.URL,
        "https://api.line.me",
        "Messaging API base (the simulator locally)",
        "line_api_base_url",
    ),
    Setting(
        "LINE_TIMEOUT_SECONDS",
        Kind.FLOAT,
        "3",
        "timeout of one LINE call (a webhook may make two: reply, then push)",
        "line_timeout_seconds",
        minimum=0.1,
        maximum=60,
    ),
    Setting(
        "LINE_BOT_USER_ID",
        Kind.OPTIONAL,
        "",
        "the channel's bot user id (`U` + 32 hex): webhook calls whose `destination` names "
        "another bot are skipped; empty: asked of LINE (`GET /v2/bot/info`) once per process",
        "line_bot_user_id",
    ),
    Setting(
        "LINE_PUSH_BACKOFF_SECONDS",
        Kind.FLOAT,
        "0.5",
        "first backoff of a retried push (doubling, 4 attempts, 8 s at most)",
        "push_backoff_seconds",
        minimum=0,
        maximum=8,
    ),
    Setting(
        "COSMOS_ENDPOINT",
        Kind.OPTIONAL,
        "",
        "Cosmos DB account endpoint; empty: the embedded SQLite store",
        "cosmos_endpoint",
    ),
    Setting(
        "COSMOS_KEY",
        Kind.OPTIONAL,
        "",
        "account key, for emulators and tests only; empty: managed identity",
        "cosmos_key",
    ),
    Setting("COSMOS_DATABASE", Kind.TEXT, "desk", "database name", "cosmos_database"),
    Setting(
        "COSMOS_VERIFY_TLS",
        Kind.BOOL,
        "true",
        "`false` only for a local emulator's self-signed certificate",
        "cosmos_verify_tls",
    ),
    Setting(
        "COSMOS_PARTITION_DELETE",
        Kind.BOOL,
        "false",
        "use `delete_all_items_by_partition_key` for erasure (accounts with the feature)",
        "cosmos_partition_delete",
    ),
    Setting(
        "DESK_SQLITE_PATH",
        Kind.TEXT,
        ".desk/desk.sqlite3",
        "the embedded store's file",
        "sqlite_path",
    ),
    Setting(
        "DESK_HASH_KEY",
        Kind.SECRET,
        "",
        "key of the pseudonyms in logs and audit records",
        "hash_key",
        development="local-dev-hash-key",
    ),
    Setting(
        "DESK_EVENT_TTL_SECONDS",
        Kind.INT,
        "604800",
        "how long event receipts (deduplication) and erasure tombstones are kept; older "
        "events change nothing",
        "event_ttl_seconds",
        minimum=60,
        maximum=365 * _DAY,
    ),
    Setting(
        "DESK_EVENT_LEASE_SECONDS",
        Kind.INT,
        "60",
        "how long an event being handled is leased before a redelivery may take it over",
        "event_lease_seconds",
        minimum=0,
        maximum=3_600,
    ),
    Setting(
        "DESK_POLICY_URL",
        Kind.TEXT,
        DEFAULT_POLICY_URL,
        "where the full operations policy is published (shipped versions): `https`, no "
        "whitespace or control characters, at most 1,000 characters",
        "policy_url",
    ),
    Setting(
        "DESK_CONSENT_PROMPT_INTERVAL_SECONDS",
        Kind.INT,
        "300",
        "the consent prompt is repeated at most this often",
        "consent_prompt_interval_seconds",
        minimum=0,
        maximum=_DAY,
    ),
    Setting(
        "DESK_BUSINESS_HOURS",
        Kind.TEXT,
        "09:00-17:00",
        "when experts answer (Japan time)",
        None,
    ),
    Setting("DESK_BUSINESS_DAYS", Kind.TEXT, "mon,tue,wed,thu,fri", "the days they do", None),
    Setting(
        "DESK_CLOSED_DATES",
        Kind.TEXT,
        "12-29,12-30,12-31,01-01,01-02,01-03",
        "closed dates: `MM-DD` every year or `YYYY-MM-DD` once",
        None,
    ),
    Setting(
        "DESK_CLOSED_ON_HOLIDAYS",
        Kind.BOOL,
        "true",
        "closed on Japanese public holidays",
        None,
    ),
    Setting(
        "DESK_SESSION_IDLE_DAYS",
        Kind.INT,
        "14",
        "days without user activity after which a session closes itself",
        "session_idle_days",
        minimum=1,
        maximum=365,
    ),
    Setting(
        "DESK_FOLLOWUP_HOURS",
        Kind.INT,
        "72",
        "hours during which an expert may still answer (by push) the last question of a user "
        "who ended the session with it unanswered",
        "followup_hours",
        minimum=0,
        maximum=8760,
    ),
    Setting(
        "PURGE_GRACE_DAYS",
        Kind.INT,
        "30",
        "days between a suspension and the erasure of the user's data (0: the next run)",
        "purge_grace_days",
        minimum=0,
        maximum=3_650,
    ),
    Setting(
        "PURGE_BATCH",
        Kind.INT,
        "200",
        "users erased at most per purge run",
        "purge_batch",
        minimum=1,
        maximum=100_000,
    ),
    Setting(
        "DESK_AUDIT_RETENTION_DAYS",
        Kind.INT,
        "1825",
        "days an audit record is kept in the store (its copy in the log stream is kept as Log "
        "Analytics keeps logs)",
        "audit_retention_days",
        minimum=30,
        maximum=36_500,
    ),
    Setting(
        "DESK_RETENTION_DAYS",
        Kind.INT,
        "365",
        "days after a session closes until the text of its messages and notes is erased "
        "(0: the next retention run)",
        "retention_days",
        minimum=0,
        maximum=36_500,
    ),
    Setting(
        "DESK_INACTIVE_USER_DAYS",
        Kind.INT,
        "730",
        "days without activity after which a user is erased entirely (as on request)",
        "inactive_user_days",
        minimum=1,
        maximum=36_500,
    ),
    Setting(
        "RETENTION_BATCH",
        Kind.INT,
        "500",
        "sessions, and users, the retention timer handles at most per run",
        "retention_batch",
        minimum=1,
        maximum=100_000,
    ),
    Setting(
        "DESK_CONTACT",
        Kind.TEXT,
        DEFAULT_CONTACT,
        "how users reach the operator (post, phone): told to users who ask for their data",
        "contact",
    ),
    Setting(
        "DESK_FLOOD_PER_MINUTE",
        Kind.INT,
        "20",
        "messages a user may send in a minute before the flood notice",
        "flood_per_minute",
        minimum=1,
        maximum=1_000_000_000,
    ),
    Setting(
        "DESK_FLOOD_PER_DAY",
        Kind.INT,
        "300",
        "messages a user may send in a day before the flood notice",
        "flood_per_day",
        minimum=1,
        maximum=1_000_000_000,
    ),
    Setting(
        "DESK_FLAG_DOMAINS",
        Kind.LIST,
        "",
        "comma-separated domains whose links raise a §8(3) flag",
        "flag_domains",
    ),
    Setting(
        "DESK_FLAG_WORDS",
        Kind.LIST,
        "",
        "comma-separated words that raise a flag, besides `shared/data/screening.json`",
        "flag_words",
    ),
    Setting(
        "DESK_STATUS_CACHE_SECONDS",
        Kind.FLOAT,
        "1",
        "how long an instance keeps the service status, closed days and policy versions; an "
        "operator's change to them is answered this long plus the webhook budget later, once "
        "every instance acts on it (0: no cache, for a single instance)",
        "status_cache_seconds",
        minimum=0,
        maximum=60,
    ),
    Setting(
        "DESK_WEBHOOK_BUDGET_MS",
        Kind.INT,
        "1500",
        "the time a webhook call may take: store and LINE calls are cut to fit, and what does "
        "not fit is answered 503 for LINE to redeliver",
        "webhook_budget_ms",
        minimum=200,
        maximum=10_000,
    ),
    Setting(
        "DESK_ADMIN_BUDGET_MS",
        Kind.INT,
        "5000",
        "the time an admin API or console call may take before it is answered 503",
        "admin_budget_ms",
        minimum=500,
        maximum=60_000,
    ),
    Setting(
        "DESK_ENDED_REFERRAL",
        Kind.TEXT,
        DEFAULT_REFERRAL,
        "where users are sent once the desk has ended",
        "ended_referral",
    ),
    Setting(
        "DESK_PRIVACY_URL",
        Kind.TEXT,
        "https://www.pref.chiba.lg.jp/",
        "the privacy policy's page, linked from the consent summary",
        "privacy_url",
    ),
    Setting(
        "DESK_ALERT_WEBHOOK_URL",
        Kind.OPTIONAL,
        "",
        "an HTTPS incoming webhook (Teams, a mail flow) that a crisis case is announced to, "
        "with its 受付番号 and reason only; a secret: empty sends nothing",
        "alert_webhook_url",
    ),
    Setting(
        "DESK_STATS_K",
        Kind.INT,
        "10",
        "the smallest count statistics show",
        "stats_k",
        minimum=2,
        maximum=1_000,
    ),
    Setting(
        "DESK_REQUIRE_APP_ROLES",
        Kind.BOOL,
        "true",
        "every admin caller needs an app role (a principal's, or `DESK_KEY_CALLER_ROLE` for "
        "the function key alone); empty in local development means `false`, and `false` is "
        "refused outside it",
        "require_app_roles",
    ),
    Setting(
        "DESK_KEY_CALLER_ROLE",
        Kind.OPTIONAL,
        "",
        "the app role a caller with only the function key holds while roles are required: "
        "empty (none: refused), `Desk.Expert` or `Desk.Admin`",
        "key_caller_role",
    ),
    Setting(
        "WEBSITE_AUTH_ENABLED",
        Kind.BOOL,
        "false",
        "set by App Service: `true` when its authentication is on, and only then is "
        "`X-MS-CLIENT-PRINCIPAL` believed (the local host sets it in development); never set "
        "it yourself in Azure",
        "app_service_auth",
    ),
    Setting(
        "APPLICATIONINSIGHTS_CONNECTION_STRING",
        Kind.OPTIONAL,
        "",
        "Application Insights; empty: no telemetry (nothing loaded). Set by the Bicep in Azure; "
        "read on first use by shared/adapters/telemetry.py",
        None,
    ),
    Setting(
        "APPLICATIONINSIGHTS_AUTHENTICATION_STRING",
        Kind.OPTIONAL,
        "",
        "`ClientId=<identity client id>;Authorization=AAD`: send telemetry with the managed "
        "identity (local auth is off in Azure)",
        None,
    ),
    Setting(
        "DESK_WAIT_ALERT_MINUTES",
        Kind.INT,
        "30",
        "business minutes after which a waiting row in the experts' console turns red (超過)",
        "wait_alert_minutes",
        minimum=1,
        maximum=10_000,
    ),
    Setting(
        "DESK_EXPERT_MAX_OPEN",
        Kind.INT,
        "5",
        "open sessions one expert may hold: a claim beyond it is refused with the reason "
        "(a Desk.Admin's takeover and reassignment are not limited)",
        "expert_max_open",
        minimum=1,
        maximum=1_000,
    ),
    Setting(
        "DESK_ESCALATION_ALERT_MINUTES",
        Kind.INT,
        "15",
        "minutes after which an expert's 「SVに相談」 still open is highlighted on the "
        "supervisor's board",
        "escalation_alert_minutes",
        minimum=1,
        maximum=10_000,
    ),
    Setting(
        "HOUSEKEEPING_SCHEDULE",
        Kind.SCHEDULE,
        "0 17 * * * *",
        "NCRONTAB of the housekeeping timer; a required app setting",
        None,
    ),
    Setting(
        "SESSION_SWEEP_SCHEDULE",
        Kind.SCHEDULE,
        "0 5 * * * *",
        "NCRONTAB of the idle-session sweep; a required app setting",
        None,
    ),
    Setting(
        "PURGE_SCHEDULE",
        Kind.SCHEDULE,
        "0 0 18 * * *",
        "NCRONTAB of the purge timer (03:00 Japan time); a required app setting",
        None,
    ),
    Setting(
        "RETENTION_SCHEDULE",
        Kind.SCHEDULE,
        "0 0 19 * * *",
        "NCRONTAB of the retention timer `purge_expired` (04:00 Japan time); a required app "
        "setting",
        None,
    ),
)


@dataclass(frozen=True)
class Settings:
    """Every setting the desk reads; see `SETTINGS` and the README's settings table."""

    environment: str
    line_channel_secret: str
    line_channel_access_token: str
    line_api_base_url: str
    line_timeout_seconds: float
    line_bot_user_id: str | None
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
    audit_retention_days: int
    webhook_budget_ms: int
    admin_budget_ms: int
    stats_k: int
    require_app_roles: bool
    key_caller_role: str | None
    app_service_auth: bool
    ended_referral: str
    privacy_url: str
    purge_batch: int
    session_idle_days: int
    push_backoff_seconds: float
    wait_alert_minutes: int
    expert_max_open: int
    escalation_alert_minutes: int
    followup_hours: int
    retention_days: int
    inactive_user_days: int
    retention_batch: int
    contact: str
    alert_webhook_url: str | None

    @property
    def store_kind(self) -> str:
        """`cosmos` when an endpoint is configured, otherwise the embedded `sqlite`."""
        return "cosmos" if self.cosmos_endpoint else "sqlite"


class _Refused(Exception):
    """One setting's problem (the message names the setting, never its value)."""


def _is_placeholder(value: str) -> bool:
    return not value or value.lower().startswith(_PLACEHOLDER_PREFIXES)


def _is_loopback(url: str) -> bool:
    return urlsplit(url).hostname in {"localhost", "127.0.0.1", "::1"}


_INTEGER = re.compile(r"[+-]?[0-9]{1,18}")
_DECIMAL = re.compile(r"[+-]?(?:[0-9]{1,18}(?:\.[0-9]{0,18})?|\.[0-9]{1,18})")
_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off"})


def _bounds(setting: Setting, value: float) -> None:
    low, high = setting.minimum, setting.maximum
    if (low is not None and value < low) or (high is not None and value > high):
        if high is None:
            raise _Refused(f"{setting.name} must be at least {low:g}")
        if low is None:
            raise _Refused(f"{setting.name} must be at most {high:g}")
        raise _Refused(f"{setting.name} must be from {low:g} to {high:g}")


def parse(setting: Setting, raw: str) -> Any:
    """The typed value of `raw` (already stripped; empty means the default)."""
    text = raw or setting.default
    value: Any
    match setting.kind:
        case Kind.TEXT | Kind.SECRET | Kind.SCHEDULE:
            value = text
        case Kind.OPTIONAL:
            value = text or None
        case Kind.URL:
            value = text.rstrip("/")
        case Kind.LIST:
            value = tuple(item.strip() for item in text.split(",") if item.strip())
        case Kind.BOOL:
            lowered = text.lower()
            if lowered not in _TRUE and lowered not in _FALSE:
                raise _Refused(f"{setting.name} must be true or false")
            value = lowered in _TRUE
        case Kind.INT:
            if not _INTEGER.fullmatch(text):
                raise _Refused(f"{setting.name} must be a whole number")
            value = int(text)
            _bounds(setting, value)
        case Kind.FLOAT:
            if not _DECIMAL.fullmatch(text) or not math.isfinite(value := float(text)):
                raise _Refused(f"{setting.name} must be a number")
            _bounds(setting, value)
        case _:  # pragma: no cover - every kind is matched above
            assert_never(setting.kind)
    return value


HASH_KEY_BITS = 256
_HEX = frozenset("0123456789abcdefABCDEF")
_BASE64 = frozenset(string.ascii_letters + string.digits + "+/-_=")


def hash_key_problem(key: str) -> str | None:
    """Why DESK_HASH_KEY is too weak outside development, or None. The keyed hashes of the
    suspension list and the pseudonyms are only as strong as the key: it must carry 32 bytes
    (256 bits) of randomness, estimated from its length and alphabet (hex 4 bits a character,
    base64 6, other printable text 6.5), and not repeat a few characters."""
    alphabet = 16 if set(key) <= _HEX else 64 if set(key) <= _BASE64 else 94
    bits = len(key) * math.log2(alphabet)
    if bits < HASH_KEY_BITS or len(set(key)) < 12:
        return (
            "DESK_HASH_KEY must carry 32 bytes of randomness outside development, such as"
            " `python3 -c 'import secrets; print(secrets.token_urlsafe(32))'`"
        )
    return None


def _check_hash_key(values: dict[str, Any], problems: dict[str, str], *, local: bool) -> None:
    key = values.get("DESK_HASH_KEY")
    if local or not key or "DESK_HASH_KEY" in problems:
        return
    if weak := hash_key_problem(key):
        problems["DESK_HASH_KEY"] = weak


def settings_from(env: Mapping[str, str]) -> Settings:
    """Build and validate Settings from a mapping of variables (the environment in production).

    Every setting is read; the problems found are reported together in one ConfigurationError
    whose `settings` names each bad setting.
    """

    def raw(name: str) -> str:
        return (env.get(name) or "").strip()

    environment = raw("DESK_ENVIRONMENT") or raw("AZURE_FUNCTIONS_ENVIRONMENT") or "Production"
    values: dict[str, Any] = {}
    problems: dict[str, str] = {}
    for setting in SETTINGS:
        try:
            values[setting.name] = parse(setting, raw(setting.name))
        except _Refused as refused:
            problems[setting.name] = str(refused)

    # Development secrets are public: they are tolerated only while LINE is simulated on this
    # machine, so a desk that talks to the real LINE can never run with a forgeable secret.
    line_api = values.get("LINE_API_BASE_URL", "")
    environment_is_local = environment.lower() in LOCAL_ENVIRONMENTS
    simulated = environment_is_local and _is_loopback(line_api)
    for setting in SETTINGS:
        if setting.kind is not Kind.SECRET:
            continue
        if simulated:
            values[setting.name] = values[setting.name] or setting.development
        elif _is_placeholder(values[setting.name]):
            problems[setting.name] = (
                f"{setting.name} is missing or a placeholder (placeholders are for local "
                "development against the LINE simulator only)"
            )
    _check_hash_key(values, problems, local=environment_is_local)
    _check_app_roles(values, problems, environment, given=raw("DESK_REQUIRE_APP_ROLES"))
    endpoint = values.get("COSMOS_ENDPOINT")
    if endpoint and values.get("COSMOS_VERIFY_TLS") is False and not _is_loopback(endpoint):
        problems["COSMOS_VERIFY_TLS"] = (
            "COSMOS_VERIFY_TLS=false is only for an emulator on this machine"
        )
    bot = values.get("LINE_BOT_USER_ID")
    if bot is not None and not is_line_user_id(bot):
        problems["LINE_BOT_USER_ID"] = "LINE_BOT_USER_ID must be U and 32 lowercase hex digits"
    policy_url = values.get("DESK_POLICY_URL")
    if policy_url is not None and (problem := policy_url_problem(policy_url)):
        problems["DESK_POLICY_URL"] = f"DESK_POLICY_URL {problem}"
    _check_go_live_texts(values, problems, local=environment_is_local)
    hours_names = ("DESK_BUSINESS_HOURS", "DESK_BUSINESS_DAYS", "DESK_CLOSED_DATES")
    hours: BusinessHours | None = None
    if "DESK_CLOSED_ON_HOLIDAYS" in values:
        try:
            hours = BusinessHours.parse(
                values["DESK_BUSINESS_HOURS"],
                values["DESK_BUSINESS_DAYS"],
                values["DESK_CLOSED_DATES"],
                values["DESK_CLOSED_ON_HOLIDAYS"],
            )
        except ValueError:
            # The parser's own message may quote the value: say what is expected instead.
            problems[" / ".join(hours_names)] = (
                f"{' / '.join(hours_names)} must be hours as HH:MM-HH:MM (opening first), "
                "days as mon,tue,… and closed dates as MM-DD or YYYY-MM-DD"
            )
    if problems or hours is None:
        names = tuple(n for key in problems for n in key.split(" / "))
        raise ConfigurationError(
            "settings refused: " + "; ".join(problems.values()), settings=names
        )
    fields = {s.field: values[s.name] for s in SETTINGS if s.field is not None}
    return Settings(environment=environment, business_hours=hours, **fields)


def _check_go_live_texts(values: dict[str, Any], problems: dict[str, str], *, local: bool) -> None:
    """What users are told must be real outside development: the operator's contact (the
    default is a placeholder), and an HTTPS alert webhook (plain HTTP to this machine in
    development, for a test receiver; it carries no message text, but a case's number)."""
    if not local and values.get("DESK_CONTACT") == DEFAULT_CONTACT:
        problems["DESK_CONTACT"] = (
            "DESK_CONTACT must name the operator's real contact (post, phone) before go-live: "
            "users asking for their data are told it"
        )
    url = values.get("DESK_ALERT_WEBHOOK_URL")
    if url is not None and not (url.startswith("https://") or (local and _is_loopback(url))):
        problems["DESK_ALERT_WEBHOOK_URL"] = (
            "DESK_ALERT_WEBHOOK_URL must be an https:// URL (http only to this machine in "
            "development)"
        )


def _check_app_roles(
    values: dict[str, Any], problems: dict[str, str], environment: str, *, given: str
) -> None:
    """Outside local development every admin caller needs an app role; `false` is a
    development convenience (and its default there)."""
    local = environment.lower() in LOCAL_ENVIRONMENTS
    if local and not given:
        values["DESK_REQUIRE_APP_ROLES"] = False
    if values.get("DESK_REQUIRE_APP_ROLES") is False and not local:
        problems["DESK_REQUIRE_APP_ROLES"] = (
            "DESK_REQUIRE_APP_ROLES=false is only for local development"
        )
    if values.get("DESK_KEY_CALLER_ROLE") not in (None, *APP_ROLES):
        problems["DESK_KEY_CALLER_ROLE"] = (
            f"DESK_KEY_CALLER_ROLE must be empty or one of {', '.join(APP_ROLES)}"
        )


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
