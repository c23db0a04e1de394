"""Canned replies, referral destinations and the restricted-users list on every store."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from shared.errors import PreconditionFailed
from shared.ports import DESK
from shared.repositories.desk_records import RESTRICTIONS, AuditLog, RestrictedUser, Restrictions
from shared.services.audit import Auditor
from shared.services.catalog import load_canned_replies, load_referrals
from shared.services.consultations.staff_lists import CANNED, CATALOGUE, StaffLists
from tests.contract.conftest import Backend

NOW = datetime(2025, 11, 3, 1, 0, tzinfo=UTC)


def lists_on(backend: Backend) -> tuple[StaffLists, AuditLog]:
    log = AuditLog(backend.store)
    ticks = itertools.count()  # one second per audit record, so the trail's order is known
    auditor = Auditor(log, "k" * 32, lambda: NOW + timedelta(seconds=next(ticks)))
    return StaffLists(backend.store, auditor), log


def test_the_shipped_lists_seed_the_store_once(backend: Backend) -> None:
    lists, _ = lists_on(backend)
    shipped = load_canned_replies()
    ids = [e["id"] for e in lists.canned_entries()]
    assert ids[: len(shipped["common"])] == [e["id"] for e in shipped["common"]]
    assert len(ids) == len(shipped["common"]) + sum(len(v) for v in shipped["byTopic"].values())
    assert [r["id"] for r in lists.referrals()] == [r.outcome_id for r in load_referrals()]
    assert backend.store.read(DESK, CATALOGUE, CANNED) is not None
    # a second instance reads what the first stored, and does not seed again
    again, _ = lists_on(backend)
    lists.save_referral({"label": "千葉県ジョブサポートセンター"}, "運用者A")
    assert again.referrals()[-1]["label"] == "千葉県ジョブサポートセンター"


def test_edits_are_stored_read_back_and_audited(backend: Backend) -> None:
    lists, log = lists_on(backend)
    made = lists.save_reply(
        {"topic": "income", "title": "家計の見直し", "text": "支出を一緒に整理しましょう。"},
        "運用者A",
    )
    assert made in lists.canned_for("income")
    assert made not in lists.canned_for("career")
    lists.save_reply({**made, "text": "支出の内訳を一緒に整理しましょう。"}, "運用者B")
    (changed,) = [e for e in lists.canned_entries() if e["id"] == made["id"]]
    assert changed["text"] == "支出の内訳を一緒に整理しましょう。"
    lists.delete_reply("greeting", "運用者A")
    assert "greeting" not in [e["id"] for e in lists.canned_for("income")]
    lists.save_referral({"id": "hellowork", "label": "ハローワーク千葉"}, "運用者A")
    assert lists.referrals()[0] == {"id": "hellowork", "label": "ハローワーク千葉"}
    records = [(r.who, r.action, r.details) for r in log.page(None, 50)]
    assert [(w, a) for w, a, _ in records] == [
        ("運用者A", "canned.create"),
        ("運用者B", "canned.update"),
        ("運用者A", "canned.delete"),
        ("運用者A", "referral.update"),
    ]
    update = records[1][2]
    assert update["changed"] == ["text"]
    assert update["before"] == {"text": "支出を一緒に整理しましょう。"}
    assert update["after"] == {"text": "支出の内訳を一緒に整理しましょう。"}
    assert records[3][2]["after"] == {"label": "ハローワーク千葉"}


class Racing:
    """The store, with another operator's save slipped in just before our next replace."""

    def __init__(self, store: Any, other: StaffLists) -> None:
        self._store = store
        self._other: StaffLists | None = other

    def replace(self, container: str, doc: Any, *, etag: str) -> Any:
        if self._other is not None:
            other, self._other = self._other, None
            other.save_referral({"label": "先に保存された紹介先"}, "運用者B")
        return self._store.replace(container, doc, etag=etag)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)


def test_a_stale_write_loses(backend: Backend) -> None:
    other, _ = lists_on(backend)
    other.referrals()  # seeded
    log = AuditLog(backend.store)
    mine = StaffLists(Racing(backend.store, other), Auditor(log, "k" * 32, lambda: NOW))
    with pytest.raises(PreconditionFailed):
        mine.save_referral({"label": "あとから保存した紹介先"}, "運用者A")
    labels = [r["label"] for r in other.referrals()]
    assert "先に保存された紹介先" in labels
    assert "あとから保存した紹介先" not in labels
    assert [r.action for r in log.page(None, 10)] == ["referral.create"]  # theirs only


def test_restricted_users_are_listed_by_key_and_removed(backend: Backend) -> None:
    restrictions = Restrictions(backend.store)
    until = NOW + timedelta(days=3)
    restrictions.put(RestrictedUser("b" * 64, "U" + "b" * 32, "text_only", NOW, until))
    restrictions.put(RestrictedUser("a" * 64, "U" + "a" * 32, "read_only", NOW))
    listed = restrictions.page(None, 10)
    assert [r.user_key for r in listed] == ["a" * 64, "b" * 64]
    assert listed[1].until == until
    assert restrictions.get("a" * 64) == listed[0]
    restrictions.remove("a" * 64)
    assert [r.user_key for r in restrictions.page(None, 10)] == ["b" * 64]
    assert restrictions.get("a" * 64) is None


def test_an_ended_restriction_leaves_the_store_a_day_after_its_end(backend: Backend) -> None:
    restrictions = Restrictions(backend.store)
    until = NOW + timedelta(days=3)
    restrictions.put(RestrictedUser("b" * 64, "U" + "b" * 32, "text_only", NOW, until))
    restrictions.put(RestrictedUser("a" * 64, "U" + "a" * 32, "read_only", NOW))
    ended = backend.store.read(DESK, RESTRICTIONS, "b" * 64)
    endless = backend.store.read(DESK, RESTRICTIONS, "a" * 64)
    assert ended is not None
    assert ended["ttl"] == 4 * 86_400  # Cosmos DB expires it by this
    assert endless is not None
    assert "ttl" not in endless  # kept until lifted or erased
    if backend.clock is not None:  # the stores whose clock the test moves expire it here
        backend.clock.advance(days=4, seconds=1)
        assert restrictions.get("b" * 64) is None  # the LINE id is gone with it
        assert restrictions.get("a" * 64) is not None
