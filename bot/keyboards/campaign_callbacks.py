"""CallbackData factories of the debrief (the campaign log is a dialog: its buttons carry the dialog's own data).

Every button carries the campaign it belongs to; the factory itself names the step (the problem kind, the quality,
the decision), so a button from an earlier step or another campaign is recognised as stale. The campaign is always
re-read through the caller's workspace: data can be forged.
"""

from __future__ import annotations

from aiogram.filters.callback_data import CallbackData

from bot.domain.campaigns import Decision, ProblemKind
from bot.keyboards.numbers import CallbackId, CallbackSmall


class DebriefProblemCallback(CallbackData, prefix="dfp1"):
    """Debrief step: the kind of problem."""

    campaign_id: CallbackId
    problem: ProblemKind


class DebriefQualityCallback(CallbackData, prefix="dfq1"):
    """Debrief step: the quality rating 1–5."""

    campaign_id: CallbackId
    quality: CallbackSmall


class DebriefDecisionCallback(CallbackData, prefix="dfd1"):
    """Debrief step: the manager's decision after the recommendation."""

    campaign_id: CallbackId
    decision: Decision
