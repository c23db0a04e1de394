"""`make report` files: CSVs Excel reads (UTF-8 with BOM) and a Japanese PNG chart.

The chart test renders a month with suppressed cells and holds the drawn figure (its texts and
bars) against the CSV written beside it: every glyph exists in the Japanese font, suppressed
cells are hatched 秘匿 bars and never zero, other bars are as high as the CSV says.
"""

from __future__ import annotations

import csv
import warnings

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import to_rgba
from matplotlib.figure import Figure
from matplotlib.font_manager import findfont
from matplotlib.ft2font import FT2Font
from matplotlib.patches import Rectangle
from matplotlib.text import Text

from devtools.report import (
    draw_chart,
    font_file,
    month_label,
    write_csv,
    write_outcome_csv,
    write_topic_csv,
)
from tests.unit.test_reporting import busy_month


def test_the_monthly_csv(desk, sim, line, tmp_path) -> None:
    busy_month(desk, sim, line)
    table = desk.reports.table("2025-11", "2025-12", "month")
    write_csv(table, tmp_path / "stats.csv")
    raw = (tmp_path / "stats.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    text = raw.decode("utf-8-sig")
    assert text.splitlines()[0].startswith("月,新規利用者")
    assert "2025-11" in text
    assert "2025-12" in text


def test_the_outcome_csv_names_outcomes_and_topics_by_label(desk, sim, line, tmp_path) -> None:
    busy_month(desk, sim, line)
    table = desk.reports.table("2025-11", "2025-11", "outcome")
    grid = desk.reports.sessions_by_month_and_topic("2025-11", "2025-11")
    write_outcome_csv(table, grid["labels"], tmp_path / "outcomes.csv")
    raw = (tmp_path / "outcomes.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(raw.decode("utf-8-sig").splitlines()))
    assert rows[0][:3] == ["終了理由", "キャリア・将来", "転職・就職"]
    assert "助言" in [row[0] for row in rows]
    assert not any(cell in ("career", "income", "advice") for row in rows for cell in row)


def _rendered(grid) -> tuple[Figure, list[str]]:
    """Draws and renders the chart, returning the figure and every warning raised."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        figure = draw_chart(grid)
        FigureCanvasAgg(figure).print_png(open("/dev/null", "wb"))  # noqa: SIM115
    return figure, [str(w.message) for w in caught]


def test_the_chart_matches_the_csv_and_is_fit_for_publication(desk, sim, line, tmp_path) -> None:
    busy_month(desk, sim, line)
    grid = desk.reports.sessions_by_month_and_topic("2025-11", "2025-12")
    write_topic_csv(grid, tmp_path / "topics.csv")
    raw = (tmp_path / "topics.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(raw.decode("utf-8-sig").splitlines()))
    header, body = rows[0], {row[0]: row for row in rows[1:-1]}
    assert header[1:] == [grid["labels"][t] for t in grid["topics"]]
    november = body["2025年11月"]
    assert november[header.index("収入・お金")] == "秘匿"  # 2 < k = 3: the month has suppression

    figure, caught = _rendered(grid)
    assert not [w for w in caught if "glyph" in w.lower() or "font" in w.lower()], caught

    # Every text on the chart is drawn in the Japanese font, which has every glyph used.
    font = font_file()
    charmap = FT2Font(str(font)).get_charmap()
    texts = [t for t in figure.findobj(Text) if t.get_visible() and t.get_text().strip()]
    for text in texts:
        assert findfont(text.get_fontproperties()) == str(font)
        missing = [ch for ch in text.get_text() if not ch.isspace() and ord(ch) not in charmap]
        assert not missing, (text.get_text(), missing)
    words = " ".join(t.get_text() for t in texts)
    for needed in (
        "月別",
        "相談テーマ",
        "出典：みらいキャリアポート",
        "単位：件",
        "（件）",
        "期間：2025年11月〜2025年12月",
        "2025年11月",
        "2025年12月",
        "キャリア・将来",
        "収入・お金",
        "秘匿",
    ):
        assert needed in words, needed
    assert not any(topic in words for topic in grid["topics"])  # labels, not ids

    (axes,) = figure.axes
    assert axes.get_ylim()[0] == 0
    bars = {p.get_gid(): p for p in axes.patches if isinstance(p, Rectangle) and p.get_gid()}
    assert len(bars) == len(grid["months"]) * len(grid["topics"])
    suppressed_texts = [t for t in axes.texts if t.get_text() == "秘匿"]
    for month in grid["months"]:
        for topic in grid["topics"]:
            bar = bars[f"{month}|{topic}"]
            cell = body[month_label(month)][header.index(grid["labels"][topic])]
            centre = bar.get_x() + bar.get_width() / 2
            if cell == "秘匿":
                assert bar.get_hatch() == "///"
                assert to_rgba(bar.get_facecolor())[3] == 0  # no fill: not a value
                assert bar.get_height() == axes.get_ylim()[1]
                assert any(abs(t.get_position()[0] - centre) < 1e-9 for t in suppressed_texts)
            else:
                assert not bar.get_hatch()
                assert bar.get_height() == int(cell)
    assert len(suppressed_texts) == sum(row.count("秘匿") for row in body.values())
    figure.savefig(tmp_path / "stats.png")
    assert (tmp_path / "stats.png").read_bytes().startswith(b"\x89PNG\r\n\x1a\n")


def test_a_period_with_every_value_suppressed_says_so_instead_of_hatching(desk) -> None:
    grid = desk.reports.sessions_by_month_and_topic("2025-11", "2025-12")
    grid["cells"] = {m: dict.fromkeys(grid["topics"]) for m in grid["months"]}  # all 秘匿
    figure, caught = _rendered(grid)
    assert not [w for w in caught if "glyph" in w.lower()], caught
    words = [t.get_text() for t in figure.findobj(Text) if t.get_visible()]
    assert "公表できる値はありません" in words
    assert not [r for r in figure.findobj(Rectangle) if r.get_hatch()]  # no hatched bars
