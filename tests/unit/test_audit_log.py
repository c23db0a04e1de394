"""Every audit record also goes to the log stream (Log Analytics keeps an immutable copy), as
one line that names nothing an erasure would have to take back (issue 21)."""

from __future__ import annotations

import logging

from shared.domain.privacy import user_key
from shared.repositories.desk_records import AuditLog
from shared.services.audit import Actor, Auditor
from tests.kit.fakes import FakeClock, MemoryStore

USER = "U" + "a" * 32


def test_each_record_is_one_log_line_without_the_user_or_the_details(caplog) -> None:
    clock = FakeClock()
    auditor = Auditor(AuditLog(MemoryStore(clock)), "audit-key", clock)
    with caplog.at_level(logging.INFO, logger="desk.audit"):
        auditor.record(Actor("田中", "function-key"), "session.read", USER, session="s-123")
        auditor.record_erased("purge_expired", "user.expire", "erased-0123")
    lines = [r.getMessage() for r in caplog.records if r.name == "desk.audit"]
    assert len(lines) == 2
    assert lines[0].startswith("audit record=")
    assert "action=session.read who=function-key asserted=田中" in lines[0]
    assert "action=user.expire who=purge_expired" in lines[1]
    joined = "\n".join(lines)
    for private in (USER, user_key("audit-key", USER), "s-123", "erased-0123"):
        assert private not in joined
