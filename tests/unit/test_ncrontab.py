"""NCRONTAB schedules fire when Azure Functions' timer triggers would (croniter underneath)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from devtools.host import Schedule

T0 = datetime(2025, 10, 24, 12, 34, 56, tzinfo=UTC)  # a Friday


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("* * * * * *", datetime(2025, 10, 24, 12, 34, 57, tzinfo=UTC)),
        ("0 */5 * * * *", datetime(2025, 10, 24, 12, 35, 0, tzinfo=UTC)),
        ("0 17 * * * *", datetime(2025, 10, 24, 13, 17, 0, tzinfo=UTC)),
        ("0 0 18 * * *", datetime(2025, 10, 24, 18, 0, 0, tzinfo=UTC)),
        ("0 0 9 * * Mon-Fri", datetime(2025, 10, 27, 9, 0, 0, tzinfo=UTC)),
        ("0 0 0 1 Jan *", datetime(2026, 1, 1, 0, 0, 0, tzinfo=UTC)),
        ("0 30 9 * * 0", datetime(2025, 10, 26, 9, 30, 0, tzinfo=UTC)),
        ("0 30 9 * * 7", datetime(2025, 10, 26, 9, 30, 0, tzinfo=UTC)),
        ("0,30 * * * * *", datetime(2025, 10, 24, 12, 35, 0, tzinfo=UTC)),
        ("*/5 * * * *", datetime(2025, 10, 24, 12, 35, 0, tzinfo=UTC)),  # five fields
        # NCRONTAB needs both day fields to match (Vixie cron's OR would fire on 2025-10-31).
        ("0 0 9 13 * Fri", datetime(2026, 2, 13, 9, 0, 0, tzinfo=UTC)),
    ],
)
def test_next_fire_time(expression: str, expected: datetime) -> None:
    assert Schedule.parse(expression).next_after(T0) == expected


def test_the_next_time_is_strictly_after() -> None:
    on_the_dot = datetime(2025, 10, 24, 18, 0, 0, tzinfo=UTC)
    assert Schedule.parse("0 0 18 * * *").next_after(on_the_dot).day == 25


@pytest.mark.parametrize(
    "expression", ["", "* * *", "61 * * * * *", "* * * * 13 *", "*/0 * * * * *", "a b c d e f"]
)
def test_malformed_expressions_are_refused(expression: str) -> None:
    with pytest.raises(ValueError, match=r"(fields|range|step|number)"):
        Schedule.parse(expression)
