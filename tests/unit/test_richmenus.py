"""The desk's rich menus: their definitions and images within LINE's limits, the simulator
refusing what LINE refuses, and `python -m ops.line_setup richmenus` against the simulator
(idempotent, replacing a changed menu, deleting stale ones, a dry run that changes nothing)."""

from __future__ import annotations

import io
import json
import random
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from devtools.linesim import LineSimulator, image_size
from ops import draw_richmenus, line_setup
from ops.line_setup import SdkRichMenus
from ops.richmenus import DEFAULT_ALIAS, SESSION_ALIAS, MenuSpec, desk_menus, set_up
from shared.domain import postbacks

TOKEN = "token"  # the simulator's fake channel


@pytest.fixture
def sim() -> Iterator[LineSimulator]:
    simulator = LineSimulator("secret", TOKEN)
    simulator.start()
    yield simulator
    simulator.stop()


def _env(sim: LineSimulator) -> dict[str, str]:
    return {"LINE_CHANNEL_ACCESS_TOKEN": TOKEN, "LINE_API_BASE_URL": sim.base_url}


def _api(
    sim: LineSimulator, method: str, path: str, body: bytes, kind: str = "application/json"
) -> tuple[int, dict[str, Any]]:
    headers = {"authorization": f"Bearer {TOKEN}", "content-type": kind}
    status, _, raw = sim.api(method, path, headers, body)
    return status, json.loads(raw or b"{}")


def _menu(**changes: Any) -> dict[str, Any]:
    body = desk_menus()[1].body()
    body.update(changes)
    return body


# -- the definitions and the images -------------------------------------------------------


def test_the_menus_carry_the_catalogue_labels_and_postbacks_the_desk_understands() -> None:
    default, session = desk_menus()
    assert [a.label for a in default.areas] == [
        "相談する",
        "受付時間・状況",
        "同意・データ",
        "よくある質問",
        "緊急のとき",
    ]
    assert [a.label for a in session.areas] == ["相談を終了", "状況を確認", "受付時間"]
    actions = [postbacks.decode(a.data)[0] for a in default.areas + session.areas]
    assert actions == ["menu", "status", "data_menu", "faq", "helplines", "end", "status", "hours"]
    assert (default.alias, default.default, session.alias, session.default) == (
        DEFAULT_ALIAS,
        True,
        SESSION_ALIAS,
        False,
    )


@pytest.mark.parametrize("spec", desk_menus(), ids=lambda s: s.alias)
def test_each_image_is_a_png_of_the_menu_size_under_1_mb(spec: MenuSpec) -> None:
    raw = spec.image.read_bytes()
    assert len(raw) <= 1024 * 1024
    assert image_size(raw) == spec.size
    assert spec.size in ((2500, 1686), (2500, 843))
    with Image.open(io.BytesIO(raw)) as image:
        assert (image.format, image.size) == ("PNG", spec.size)
    # The areas tile the image without overlapping.
    width, height = spec.size
    assert sum(a.width * a.height for a in spec.areas) == width * height


@pytest.mark.parametrize("spec", desk_menus(), ids=lambda s: s.alias)
def test_the_committed_image_is_what_the_script_draws(spec: MenuSpec) -> None:
    if not draw_richmenus.FONT.exists():
        pytest.skip("Noto Sans CJK is not installed (make fonts)")
    drawn = draw_richmenus.draw(spec)
    assert drawn == draw_richmenus.draw(spec)  # reproducible
    assert drawn == spec.image.read_bytes(), "run python -m ops.draw_richmenus"


# -- the simulator enforces LINE's limits -------------------------------------------------


def test_the_simulator_accepts_the_desk_menus(sim: LineSimulator) -> None:
    for spec in desk_menus():
        assert (
            _api(sim, "POST", "/v2/bot/richmenu/validate", json.dumps(spec.body()).encode())[0]
            == 200
        )


@pytest.mark.parametrize(
    ("changes", "named"),
    [
        ({"chatBarText": "十五文字のチャットバーのテキストです"}, "chatBarText"),
        ({"chatBarText": ""}, "chatBarText"),
        ({"size": {"width": 799, "height": 500}}, "size.width"),
        ({"size": {"width": 2501, "height": 843}}, "size.width"),
        ({"size": {"width": 800, "height": 249}}, "size.height"),
        ({"size": {"width": 2500, "height": 1725}}, "width/height"),
        ({"areas": []}, "areas"),
        ({"name": "x" * 301}, "name"),
        ({"selected": "yes"}, "selected"),
    ],
)
def test_the_simulator_refuses_a_menu_line_refuses(
    sim: LineSimulator, changes: dict[str, Any], named: str
) -> None:
    body = _menu(**changes)
    if "size" in changes:
        body["areas"] = [
            {**body["areas"][0], "bounds": {"x": 0, "y": 0, "width": 10, "height": 10}}
        ]
    status, answer = _api(sim, "POST", "/v2/bot/richmenu", json.dumps(body).encode())
    assert status == 400
    assert named in answer["message"]
    assert sim.rich_menus == {}


def test_the_simulator_refuses_21_areas_and_an_area_outside_the_image(sim: LineSimulator) -> None:
    body = _menu()
    area = body["areas"][0]
    small = {**area, "bounds": {"x": 0, "y": 0, "width": 100, "height": 100}}
    assert (
        _api(sim, "POST", "/v2/bot/richmenu", json.dumps({**body, "areas": [small] * 20}).encode())[
            0
        ]
        == 200
    )
    status, answer = _api(
        sim, "POST", "/v2/bot/richmenu", json.dumps({**body, "areas": [small] * 21}).encode()
    )
    assert (status, answer["message"]) == (400, "areas: 1-20")
    outside = {**area, "bounds": {"x": 2400, "y": 0, "width": 200, "height": 843}}
    status, answer = _api(
        sim, "POST", "/v2/bot/richmenu", json.dumps({**body, "areas": [outside]}).encode()
    )
    assert (status, answer["message"]) == (400, "areas[0].bounds: inside the image")


def _png(size: tuple[int, int], noise: bool = False) -> bytes:
    image = Image.new("RGB", size, (255, 255, 255))
    if noise:  # random pixels do not compress
        image = Image.frombytes("RGB", size, random.Random(1).randbytes(size[0] * size[1] * 3))
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def test_the_simulator_checks_the_image_type_size_and_dimensions(sim: LineSimulator) -> None:
    _, created = _api(sim, "POST", "/v2/bot/richmenu", json.dumps(_menu()).encode())
    path = f"/v2/bot/richmenu/{created['richMenuId']}/content"
    wrong_size = _png((2500, 1686))
    assert _api(sim, "POST", path, wrong_size, "image/png") == (
        400,
        {"message": "The image is 2500x1686, the rich menu 2500x843"},
    )
    heavy = _png((2500, 843), noise=True)
    assert len(heavy) > 1024 * 1024
    assert (
        _api(sim, "POST", path, heavy, "image/png")[1]["message"] == "The image is larger than 1 MB"
    )
    right = _png((2500, 843))
    assert _api(sim, "POST", path, right, "image/gif")[0] == 400
    assert _api(sim, "POST", path, right, "image/jpeg")[0] == 400  # a PNG sent as a JPEG
    assert _api(sim, "POST", path, right, "image/png")[0] == 200
    assert _api(sim, "POST", path, right, "image/png")[0] == 400  # uploaded once, never replaced


def test_a_menu_without_an_image_cannot_be_the_default_or_aliased(sim: LineSimulator) -> None:
    _, created = _api(sim, "POST", "/v2/bot/richmenu", json.dumps(_menu()).encode())
    menu_id = created["richMenuId"]
    assert _api(sim, "POST", f"/v2/bot/user/all/richmenu/{menu_id}", b"")[0] == 400
    alias = json.dumps({"richMenuAliasId": "desk-x", "richMenuId": menu_id}).encode()
    assert _api(sim, "POST", "/v2/bot/richmenu/alias", alias)[0] == 400


# -- python -m ops.line_setup richmenus ---------------------------------------------------


def test_setup_creates_both_menus_with_their_images_aliases_and_the_default(
    sim: LineSimulator, capsys: pytest.CaptureFixture[str]
) -> None:
    assert line_setup.main(["richmenus"], _env(sim)) == 0
    default, session = desk_menus()
    assert set(sim.rich_menu_aliases) == {DEFAULT_ALIAS, SESSION_ALIAS}
    for spec in (default, session):
        menu_id = sim.rich_menu_aliases[spec.alias]
        assert sim.rich_menus[menu_id]["name"] == spec.body()["name"]
        assert sim.rich_menu_images[menu_id] == spec.image.read_bytes()
    assert sim.default_rich_menu == sim.rich_menu_aliases[DEFAULT_ALIAS]
    shown = sim.menu_shown("anyone")
    assert shown is not None
    assert shown["chatBarText"] == "メニュー"
    assert "create desk-default@" in capsys.readouterr().out


def test_rerunning_setup_changes_nothing(
    sim: LineSimulator, capsys: pytest.CaptureFixture[str]
) -> None:
    assert line_setup.main(["richmenus"], _env(sim)) == 0
    before = (dict(sim.rich_menus), dict(sim.rich_menu_aliases), sim.default_rich_menu)
    capsys.readouterr()
    sim.calls.clear()
    assert line_setup.main(["richmenus"], _env(sim)) == 0
    assert (dict(sim.rich_menus), dict(sim.rich_menu_aliases), sim.default_rich_menu) == before
    assert [c.endpoint for c in sim.calls if not c.endpoint.startswith("richmenu_list")] == [
        "richmenu_aliases",
        "richmenu_get_default",
    ]
    assert capsys.readouterr().out.strip() == "the rich menus are up to date"


def test_a_changed_menu_replaces_the_old_one_which_is_deleted(sim: LineSimulator) -> None:
    admin = SdkRichMenus(sim.base_url, sim.base_url, TOKEN)
    default, session = desk_menus()
    sim.add_rich_menu("richmenu-not-the-desks")  # another tool's menu: left alone
    set_up(admin, (default, session), say=lambda _: None)
    old = sim.rich_menu_aliases[SESSION_ALIAS]
    user = "Ua" + "0" * 31
    assert _api(sim, "POST", f"/v2/bot/user/{user}/richmenu/{old}", b"")[0] == 200
    changed = replace(session, chat_bar_text="相談中")
    steps = set_up(admin, (default, changed), say=lambda _: None)
    new = sim.rich_menu_aliases[SESSION_ALIAS]
    assert new != old
    assert old not in sim.rich_menus
    assert sim.rich_menus[new]["chatBarText"] == "相談中"
    assert "richmenu-not-the-desks" in sim.rich_menus
    assert sim.menu_of(user) is None  # LINE unlinks a deleted menu: the default shows
    assert [s.split(" ")[0] for s in steps] == ["create", "point", "delete"]


def test_a_dry_run_prints_the_plan_and_changes_nothing(
    sim: LineSimulator, capsys: pytest.CaptureFixture[str]
) -> None:
    assert line_setup.main(["richmenus", "--dry-run"], _env(sim)) == 0
    out = capsys.readouterr().out.splitlines()
    assert out
    assert all(line.startswith("would ") for line in out)
    assert "would set desk-default@" in "\n".join(out)
    assert sim.rich_menus == {}
    assert not [c for c in sim.calls if c.endpoint in ("richmenu_create", "richmenu_image")]


def test_a_dry_run_without_a_token_prints_the_menus_it_would_create(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert line_setup.main(["richmenus", "--dry-run"], {}) == 0
    out = capsys.readouterr().out
    assert out.count("would create desk-") == 2
    assert line_setup.main(["richmenus"], {}) == 2  # a real run needs the token


def test_line_refusing_a_call_is_reported_with_its_status(
    sim: LineSimulator, capsys: pytest.CaptureFixture[str]
) -> None:
    sim.fail_next("richmenu_create", 500)
    assert line_setup.main(["richmenus"], _env(sim)) == 1
    err = capsys.readouterr().err
    assert "POST /v2/bot/richmenu (desk-default@" in err
    assert "HTTP 500" in err
    assert TOKEN not in err


def test_the_images_directory_holds_only_the_menus_images() -> None:
    names = {p.name for p in Path(draw_richmenus.__file__).parent.joinpath("menu_images").iterdir()}
    assert names == {f"{s.alias}.png" for s in desk_menus()}


class _Aliases:
    """A RichMenuApi whose alias can be moved, recording what was linked."""

    def __init__(self) -> None:
        self.target = "richmenu-old"
        self.lookups = 0
        self.linked: list[str] = []

    def rich_menu_id(self, alias: str) -> str | None:
        self.lookups += 1
        return self.target

    def link_rich_menu(self, user_id: str, rich_menu_id: str) -> None:
        self.linked.append(rich_menu_id)

    def unlink_rich_menu(self, user_id: str) -> None:
        """Nothing to record."""


def test_a_moved_alias_is_seen_within_a_minute_without_a_restart() -> None:
    from shared.services.line.richmenus import ALIAS_FOR, RichMenuLinker  # noqa: PLC0415

    api, now = _Aliases(), [0.0]
    linker = RichMenuLinker(api, monotonic=lambda: now[0])
    linker.session_opened("U1")
    linker.session_opened("U2")
    assert api.lookups == 1  # kept between sessions
    api.target = "richmenu-new"  # ops.line_setup richmenus moved the alias
    now[0] += ALIAS_FOR
    linker.session_opened("U3")
    assert api.linked == ["richmenu-old", "richmenu-old", "richmenu-new"]
