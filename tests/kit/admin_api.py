"""The admin API's use cases as its endpoints call them: the JSON body read into a command, the
service, and the answer shaped by the views (shared/entrypoints/views). Unit tests speak JSON
through this, without an HTTP round trip."""

from __future__ import annotations

from typing import Any

from shared.entrypoints.views import admin as admin_views
from shared.entrypoints.views import moderation as moderation_views
from shared.entrypoints.views import sessions as session_views
from shared.wiring import Desk

Json = dict[str, Any]


class _Status:
    def __init__(self, desk: Desk) -> None:
        self._desk = desk

    def describe(self) -> Json:
        return admin_views.service_json(self._desk.status.describe())

    def change(self, body: Json, who: str) -> Json:
        change = admin_views.service_change(body)
        return admin_views.service_json(self._desk.status.change(change, who))


class _Moderation:
    def __init__(self, desk: Desk) -> None:
        self._desk = desk

    def flag_page(self, status: str | None, cursor: str | None, limit: int) -> Json:
        wanted = moderation_views.flag_status(status)
        page = self._desk.moderation.flag_page(wanted, cursor, limit)
        return moderation_views.flag_page_json(page)

    def flag(self, flag_id: str) -> Json:
        return moderation_views.flag_json(self._desk.moderation.flag(flag_id))

    def dismiss(self, flag_id: str, who: str) -> Json:
        return moderation_views.flag_json(self._desk.moderation.dismiss(flag_id, who))

    def suspend(self, user_id: str, who: str, body: Json) -> Json:
        command = moderation_views.suspend_command(body)
        return moderation_views.suspended_json(self._desk.moderation.suspend(user_id, who, command))

    def restrict(self, user_id: str, who: str, body: Json) -> Json:
        command = moderation_views.restrict_command(body)
        restriction = self._desk.moderation.restrict(user_id, who, command)
        return moderation_views.restricted_json(user_id, restriction)

    def reinstate(self, user_id: str, who: str) -> Json:
        self._desk.moderation.reinstate(user_id, who)
        return moderation_views.reinstated_json(user_id)


class _Admin:
    def __init__(self, desk: Desk) -> None:
        self._desk = desk

    def user(self, user_id: str, who: str) -> Json:
        return admin_views.user_json(self._desk.admin.user(user_id, who))

    def policies(self) -> Json:
        return admin_views.policies_json(self._desk.admin.policies())

    def register_policy(self, body: Json, who: str) -> Json:
        command = admin_views.policy_command(body)
        return admin_views.policy_json(self._desk.admin.register_policy(command, who))


class _Auditor:
    def __init__(self, desk: Desk) -> None:
        self._desk = desk

    def page(self, cursor: str | None, limit: int) -> Json:
        return admin_views.audit_page_json(self._desk.auditor.page(cursor, limit))


class _Experts:
    def __init__(self, desk: Desk) -> None:
        self._desk = desk

    def queue(self, status: str | None, cursor: str | None, limit: int) -> Json:
        wanted = session_views.session_status(status)
        return session_views.queue_json(self._desk.experts.queue(wanted, cursor, limit))

    def detail(self, session_id: str, who: str, *, admin: bool = True) -> Json:
        detail = self._desk.experts.detail(session_id, who)
        return session_views.detail_json(detail, self._desk.settings.hash_key, with_user_id=admin)

    def claim(self, session_id: str, who: str, *, admin: bool = False) -> Json:
        return session_views.summary_json(self._desk.experts.claim(session_id, who, admin=admin))

    def send(self, session_id: str, who: str, body: Json, *, admin: bool = False) -> Json:
        answer = session_views.answer_command(body)
        sent = self._desk.experts.send(session_id, who, answer, admin=admin)
        return session_views.sent_json(sent)

    def close(self, session_id: str, who: str, body: Json, *, admin: bool = False) -> Json:
        command = session_views.close_command(body)
        closed = self._desk.experts.close(session_id, who, command, admin=admin)
        return session_views.closed_json(closed)

    def release(
        self, session_id: str, who: str, note: str | None = None, *, admin: bool = False
    ) -> Json:
        released = self._desk.experts.release(session_id, who, note, admin=admin)
        return session_views.with_handovers_json(released)

    def transfer(
        self, session_id: str, who: str, to: str, note: str | None = None, *, admin: bool = False
    ) -> Json:
        moved = self._desk.experts.transfer(session_id, who, to, note, admin=admin)
        return session_views.with_handovers_json(moved)


class AdminApi:
    """`api(desk).moderation.suspend(user_id, who, {"clause": ..., "reason": ...})`, ..."""

    def __init__(self, desk: Desk) -> None:
        self.status = _Status(desk)
        self.moderation = _Moderation(desk)
        self.admin = _Admin(desk)
        self.auditor = _Auditor(desk)
        self.experts = _Experts(desk)


def api(desk: Desk) -> AdminApi:
    """The admin API's JSON use cases over `desk`."""
    return AdminApi(desk)
