"""The composition root: builds the desk's services from Settings, once per process, lazily.

Nothing is built at import time. The first invocation builds the store and the LINE client
(the expensive part: SDK imports, connection pools) and every later one reuses them, as
Cosmos DB's and LINE's guidance ask (one client per process).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from shared.adapters import telemetry
from shared.adapters.alert_webhook import WebhookAlerts
from shared.adapters.clock import system_clock
from shared.adapters.line_messaging import LineApiClient
from shared.adapters.line_webhook import LineWebhookDecoder, parse_events
from shared.config import Settings, get_settings
from shared.logsafe import quiet_sdk_loggers
from shared.ports import DESK, AlertSender, Clock, DocumentStore, LineMessenger, RichMenuApi
from shared.repositories.desk_records import (
    AuditLog,
    FlagLog,
    Restrictions,
    RunClaims,
    StatEntries,
    StatMarks,
    Suspensions,
)
from shared.repositories.flood_counts import FloodCounts
from shared.repositories.notes import NoteLog
from shared.repositories.references import ReferenceCounter
from shared.repositories.tombstones import Tombstones
from shared.repositories.user_records import (
    ActivityDirectory,
    ConsentLog,
    EventReceipts,
    MessageLog,
    SessionIndex,
    Users,
)
from shared.services.admin import AdminService
from shared.services.audit import Auditor
from shared.services.cached import Settle
from shared.services.catalog import (
    load_crisis_words,
    load_helplines,
    load_screening_rules,
    load_topics,
)
from shared.services.consent.gate import ConsentService
from shared.services.consent.policies import PolicyRegistry, load_shipped_policies
from shared.services.consultations.alerts import CrisisAlerts
from shared.services.consultations.board import SupervisorBoard
from shared.services.consultations.console import ConsoleDesk
from shared.services.consultations.experts import ExpertDesk
from shared.services.consultations.pushing import Pusher
from shared.services.consultations.sessions import Sessions
from shared.services.consultations.staff_lists import StaffLists
from shared.services.line.answering import Answerer
from shared.services.line.conversation import Conversation
from shared.services.line.replies import Replies
from shared.services.line.richmenus import RichMenuLinker
from shared.services.line.webhook import WebhookService
from shared.services.moderation.actions import Moderation
from shared.services.moderation.flood import FloodGuard
from shared.services.privacy.erasure import Eraser
from shared.services.privacy.exports import UserExports
from shared.services.privacy.retention import Retention
from shared.services.service_status import StatusBoard
from shared.services.statistics.entries import Statistics
from shared.services.statistics.figures import SupervisorFigures
from shared.services.statistics.reporting import Reports
from shared.texts.catalogue import load_catalogue


@dataclass(frozen=True)
class Desk:
    """Everything an entry point may call."""

    settings: Settings
    store: DocumentStore
    webhook: WebhookService
    policies: PolicyRegistry
    admin: AdminService
    experts: ExpertDesk
    moderation: Moderation
    eraser: Eraser
    retention: Retention
    exports: UserExports
    auditor: Auditor
    replies: Replies
    status: StatusBoard
    reports: Reports
    messenger: LineMessenger
    console: ConsoleDesk
    board: SupervisorBoard
    lists: StaffLists
    alerts: CrisisAlerts
    figures: SupervisorFigures


def build_store(settings: Settings, clock: Clock = system_clock) -> DocumentStore:
    """Cosmos DB when COSMOS_ENDPOINT is set, otherwise the embedded SQLite file."""
    if settings.cosmos_endpoint:
        from shared.adapters.cosmos_store import CosmosStore  # noqa: PLC0415

        return CosmosStore(
            settings.cosmos_endpoint,
            settings.cosmos_database,
            key=settings.cosmos_key,
            verify_tls=settings.cosmos_verify_tls,
            partition_delete=settings.cosmos_partition_delete,
        )
    from shared.adapters.sqlite_store import SqliteStore  # noqa: PLC0415

    return SqliteStore(settings.sqlite_path, clock=clock)


def build_desk(
    settings: Settings,
    store: DocumentStore,
    messenger: LineMessenger,
    clock: Clock = system_clock,
    sleep: Callable[[float], None] = time.sleep,
    *,
    alert_sender: AlertSender | None = None,
) -> Desk:
    """Wire the services over the given ports (tests and benchmarks pass their own; without
    `alert_sender`, DESK_ALERT_WEBHOOK_URL's webhook, if one is set)."""
    # Each repository once: the services that share a kind of document share its repository.
    users, consent_log = Users(store), ConsentLog(store)
    entries = StatEntries(store)
    statistics = Statistics(entries, StatMarks(store))
    audit = AuditLog(store, timedelta(days=settings.audit_retention_days), clock)
    auditor = Auditor(audit, settings.hash_key, clock)
    replies = Replies(
        load_catalogue(),
        retention_days=settings.retention_days,
        inactive_days=settings.inactive_user_days,
        contact=settings.contact,
        privacy_url=settings.privacy_url,
        helplines=load_helplines(),
    )

    # What every event reads is kept per instance on the desk's clock (tests that stop time
    # stop it too); an operator's change to it is answered once every instance acts on it.
    def tick() -> float:
        return clock().timestamp()

    kept = settings.status_cache_seconds
    settle = Settle(kept, settings.webhook_budget_ms / 1000, sleep)
    policies = PolicyRegistry(
        store,
        load_shipped_policies(settings.policy_url),
        clock,
        cache_seconds=kept,
        monotonic=tick,
        check_messages=replies.check_policy_messages,
        settle=settle,
    )
    consent = ConsentService(
        users,
        consent_log,
        policies,
        clock=clock,
        prompt_interval=timedelta(seconds=settings.consent_prompt_interval_seconds),
        statistics=statistics,
    )
    index, messages = SessionIndex(store), MessageLog(store)
    notes = NoteLog(store)
    menus = RichMenuLinker(messenger) if isinstance(messenger, RichMenuApi) else None
    sessions = Sessions(
        users,
        index,
        messages,
        statistics,
        clock,
        follow_up_hours=settings.followup_hours,
        menus=menus,
        references=ReferenceCounter(store),
    )
    flags, suspensions = FlagLog(store), Suspensions(store)
    restrictions = Restrictions(store)
    tombstones = Tombstones(store, settings.hash_key, settings.event_ttl_seconds)
    flood = FloodGuard(FloodCounts(store), settings.flood_per_minute, settings.flood_per_day)
    moderation = Moderation(
        store=store,
        users=users,
        flags=flags,
        suspensions=suspensions,
        restrictions=restrictions,
        sessions=sessions,
        statistics=statistics,
        auditor=auditor,
        rules=load_screening_rules(settings.flag_domains, settings.flag_words),
        flood=flood,
        hash_key=settings.hash_key,
        clock=clock,
    )
    eraser = Eraser(
        store=store,
        users=users,
        sessions=sessions,
        index=index,
        flags=flags,
        suspensions=suspensions,
        restrictions=restrictions,
        statistics=statistics,
        auditor=auditor,
        hash_key=settings.hash_key,
        clock=clock,
        tombstones=tombstones,
    )
    pusher = Pusher(messenger, backoff_seconds=settings.push_backoff_seconds, sleep=sleep)
    status = StatusBoard(store, auditor, clock, cache_seconds=kept, monotonic=tick, settle=settle)
    if alert_sender is None and settings.alert_webhook_url:
        alert_sender = WebhookAlerts(settings.alert_webhook_url)
    alerts = CrisisAlerts(store, alert_sender, clock)
    conversation = Conversation(
        alerts=alerts,
        users=users,
        consent=consent,
        sessions=sessions,
        moderation=moderation,
        eraser=eraser,
        statistics=statistics,
        status=status,
        referral=settings.ended_referral,
        answerer=Answerer(messenger),
        replies=replies,
        topics=load_topics(),
        hours=settings.business_hours,
        clock=clock,
        tombstones=tombstones,
        crisis_words=load_crisis_words(),
    )
    lists = StaffLists(store, auditor)
    experts = ExpertDesk(
        sessions=sessions,
        index=index,
        messages=messages,
        users=users,
        pusher=pusher,
        replies=replies,
        clock=clock,
        idle_days=settings.session_idle_days,
        statistics=statistics,
        auditor=auditor,
        max_open=settings.expert_max_open,
        referrals=lists.referral_outcomes,
    )
    webhook = WebhookService(
        decoder=LineWebhookDecoder(settings.line_channel_secret),
        receipts=EventReceipts(
            store, settings.event_ttl_seconds, clock, settings.event_lease_seconds
        ),
        conversation=conversation,
        hash_key=settings.hash_key,
        bot_user_id=_bot_user_id(settings, messenger),
        event_ttl_seconds=settings.event_ttl_seconds,
        clock=clock,
    )
    board = SupervisorBoard(
        index=index,
        store=store,
        auditor=auditor,
        hours=settings.business_hours,
        clock=clock,
        max_open=settings.expert_max_open,
        alert_minutes=settings.escalation_alert_minutes,
    )
    return Desk(
        settings=settings,
        store=store,
        webhook=webhook,
        policies=policies,
        admin=AdminService(
            users,
            consent_log,
            policies,
            clock,
            auditor,
            purge_grace=timedelta(days=settings.purge_grace_days),
            statistics=statistics,
        ),
        experts=experts,
        moderation=moderation,
        eraser=eraser,
        retention=Retention(
            store=store,
            index=index,
            messages=messages,
            users=users,
            directory=ActivityDirectory(store),
            eraser=eraser,
            notes=notes,
            auditor=auditor,
            clock=clock,
            claims=RunClaims(store),
            hash_key=settings.hash_key,
        ),
        exports=UserExports(
            users=users,
            consents=consent_log,
            index=index,
            messages=messages,
            notes=notes,
            flags=flags,
            suspensions=suspensions,
            store=store,
            auditor=auditor,
            texts=load_catalogue(),
            hash_key=settings.hash_key,
            clock=clock,
            contact=settings.contact,
        ),
        auditor=auditor,
        replies=replies,
        status=status,
        reports=Reports(
            entries,
            settings.stats_k,
            clock,
            settle_after=timedelta(seconds=settings.event_ttl_seconds) + timedelta(days=1),
        ),
        messenger=messenger,
        console=ConsoleDesk(
            experts=experts,
            index=index,
            messages=messages,
            store=store,
            auditor=auditor,
            hours=settings.business_hours,
            clock=clock,
            hash_key=settings.hash_key,
            alert_minutes=settings.wait_alert_minutes,
            messenger=messenger,
            notes=notes,
            lists=lists,
            board=board,
        ),
        lists=lists,
        alerts=alerts,
        board=board,
        figures=SupervisorFigures(
            index, settings.business_hours, clock, alert_minutes=settings.wait_alert_minutes
        ),
    )


def _bot_user_id(settings: Settings, messenger: LineMessenger) -> Callable[[], str]:
    """LINE_BOT_USER_ID when set, else LINE's bot info (the client keeps it per process)."""
    configured = settings.line_bot_user_id
    if configured:
        return lambda: configured
    return messenger.bot_user_id


_lock = threading.Lock()
_desk: Desk | None = None


def get_desk() -> Desk:
    """The process's Desk, built on first use from the environment's Settings."""
    global _desk  # noqa: PLW0603 -- one set of clients per process is the point
    with _lock:
        if _desk is None:
            quiet_sdk_loggers()
            telemetry.configure()  # only with APPLICATIONINSIGHTS_CONNECTION_STRING set
            settings = get_settings()
            messenger = LineApiClient(
                settings.line_channel_access_token,
                settings.line_api_base_url,
                settings.line_timeout_seconds,
            )
            _desk = build_desk(settings, build_store(settings), messenger)
        return _desk


def install_desk(desk: Desk) -> None:
    """Make `desk` the process's Desk (tools that wire their own ports: the load run)."""
    global _desk  # noqa: PLW0603
    with _lock:
        _desk = desk


def reset_desk() -> None:
    """Forget the process's Desk (tests that change settings)."""
    global _desk  # noqa: PLW0603
    with _lock:
        _desk = None


_SAMPLE_EVENTS = json.dumps(
    {
        "destination": "U0",
        "events": [
            {
                "type": kind,
                "mode": "active",
                "timestamp": 0,
                "source": {"type": "user", "userId": "U" + "0" * 32},
                "webhookEventId": f"warmup-{kind}",
                "deliveryContext": {"isRedelivery": False},
                "replyToken": "warmup",
                **extra,
            }
            for kind, extra in (
                ("follow", {"follow": {"isUnblocked": False}}),
                ("postback", {"postback": {"data": "action=menu"}}),
                (
                    "message",
                    {"message": {"type": "text", "id": "0", "text": "-", "quoteToken": "-"}},
                ),
            )
        ],
    }
).encode()


def warm_up() -> float:
    """Pay every first-use cost now (SDK imports, clients, the store's connection, the status
    and policy caches), before traffic; returns the seconds it took."""
    started = time.perf_counter()
    desk = get_desk()
    desk.store.upsert(DESK, {"id": "warmup", "pk": "health", "type": "health"})  # the write path
    desk.status.current()
    desk.policies.versions()
    parse_events(_SAMPLE_EVENTS)  # the parser's SDK models, imported and exercised
    warm = getattr(desk.messenger, "warm_up", None)
    if callable(warm):
        warm()
    return time.perf_counter() - started
