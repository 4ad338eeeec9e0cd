"""CallbackData factories of references: the team's side (rf1) and the creator's questionnaire (rq1, rl1).

The team's buttons carry the partner (and a link's short id); the partner is always re-read through the
caller's workspace, since callback data can be forged. The creator's buttons carry only the step they answer,
so a button from an earlier step is recognised as stale; what the questionnaire is about lives in the FSM.
"""

from __future__ import annotations

from enum import StrEnum

from aiogram.filters.callback_data import CallbackData

from bot.domain.references import Step
from bot.keyboards.numbers import CallbackId


class ReferenceAction(StrEnum):
    LIST = "l"  # the partner's reference links, with revoke buttons
    NEW = "n"  # "Request a reference": ask for the creator's name
    SKIP_LABEL = "s"  # create the link without a name
    REVOKE = "x"  # revoke one link
    CARD = "c"  # the partner card as a new message (from a notification, which stays as it is)


class ReferenceCallback(CallbackData, prefix="rf1"):
    """The team's side: reference links of one partner."""

    action: ReferenceAction
    partner_id: CallbackId
    link_id: CallbackId = 0
    fresh: bool = False  # show as a new message instead of editing the one with the button


# Values of QuestionCallback.value besides an answer itself.
BACK = "back"
SKIP = "skip"
SEND = "send"
EDIT = "edit"
CANCEL = "cancel"


class QuestionCallback(CallbackData, prefix="rq1"):
    """A creator's button on the step `step`: an answer (a duration, market, rating, yes/maybe/no) or an action."""

    step: Step
    value: str


class EditCallback(CallbackData, prefix="re1"):
    """On the summary's "Change an answer" list: the question to answer again (SUMMARY goes back)."""

    step: Step


class ReferenceLanguage(CallbackData, prefix="rl1"):
    """The language switch under the creator's greeting; saved like /language."""

    locale: str
