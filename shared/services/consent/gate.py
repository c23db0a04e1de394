"""Consent to the operations policy as use cases: gate, agree, decline, deem, withdraw."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum

from shared.domain.consent import (
    ConsentMethod,
    ConsentRecord,
    Gate,
    PolicyVersion,
    decide,
    may_prompt,
)
from shared.domain.events import EventMeta
from shared.domain.users import UserRecord
from shared.errors import ConfigurationError
from shared.ports import Clock
from shared.repositories.user_records import ConsentLog, Users
from shared.services.consent.policies import PolicyRegistry
from shared.services.statistics.entries import Statistics


class Answer(StrEnum):
    """What became of a press of 同意する / 同意しない."""

    AGREED = "agreed"
    ALREADY = "already"
    DECLINED = "declined"
    STALE = "stale"


@dataclass(frozen=True)
class Outcome:
    """The user's record after a consent step, and what happened."""

    user: UserRecord
    answer: Answer
    version: PolicyVersion


class ConsentService:
    """The consent lifecycle of one user, over their record and their append-only log."""

    def __init__(
        self,
        users: Users,
        log: ConsentLog,
        policies: PolicyRegistry,
        *,
        clock: Clock,
        prompt_interval: timedelta,
        statistics: Statistics,
    ) -> None:
        self._statistics = statistics
        self._users = users
        self._log = log
        self._policies = policies
        self._clock = clock
        self._prompt_interval = prompt_interval

    def current(self) -> PolicyVersion:
        """The version in effect; a desk without one cannot run."""
        version = self._policies.current()
        if version is None:
            raise ConfigurationError("no operations-policy version is in effect")
        return version

    def gate(self, user: UserRecord) -> Gate:
        """ALLOW, DEEM (continued use counts as consent) or PROMPT."""
        return decide(
            self._policies.versions(), user.consent_version, user.consent_method, self._clock()
        )

    def may_prompt(self, user: UserRecord, meta: EventMeta | None = None) -> bool:
        """Whether the prompt may be repeated now (at most once per interval); always for a
        redelivery of the event that was prompted (its answer may not have gone out)."""
        if meta is not None and user.prompt_event_id == meta.event_id:
            return True
        return may_prompt(user.last_prompt_at, self._clock(), self._prompt_interval)

    def prompted(self, user: UserRecord, meta: EventMeta | None = None) -> UserRecord:
        """Remember that the prompt was sent now."""
        event_id = meta.event_id if meta else None
        return self._users.save(user.prompted(self._clock(), event_id))

    def answer(self, user: UserRecord, version_id: str, agree: bool, meta: EventMeta) -> Outcome:
        """A press of 同意する / 同意しない for the version the prompt showed."""
        current = self.current()
        if user.consent_event_id == meta.event_id and user.consent_method is not None:
            # A redelivery of the answer that was recorded: give the same reply again.
            agreed = user.consent_method is ConsentMethod.EXPLICIT
            return Outcome(user, Answer.AGREED if agreed else Answer.DECLINED, current)
        if version_id != current.version_id:
            return Outcome(user, Answer.STALE, current)
        if agree and self.gate(user) is Gate.ALLOW and user.consent_version == version_id:
            return Outcome(user, Answer.ALREADY, current)
        method = ConsentMethod.EXPLICIT if agree else ConsentMethod.DECLINED
        user = self._record(user, current, method, meta)
        return Outcome(user, Answer.AGREED if agree else Answer.DECLINED, current)

    def deem(self, user: UserRecord, meta: EventMeta) -> tuple[UserRecord, PolicyVersion]:
        """Record deemed consent to the current version (§12(2)): continued use after a change."""
        current = self.current()
        return self._record(user, current, ConsentMethod.DEEMED, meta), current

    def withdraw(self, user: UserRecord, meta: EventMeta) -> UserRecord:
        """Record the withdrawal of consent; the desk stops serving the user."""
        agreed = self._policies.get(user.consent_version) if user.consent_version else None
        return self._record(user, agreed or self.current(), ConsentMethod.WITHDRAWN, meta)

    def latest_grant(self, user: UserRecord) -> tuple[PolicyVersion, ConsentMethod] | None:
        """The version and method of the consent the user holds now, if any."""
        if user.consent_method is None or not user.consent_method.grants:
            return None
        version = self._policies.get(user.consent_version or "")
        return (version, user.consent_method) if version else None

    def _record(
        self, user: UserRecord, version: PolicyVersion, method: ConsentMethod, meta: EventMeta
    ) -> UserRecord:
        # The log entry first: if saving the summary then fails, the event is redelivered and
        # the entry (keyed by event and method) is not written twice.
        record = ConsentRecord(
            user_id=user.user_id,
            version_id=version.version_id,
            text_sha256=version.text_sha256,
            privacy_policy_version=version.privacy_policy_version,
            method=method,
            at=self._clock(),
            event_id=meta.event_id,
        )
        self._log.append(record)
        self._statistics.consent(user.user_id, method, meta.event_id, record.at, version.version_id)
        return self._users.save(user.decided(record))
