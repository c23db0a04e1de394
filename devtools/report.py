"""`make report FROM=YYYY-MM TO=YYYY-MM`: the publishable statistics of whole months as files.

Writes, under reports/: the monthly table as CSV (UTF-8 with BOM, so Excel reads the Japanese
headers) and a PNG chart of sessions by month and topic. It reads the store the settings name
(the local SQLite file by default), through the same code as `GET /api/admin/stats`, so the
same cells are withheld. Months that have not ended (Japan time) are marked 暫定 (provisional):
their figures still change, and publishing a month twice would let a reader subtract the two.
"""

from __future__ import annotations

import argparse
import csv
from pathlib import Path

from devtools.host import ROOT, load_local_settings

HEADERS = {
    "new_users": "新規利用者",
    "consents_explicit": "同意(明示)",
    "consents_deemed": "同意(みなし)",
    "sessions_opened": "相談開始",
    "sessions_closed": "相談終了",
    "messages": "相談メッセージ",
    "suspensions": "利用停止",
    "erasures": "データ削除",
}
SUPPRESSED = "秘匿"
PROVISIONAL = "(暫定)"


def write_csv(table: dict, path: Path) -> None:
    """The monthly table; suppressed cells read 秘匿."""
    with path.open("w", encoding="utf-8-sig", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(
            ["月", *(HEADERS.get(c, c) for c in table["columns"]), "初回回答までの中央値(分)"]
        )
        for row in table["rows"]:
            cells = [
                SUPPRESSED if row["cells"][c] is None else row["cells"][c] for c in table["columns"]
            ]
            median = row.get("medianFirstAnswerMinutes")
            month = row["key"] + (PROVISIONAL if row["key"] in table.get("provisional", []) else "")
            writer.writerow([month, *cells, SUPPRESSED if median is None else median])
        totals = [
            SUPPRESSED if table["totals"][c] is None else table["totals"][c]
            for c in table["columns"]
        ]
        writer.writerow(["合計", *totals, ""])
        writer.writerow([f"{table['k']}件未満の値と、そこから逆算できる値は秘匿しています。"])
        writer.writerow(
            ["集計は暦月単位です。複数月の合計は、各月の値がすべて公表できる場合に限り示します。"]
        )
        if table.get("provisional"):
            writer.writerow(
                ["(暫定)の月は集計期間が終わっていないため、値が変わることがあります。"]
            )


def write_chart(grid: dict, path: Path) -> None:
    """Stacked bars: sessions opened per month, by topic (suppressed cells left out)."""
    import matplotlib  # noqa: PLC0415 -- heavy, and only for this command

    matplotlib.use("Agg")
    from matplotlib import pyplot  # noqa: PLC0415

    figure, axes = pyplot.subplots(figsize=(8, 4.5), dpi=120)
    bottoms = [0] * len(grid["months"])
    for topic in grid["topics"]:
        values = [grid["cells"][m][topic] or 0 for m in grid["months"]]
        axes.bar(grid["months"], values, bottom=bottoms, label=topic)
        bottoms = [b + v for b, v in zip(bottoms, values, strict=True)]
    axes.set_title("Sessions opened by month and topic (suppressed cells omitted)")
    axes.set_ylabel("sessions")
    axes.legend(fontsize="small")
    figure.tight_layout()
    figure.savefig(path)
    pyplot.close(figure)


def main() -> None:
    """Build both files for the range given."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--from", dest="start", required=True, help="first month, YYYY-MM")
    parser.add_argument("--to", dest="end", required=True, help="last month, YYYY-MM")
    parser.add_argument("--out", default=str(ROOT / "reports"))
    options = parser.parse_args()
    load_local_settings()
    from shared.errors import DeskError  # noqa: PLC0415 -- after the settings are loaded
    from shared.wiring import get_desk  # noqa: PLC0415

    desk = get_desk()
    try:
        table = desk.reports.table(options.start, options.end, "month")
        grid = desk.reports.sessions_by_month_and_topic(options.start, options.end)
    except DeskError as exc:
        raise SystemExit(f"report: {exc.message}") from None
    out = Path(options.out)
    out.mkdir(parents=True, exist_ok=True)
    stem = f"stats-{options.start}-{options.end}"
    write_csv(table, out / f"{stem}.csv")
    write_chart(grid, out / f"{stem}.png")
    print(f"wrote {out / stem}.csv and {out / stem}.png")


if __name__ == "__main__":
    main()
