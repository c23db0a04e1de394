"""The desk's FunctionApp seen through the local host, built once per test session
(azure-functions refuses to index the same app's functions twice)."""

from __future__ import annotations

from functools import cache

import function_app
from devtools.host import LocalHost


@cache
def desk_host() -> LocalHost:
    """The local host over `function_app.app`, with the real (empty) route prefix."""
    return LocalHost(function_app.app, "", "test-function-key", "test-master-key")
