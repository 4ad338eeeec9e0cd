"""CallbackData factories of the gut check and the scorecard.

Each button carries the partner and the question (or criterion) it answers, so a button from an earlier
step, or from another partner's run, is recognised as stale; the partner is always re-read through the
caller's workspace, since callback data can be forged.
"""

from __future__ import annotations

from enum import StrEnum

from aiogram.filters.callback_data import CallbackData

from bot.domain.gutcheck import GutQuestion
from bot.domain.scorecard import Criterion
from bot.keyboards.numbers import CallbackId, CallbackSmall


class GutAnswer(StrEnum):
    YES = "y"
    NO = "n"


class GutAnswerCallback(CallbackData, prefix="gc1"):
    """Yes / No to one gut-check question."""

    partner_id: CallbackId
    question: GutQuestion
    answer: GutAnswer


class GutNoteAction(StrEnum):
    SKIP = "s"


class GutNoteCallback(CallbackData, prefix="gn1"):
    """The optional note after the three questions: Skip."""

    partner_id: CallbackId
    action: GutNoteAction


class ScoreAction(StrEnum):
    RATE = "r"
    BACK = "b"


class ScoreCallback(CallbackData, prefix="sc1"):
    """A rating 1–5 for `criterion`, or ◀ Back from `criterion` to the one before it."""

    partner_id: CallbackId
    criterion: Criterion
    action: ScoreAction
    rating: CallbackSmall = 0
