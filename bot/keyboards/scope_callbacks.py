"""CallbackData of the campaign scope conversation.

Each button names the partner being scoped and the step it answers, so a button from an earlier step or
from another partner's scope is recognised as stale; the value is checked against the step's enum.
"""

from __future__ import annotations

from enum import StrEnum

from aiogram.filters.callback_data import CallbackData

from bot.keyboards.numbers import CallbackId


class ScopeStep(StrEnum):
    """The conversation step a button belongs to."""

    CREATORS = "cr"
    BIGGER = "bg"
    START = "st"
    DAYS = "dy"
    AGREED = "ag"
    REVISIONS = "rv"
    MARKET = "mk"
    CHECKLIST = "ck"
    SUMMARY = "sm"
    EDIT = "ed"


class ScopeField(StrEnum):
    """A field of the scope, as the summary's Edit menu offers it."""

    CREATORS = "cr"
    DELIVERABLE = "dl"
    START = "st"
    DAYS = "dy"
    METRICS = "mt"
    AGREED = "ag"
    PAYMENT = "pt"
    REVISIONS = "rv"
    MARKET = "mk"
    SUCCESS = "ok"
    FAILURE = "fl"
    RENEGOTIATE = "rn"


class YesNo(StrEnum):
    YES = "y"
    NO = "n"


class SummaryAction(StrEnum):
    SAVE = "save"
    EDIT = "edit"
    CANCEL = "cancel"
    BACK = "back"  # from the Edit menu back to the summary


# Value of the checklist's "Continue" button (the other values are ChecklistItem values).
CHECKLIST_DONE = "done"


class ScopeChoice(CallbackData, prefix="cp1"):
    """A button inside the scope conversation of `partner_id`, answering `step` with `value`."""

    partner_id: CallbackId
    step: ScopeStep
    value: str
