"""`function_app`, served with a bug wired in: for e2e tests of the webhook's failure semantics.

The desk's store is wrapped so that writing a message whose text is `E2E_BUG_TEXT` (from the
environment the test gives the host) raises a plain `RuntimeError`, as a bug in the desk
would (not a `DependencyError`: nothing a retry could mend). The host loads settings into the
environment before importing this module, so the desk is built here with them and installed
as the process's desk. Only the host imports this module.
"""

from __future__ import annotations

import os
from typing import Any

from function_app import app
from shared.adapters.line_messaging import LineApiClient
from shared.config import get_settings
from shared.services.ports import Document
from shared.wiring import build_desk, build_store, install_desk

__all__ = ["app"]


class BuggyStore:
    """A DocumentStore that fails like a bug on one kind of write, around the real one."""

    def __init__(self, inner: Any, bug_text: str) -> None:
        self.inner = inner
        self.bug_text = bug_text

    def create(self, container: str, doc: Document) -> Document:
        if doc.get("text") == self.bug_text:
            raise RuntimeError("injected bug")
        created: Document = self.inner.create(container, doc)
        return created

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def _install() -> None:
    settings = get_settings()
    messenger = LineApiClient(
        settings.line_channel_access_token,
        settings.line_api_base_url,
        settings.line_timeout_seconds,
    )
    install_desk(
        build_desk(
            settings, BuggyStore(build_store(settings), os.environ["E2E_BUG_TEXT"]), messenger
        )
    )


_install()
