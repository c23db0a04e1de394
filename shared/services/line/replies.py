"""The desk's answers as messages: catalogue texts put into bubbles, buttons and chips."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta

from shared.domain import postbacks
from shared.domain.consent import JST, ConsentMethod, PolicyVersion, japan_date, japan_time
from shared.domain.hours import BusinessHours, japan_day, japan_day_and_time
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

# The hours answer names the days an operator closed the desk on within this many days.
CLOSED_DAYS_ANNOUNCED = timedelta(days=30)


class Replies:
    """Builds every message the webhook sends."""

    def __init__(
        self,
        texts: Catalogue,
        *,
        retention_days: int = 365,
        inactive_days: int = 730,
        contact: str = "",
        privacy_url: str = "https://www.pref.chiba.lg.jp/",
        helplines: tuple[str, ...] = (),
    ) -> None:
        """`retention_days`, `inactive_days`, `contact` and `privacy_url` come from the settings
        (the wiring passes them), so what users are told cannot disagree with what the timers
        do; `helplines` from shared/data/helplines.json."""
        self._t = texts
        self._retention = texts.text(
            "retention_summary",
            retention_days=f"{retention_days:,}",
            inactive_days=f"{inactive_days:,}",
        )
        self._contact = contact
        self._privacy_url = privacy_url
        self._helplines = helplines

    def text(self, key: str, **params: str) -> TextMessage:
        """One catalogue text as a bubble (the contact filled in from the desk's facts)."""
        return TextMessage(self._t.text(key, **{"contact": self._contact, **params}))

    def helplines(self, outro: str, **params: str) -> TextMessage:
        """The help lines for a message that suggests a crisis (data the operator confirms),
        closed by `outro`: a `crisis_outro_*` text that says what is true now (whether the
        message reached an expert, whether the desk is taking consultations)."""
        lines = "\n".join(self._helplines)
        parts = (self._t.text("crisis_intro"), lines, self._t.text(outro, **params))
        return TextMessage("\n".join(p for p in parts if p))

    def consent_reminder(self, version: PolicyVersion) -> TextMessage:
        """One line between full prompts: press 同意する (chips to answer at once)."""
        chips = tuple(
            PostbackButton(
                self._t.text(key),
                postbacks.encode("consent", version=version.version_id, answer=value),
                self._t.text(key),
            )
            for key, value in (("consent_yes", "yes"), ("consent_no", "no"))
        )
        return TextMessage(self._t.text("consent_reminder"), quick_replies=chips)

    def draft_kept(self, topics: tuple[Topic, ...]) -> TextMessage:
        """A text written before a topic was chosen is kept: choose a topic (one bubble)."""
        return TextMessage(self._t.text("draft_kept"), quick_replies=self._topic_chips(topics))

    def waiting(
        self, place: int | None, hours: BusinessHours, now: datetime, *, first: bool
    ) -> TextMessage:
        """The acknowledgement of a session's first message, or the answer to a question about
        waiting: the place in the queue (or that an expert has it) and when to expect an
        answer."""
        label = hours.label() + self._t.text("hours_closed_days")
        parts = [self._t.text("ack_first")] if first else []
        if place is None:
            parts.append(self._t.text("wait_assigned"))
        else:
            parts.append(self._t.text("wait_place", place=str(place)))
        if hours.is_open(now):
            parts.append(self._t.text("wait_in_hours", hours=label))
        else:
            upcoming = japan_day_and_time(hours.next_opening(now))
            parts.append(self._t.text("wait_after_hours", hours=label, next=upcoming))
        chips = self._chips(("menu_status", "status"), ("menu_end", "end"))
        return TextMessage("\n".join(parts), quick_replies=chips)

    def hours_notice(
        self, hours: BusinessHours, now: datetime, closed: tuple[date, ...] = ()
    ) -> TextMessage:
        """When experts answer, whether they do now (else when next), and the days an operator
        closed the desk on (`closed`, from today on)."""
        t = self._t.text
        lines = [t("hours_notice", hours=hours.label() + t("hours_closed_days"))]
        today = now.astimezone(JST).date()
        upcoming = japan_day_and_time(hours.next_opening(now))
        if hours.is_open(now):
            lines.append(t("hours_open_now"))
        elif today in closed:
            lines.append(t("hours_closed_today", day=japan_day(today), next=upcoming))
        else:
            lines.append(t("hours_closed_now", next=upcoming))
        later = [d for d in closed if today < d <= today + CLOSED_DAYS_ANNOUNCED]
        if later:
            lines.append(t("hours_closed_upcoming", days="、".join(japan_day(d) for d in later)))
        return TextMessage("\n".join(lines))

    def data_menu(self) -> TextMessage:
        """同意・データ: the receipt, withdrawal and erasure, away from the topics."""
        chips = self._chips(
            ("menu_receipt", "receipt"), ("menu_withdraw", "withdraw"), ("menu_erase", "erase")
        )
        return TextMessage(self._t.text("data_menu"), quick_replies=chips)

    def withdraw_question(self) -> ConfirmMessage:
        """撤回する / やめる, before withdrawing consent."""
        return self._confirm("withdraw")

    def end_question(self) -> ConfirmMessage:
        """終了する / 続ける, before the user ends their consultation."""
        return self._confirm("end")

    def _confirm(self, action: str) -> ConfirmMessage:
        yes, no = self._t.text(f"{action}_yes"), self._t.text(f"{action}_no")
        return ConfirmMessage(
            alt_text=self._t.text(f"{action}_alt_text"),
            text=self._t.text(f"{action}_question"),
            yes=PostbackButton(yes, postbacks.encode(action, confirm="yes"), yes),
            no=PostbackButton(no, postbacks.encode(action, confirm="no"), no),
        )

    def consent_prompt(self, version: PolicyVersion) -> tuple[OutboundMessage, ...]:
        """The policy's summary with its link, then 同意する / 同意しない naming the version."""

        def answer(key: str, value: str) -> PostbackButton:
            label = self._t.text(key)
            data = postbacks.encode("consent", version=version.version_id, answer=value)
            return PostbackButton(label, data, display_text=label)

        return (
            TextMessage(
                self._t.text(
                    "consent_summary",
                    url=version.url,
                    privacy_url=self._privacy_url,
                    retention=self._retention,
                )
            ),
            ConfirmMessage(
                alt_text=self._t.text("consent_alt_text"),
                text=self._t.text("consent_question", version=version_label(version.version_id)),
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

    def status_reminder(self, status: Effective) -> TextMessage:
        """The short notice for a later message in the same window (the full one was sent)."""
        if status.state is ServiceState.ENDED:
            return self.text("status_reminder_ended")
        if status.until is not None:
            return self.text("status_reminder_until", until=japan_day_and_time(status.until))
        return self.text("status_reminder")

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

    def menu(self, topics: tuple[Topic, ...], *, hint: bool = False) -> TextMessage:
        """The consented user's menu: a consultation topic to start with, or 同意・データ
        (withdrawal sits there, not next to the topics)."""
        return TextMessage(
            self._t.text("menu_hint" if hint else "menu"), quick_replies=self._topic_chips(topics)
        )

    def _topic_chips(self, topics: tuple[Topic, ...]) -> tuple[PostbackButton, ...]:
        return tuple(
            PostbackButton(t.label, postbacks.encode("topic", topic=t.topic_id), t.label)
            for t in topics
        ) + self._chips(("menu_data", "data_menu"))

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

    def session_menu(self, key: str = "session_menu", **params: str) -> TextMessage:
        """While a session is open: keep writing, see the status, or end it."""
        chips = self._chips(
            ("menu_end", "end"), ("menu_status", "status"), ("menu_receipt", "receipt")
        )
        return TextMessage(self._t.text(key, **params), quick_replies=chips)

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
        return self.text(
            "consent_thanks", version=version_label(version.version_id), at=japan_time(at)
        )

    def deemed_notice(self, version: PolicyVersion) -> TextMessage:
        """The one notice that a changed policy now applies (§12(2))."""
        return self.text("deemed_notice", date=japan_date(version.effective_date), url=version.url)

    def receipt(self, version: PolicyVersion, method: ConsentMethod, at: datetime) -> TextMessage:
        """The consent receipt: version, date, method, link."""
        return self.text(
            "receipt",
            version=version_label(version.version_id),
            at=japan_time(at),
            method=self._t.text(f"method_{method.value}"),
            url=version.url,
        )


_ISO_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})")


def version_label(version_id: str) -> str:
    """`2025-10-24` as users read it: `2025年10月24日` (other ids as they are)."""
    match = _ISO_DATE.fullmatch(version_id)
    if match is None:
        return version_id
    year, month, day = (int(g) for g in match.groups())
    return f"{year}年{month}月{day}日"
