"""Timer triggers. Timers are at-least-once and may overlap: their work must be idempotent."""

from __future__ import annotations

import azure.functions as func

from shared.services.housekeeping import run_housekeeping
from shared.services.ports import PushQuotaSource
from shared.wiring import get_desk

bp = func.Blueprint()  # type: ignore[no-untyped-call]  # azure-functions leaves it unannotated


@bp.timer_trigger(schedule="%HOUSEKEEPING_SCHEDULE%", arg_name="timer", run_on_startup=False)
def housekeeping(timer: func.TimerRequest) -> None:
    """Expire old event receipts in stores without native TTL and log LINE's push quota
    (hourly by default)."""
    desk = get_desk()
    quota = desk.messenger if isinstance(desk.messenger, PushQuotaSource) else None
    run_housekeeping(desk.store, quota)


@bp.timer_trigger(schedule="%SESSION_SWEEP_SCHEDULE%", arg_name="timer", run_on_startup=False)
def close_idle_sessions(timer: func.TimerRequest) -> None:
    """Close sessions without user activity for DESK_SESSION_IDLE_DAYS (hourly by default)."""
    get_desk().experts.close_idle()


@bp.timer_trigger(schedule="%PURGE_SCHEDULE%", arg_name="timer", run_on_startup=False)
def purge_suspended(timer: func.TimerRequest) -> None:
    """Erase users suspended longer than PURGE_GRACE_DAYS (daily at 03:00 Japan time)."""
    desk = get_desk()
    desk.eraser.purge_suspended(desk.settings.purge_grace_days, desk.settings.purge_batch)
