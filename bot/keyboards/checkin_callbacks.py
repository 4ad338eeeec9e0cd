"""Callback data of the weekly check-in: set-up steps in a group, /away, and private answers."""

from __future__ import annotations

from enum import StrEnum

from aiogram.filters.callback_data import CallbackData

from bot.keyboards.numbers import CallbackId, CallbackSmall


class SetupStep(StrEnum):
    MANAGE = "m"  # change / stop / keep an existing check-in
    PAGE = "pg"
    PARTNER = "p"
    WEEKDAY = "d"
    TIME = "t"
    ZONE = "z"
    HOURS = "h"
    DOC = "doc"


class ManageAction(StrEnum):
    CHANGE = "c"
    STOP = "s"
    KEEP = "k"


class SetupCallback(CallbackData, prefix="cs1"):
    """A set-up button; `step` lets a button of an earlier step be recognised as stale."""

    step: SetupStep
    value: str = ""


class AwayCallback(CallbackData, prefix="aw1"):
    """/away buttons: whoever presses is away for this many weeks (0: back)."""

    weeks: CallbackSmall


class AnswerStep(StrEnum):
    BLOCKERS = "b"
    CALL = "c"


class AnswerCallback(CallbackData, prefix="ca1"):
    """Buttons of the private answer: "no blockers", and yes/no to a call."""

    step: AnswerStep
    value: str


class CheckinPartnerCallback(CallbackData, prefix="cw1"):
    """A partner chosen for the check-in set-up in private: from the list or from the partner card."""

    partner_id: CallbackId


class RelinkCallback(CallbackData, prefix="rl1"):
    """The linked team's owner agrees (or not) that another team takes the group over."""

    request_id: CallbackId
    agree: bool
