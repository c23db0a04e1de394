"""The consultation rich menu, shown to a user while their session is open.

Menus are found by alias (`desk-session`), looked up at most once per ALIAS_FOR per process:
when `ops.line_setup richmenus` moves the alias to a new menu, every instance links the new one
within that time (and at once after a failed link). Creating the menus and
their images is `python -m ops.line_setup richmenus`; this only links and unlinks. A failure
is logged (no user id, no text) and never fails the user's event: the chips still work.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from shared.ports import RichMenuApi
from shared.services.cached import Cached

log = logging.getLogger("desk.richmenus")

SESSION_MENU_ALIAS = "desk-session"
ALIAS_FOR = 60.0  # seconds an alias's menu id is kept


class RichMenuLinker:
    """Links the consultation menu when a session opens, unlinks it when it closes."""

    def __init__(
        self,
        api: RichMenuApi,
        alias: str = SESSION_MENU_ALIAS,
        *,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._api = api
        self._alias = alias
        self._menu_id: Cached[str | None] = Cached(ALIAS_FOR, monotonic)

    def session_opened(self, user_id: str) -> None:
        """Link the consultation menu (nothing if the alias is not set up)."""
        try:
            menu_id = self._session_menu_id()
            if menu_id is not None:
                self._api.link_rich_menu(user_id, menu_id)
        except Exception as exc:  # never fail the user's event over a menu
            self._menu_id.forget()  # the alias may have moved: look it up again next time
            log.warning("rich menu link failed error=%s", type(exc).__name__)

    def session_closed(self, user_id: str) -> None:
        """Unlink the user's menu: the default menu shows again."""
        try:
            self._api.unlink_rich_menu(user_id)
        except Exception as exc:
            log.warning("rich menu unlink failed error=%s", type(exc).__name__)

    def _session_menu_id(self) -> str | None:
        return self._menu_id.get(lambda: self._api.rich_menu_id(self._alias))
