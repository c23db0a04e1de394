"""The cold-start preload: runs only inside the Functions worker, does the first webhook's
work before traffic, and can never make `import function_app` fail."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from devtools.host import ROOT

_SCRIPT = """
import sys, threading, types, logging
logging.basicConfig(level=logging.INFO, stream=sys.stdout, format="%(name)s %(message)s")
if {in_worker}:
    sys.modules["azure_functions_worker"] = types.ModuleType("azure_functions_worker")
import function_app
names = sorted(f.get_function_name() for f in function_app.app.get_functions())
print("indexed", len(names), "line_webhook" in names)
threads = [t for t in threading.enumerate() if t.name == "desk-preload"]
print("preload threads", len(threads))
for t in threads:
    t.join(60)
print("sdk loaded", "linebot.v3.messaging" in sys.modules)
import shared.wiring
print("desk built", shared.wiring._desk is not None)
"""


def _run(tmp_path: Path, *, in_worker: bool, env: dict[str, str]) -> str:
    return subprocess.run(  # noqa: S603 -- fixed interpreter and code
        [sys.executable, "-c", _SCRIPT.format(in_worker=in_worker)],
        cwd=ROOT,
        env={"PATH": "", **env},
        capture_output=True,
        text=True,
        check=True,
        timeout=90,
    ).stdout


def _dev_env(tmp_path: Path) -> dict[str, str]:
    return {
        "DESK_ENVIRONMENT": "Development",
        "LINE_API_BASE_URL": "http://127.0.0.1:9",  # nothing listens: warm-up tolerates it
        "DESK_SQLITE_PATH": str(tmp_path / "desk.sqlite3"),
    }


def test_inside_the_worker_the_preload_builds_the_desk_before_any_call(tmp_path: Path) -> None:
    out = _run(tmp_path, in_worker=True, env=_dev_env(tmp_path))
    assert "indexed" in out
    assert "preload threads 1" in out
    assert "sdk loaded True" in out
    assert "desk built True" in out
    assert "desk.preload preload done in" in out


def test_outside_the_worker_nothing_is_preloaded(tmp_path: Path) -> None:
    out = _run(tmp_path, in_worker=False, env=_dev_env(tmp_path))
    assert "preload threads 0" in out
    assert "sdk loaded False" in out


def test_bad_settings_never_fail_the_import_or_the_indexing(tmp_path: Path) -> None:
    out = _run(tmp_path, in_worker=True, env={"AZURE_FUNCTIONS_ENVIRONMENT": "Production"})
    indexed = next(line for line in out.splitlines() if line.startswith("indexed"))
    healthy = _run(tmp_path, in_worker=False, env=_dev_env(tmp_path))
    every = next(line for line in healthy.splitlines() if line.startswith("indexed"))
    assert indexed.split()[1] == every.split()[1] != "0"  # every function, bad settings or not
    assert indexed.endswith("True")
    assert "preload failed ConfigurationError" in out
    assert "desk built False" in out
