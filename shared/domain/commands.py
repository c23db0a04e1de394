"""What a LINE user asks the desk for: by a typed phrase (shared/texts/phrases.json), by a
button (the postback's `action`), or by what they send (a file, a crisis wording)."""

from __future__ import annotations

from enum import StrEnum


class Command(StrEnum):
    """One request of a user; the values are the phrases table's keys and the postbacks'."""

    RECEIPT = "receipt"  # 同意内容の確認
    WITHDRAW = "withdraw"  # 同意の撤回
    MENU = "menu"
    TOPIC = "topic"  # open a consultation on a topic
    END = "end"  # 相談を終了
    STATUS = "status"  # a question about waiting
    DATA_MENU = "data_menu"
    SURVEY = "survey"  # a rating of the closing survey
    CONSENT = "consent"  # the answer to the consent question
    ERASE = "erase"  # the answer to the erasure question
    ERASE_REQUEST = "erase_request"  # データ削除: asks the question
    DISCLOSE = "disclose"  # where to ask for a copy of one's data
    MEDIA = "media"  # a file was sent (refused, §8(4))
    CRISIS = "crisis"  # a crisis wording: help lines first of all
    HELPLINES = "helplines"  # the rich menu's 緊急のとき: answered as a crisis wording is
    FAQ = "faq"  # the rich menu's よくある質問
    HOURS = "hours"  # the rich menu's 受付時間


# Commands a user may give without holding consent (a withdrawn user may still ask for
# erasure or for a copy of their data, §9 and the privacy law).
UNGATED = frozenset({Command.ERASE_REQUEST, Command.ERASE, Command.DISCLOSE})
# Answered to anyone, consent or not, the same for everyone (rich menu buttons).
INFORMATION = frozenset({Command.FAQ, Command.HOURS})


def command_named(name: str | None) -> Command | None:
    """The command a phrase table entry or a postback action names; None for anything else."""
    try:
        return Command(name) if name else None
    except ValueError:
        return None
