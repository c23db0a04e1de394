"""`make report FROM=YYYY-MM TO=YYYY-MM`: the publishable statistics of whole months as files.

Writes, under reports/: the monthly table as CSV (UTF-8 with BOM, so Excel reads the Japanese
headers), sessions by month and topic as CSV (the chart's figures, topic labels not ids), the
outcome table as CSV (outcome and topic labels), and a PNG chart of sessions by month and topic
in Japanese: suppressed cells drawn as hatched 秘匿 bars (never as zero), the axis from zero, the
period, the source and the unit on the chart. It reads the store the settings name (the local
SQLite file by default), through the same code as `GET /api/admin/stats`, so the same cells are
suppressed. The chart needs a Japanese font (Debian fonts-noto-cjk; `make report` installs it).
"""

from __future__ import annotations

import argparse
import csv
from pathlib import Path
from typing import TYPE_CHECKING, Any

from devtools.host import ROOT, load_local_settings

if TYPE_CHECKING:
    from matplotlib.figure import Figure

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
NOTHING_PUBLISHABLE = "公表できる値はありません"
PROVISIONAL = "(暫定)"
SOURCE = "みらいキャリアポート"
UNIT = "件"
FONT_FAMILY = "Noto Sans CJK JP"
FONT_FILES = (
    Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"),
    Path("/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc"),
)
# Colour-blind-safe palette (Okabe-Ito), one per topic.
COLOURS = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442")


def month_label(month: str) -> str:
    """`2025-11` as 2025年11月."""
    year, number = month.split("-")
    return f"{int(year)}年{int(number)}月"


def period_label(start: str, end: str) -> str:
    """The period (whole months, `YYYY-MM`) as printed on the chart."""
    return f"{month_label(start)}〜{month_label(end)}"


def _shown(value: Any) -> Any:
    return SUPPRESSED if value is None else value


def write_csv(table: dict[str, Any], path: Path) -> None:
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


def write_outcome_csv(table: dict[str, Any], labels: dict[str, str], path: Path) -> None:
    """Sessions closed by outcome (rows, labels) and topic (columns, labels)."""
    with path.open("w", encoding="utf-8-sig", newline="") as out:
        writer = csv.writer(out)
        names = {**labels, **table.get("columnLabels", {})}
        writer.writerow(["終了理由", *(names.get(c, c) for c in table["columns"]), "計"])
        for row in table["rows"]:
            cells = [_shown(row["cells"][c]) for c in table["columns"]]
            writer.writerow([row.get("label", row["key"]), *cells, _shown(row.get("total"))])
        totals = [_shown(table["totals"][c]) for c in table["columns"]]
        writer.writerow(["合計", *totals, _shown(table.get("grandTotal"))])
        writer.writerow([f"単位：{UNIT}。{table['k']}件未満の値と、そこから逆算できる値は秘匿。"])


def write_topic_csv(grid: dict[str, Any], path: Path) -> None:
    """The chart's figures: sessions opened by month (rows) and topic (columns, labels)."""
    with path.open("w", encoding="utf-8-sig", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["月", *(grid["labels"][t] for t in grid["topics"])])
        for month in grid["months"]:
            cells = [_shown(grid["cells"][month][t]) for t in grid["topics"]]
            writer.writerow([month_label(month), *cells])
        writer.writerow([f"単位：{UNIT}。{grid['k']}件未満の値と、そこから逆算できる値は秘匿。"])


def font_file() -> Path:
    """The Japanese font the chart is drawn in; an error naming the package when missing."""
    for candidate in FONT_FILES:
        if candidate.exists():
            return candidate
    raise SystemExit("report: no Japanese font; install Debian's fonts-noto-cjk")


def draw_chart(grid: dict[str, Any]) -> Figure:
    """Grouped bars: sessions opened per month and topic; returns the matplotlib figure.

    Every bar carries a gid `month|topic`; a suppressed cell is a hatched bar over the whole
    height with no value, labelled 秘匿, so it can never be read as zero.
    """
    import matplotlib  # noqa: PLC0415 -- heavy, and only for this command

    matplotlib.use("Agg")
    from matplotlib import font_manager  # noqa: PLC0415
    from matplotlib.figure import Figure  # noqa: PLC0415
    from matplotlib.patches import Patch  # noqa: PLC0415
    from matplotlib.ticker import MaxNLocator  # noqa: PLC0415

    font_manager.fontManager.addfont(str(font_file()))
    matplotlib.rcParams["font.family"] = FONT_FAMILY
    matplotlib.rcParams["axes.unicode_minus"] = False

    months, topics = grid["months"], grid["topics"]
    figure = Figure(figsize=(9, 5.2), dpi=120)
    axes = figure.subplots()
    values = [v for m in months for v in grid["cells"][m].values() if v is not None]
    if not values:  # every cell suppressed: nothing to draw, and a wall of hatching says nothing
        return _nothing_to_publish(figure, axes, grid)
    top = max([*values, 1]) * 1.15
    width = 0.8 / max(len(topics), 1)
    for index, topic in enumerate(topics):
        colour = COLOURS[index % len(COLOURS)]
        for position, month in enumerate(months):
            x = position - 0.4 + width * (index + 0.5)
            value = grid["cells"][month][topic]
            if value is None:
                bar = axes.bar(
                    x, top, width, color="none", edgecolor=colour, hatch="///", linewidth=0.8
                )[0]
                axes.text(
                    x,
                    top * 0.02,
                    SUPPRESSED,
                    ha="center",
                    va="bottom",
                    fontsize=7,
                    color="#222222",
                    bbox={"facecolor": "white", "edgecolor": "none", "pad": 1},
                )
            else:
                bar = axes.bar(x, value, width, color=colour)[0]
                axes.text(x, value, str(value), ha="center", va="bottom", fontsize=7)
            bar.set_gid(f"{month}|{topic}")
    axes.set_xticks(range(len(months)), [month_label(m) for m in months])
    axes.set_ylim(0, top)
    locator = axes.yaxis.get_major_locator()
    assert isinstance(locator, MaxNLocator)  # matplotlib's default AutoLocator is one
    locator.set_params(integer=True)
    axes.set_xlabel("月")
    axes.set_ylabel(f"相談開始件数（{UNIT}）")
    figure.suptitle(f"{SOURCE} 月別・相談テーマ別の相談開始件数", fontsize=13)
    axes.set_title(f"期間：{period_label(grid['from'], grid['to'])}　単位：{UNIT}", fontsize=9)
    handles = [
        Patch(color=COLOURS[i % len(COLOURS)], label=grid["labels"][t])
        for i, t in enumerate(topics)
    ]
    handles.append(
        Patch(facecolor="none", edgecolor="#333333", hatch="///", label=f"{SUPPRESSED}（値なし）")
    )
    axes.legend(
        handles=handles,
        fontsize=8,
        title="相談テーマ",
        title_fontsize=8,
        loc="upper left",
        bbox_to_anchor=(1.01, 1.0),
    )
    figure.text(
        0.01,
        0.01,
        f"出典：{SOURCE}（千葉県）。{grid['k']}{UNIT}未満の値と、そこから逆算できる値は"
        f"秘匿（斜線）。",
        fontsize=8,
    )
    figure.tight_layout(rect=(0, 0.04, 1, 1))
    return figure


def _nothing_to_publish(figure: Figure, axes: Any, grid: dict[str, Any]) -> Figure:
    """The chart of a period whose every value is suppressed: the title and the reason."""
    axes.set_axis_off()
    axes.text(0.5, 0.55, NOTHING_PUBLISHABLE, ha="center", va="center", fontsize=16)
    axes.text(
        0.5,
        0.4,
        f"{grid['k']}{UNIT}未満の値と、そこから逆算できる値は秘匿しています。",
        ha="center",
        va="center",
        fontsize=10,
    )
    figure.suptitle(f"{SOURCE} 月別・相談テーマ別の相談開始件数", fontsize=13)
    axes.set_title(f"期間：{period_label(grid['from'], grid['to'])}　単位：{UNIT}", fontsize=9)
    figure.text(0.01, 0.01, f"出典：{SOURCE}（千葉県）。", fontsize=8)
    return figure


def write_chart(grid: dict[str, Any], path: Path) -> None:
    """The chart as a PNG."""
    draw_chart(grid).savefig(path)


def main() -> None:
    """Build the files for the range given."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
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
        outcomes = desk.reports.table(options.start, options.end, "outcome")
        grid = desk.reports.sessions_by_month_and_topic(options.start, options.end)
    except DeskError as exc:
        raise SystemExit(f"report: {exc.message}") from None
    out = Path(options.out)
    out.mkdir(parents=True, exist_ok=True)
    stem = f"stats-{options.start}-{options.end}"
    write_csv(table, out / f"{stem}.csv")
    write_outcome_csv(outcomes, grid["labels"], out / f"{stem}-outcomes.csv")
    write_topic_csv(grid, out / f"{stem}-topics.csv")
    write_chart(grid, out / f"{stem}.png")
    print(f"wrote {out / stem}.csv, -outcomes.csv, -topics.csv and .png")


if __name__ == "__main__":
    main()
