"""Cold start on Flex Consumption: pay the first webhook's costs while the worker loads the app.

Flex never runs a warm-up trigger (a Premium/Dedicated feature), so an instance's first
webhook would pay the SDK imports and the clients' construction (over a second, against LINE's
1-2 s budget). `start_in_worker` runs the same work as the warm-up trigger on a daemon thread,
started when the Functions worker imports `function_app`: on an always-ready instance it is
done before traffic arrives, and a request that comes earlier waits on the same lock instead
of doing the work twice.

It can never break indexing: it starts only inside the Functions worker process (not when a
test, a tool or the local host imports the app), reads no setting on the importing thread, and
whatever fails in the thread is logged (by type, without personal data) and left for the first
invocation to report as usual.
"""

from __future__ import annotations

import logging
import sys
import threading

from shared.logsafe import describe

log = logging.getLogger("desk.preload")

# The Python worker's package (Python 3.11-3.12) and its successor (3.13+).
WORKER_MODULES = ("azure_functions_worker", "proxy_worker")


def in_functions_worker() -> bool:
    """True inside the Azure Functions Python worker process."""
    return any(name in sys.modules for name in WORKER_MODULES)


def start_in_worker() -> threading.Thread | None:
    """Start the preload when running inside the Functions worker; otherwise do nothing."""
    if not in_functions_worker():
        return None
    return start()


def start() -> threading.Thread:
    """Start the preload thread unconditionally (the benchmark and tests call this)."""
    thread = threading.Thread(target=_run, name="desk-preload", daemon=True)
    thread.start()
    return thread


def _run() -> None:
    try:
        from shared.wiring import warm_up  # noqa: PLC0415

        log.info("preload done in %.0f ms", warm_up() * 1000)
    except Exception as exc:  # the first invocation reports a bad setting with its name
        log.warning("preload failed %s", describe(exc))
