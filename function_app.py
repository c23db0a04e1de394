"""The Azure Functions app: a table of contents. Each trigger family is one blueprint in shared/,
plus the cold-start preload for plans without a warm-up trigger (Flex Consumption)."""

import azure.functions as func

from shared import preload
from shared.adapters import telemetry  # noqa: F401 -- registers the RequestSpans worker extension
from shared.entrypoints import (
    admin,
    admin_moderation,
    admin_sessions,
    console,
    lifecycle,
    timers,
    webhook,
)

app = func.FunctionApp(http_auth_level=func.AuthLevel.FUNCTION)

app.register_functions(webhook.bp)  # POST /api/line/webhook
app.register_functions(admin.bp)  # /api/admin/{health,users,policies,audit}
app.register_functions(admin_sessions.bp)  # /api/admin/sessions/*
app.register_functions(admin_moderation.bp)  # /api/admin/{flags,users/*/...}
app.register_functions(console.bp)  # /console/* (anonymous: App Service authentication)
app.register_functions(console.board_bp)  # /console/board, flags, escalations (the same)
app.register_functions(console.admin_bp)  # /console/admin/* (operators, Desk.Admin only)
app.register_functions(timers.bp)  # housekeeping, close_idle_sessions, purge_suspended
app.register_functions(lifecycle.bp)  # warmup (Premium and Dedicated plans)

# Flex has no warm-up trigger: inside the Functions worker, import the SDKs and build the
# clients on a background thread while the host finishes loading (never fails the import).
preload.start_in_worker()
