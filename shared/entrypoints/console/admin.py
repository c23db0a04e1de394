"""The operators' screens: `/console/admin/...` for `Desk.Admin` only (experts get 403).

Same sign-in and same-site rules as the experts' console (console/routes.py `_serve`); the
screens call the same services as the admin API, which audit every change. No LINE user id is
ever shown: the audit trail carries keyed hashes only.
"""

from __future__ import annotations

import csv
import io
import logging
from collections.abc import Callable
from datetime import date, datetime, timedelta, timezone
from typing import Any

import azure.functions as func

from shared.domain.hours import japan_day
from shared.domain.moderation import CLAUSES, FlagStatus
from shared.domain.privacy import user_key
from shared.entrypoints.console.auth import LOGOUT_PATH, Staff
from shared.entrypoints.console.pages import SECURITY_HEADERS, bare, html, text
from shared.entrypoints.console.routes import _form, _serve
from shared.entrypoints.endpoint import blueprint
from shared.entrypoints.views.admin import (
    audit_page_json,
    policy_command,
    policy_consents_json,
    service_change,
    service_json,
)
from shared.entrypoints.views.moderation import (
    flag_json,
    restrict_command,
    sanctioned_json,
    suspend_command,
)
from shared.errors import LineApiError, NotFoundError, ValidationError
from shared.ports import PushQuota, PushQuotaSource
from shared.services.catalog import load_topics
from shared.services.consultations.staff_lists import MAX_LABEL, MAX_REPLY, MAX_TITLE
from shared.services.moderation.actions import MAX_REASON
from shared.services.service_status import ServiceChange
from shared.services.statistics.figures import as_csv
from shared.services.statistics.reporting import COUNTS, SATISFACTION
from shared.wiring import get_desk

log = logging.getLogger("desk.console")

bp = blueprint()

ANONYMOUS = func.AuthLevel.ANONYMOUS
JAPAN = timezone(timedelta(hours=9))
AUDIT_SCAN = 5000  # records read at most when filtering the trail
AUDIT_SHOWN = 200
COLUMNS = frozenset((*COUNTS, SATISFACTION))
QUOTA_WARNING_PERCENT = 80
PSEUDONYM = 12  # characters of the keyed hash shown for a user
RESTRICTIONS = ("text_only", "read_only")
STATES = ("open", "maintenance", "suspended", "ended")
Page = Callable[[Staff], func.HttpResponse]


def _admin(req: func.HttpRequest, page: Page, *, change: bool = False) -> func.HttpResponse:
    """The console's checks, then Desk.Admin only."""

    def gated(staff: Staff) -> func.HttpResponse:
        if not staff.is_admin:
            return html(
                "refusal.html",
                403,
                title="forbidden_title",
                body="admin_forbidden_body",
                logout=LOGOUT_PATH,
            )
        return page(staff)

    return _serve(req, gated, change=change)


@bp.route(route="console/admin", methods=["GET"], auth_level=ANONYMOUS)
def console_admin(req: func.HttpRequest) -> func.HttpResponse:
    """The operators' start page: the service state and the screens."""

    def page(staff: Staff) -> func.HttpResponse:
        return html(
            "admin_index.html",
            staff=staff,
            service=service_json(get_desk().status.describe()),
            quota=_push_quota(),
            warn_percent=QUOTA_WARNING_PERCENT,
        )

    return _admin(req, page)


def _push_quota() -> PushQuota | None:
    """This month's push quota from LINE, or None when LINE cannot say (counts only)."""
    messenger = get_desk().messenger
    if not isinstance(messenger, PushQuotaSource):
        return None
    try:
        return messenger.push_quota()
    except LineApiError as exc:
        log.warning("console push quota unavailable: %s", exc.message)
        return None


# -- service status ---------------------------------------------------------------------------


@bp.route(route="console/admin/status", methods=["GET"], auth_level=ANONYMOUS)
def console_admin_status(req: func.HttpRequest) -> func.HttpResponse:
    """The state in force, the message users see, planned windows; forms to change them."""

    def page(staff: Staff) -> func.HttpResponse:
        return html(
            "admin_status.html",
            staff=staff,
            service=service_json(get_desk().status.describe()),
            states=STATES,
            closed_days=[
                (day.isoformat(), japan_day(day), note)
                for day, note in get_desk().status.closed_days().items()
            ],
        )

    return _admin(req, page)


@bp.route(route="console/admin/status", methods=["POST"], auth_level=ANONYMOUS)
def console_admin_status_change(req: func.HttpRequest) -> func.HttpResponse:
    """Set the state now, or plan a maintenance window (`from` in the future); audited."""

    def page(staff: Staff) -> func.HttpResponse:
        form = _form(req)
        payload: dict[str, Any] = {"state": form.get("state", "")}
        for field in ("message", "until", "from"):
            if form.get(field, "").strip():
                payload[field] = _local_time(form[field]) if field != "message" else form[field]
        get_desk().status.change(service_change(payload), staff.name)
        return bare(204, {"HX-Redirect": "/console/admin/status"})

    return _admin(req, page, change=True)


@bp.route(route="console/admin/status/cancel", methods=["POST"], auth_level=ANONYMOUS)
def console_admin_status_cancel(req: func.HttpRequest) -> func.HttpResponse:
    """Cancel every planned window, keeping the state in force (audited)."""

    def page(staff: Staff) -> func.HttpResponse:
        now = get_desk().status.describe().effective
        keep = ServiceChange(now.state, now.message or None, now.until, cancel_windows=True)
        get_desk().status.change(keep, staff.name)
        return bare(204, {"HX-Redirect": "/console/admin/status"})

    return _admin(req, page, change=True)


@bp.route(route="console/admin/status/closed-days", methods=["POST"], auth_level=ANONYMOUS)
def console_admin_close_day(req: func.HttpRequest) -> func.HttpResponse:
    """臨時休業: close the desk on a day (`day`, a Japan date; `note` staff-only); audited."""

    def page(staff: Staff) -> func.HttpResponse:
        form = _form(req)
        get_desk().status.close_day(_day(form.get("day", "")), form.get("note", ""), staff.name)
        return bare(204, {"HX-Redirect": "/console/admin/status"})

    return _admin(req, page, change=True)


@bp.route(
    route="console/admin/status/closed-days/{day}/reopen", methods=["POST"], auth_level=ANONYMOUS
)
def console_admin_reopen_day(req: func.HttpRequest) -> func.HttpResponse:
    """Take a closed day back; audited."""

    def page(staff: Staff) -> func.HttpResponse:
        get_desk().status.reopen_day(_day(req.route_params.get("day", "")), staff.name)
        return bare(204, {"HX-Redirect": "/console/admin/status"})

    return _admin(req, page, change=True)


def _day(raw: str, field: str = "day") -> date:
    """A `YYYY-MM-DD` date (a date input's value; Japan time), or a 400 naming `field`."""
    try:
        return date.fromisoformat(raw.strip())
    except ValueError:
        raise ValidationError(field, "date_format_jst") from None


def _optional_day(req: func.HttpRequest, field: str) -> date | None:
    raw = req.params.get(field)
    return _day(raw, field) if raw else None


def _csv_download(body: str, name: str) -> func.HttpResponse:
    """A CSV file to save (UTF-8 with a BOM, so Excel reads the Japanese headers)."""
    return func.HttpResponse(
        "\ufeff" + body,
        status_code=200,
        headers={**SECURITY_HEADERS, "Content-Disposition": f'attachment; filename="{name}"'},
        mimetype="text/csv",
        charset="utf-8",
    )


def _local_time(raw: str) -> str:
    """A `datetime-local` value (Japan time, no offset) as ISO 8601 with +09:00."""
    value = raw.strip()
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise ValidationError("until", "datetime_local") from None
    if parsed.tzinfo is None:
        return parsed.isoformat(timespec="minutes") + "+09:00"
    return parsed.isoformat()


# -- flags ------------------------------------------------------------------------------------


@bp.route(route="console/admin/flags", methods=["GET"], auth_level=ANONYMOUS)
def console_admin_flags(req: func.HttpRequest) -> func.HttpResponse:
    """Open flags, oldest first: the user as a pseudonym, clause, reasons, the session."""

    def page(staff: Staff) -> func.HttpResponse:
        desk = get_desk()
        found = desk.moderation.flag_page(FlagStatus.OPEN, None, 100)
        flags = [
            {**flag_json(f), "pseudonym": user_key(desk.settings.hash_key, f.user_id)[:PSEUDONYM]}
            for f in found.items
        ]
        for shown in flags:
            del shown["userId"]  # the screen names users by pseudonym only
        desk.auditor.record(staff.name, "flags.read", status="open", count=len(flags))
        return html(
            "admin_flags.html", staff=staff, flags=flags, clauses=CLAUSES, modes=RESTRICTIONS
        )

    return _admin(req, page)


@bp.route(route="console/admin/flags/{flagId}/{action}", methods=["POST"], auth_level=ANONYMOUS)
def console_admin_flag_action(req: func.HttpRequest) -> func.HttpResponse:
    """Dismiss a flag, or restrict or suspend (citing a clause) its user; audited."""

    def page(staff: Staff) -> func.HttpResponse:
        action = req.route_params.get("action", "")
        if action not in ("dismiss", "restrict", "suspend"):
            raise NotFoundError("action", "no_action")
        form = _form(req)
        moderation = get_desk().moderation
        flag = moderation.flag(req.route_params.get("flagId", ""))
        if action == "dismiss":
            moderation.dismiss(flag.flag_id, staff.name)
        elif action == "suspend":
            command = suspend_command({"clause": form.get("clause"), "reason": form.get("reason")})
            moderation.suspend(flag.user_id, staff.name, command)
        else:
            restriction = restrict_command({"mode": form.get("mode")})
            moderation.restrict(flag.user_id, staff.name, restriction)
        return bare(204, {"HX-Redirect": "/console/admin/flags"})

    return _admin(req, page, change=True)


# -- statistics -------------------------------------------------------------------------------


def _stats_query(req: func.HttpRequest) -> tuple[str, str | None, str]:
    """Whole months (`YYYY-MM`): from January of this year (Japan time) to this month."""
    start = req.params.get("from") or f"{datetime.now(JAPAN).year:04d}-01"
    return start, req.params.get("to") or None, req.params.get("by") or "month"


@bp.route(route="console/admin/stats", methods=["GET"], auth_level=ANONYMOUS)
def console_admin_stats(req: func.HttpRequest) -> func.HttpResponse:
    """The publishable table by month, topic or outcome; suppressed cells read 秘匿."""

    def page(staff: Staff) -> func.HttpResponse:
        start, end, by = _stats_query(req)
        table = get_desk().reports.table(start, end, by)
        return html(
            "admin_stats.html",
            staff=staff,
            table=table,
            rows=_stats_rows(table),
            by=by,
            suppressed=text("admin_suppressed"),
        )

    return _admin(req, page)


@bp.route(route="console/admin/stats.csv", methods=["GET"], auth_level=ANONYMOUS)
def console_admin_stats_csv(req: func.HttpRequest) -> func.HttpResponse:
    """The same table as CSV (UTF-8 with BOM, so Excel reads the Japanese headers)."""

    def page(staff: Staff) -> func.HttpResponse:
        start, end, by = _stats_query(req)
        table = get_desk().reports.table(start, end, by)
        out = io.StringIO()
        writer = csv.writer(out)
        rows = _stats_rows(table)
        writer.writerow(rows[0])
        writer.writerows(rows[1:])
        writer.writerow([text("admin_stats_caption", k=table["k"])])
        name = f"stats-{by}-{table['from']}-{table['to']}.csv"
        return _csv_download(out.getvalue(), name)

    return _admin(req, page)


# -- the supervisor's internal figures ----------------------------------------------------------


@bp.route(route="console/admin/figures", methods=["GET"], auth_level=ANONYMOUS)
def console_admin_figures(req: func.HttpRequest) -> func.HttpResponse:
    """対応状況（内部用）: per day and per consultant, times, crisis cases, satisfaction."""

    def page(staff: Staff) -> func.HttpResponse:
        figures = get_desk().figures
        start, end = figures.period(_optional_day(req, "from"), _optional_day(req, "to"))
        return html(
            "admin_figures.html",
            staff=staff,
            figures=figures.figures(start, end),
            query=f"from={start.isoformat()}&to={end.isoformat()}",
        )

    return _admin(req, page)


@bp.route(route="console/admin/figures.csv", methods=["GET"], auth_level=ANONYMOUS)
def console_admin_figures_csv(req: func.HttpRequest) -> func.HttpResponse:
    """The same figures as CSV, for the monthly report to the prefecture."""

    def page(staff: Staff) -> func.HttpResponse:
        figures = get_desk().figures
        start, end = figures.period(_optional_day(req, "from"), _optional_day(req, "to"))
        labels = {key: text(f"figures_col_{key}") for key in FIGURE_COLUMNS}
        name = f"figures-{start.isoformat()}-{end.isoformat()}.csv"
        return _csv_download(as_csv(figures.figures(start, end), labels), name)

    return _admin(req, page)


FIGURE_COLUMNS = (
    "period",
    "day",
    "consultations",
    "consultant",
    "closed",
    "first_median",
    "first_p90",
    "total_median",
    "total_p90",
    "crisis",
    "rating_good",
    "rating_fair",
    "rating_poor",
    "crisis_taken_median",
    "crisis_untaken",
    "open_now",
    "overdue_now",
    "unassigned",
)


def _stats_rows(table: dict[str, Any]) -> list[list[str]]:
    """Header and rows with labels, not ids; suppressed values as 秘匿."""
    topics = {t.topic_id: t.label for t in load_topics()}
    suppressed = text("admin_suppressed")

    def label(key: str) -> str:
        if key in topics:
            return topics[key]
        return text(f"stats_col_{key}") if key in COLUMNS else key

    def shown(value: Any) -> str:
        return suppressed if value is None else str(value)

    # A last column: the row total, or the median first-answer time; none by satisfaction.
    last_kind = "total" if "grandTotal" in table else "median"
    if table["by"] == "satisfaction":
        last_kind = ""
    extra = [text(f"stats_col_{last_kind}")] if last_kind else []
    columns = table.get("columnLabels", {})
    rows = [
        [
            text(f"stats_by_{table['by']}"),
            *(columns.get(c) or label(c) for c in table["columns"]),
            *extra,
        ]
    ]
    for row in table["rows"]:
        last = (
            []
            if not last_kind
            else [
                shown(row.get("total") if last_kind == "total" else row["medianFirstAnswerMinutes"])
            ]
        )
        cells = [shown(row["cells"][c]) for c in table["columns"]]
        rows.append([row.get("label") or label(row["key"]), *cells, *last])
    totals = [shown(table["totals"][c]) for c in table["columns"]]
    if last_kind == "total":
        totals.append(shown(table.get("grandTotal")))
    elif last_kind:
        totals.append("")
    rows.append([text("stats_col_sum"), *totals])
    return rows


# -- audit ------------------------------------------------------------------------------------


@bp.route(route="console/admin/audit", methods=["GET"], auth_level=ANONYMOUS)
def console_admin_audit(req: func.HttpRequest) -> func.HttpResponse:
    """The audit trail, newest first, filtered by who, action and day (users as hashes)."""

    def page(staff: Staff) -> func.HttpResponse:
        who = (req.params.get("who") or "").strip()
        action = (req.params.get("action") or "").strip()
        day = (req.params.get("day") or "").strip()
        if day:
            _day(day)
        records: list[dict[str, Any]] = []
        cursor: str | None = None
        read = 0
        while read < AUDIT_SCAN:
            found = audit_page_json(get_desk().auditor.page(cursor, 200))
            read += len(found["records"])
            records += [
                r
                for r in found["records"]
                if (not who or who in r["who"])
                and (not action or action in r["action"])
                and (not day or r["at"].startswith(day))
            ]
            cursor = found["nextCursor"]
            if not cursor:
                break
        records.reverse()
        get_desk().auditor.record(staff.name, "audit.read", count=min(len(records), AUDIT_SHOWN))
        return html(
            "admin_audit.html",
            staff=staff,
            records=records[:AUDIT_SHOWN],
            more=len(records) > AUDIT_SHOWN,
            filters={"who": who, "action": action, "day": day},
        )

    return _admin(req, page)


# -- suspended and restricted users -----------------------------------------------------------


@bp.route(route="console/admin/users", methods=["GET"], auth_level=ANONYMOUS)
def console_admin_users(req: func.HttpRequest) -> func.HttpResponse:
    """Suspended users (with when the purge erases them) and restricted users, by pseudonym."""

    def page(staff: Staff) -> func.HttpResponse:
        desk = get_desk()
        grace = timedelta(days=desk.settings.purge_grace_days)
        users = [
            {**sanctioned_json(u), "pseudonym": u.user_key[:PSEUDONYM]}
            for u in desk.moderation.sanctioned(grace)
        ]
        return html("admin_users.html", staff=staff, users=users, max_reason=MAX_REASON)

    return _admin(req, page)


@bp.route(route="console/admin/users/{userKey}/reinstate", methods=["POST"], auth_level=ANONYMOUS)
def console_admin_reinstate(req: func.HttpRequest) -> func.HttpResponse:
    """Lift a suspension or restriction, with a reason (required; audited)."""

    def page(staff: Staff) -> func.HttpResponse:
        reason = _form(req).get("reason", "")
        if not 0 < len(reason.strip()) <= MAX_REASON:
            raise ValidationError("reason", "reason", max=MAX_REASON)
        get_desk().moderation.reinstate_by_key(
            req.route_params.get("userKey", ""), staff.name, reason
        )
        return bare(204, {"HX-Redirect": "/console/admin/users"})

    return _admin(req, page, change=True)


# -- 開示: a person's copy of their data -------------------------------------------------------


@bp.route(route="console/admin/export", methods=["GET"], auth_level=ANONYMOUS)
def console_admin_export(req: func.HttpRequest) -> func.HttpResponse:
    """Find the user by the 受付番号 they give (`?ref=`) and show the Japanese text an operator
    prints and posts to them (the same export as the admin API's; an audited read)."""

    def page(staff: Staff) -> func.HttpResponse:
        desk = get_desk()
        ref = (req.params.get("ref") or "").strip()
        export: dict[str, Any] | None = None
        found: dict[str, str] | None = None
        if ref:
            session = desk.eraser.by_reference(ref)
            export = desk.exports.export(session.user_id, staff.name)
            found = {
                "ref": session.receipt_number,
                "pseudonym": user_key(desk.settings.hash_key, session.user_id)[:PSEUDONYM],
                "sessions": str(len(export["sessions"])),
            }
        return html("admin_export.html", staff=staff, ref=ref, export=export, found=found)

    return _admin(req, page)


# -- erasure on request -----------------------------------------------------------------------


@bp.route(route="console/admin/erase", methods=["GET"], auth_level=ANONYMOUS)
def console_admin_erase_find(req: func.HttpRequest) -> func.HttpResponse:
    """Find the user by the session reference they give (`?ref=`) and show what will go."""

    def page(staff: Staff) -> func.HttpResponse:
        desk = get_desk()
        ref = (req.params.get("ref") or "").strip()
        found: dict[str, Any] | None = None
        if ref:
            session = desk.eraser.by_reference(ref)
            desk.auditor.record(
                staff.name, "session.lookup", session.user_id, session=session.session_id
            )
            topics = {t.topic_id: t.label for t in load_topics()}
            found = {
                "ref": session.receipt_number,
                "openedAt": session.opened_at.isoformat(),
                "topic": topics.get(session.topic, session.topic),
                "status": session.status.value,
                "pseudonym": user_key(desk.settings.hash_key, session.user_id)[:PSEUDONYM],
            }
        done = req.params.get("done") == "1"
        return html("admin_erase.html", staff=staff, ref=ref, found=found, done=done)

    return _admin(req, page)


@bp.route(route="console/admin/erase", methods=["POST"], auth_level=ANONYMOUS)
def console_admin_erase(req: func.HttpRequest) -> func.HttpResponse:
    """Erase everything about the user of a session reference (confirmed; audited as
    `user.erase`), through the same service as the admin API; the user is told if reachable."""

    def page(staff: Staff) -> func.HttpResponse:
        form = _form(req)
        if form.get("confirm") != "yes":
            raise ValidationError("confirm", "erase_confirm")
        desk = get_desk()
        session = desk.eraser.by_reference(form.get("ref", ""))
        notice = (desk.replies.text("erased_by_admin"),)

        def notify(target: str) -> bool:
            return desk.experts.notify_user(target, notice, f"{target}:erased")

        desk.eraser.erase_on_request(session.user_id, staff.name, notify)
        return bare(204, {"HX-Redirect": "/console/admin/erase?done=1"})

    return _admin(req, page, change=True)


# -- canned replies and referral destinations -------------------------------------------------


@bp.route(route="console/admin/lists", methods=["GET"], auth_level=ANONYMOUS)
def console_admin_lists(req: func.HttpRequest) -> func.HttpResponse:
    """The canned replies (by topic) and referral destinations the experts' console offers."""

    def page(staff: Staff) -> func.HttpResponse:
        lists = get_desk().lists
        topics = [("", text("admin_lists_common"))] + [(t.topic_id, t.label) for t in load_topics()]
        return html(
            "admin_lists.html",
            staff=staff,
            replies=lists.canned_entries(),
            referrals=lists.referrals(),
            topics=topics,
            limits={"title": MAX_TITLE, "text": MAX_REPLY, "label": MAX_LABEL},
        )

    return _admin(req, page)


@bp.route(route="console/admin/lists/replies", methods=["POST"], auth_level=ANONYMOUS)
def console_admin_save_reply(req: func.HttpRequest) -> func.HttpResponse:
    """Add (no `id`) or change a canned reply: `topic`, `title`, `text`; audited."""

    def page(staff: Staff) -> func.HttpResponse:
        get_desk().lists.save_reply(dict(_form(req)), staff.name)
        return bare(204, {"HX-Redirect": "/console/admin/lists"})

    return _admin(req, page, change=True)


@bp.route(route="console/admin/lists/replies/{id}/delete", methods=["POST"], auth_level=ANONYMOUS)
def console_admin_delete_reply(req: func.HttpRequest) -> func.HttpResponse:
    """Remove a canned reply; audited."""

    def page(staff: Staff) -> func.HttpResponse:
        get_desk().lists.delete_reply(req.route_params.get("id", ""), staff.name)
        return bare(204, {"HX-Redirect": "/console/admin/lists"})

    return _admin(req, page, change=True)


@bp.route(route="console/admin/lists/referrals", methods=["POST"], auth_level=ANONYMOUS)
def console_admin_save_referral(req: func.HttpRequest) -> func.HttpResponse:
    """Add (no `id`) or rename a referral destination: `label`; audited."""

    def page(staff: Staff) -> func.HttpResponse:
        get_desk().lists.save_referral(dict(_form(req)), staff.name)
        return bare(204, {"HX-Redirect": "/console/admin/lists"})

    return _admin(req, page, change=True)


@bp.route(route="console/admin/lists/referrals/{id}/delete", methods=["POST"], auth_level=ANONYMOUS)
def console_admin_delete_referral(req: func.HttpRequest) -> func.HttpResponse:
    """Remove a referral destination; audited."""

    def page(staff: Staff) -> func.HttpResponse:
        get_desk().lists.delete_referral(req.route_params.get("id", ""), staff.name)
        return bare(204, {"HX-Redirect": "/console/admin/lists"})

    return _admin(req, page, change=True)


# -- policies ---------------------------------------------------------------------------------


@bp.route(route="console/admin/policies", methods=["GET"], auth_level=ANONYMOUS)
def console_admin_policies(req: func.HttpRequest) -> func.HttpResponse:
    """The policy versions (newest first), the current one, and consents to each."""

    def page(staff: Staff) -> func.HttpResponse:
        return html(
            "admin_policies.html",
            staff=staff,
            policies=policy_consents_json(get_desk().admin.policy_consents()),
        )

    return _admin(req, page)


@bp.route(route="console/admin/policies", methods=["POST"], auth_level=ANONYMOUS)
def console_admin_register_policy(req: func.HttpRequest) -> func.HttpResponse:
    """Publish a new version through the admin API's service and its checks (audited as
    `policy.register`): `versionId`, `effectiveDate`, `url`, `text` or `textSha256`,
    `requiresExplicit` (a checkbox), `privacyPolicyVersion` (blank: the current one's)."""

    def page(staff: Staff) -> func.HttpResponse:
        form = _form(req)
        payload: dict[str, Any] = {
            "versionId": form.get("versionId", "").strip(),
            "effectiveDate": form.get("effectiveDate", "").strip(),
            "url": form.get("url", "").strip(),
            "requiresExplicit": form.get("requiresExplicit") == "yes",
        }
        for field in ("text", "textSha256", "privacyPolicyVersion"):
            if form.get(field, "").strip():
                payload[field] = form[field] if field == "text" else form[field].strip()
        get_desk().admin.register_policy(policy_command(payload), staff.name)
        return bare(204, {"HX-Redirect": "/console/admin/policies"})

    return _admin(req, page, change=True)
