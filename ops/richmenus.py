"""The desk's two rich menus, and setting them up on LINE (`python -m ops.line_setup richmenus`).

- `desk-default` (2500x1686, the channel's default: everyone without a linked menu sees it):
  相談する / 受付時間・状況 / 同意・データ / よくある質問 / 緊急のとき.
- `desk-session` (2500x843, linked to a user while their consultation is open, by
  shared.services.line.richmenus): 相談を終了 / 状況を確認 / 受付時間.

Labels come from the catalogue (shared/texts/ja.json); every area sends a postback the desk
understands (with the label as the text the user is shown to have sent). The images are PNG
files in ops/menu_images/, drawn by `python -m ops.draw_richmenus` from the same definitions.

Setting up is idempotent. Each menu's LINE name carries a fingerprint of its definition and
image (`desk-default@3f2a...`): a menu already on LINE under that name is kept, otherwise a
new one is created with its image; then the alias (`desk-default`, `desk-session`) is pointed at
it, the default menu is set, and the desk's menus no alias points at any more are deleted
(LINE cannot change a menu or replace its image: a change is a new menu). Menus whose names do
not start with `desk-` are not the desk's and are left alone.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from shared.domain import postbacks
from shared.texts.catalogue import Catalogue, load_catalogue

IMAGES = Path(__file__).resolve().parent / "menu_images"
PREFIX = "desk-"
DEFAULT_ALIAS = "desk-default"
SESSION_ALIAS = "desk-session"  # what shared.services.line.richmenus links while a session is open
FULL = (2500, 1686)
COMPACT = (2500, 843)


@dataclass(frozen=True)
class Area:
    """One button: where it is on the image, what it says and the postback it sends."""

    x: int
    y: int
    width: int
    height: int
    label: str
    data: str
    emphasis: bool = False  # drawn in the warning colour (緊急のとき)


@dataclass(frozen=True)
class MenuSpec:
    """One rich menu as the desk wants it on LINE."""

    alias: str
    size: tuple[int, int]
    chat_bar_text: str
    areas: tuple[Area, ...]
    default: bool = False

    @property
    def image(self) -> Path:
        return IMAGES / f"{self.alias}.png"

    def body(self) -> dict[str, Any]:
        """The rich menu object LINE takes (`POST /v2/bot/richmenu`), named by its fingerprint."""
        menu = self._object(self.alias)
        menu["name"] = f"{self.alias}@{self.fingerprint()}"
        return menu

    def fingerprint(self, image: bytes | None = None) -> str:
        """12 hex digits of the definition and the image: a changed menu is a new menu."""
        raw = image if image is not None else self.image.read_bytes()
        digest = hashlib.sha256(json.dumps(self._object(self.alias), sort_keys=True).encode())
        digest.update(raw)
        return digest.hexdigest()[:12]

    def _object(self, name: str) -> dict[str, Any]:
        width, height = self.size
        return {
            "size": {"width": width, "height": height},
            "selected": self.default,
            "name": name,
            "chatBarText": self.chat_bar_text,
            "areas": [
                {
                    "bounds": {"x": a.x, "y": a.y, "width": a.width, "height": a.height},
                    "action": {
                        "type": "postback",
                        "label": a.label,
                        "data": a.data,
                        "displayText": a.label,
                    },
                }
                for a in self.areas
            ],
        }


def _row(
    y: int, height: int, width: int, cells: tuple[tuple[str, str], ...], emphasis: str = ""
) -> tuple[Area, ...]:
    """Cells of equal width side by side (the last one takes the rounding)."""
    step = width // len(cells)
    areas = []
    for n, (label, data) in enumerate(cells):
        x = n * step
        w = width - x if n == len(cells) - 1 else step
        areas.append(Area(x, y, w, height, label, data, emphasis=label == emphasis))
    return tuple(areas)


def desk_menus(catalogue: Catalogue | None = None) -> tuple[MenuSpec, MenuSpec]:
    """The default menu and the consultation menu, labelled from the catalogue."""
    t = (catalogue or load_catalogue()).text
    width, height = FULL
    half = height // 2
    emergency = t("richmenu_emergency")
    default = MenuSpec(
        alias=DEFAULT_ALIAS,
        size=FULL,
        chat_bar_text=t("richmenu_bar_default"),
        default=True,
        areas=_row(
            0,
            half,
            width,
            (
                (t("richmenu_consult"), postbacks.encode("menu")),
                (t("richmenu_hours_status"), postbacks.encode("status")),
            ),
        )
        + _row(
            half,
            height - half,
            width,
            (
                (t("richmenu_data"), postbacks.encode("data_menu")),
                (t("richmenu_faq"), postbacks.encode("faq")),
                (emergency, postbacks.encode("helplines")),
            ),
            emphasis=emergency,
        ),
    )
    session = MenuSpec(
        alias=SESSION_ALIAS,
        size=COMPACT,
        chat_bar_text=t("richmenu_bar_session"),
        areas=_row(
            0,
            COMPACT[1],
            COMPACT[0],
            (
                (t("richmenu_end"), postbacks.encode("end")),
                (t("richmenu_status"), postbacks.encode("status")),
                (t("richmenu_hours"), postbacks.encode("hours")),
            ),
        ),
    )
    return default, session


# -- setting the menus up on LINE -----------------------------------------------------------


class RichMenuAdmin(Protocol):
    """What setting up needs of LINE (ops.line_setup implements it with line-bot-sdk)."""

    def menus(self) -> dict[str, str]:
        """Every rich menu on the channel: id -> name."""

    def aliases(self) -> dict[str, str]:
        """Every alias: alias id -> rich menu id."""

    def default_menu(self) -> str | None:
        """The default rich menu's id (None: no default)."""

    def validate(self, body: dict[str, Any]) -> None:
        """Have LINE check a rich menu object (raises if it refuses)."""

    def create(self, body: dict[str, Any], image: bytes) -> str:
        """Create a menu, upload its PNG; its id."""

    def set_alias(self, alias: str, menu_id: str, *, exists: bool) -> None:
        """Create the alias, or point an existing one at `menu_id`."""

    def set_default(self, menu_id: str) -> None:
        """Make `menu_id` the channel's default menu."""

    def delete(self, menu_id: str) -> None:
        """Delete a rich menu."""


def set_up(
    admin: RichMenuAdmin,
    specs: tuple[MenuSpec, ...],
    *,
    dry_run: bool = False,
    say: Callable[[str], None] = print,
) -> list[str]:
    """Bring LINE's menus to `specs`; the steps taken (or, with `dry_run`, that would be)."""
    steps: list[str] = []

    def step(line: str) -> None:
        steps.append(line)
        say(("would " if dry_run else "") + line)

    menus = admin.menus()
    aliases = admin.aliases()
    by_name = {name: menu_id for menu_id, name in menus.items()}
    keep: set[str] = set()
    for spec in specs:
        body = spec.body()
        menu_id = by_name.get(body["name"])
        if menu_id is None:
            admin.validate(body)
            step(f"create {body['name']} ({len(spec.areas)} areas) with {spec.image.name}")
            menu_id = "(new)" if dry_run else admin.create(body, spec.image.read_bytes())
        keep.add(menu_id)
        if aliases.get(spec.alias) != menu_id:
            step(f"point alias {spec.alias} at {body['name']}")
            if not dry_run:
                admin.set_alias(spec.alias, menu_id, exists=spec.alias in aliases)
        if spec.default and (menu_id == "(new)" or admin.default_menu() != menu_id):
            step(f"set {body['name']} as the default menu")
            if not dry_run:
                admin.set_default(menu_id)
    for menu_id, name in sorted(menus.items(), key=lambda item: item[1]):
        if name.startswith(PREFIX) and menu_id not in keep:
            step(f"delete the stale menu {name}")
            if not dry_run:
                admin.delete(menu_id)
    if not steps:
        say("the rich menus are up to date")
    return steps
