"""Timer triggers. Timers are at-least-once and may overlap: their work must be idempotent.

Each run logs one summary line on `desk.timers` (`timer purge_suspended examined=… purged=…
skipped=… grace=…`), or, when it cannot run, the reason: a desk error's message (which names
settings, never values) or an unexpected error's type and place.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace

import azure.functions as func

from shared.domain.runs import RunSummary
from shared.entrypoints.endpoint import blueprint
from shared.errors import DeskError
from shared.logsafe import describe
from shared.ports import PushQuotaSource
from shared.services.housekeeping import run_housekeeping
from shared.wiring import get_desk

bp = blueprint()
log = logging.getLogger("desk.timers")


class TimerFailed(DeskError):
    """A timer run failed on something that is not the desk's own error (see the log)."""


def run_and_report(task: str, run: Callable[[], RunSummary]) -> RunSummary:
    """Run one timer's work and log its summary line, or why it failed (then re-raise, so
    the host records the run as failed)."""
    try:
        summary = run()
    except DeskError as exc:
        log.error("timer %s failed %s", task, describe(exc))
        raise
    except Exception as exc:
        log.error("timer %s failed %s", task, describe(exc))
        # The original message may quote personal data; the host logs what it is handed.
        raise TimerFailed(f"timer {task} failed: {describe(exc)}") from None
    log.info("timer %s", summary.line())
    return summary


@bp.timer_trigger(schedule="%HOUSEKEEPING_SCHEDULE%", arg_name="timer", run_on_startup=False)
def housekeeping(timer: func.TimerRequest) -> None:
    """Expire old event receipts in stores without native TTL, log LINE's push quota and send
    the crisis alerts still pending (hourly by default)."""

    def run() -> RunSummary:
        desk = get_desk()
        quota = desk.messenger if isinstance(desk.messenger, PushQuotaSource) else None
        summary = run_housekeeping(desk.store, quota)
        alerts = desk.alerts.send_pending()  # crisis alerts whose first post failed
        return replace(summary, parts={**summary.parts, "alerts": alerts.acted})

    run_and_report("housekeeping", run)


@bp.timer_trigger(schedule="%SESSION_SWEEP_SCHEDULE%", arg_name="timer", run_on_startup=False)
def close_idle_sessions(timer: func.TimerRequest) -> None:
    """Close sessions without user activity for DESK_SESSION_IDLE_DAYS (hourly by default)."""
    run_and_report("close_idle_sessions", _close_idle)


def _close_idle() -> RunSummary:
    return get_desk().experts.close_idle()


def _purge() -> RunSummary:
    desk = get_desk()
    return desk.eraser.purge_suspended(desk.settings.purge_grace_days, desk.settings.purge_batch)


@bp.timer_trigger(schedule="%PURGE_SCHEDULE%", arg_name="timer", run_on_startup=False)
def purge_suspended(timer: func.TimerRequest) -> None:
    """Erase users suspended longer than PURGE_GRACE_DAYS (daily at 03:00 Japan time)."""
    run_and_report("purge_suspended", _purge)


def _purge_expired() -> RunSummary:
    desk = get_desk()
    settings = desk.settings
    return desk.retention.purge_expired(
        settings.retention_days, settings.inactive_user_days, settings.retention_batch
    )


@bp.timer_trigger(schedule="%RETENTION_SCHEDULE%", arg_name="timer", run_on_startup=False)
def purge_expired(timer: func.TimerRequest) -> None:
    """Erase the text of sessions closed longer ago than DESK_RETENTION_DAYS, and users
    without activity for DESK_INACTIVE_USER_DAYS (daily at 04:00 Japan time)."""
    run_and_report("purge_expired", _purge_expired)
