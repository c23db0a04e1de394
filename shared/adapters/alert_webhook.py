"""The supervisors' alert webhook over HTTPS (a Teams incoming webhook or a mail flow's trigger).

The body is JSON that Teams shows as it is (`text`) and a flow can read field by field
(`reference`, `reason`). It never carries a message's text, a name or a LINE id. The URL itself
is a secret (it holds the webhook's token): it is never logged, and telemetry scrubs it.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request

from shared.budget import OutOfTime, seconds_left
from shared.errors import AlertUnavailable

SOURCE = "desk"


class WebhookAlerts:
    """Posts alerts to one incoming-webhook URL, with a short timeout."""

    def __init__(self, url: str, timeout_seconds: float = 2.0) -> None:
        self._url = url
        self._timeout = timeout_seconds

    def send(self, reference: str, reason: str, text: str) -> None:
        """POST one alert; AlertUnavailable on any failure (never the URL in the message)."""
        body = json.dumps(
            {"text": text, "reference": reference, "reason": reason, "source": SOURCE},
            ensure_ascii=False,
        ).encode("utf-8")
        request = urllib.request.Request(  # noqa: S310 -- https, checked by the settings
            self._url,
            data=body,
            headers={"Content-Type": "application/json; charset=utf-8"},
            method="POST",
        )
        try:
            timeout = seconds_left(self._timeout)
        except OutOfTime:  # the housekeeping timer posts it, with time to spare
            raise AlertUnavailable("no time left in the call's budget") from None
        try:
            with urllib.request.urlopen(request, timeout=timeout) as answer:  # noqa: S310
                status = int(answer.status)
        except urllib.error.HTTPError as exc:
            exc.close()  # it holds the answer's connection
            raise AlertUnavailable(f"alert webhook answered {exc.code}") from None
        except (OSError, ValueError) as exc:
            raise AlertUnavailable(f"alert webhook unreachable: {type(exc).__name__}") from None
        if not 200 <= status < 300:
            raise AlertUnavailable(f"alert webhook answered {status}")
