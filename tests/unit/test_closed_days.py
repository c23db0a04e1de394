"""Close the desk for a day (issue 19, item 9): an operator closes a date on the status screen;
the hours answers announce it, today's answer says the desk is closed and when it opens next,
and the acknowledgement's next opening skips it. And 受付時間・状況 without a consultation says
whether the desk is open now."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tests.kit.admin_api import api
from tests.kit.fakes import FakeClock
from tests.unit.conftest import consented, deliver
from tests.unit.test_console import ADMIN, ALICE, desk, get, post
from tests.unit.test_console_operators import CROSS

__all__ = ["desk"]

TUESDAY_10_JST = datetime(2025, 11, 4, 1, 0, tzinfo=UTC)


def hours_answer(desk, sim, line, name: str = "hana") -> str:
    user = consented(desk, sim, line, name)
    line.sent.clear()
    deliver(desk, user.postback_event("action=hours"))
    (answer,) = line.texts()
    return answer


def test_a_day_closed_ahead_is_announced_in_the_hours_answer(
    desk, sim, line, clock: FakeClock
) -> None:
    clock.now = TUESDAY_10_JST
    status, _, _ = post(
        "/console/admin/status/closed-days", {"day": "2025-11-06", "note": "研修"}, principal=ADMIN
    )
    assert status == 204
    answer = hours_answer(desk, sim, line)
    assert "ただいま対応時間内です。" in answer
    assert "臨時休業日：11月6日（木）" in answer
    assert "研修" not in answer  # the note is for staff
    page = get("/console/admin/status", principal=ADMIN)[2]
    assert "11月6日（木）" in page
    assert "研修" in page
    actions = [r["action"] for r in api(desk).auditor.page(None, 50)["records"]]
    assert "service.close_day" in actions


def test_today_closed_says_so_and_the_next_opening_skips_it(
    desk, sim, line, clock: FakeClock
) -> None:
    clock.now = TUESDAY_10_JST
    post("/console/admin/status/closed-days", {"day": "2025-11-04"}, principal=ADMIN)
    answer = hours_answer(desk, sim, line)
    assert "本日11月4日（火）は臨時休業のため" in answer
    assert "次は11月5日（水） 9:00からお答えします" in answer
    user = consented(desk, sim, line, "ken")
    line.sent.clear()
    deliver(desk, user.postback_event("action=topic&topic=income"))
    (receipt,) = [t for t in line.texts() if "受付番号" in t]
    assert "11月5日（水） 9:00以降に専門家からお答えします" in receipt
    post("/console/admin/status/closed-days/2025-11-04/reopen", principal=ADMIN)
    assert "ただいま対応時間内です。" in hours_answer(desk, sim, line, "other")


def test_outside_hours_the_answer_says_when_the_desk_opens(
    desk, sim, line, clock: FakeClock
) -> None:
    clock.now = datetime(2025, 11, 4, 13, 0, tzinfo=UTC)  # 22:00 JST
    assert "ただいまは対応時間外です。次は11月5日（水） 9:00からお答えします。" in hours_answer(
        desk, sim, line
    )


@pytest.mark.parametrize(
    ("form", "who", "status"),
    [
        ({"day": "2025-11-06"}, (None, False), (302, 401)),
        ({"day": "2025-11-06"}, (ALICE, False), (403,)),
        ({"day": "2025-11-06"}, (ADMIN, True), (403,)),
        ({"day": "11/06"}, (ADMIN, False), (400,)),
        ({"day": "2025-11-01"}, (ADMIN, False), (400,)),  # past
        ({"day": "2027-11-06"}, (ADMIN, False), (400,)),  # too far ahead
        ({"day": "2025-11-06", "note": "n" * 500}, (ADMIN, False), (400,)),
    ],
)
def test_closing_a_day_refuses_as_it_should(desk, clock: FakeClock, form, who, status) -> None:
    clock.now = TUESDAY_10_JST
    principal, cross_site = who
    path = "/console/admin/status/closed-days"
    answer = (
        post(path, form, principal=principal, **CROSS)
        if cross_site
        else post(path, form, principal=principal)
    )
    assert answer[0] in status
    assert desk.status.closed_days() == {}


def test_taking_back_a_day_refuses_as_it_should(desk) -> None:
    path = "/console/admin/status/closed-days/{}/reopen"
    assert post(path.format("not-a-day"), principal=ADMIN)[0] == 400
    assert post(path.format("2025-11-06"), principal=ALICE)[0] == 403
    assert post(path.format("2025-11-06"), {}, principal=ADMIN, **CROSS)[0] == 403
