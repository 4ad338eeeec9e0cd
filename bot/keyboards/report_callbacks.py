"""Callback data of personal data (/deletemydata): short versioned prefixes, enum actions, nothing raw."""

from __future__ import annotations

from enum import StrEnum

from aiogram.filters.callback_data import CallbackData

from bot.keyboards.numbers import CallbackId


class PersonalDataAction(StrEnum):
    CONFIRM = "y"  # "yes, delete my data"
    CONFIRM_WORKSPACES = "yw"  # the second confirmation: also delete workspaces nobody else is in
    CANCEL = "n"
    PLAN = "p"  # "delete my data…": show what would go and what would stay


class PersonalDataCallback(CallbackData, prefix="pd1"):
    """/deletemydata's buttons; `issued` (Unix minutes) lets an old confirmation expire.

    It acts on whoever presses it, never on an id carried in the data, so a forged one can hurt nobody else.
    """

    action: PersonalDataAction
    issued: CallbackId = 0
