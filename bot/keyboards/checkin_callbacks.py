"""Callback data of the weekly check-in's hand-written buttons: the manage menu in a group, /away, the partner card's
set-up button and the owner's answer to a relink (the private set-up and answer are dialogs with their own data)."""

from __future__ import annotations

from enum import StrEnum

from aiogram.filters.callback_data import CallbackData

from bot.keyboards.numbers import CallbackId, CallbackSmall


class SetupStep(StrEnum):
    MANAGE = "m"  # change / stop / keep an existing check-in (the private set-up's steps are a dialog's)


class ManageAction(StrEnum):
    CHANGE = "c"
    STOP = "s"
    KEEP = "k"


class SetupCallback(CallbackData, prefix="cs1"):
    """A button of the manage menu in a group; `step` lets a button of an older wizard be recognised as stale."""

    step: SetupStep
    value: str = ""


class AwayCallback(CallbackData, prefix="aw1"):
    """/away buttons: whoever presses is away for this many weeks (0: back)."""

    weeks: CallbackSmall


class CheckinPartnerCallback(CallbackData, prefix="cw1"):
    """The partner card's button that starts the check-in set-up in private for that partner."""

    partner_id: CallbackId


class RelinkCallback(CallbackData, prefix="rl1"):
    """The linked team's owner agrees (or not) that another team takes the group over."""

    request_id: CallbackId
    agree: bool
