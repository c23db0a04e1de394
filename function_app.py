"""The Azure Functions app: a table of contents. Each trigger family is one blueprint in shared/."""

import azure.functions as func

from shared.entrypoints import admin, timers, webhook

app = func.FunctionApp(http_auth_level=func.AuthLevel.FUNCTION)

app.register_functions(webhook.bp)  # POST /api/line/webhook
app.register_functions(admin.bp)  # /api/admin/*
app.register_functions(timers.bp)  # housekeeping
