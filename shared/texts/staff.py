"""Staff-facing error messages: the admin API's 4xx answers, in Japanese, from staff_ja.json.

An error names a catalogue key (a `StaffKey`, so mypy refuses free text) and its parameters;
`staff_message` puts the field's API name in front (`limit：1〜200の整数で指定してください。`).
tests/unit/test_staff_texts.py checks that this list and the catalogue hold the same keys and
that every raise site fills each placeholder of its template.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Literal

StaffKey = Literal[
    "json_object",
    "whole_number_range",
    "one_of",
    "text_max",
    "line_text_length",
    "answer_text",
    "client_message_id",
    "expert_name",
    "cursor",
    "date_format_jst",
    "date_invalid",
    "date_between",
    "date_order",
    "period_too_long",
    "iso_time",
    "time_out_of_range",
    "future_time",
    "days_ahead",
    "window_needs_until",
    "boolean",
    "days",
    "positive_for_mode",
    "reason",
    "clause",
    "line_user_id",
    "version_id",
    "policy_url",
    "consent_prompt_too_long",
    "policy_text",
    "sha256",
    "text_or_sha256",
    "sha256_mismatch",
    "policy_exists",
    "effective_date_taken",
    "effective_date_past",
    "principal_too_long",
    "principal_not_base64",
    "principal_not_object",
    "principal_claims",
    "principal_string",
    "principal_string_list",
    "principal_no_name",
    "principal_auth_off",
    "operator_required",
    "operator_optional",
    "role_sign_in",
    "role_needed",
    "no_session",
    "no_user",
    "no_flag",
    "session_closed",
    "follow_up_over",
    "session_not_claimed",
    "claimed_by_other",
    "claimed_just_now",
    "session_changed",
    "session_busy",
    "user_blocked",
    "user_gone",
    "flag_done",
    "flag_changed",
    "record_race",
    "json_only",
    "key_in_query",
    "cross_site",
    "store_exists",
    "store_changed",
    "typing_not_owner",
    "form_too_large",
    "form_utf8",
    "expert_max_open",
    "no_escalation",
    "month_format",
    "month_number",
    "month_year",
    "month_order",
    "month_span",
    "datetime_local",
    "no_action",
    "note_text",
    "note_changed",
    "note_erased",
    "session_reference",
    "erase_confirm",
    "text_length",
    "label_taken",
    "no_entry",
]


@cache
def load_staff_texts() -> dict[str, str]:
    """The staff catalogue (key to template), read once per process."""
    raw = resources.files("shared.texts").joinpath("staff_ja.json").read_text("utf-8")
    entries: dict[str, str] = json.loads(raw)
    return {k: v for k, v in entries.items() if not k.startswith("_")}


def staff_message(field: str | None, key: StaffKey, params: dict[str, object]) -> str:
    """The Japanese message for `key`, its placeholders filled, after `field：` when named."""
    text = load_staff_texts()[key].format(**params)
    return f"{field}：{text}" if field else text
