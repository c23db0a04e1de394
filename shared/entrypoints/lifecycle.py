"""Instance lifecycle: the warm-up trigger runs when an instance starts, before it gets
traffic (Premium and Dedicated plans), so the first LINE user does not pay the imports."""

from __future__ import annotations

import logging

from azure.functions.warmup import WarmUpContext

from shared.entrypoints.endpoint import blueprint
from shared.errors import DeskError
from shared.logsafe import describe
from shared.wiring import warm_up

bp = blueprint()
log = logging.getLogger("desk.lifecycle")


@bp.warm_up_trigger("warmup")
def warmup(warmup: WarmUpContext) -> None:
    """Build the desk's clients and import what the first webhook would.

    A desk error (a bad setting) is logged with its message, which names the settings and
    never their values, and re-raised so the host records the failed warm-up.
    """
    try:
        took = warm_up()
    except DeskError as exc:
        log.error("warm-up failed %s", describe(exc))
        raise
    log.info("warm-up done in %.0f ms", took * 1000)
