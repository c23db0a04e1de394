"""Crisis alerts to the supervisors outside the console (`DESK_ALERT_WEBHOOK_URL`).

When the crisis rule marks a session urgent, the supervisors are told at once wherever they
are: an incoming webhook (Teams, or a mail flow) gets the session's 受付番号 and the reason,
never a message's text, a name or a LINE id. The console shows the case too (red, first in
every list, in the tab title); the webhook is for a supervisor who is not looking at it.

Once per case, across instances: the alert is a document whose id is the session's, created
with `create` (a second instance's create is refused), then sent under a lease (an ETag-guarded
replace, so two senders never both post it) and marked sent. A post that fails stays pending
and the housekeeping timer sends it again; a crash between LINE's post and the mark may post
it twice (at-least-once, like every webhook delivery).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from shared.domain.hours import japan_day_and_time
from shared.domain.runs import RunSummary
from shared.domain.sessions import Session
from shared.errors import AlreadyExists, DependencyError, PreconditionFailed
from shared.logsafe import describe
from shared.ports import DESK, AlertSender, Clock, DocumentStore
from shared.texts.catalogue import load_catalogue

log = logging.getLogger("desk.alerts")

ALERT_PARTITION = "alerts"
LEASE = timedelta(seconds=30)
_TTL = int(timedelta(days=30).total_seconds())
CRISIS = "crisis"


@dataclass(frozen=True)
class Alert:
    """What the supervisors are told: the case's reference and why, nothing personal."""

    reference: str
    reason: str
    at: datetime

    def text(self) -> str:
        """The Japanese line the webhook carries."""
        staff_text = load_catalogue("console_ja").text  # staff read it: the console's catalogue
        return staff_text(
            "alert_crisis_text",
            ref=self.reference,
            reason=staff_text(f"alert_reason_{self.reason}"),
            at=japan_day_and_time(self.at),
        )


class CrisisAlerts:
    """Raise an alert once per crisis case and deliver it (again, later, if it failed)."""

    def __init__(self, store: DocumentStore, sender: AlertSender | None, clock: Clock) -> None:
        self._store = store
        self._sender = sender
        self._clock = clock

    def crisis(self, session: Session) -> None:
        """The crisis rule marked `session`: alert the supervisors (once). Never raises: an
        alert that cannot go out now is sent by the housekeeping timer."""
        self.send(self.record(session))

    def record(self, session: Session) -> dict[str, Any] | None:
        """Keep the alert for `session` (once: None when it was kept already, or when no
        webhook is set). Cheap (one write, no network): done before the user's answer, so an
        answer that fails cannot lose the alert."""
        if self._sender is None:
            return None
        now = self._clock()
        doc = {
            "id": session.session_id,
            "pk": ALERT_PARTITION,
            "type": "alert",
            "reason": CRISIS,
            "reference": session.receipt_number,
            "at": (session.urgent_at or now).isoformat(),
            "sent": False,
            "leaseUntil": None,
            "ttl": _TTL,
        }
        try:
            return self._store.create(DESK, doc)
        except AlreadyExists:
            return None
        except DependencyError as exc:
            log.warning("alert not recorded %s", describe(exc))
            return None

    def send(self, recorded: dict[str, Any] | None) -> None:
        """Post an alert `record` kept (nothing for None). Never raises."""
        if recorded is not None and self._sender is not None:
            self._deliver(self._sender, recorded)

    def send_pending(self) -> RunSummary:
        """Send the alerts that are not sent yet (the housekeeping timer)."""
        pending = self._store.query_partition(
            DESK, ALERT_PARTITION, doc_type="alert", where={"sent": False}
        )
        sender = self._sender
        sent = sum(self._deliver(sender, doc) for doc in pending) if sender is not None else 0
        return RunSummary("send_alerts", "sent", len(pending), sent)

    def _deliver(self, sender: AlertSender, doc: dict[str, Any]) -> bool:
        """Post one alert under a lease; True when it went out."""
        now = self._clock()
        lease = doc.get("leaseUntil")
        if doc.get("sent") or (isinstance(lease, str) and datetime.fromisoformat(lease) > now):
            return False
        try:
            leased = self._store.replace(
                DESK, {**doc, "leaseUntil": (now + LEASE).isoformat()}, etag=str(doc["_etag"])
            )
        except PreconditionFailed:
            return False  # another instance is sending it
        except DependencyError as exc:
            log.warning("alert not leased %s", describe(exc))
            return False
        reference = str(doc.get("reference") or doc["id"])
        alert = Alert(reference, str(doc["reason"]), datetime.fromisoformat(doc["at"]))
        try:
            sender.send(alert.reference, alert.reason, alert.text())
        except DependencyError as exc:
            log.warning("alert not sent %s", describe(exc))
            self._release(leased)
            return False
        try:
            self._store.replace(
                DESK, {**leased, "sent": True, "sentAt": now.isoformat()}, etag=leased["_etag"]
            )
        except (PreconditionFailed, DependencyError) as exc:
            log.warning("alert sent but not marked %s", describe(exc))
        log.info("alert sent reason=%s", alert.reason)
        return True

    def _release(self, leased: dict[str, Any]) -> None:
        try:
            self._store.replace(DESK, {**leased, "leaseUntil": None}, etag=leased["_etag"])
        except (PreconditionFailed, DependencyError):
            return  # the lease runs out by itself
