"""The desk's answers as messages: catalogue texts put into bubbles, buttons and chips."""

from __future__ import annotations

from datetime import datetime

from shared.domain import postbacks
from shared.domain.consent import ConsentMethod, PolicyVersion, japan_date, japan_time
from shared.domain.hours import BusinessHours, japan_day_and_time
from shared.domain.messages import (
    ButtonsMessage,
    ConfirmMessage,
    OutboundMessage,
    PostbackButton,
    TextMessage,
    check_batch,
)
from shared.domain.service_status import Effective, ServiceState
from shared.domain.sessions import Topic
from shared.texts.catalogue import Catalogue


class Replies:
    """Builds every message the webhook sends."""

    def __init__(
        self,
        texts: Catalogue,
        *,
        retention_days: int = 365,
        inactive_days: int = 730,
        contact: str = "",
    ) -> None:
        """`retention_days`, `inactive_days` and `contact` come from the settings (the wiring
        passes them), so what users are told cannot disagree with what the timers do."""
        self._t = texts
        self._retention = texts.text(
            "retention_summary",
            retention_days=f"{retention_days:,}",
            inactive_days=f"{inactive_days:,}",
        )
        self._contact = contact

    def text(self, key: str, **params: str) -> TextMessage:
        """One catalogue text as a bubble."""
        return TextMessage(self._t.text(key, **params))

    def consent_prompt(self, version: PolicyVersion) -> tuple[OutboundMessage, ...]:
        """The policy's summary with its link, then 同意する / 同意しない naming the version."""

        def answer(key: str, value: str) -> PostbackButton:
            label = self._t.text(key)
            data = postbacks.encode("consent", version=version.version_id, answer=value)
            return PostbackButton(label, data, display_text=label)

        return (
            TextMessage(
                self._t.text("consent_summary", url=version.url, retention=self._retention)
            ),
            ConfirmMessage(
                alt_text=self._t.text("consent_alt_text"),
                text=self._t.text("consent_question", version=version.version_id),
                yes=answer("consent_yes", "yes"),
                no=answer("consent_no", "no"),
            ),
        )

    def status_notice(self, status: Effective, referral: str) -> tuple[TextMessage, ...]:
        """What users get while the desk is not open (§7), with the operators' note if any."""
        if status.state is ServiceState.ENDED:
            notice = self.text("status_ended", referral=referral)
        elif status.state is ServiceState.SUSPENDED:
            notice = self.text("status_suspended")
        elif status.until is not None:
            notice = self.text("status_maintenance_until", until=japan_day_and_time(status.until))
        else:
            notice = self.text("status_maintenance")
        return (notice, TextMessage(status.message)) if status.message else (notice,)

    def disclosure(self) -> TextMessage:
        """How to ask for a copy of one's data (by post, never over LINE)."""
        return TextMessage(self._t.text("disclosure", contact=self._contact))

    def erase_question(self) -> ConfirmMessage:
        """削除する / やめる, before erasing on the user's request."""
        yes, no = self._t.text("erase_yes"), self._t.text("erase_no")
        return ConfirmMessage(
            alt_text=self._t.text("erase_alt_text"),
            text=self._t.text("erase_question"),
            yes=PostbackButton(yes, postbacks.encode("erase", confirm="yes"), yes),
            no=PostbackButton(no, postbacks.encode("erase", confirm="no"), no),
        )

    def menu(self, topics: tuple[Topic, ...]) -> TextMessage:
        """The consented user's menu: a consultation topic to start with, or consent matters."""
        chips = tuple(
            PostbackButton(t.label, postbacks.encode("topic", topic=t.topic_id), t.label)
            for t in topics
        ) + self._chips(("menu_receipt", "receipt"), ("menu_withdraw", "withdraw"))
        return TextMessage(self._t.text("menu"), quick_replies=chips)

    def closing(self, session_id: str, referral: str | None = None) -> tuple[OutboundMessage, ...]:
        """The expert's closing message (naming the referral, 紹介先, when there is one), then
        the survey 満足 / ふつう / 不満 as a buttons template (it works on LINE for PC, where
        quick replies do not show)."""

        def rating(key: str, value: str) -> PostbackButton:
            label = self._t.text(key)
            data = postbacks.encode("survey", session=session_id, rating=value)
            return PostbackButton(label, data, display_text=label)

        survey = ButtonsMessage(
            alt_text=self._t.text("survey_alt_text"),
            text=self._t.text("survey_question"),
            buttons=(
                rating("survey_good", "good"),
                rating("survey_fair", "fair"),
                rating("survey_poor", "poor"),
            ),
        )
        named = (self.text("session_closed_referral", referral=referral),) if referral else ()
        return (self.text("session_closed"), *named, survey)

    def session_menu(self) -> TextMessage:
        """While a session is open: keep writing, or end it."""
        chips = self._chips(("menu_end", "end"), ("menu_receipt", "receipt"))
        return TextMessage(self._t.text("session_menu"), quick_replies=chips)

    def session_opened(
        self, topic: str, hours: BusinessHours, now: datetime, reference: str
    ) -> TextMessage:
        """The acknowledgement of a new session (its receipt): when experts will answer, and
        the session's reference, which the user can quote (an erasure request, say)."""
        label = hours.label() + self._t.text("hours_closed_days")
        if hours.is_open(now):
            return self.text("session_opened", topic=topic, hours=label, ref=reference)
        upcoming = japan_day_and_time(hours.next_opening(now))
        return self.text(
            "session_opened_after_hours", topic=topic, hours=label, next=upcoming, ref=reference
        )

    def expert_answer(self, text: str) -> TextMessage:
        """An expert's answer, as they wrote it."""
        return TextMessage(text)

    def _chips(self, *entries: tuple[str, str]) -> tuple[PostbackButton, ...]:
        return tuple(
            PostbackButton(self._t.text(key), postbacks.encode(action), self._t.text(key))
            for key, action in entries
        )

    def check_policy_messages(self, version: PolicyVersion, at: datetime) -> None:
        """Build every message that carries `version` (its link, its id) as LINE would get
        it; ValueError when one would exceed LINE's limits (a version the desk could never
        announce would fail every user event once it takes effect)."""
        check_batch((self.text("greeting"), *self.consent_prompt(version)))
        check_batch((self.text("consent_stale"), *self.consent_prompt(version)))
        self.deemed_notice(version)
        self.thanks(version, at)
        for method in (ConsentMethod.EXPLICIT, ConsentMethod.DEEMED):  # what a receipt shows
            self.receipt(version, method, at)

    def thanks(self, version: PolicyVersion, at: datetime) -> TextMessage:
        """Thank-you after an explicit agreement, with the version and the time in Japan."""
        return self.text("consent_thanks", version=version.version_id, at=japan_time(at))

    def deemed_notice(self, version: PolicyVersion) -> TextMessage:
        """The one notice that a changed policy now applies (§12(2))."""
        return self.text("deemed_notice", date=japan_date(version.effective_date), url=version.url)

    def receipt(self, version: PolicyVersion, method: ConsentMethod, at: datetime) -> TextMessage:
        """The consent receipt: version, date, method, link."""
        return self.text(
            "receipt",
            version=version.version_id,
            at=japan_time(at),
            method=self._t.text(f"method_{method.value}"),
            url=version.url,
        )
