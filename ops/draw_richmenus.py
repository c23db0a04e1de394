"""Draw the rich menus' images into ops/menu_images/ (`python -m ops.draw_richmenus`).

Each image is drawn from the menu's definition in ops.richmenus (the areas and the catalogue's
labels), in Noto Sans CJK JP Bold (`make fonts` installs it), as a palette PNG: the same
definition and font give the same bytes, so `tests/unit/test_richmenus.py` can check that the
committed images are current. `--check` exits 1 when they are not. Needs Pillow (a development
dependency; never deployed).
"""

from __future__ import annotations

import argparse
import io
import sys
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from ops.richmenus import Area, MenuSpec, desk_menus

FONT = Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc")
FONT_INDEX = 0  # the .ttc's first face is JP
BACKGROUND = (255, 255, 255)
CELL = (232, 242, 250)  # a calm blue of the prefecture's official pages
EMPHASIS = (253, 234, 232)
BORDER = (0, 94, 162)
INK = (22, 50, 79)
ALERT = (183, 28, 28)
GAP = 16  # white space around each button
MAX_LABEL_SIZE = 150


def draw(spec: MenuSpec, font_path: Path = FONT) -> bytes:
    """The menu's image as PNG bytes (deterministic for one definition and font)."""
    image = Image.new("RGB", spec.size, BACKGROUND)
    canvas = ImageDraw.Draw(image)
    for area in spec.areas:
        _button(canvas, area, font_path)
    palette = image.quantize(colors=64, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    out = io.BytesIO()
    palette.save(out, format="PNG", optimize=True)
    return out.getvalue()


def _button(canvas: ImageDraw.ImageDraw, area: Area, font_path: Path) -> None:
    box = (area.x + GAP, area.y + GAP, area.x + area.width - GAP, area.y + area.height - GAP)
    fill, ink = (EMPHASIS, ALERT) if area.emphasis else (CELL, INK)
    canvas.rounded_rectangle(
        box, radius=48, fill=fill, outline=ink if area.emphasis else BORDER, width=10
    )
    room = area.width - 2 * GAP - 120
    size = MAX_LABEL_SIZE
    font = ImageFont.truetype(str(font_path), size, index=FONT_INDEX)
    while canvas.textlength(area.label, font=font) > room and size > 40:
        size -= 6
        font = ImageFont.truetype(str(font_path), size, index=FONT_INDEX)
    centre = (area.x + area.width / 2, area.y + area.height / 2)
    canvas.text(centre, area.label, font=font, fill=ink, anchor="mm")


def main(argv: list[str] | None = None) -> int:
    """Write (or with --check, compare) every menu's image; 1 when one is out of date."""
    parser = argparse.ArgumentParser(prog="python -m ops.draw_richmenus", description=__doc__)
    parser.add_argument("--check", action="store_true", help="compare, write nothing")
    options = parser.parse_args(argv)
    stale = 0
    for spec in desk_menus():
        drawn = draw(spec)
        current = spec.image.read_bytes() if spec.image.exists() else b""
        if options.check:
            stale += drawn != current
            print(f"{spec.image.name}: {'current' if drawn == current else 'OUT OF DATE'}")  # noqa: T201
            continue
        spec.image.parent.mkdir(parents=True, exist_ok=True)
        spec.image.write_bytes(drawn)
        print(f"{spec.image.name}: {spec.size[0]}x{spec.size[1]}, {len(drawn):,} bytes")  # noqa: T201
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main())
