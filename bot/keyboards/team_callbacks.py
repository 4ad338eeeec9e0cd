"""Callback data of the /team screen: short versioned prefix, enum actions, ids re-checked by the handler."""

from __future__ import annotations

from enum import StrEnum

from aiogram.filters.callback_data import CallbackData

from bot.keyboards.numbers import CallbackId


class TeamAction(StrEnum):
    INVITE = "inv"
    REVOKE = "rvk"
    REMOVE = "rm"  # asks for confirmation
    CONFIRM_REMOVE = "rmy"
    KEEP = "rmn"


class TeamCallback(CallbackData, prefix="tm1"):
    action: TeamAction
    user_id: CallbackId = 0  # the teammate a remove button is about
