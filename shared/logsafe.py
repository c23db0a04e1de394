"""Describing failures for logs without leaking personal data.

The SDKs' own loggers are a leak too: at INFO, azure-core logs every Cosmos DB request with
its `x-ms-documentdb-partitionkey` header (a LINE user id), and at DEBUG line-bot-sdk and
urllib3 log response bodies and URLs. `quiet_sdk_loggers` keeps them to warnings.

An unexpected exception's message may quote whatever it was handed (a message text, a user
id), so logs name its type and where it was raised, never its message or arguments. Our own
errors (`DeskError`) are written never to carry personal data, so their messages are kept;
staff errors (`StaffError`) are logged by catalogue key and field, without their parameters
(which may name an expert) or their Japanese text.
"""

from __future__ import annotations

import logging
import traceback

from shared.errors import DeskError, StaffError


def describe(exc: BaseException) -> str:
    """`Type: key field=...` for staff errors, `Type: message` for the desk's other errors,
    `Type at file:line` for anything else."""
    if isinstance(exc, StaffError):
        field = f" field={exc.field}" if exc.field else ""
        return f"{type(exc).__name__}: {exc.key}{field}"
    if isinstance(exc, DeskError):
        return f"{type(exc).__name__}: {exc.message}"
    frames = traceback.extract_tb(exc.__traceback__)
    where = f" at {frames[-1].filename.rsplit('/', 1)[-1]}:{frames[-1].lineno}" if frames else ""
    return f"{type(exc).__name__}{where}"


SDK_LOGGERS = ("azure", "urllib3", "linebot")


def quiet_sdk_loggers() -> None:
    """Keep third-party SDK loggers to WARNING and above (their INFO lines carry user ids)."""
    for name in SDK_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
