"""Schemathesis against the local host: generated and malformed requests to every admin
endpoint find no 5xx and no answer outside the OpenAPI document (bounded in time)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from devtools.host import ROOT
from tests.e2e.conftest import FUNCTION_KEY, RunningDesk

pytestmark = [pytest.mark.e2e, pytest.mark.parametrize("running_desk", ["sqlite"], indirect=True)]

CHECKS = ",".join(
    [
        "not_a_server_error",
        "status_code_conformance",
        "content_type_conformance",
        "response_schema_conformance",
    ]
)


def test_generated_requests_find_no_server_error_and_stay_in_the_document(
    desk: RunningDesk, tmp_path: Path
) -> None:
    st = shutil.which("st", path=str(Path(sys.executable).parent))
    assert st is not None, "schemathesis is in requirements-dev.txt"
    run = subprocess.run(  # noqa: S603 -- fixed arguments
        [
            st,
            "run",
            str(ROOT / "shared" / "data" / "openapi.json"),
            "--url",
            desk.base_url,
            "--header",
            f"x-functions-key: {FUNCTION_KEY}",
            "--checks",
            CHECKS,
            "--max-examples",
            "8",
            "--max-time",
            "25",
            "--seed",
            "20251024",
            "--report-dir",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert run.returncode == 0, run.stdout[-4000:]
    assert "passed" in run.stdout
