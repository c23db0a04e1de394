"""function_app imports with no settings at all, and a bad setting is a clear first-call error."""

from __future__ import annotations

import json
import logging
import subprocess
import sys

import azure.functions as func
import pytest

from devtools.host import ROOT


def test_function_app_imports_without_settings_and_without_the_heavy_sdks() -> None:
    code = (
        "import sys, function_app\n"
        "names = sorted(f.get_function_name() for f in function_app.app.get_functions())\n"
        "heavy = [m for m in sys.modules if m.startswith(('linebot', 'azure.cosmos', "
        "'azure.identity'))]\n"
        "print(names, heavy)"
    )
    output = subprocess.run(  # noqa: S603 -- fixed interpreter and code
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={"PATH": ""},
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    names, heavy = output.split("] ")
    assert "'line_webhook'" in names
    assert "'housekeeping'" in names
    assert heavy == "[]"


def test_a_missing_secret_in_production_is_a_logged_configuration_error(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from shared.entrypoints.webhook import line_webhook  # noqa: PLC0415

    for name in ("DESK_ENVIRONMENT", "LINE_CHANNEL_SECRET", "LINE_CHANNEL_ACCESS_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AZURE_FUNCTIONS_ENVIRONMENT", "Production")
    request = func.HttpRequest(
        "POST",
        "http://localhost/api/line/webhook",
        headers={"content-type": "application/json"},
        body=b"{}",
    )
    with caplog.at_level(logging.ERROR):
        response = line_webhook(request)
    assert response.status_code == 500
    assert json.loads(response.get_body())["error"]["code"] == "configuration"
    assert "LINE_CHANNEL_SECRET" in caplog.text
