"""CallbackData factories of the campaign log and the debrief.

Every button carries the campaign it belongs to; the factory itself names the step (an event tap, the note,
the problem kind, the quality, the decision), so a button from an earlier step or another campaign is
recognised as stale. The campaign is always re-read through the caller's workspace: data can be forged.
"""

from __future__ import annotations

from enum import StrEnum

from aiogram.filters.callback_data import CallbackData

from bot.domain.campaigns import EventKind
from bot.keyboards.numbers import CallbackId


class LogEventCallback(CallbackData, prefix="clg1"):
    """One tap in the campaign log: this event happened in this campaign."""

    campaign_id: CallbackId
    kind: EventKind


class LogNoteAction(StrEnum):
    DONE = "d"  # no note; back to the card
    MORE = "m"  # no note; log another event


class LogNoteCallback(CallbackData, prefix="cln1"):
    """The buttons under "Logged: … Add a note?"; `event_id` is the event the note would belong to."""

    campaign_id: CallbackId
    event_id: CallbackId
    action: LogNoteAction
