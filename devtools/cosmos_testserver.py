"""Start and stop the Cosmos DB test server (devtools/cosmos_testserver.js) from Python.

The key is the well-known public key of the Cosmos DB emulator; the test server accepts any.
"""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EMULATOR_KEY = (
    "C2y6yDjf5/R+ob0N8A7Cgv30VRDJIWEHLM+4QDU5DE2nQ9nDuVTqobD4b8mGGyPMbIZnqyMsEcaGQy67XIw/Jw=="
)


@dataclass
class CosmosTestServer:
    """A running test server: its endpoint and the process to stop."""

    endpoint: str
    process: subprocess.Popen[str]

    def freeze(self) -> None:
        """Stop the server's process (SIGSTOP): it accepts connections and answers nothing,
        as a Cosmos DB that hangs does."""
        self.process.send_signal(signal.SIGSTOP)

    def thaw(self) -> None:
        """Let a frozen server run again (SIGCONT)."""
        self.process.send_signal(signal.SIGCONT)

    def stop(self) -> None:
        """Terminate the server and wait for it."""
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        if self.process.stdout is not None:
            self.process.stdout.close()


def start_cosmos_test_server() -> CosmosTestServer:
    """Start the server on a free loopback port; returns once it listens."""
    node = shutil.which("node")
    module = ROOT / "node_modules" / "@vercel" / "cosmosdb-server"
    if node is None or not module.is_dir():
        raise RuntimeError("the Cosmos test server needs node and `npm ci` (make test does both)")
    process = subprocess.Popen(  # noqa: S603 -- fixed arguments
        [node, str(ROOT / "devtools" / "cosmos_testserver.js")],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    line = process.stdout.readline()  # blocks until the server prints its port
    if not line:
        process.wait()
        raise RuntimeError(f"Cosmos test server exited with {process.returncode}")
    port = json.loads(line)["port"]
    return CosmosTestServer(f"https://127.0.0.1:{port}", process)
