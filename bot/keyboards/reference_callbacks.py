"""CallbackData factories of references: the team's side (rf1) and the language switch under a creator's
greeting (rl1).

The team's buttons carry the partner (and a link's short id); the partner is always re-read through the
caller's workspace, since callback data can be forged. The questionnaire's own buttons are its dialog's
(aiogram-dialog), and what it is about lives in the dialog's records.
"""

from __future__ import annotations

from enum import StrEnum

from aiogram.filters.callback_data import CallbackData

from bot.keyboards.numbers import CallbackId


class ReferenceAction(StrEnum):
    LIST = "l"  # the partner's reference links, with revoke buttons
    NEW = "n"  # "Request a reference": ask for the creator's name
    REVOKE = "x"  # revoke one link
    CARD = "c"  # the partner card as a new message (from a notification, which stays as it is)


class ReferenceCallback(CallbackData, prefix="rf1"):
    """The team's side: reference links of one partner."""

    action: ReferenceAction
    partner_id: CallbackId
    link_id: CallbackId = 0
    fresh: bool = False  # show as a new message instead of editing the one with the button


class ReferenceLanguage(CallbackData, prefix="rl1"):
    """The language switch under the creator's greeting; saved like /language."""

    locale: str
