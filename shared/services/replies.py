"""The desk's answers as messages: catalogue texts put into bubbles, buttons and chips."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from shared.domain import postbacks
from shared.domain.consent import ConsentMethod, PolicyVersion, japan_date, japan_time
from shared.domain.hours import BusinessHours, japan_day_and_time
from shared.domain.messages import ConfirmMessage, OutboundMessage, PostbackButton, TextMessage
from shared.domain.service_status import Effective, ServiceState
from shared.domain.sessions import Topic
from shared.texts.catalogue import Catalogue


@dataclass(frozen=True)
class DeskFacts:
    """What the words name from settings and data: the privacy policy's page, the contact for
    questions, how long data are kept (days; None: "as the policy says"), the help lines."""

    privacy_url: str = "https://www.pref.chiba.lg.jp/"
    contact: str = "運営事務局"
    retention_days: int | None = None
    helplines: tuple[str, ...] = ()


class Replies:
    """Builds every message the webhook sends."""

    def __init__(self, texts: Catalogue, facts: DeskFacts | None = None) -> None:
        self._t = texts
        self._facts = facts or DeskFacts()

    def text(self, key: str, **params: str) -> TextMessage:
        """One catalogue text as a bubble (the contact filled in from the desk's facts)."""
        return TextMessage(self._t.text(key, **{"contact": self._facts.contact, **params}))

    def helplines(self) -> TextMessage:
        """The help lines for a message that suggests a crisis (data the operator confirms)."""
        lines = "\n".join(self._facts.helplines)
        parts = (self._t.text("crisis_intro"), lines, self._t.text("crisis_outro"))
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

    def hours_notice(self, hours: BusinessHours) -> TextMessage:
        """When experts answer."""
        return self.text("hours_notice", hours=hours.label() + self._t.text("hours_closed_days"))

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

    def _retention(self) -> str:
        days = self._facts.retention_days
        if days is None:
            return self._t.text("retention_policy")
        return self._t.text("retention_days", days=str(days))

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
                    privacy_url=self._facts.privacy_url,
                    retention=self._retention(),
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

    def session_menu(self, key: str = "session_menu", **params: str) -> TextMessage:
        """While a session is open: keep writing, see the status, or end it."""
        chips = self._chips(
            ("menu_end", "end"), ("menu_status", "status"), ("menu_receipt", "receipt")
        )
        return TextMessage(self._t.text(key, **params), quick_replies=chips)

    def session_opened(self, topic: str, hours: BusinessHours, now: datetime) -> TextMessage:
        """The acknowledgement of a new session, with when experts will answer."""
        label = hours.label() + self._t.text("hours_closed_days")
        if hours.is_open(now):
            return self.text("session_opened", topic=topic, hours=label)
        upcoming = japan_day_and_time(hours.next_opening(now))
        return self.text("session_opened_after_hours", topic=topic, hours=label, next=upcoming)

    def expert_answer(self, text: str) -> TextMessage:
        """An expert's answer, as they wrote it."""
        return TextMessage(text)

    def _chips(self, *entries: tuple[str, str]) -> tuple[PostbackButton, ...]:
        return tuple(
            PostbackButton(self._t.text(key), postbacks.encode(action), self._t.text(key))
            for key, action in entries
        )

    def thanks(self, version: PolicyVersion, at: datetime) -> TextMessage:
        """Thank-you after an explicit agreement, with the version and the time in Japan."""
        return self.text("consent_thanks")

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
