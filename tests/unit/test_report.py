"""`make report` files: a CSV Excel reads (UTF-8 with BOM) and a PNG chart."""

from __future__ import annotations

from devtools.report import write_chart, write_csv
from tests.unit.test_reporting import busy_month


def test_the_csv_and_the_chart(desk, sim, line, tmp_path) -> None:
    busy_month(desk, sim, line)
    table = desk.reports.table("2025-11", "2025-12", "month")
    write_csv(table, tmp_path / "stats.csv")
    raw = (tmp_path / "stats.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    text = raw.decode("utf-8-sig")
    assert text.splitlines()[0].startswith("月,新規利用者")
    assert "2025-11" in text
    assert "2025-12" in text
    grid = desk.reports.sessions_by_month_and_topic("2025-11", "2025-12")
    write_chart(grid, tmp_path / "stats.png")
    assert (tmp_path / "stats.png").read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
