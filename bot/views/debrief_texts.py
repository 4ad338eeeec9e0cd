"""Translated names for the debrief's codes: problem kinds, recommendations, their reasons, decisions."""

from __future__ import annotations

from aiogram.utils.i18n import gettext as _

from bot.domain.campaigns import (
    BASICS_MISSES_TO_WALK,
    BASICS_WINDOW,
    LOW_QUALITY_MAX,
    Decision,
    ProblemKind,
    Recommendation,
    RecReason,
)


def problem(value: ProblemKind) -> str:
    return {
        ProblemKind.NONE: _("no problem"),
        ProblemKind.EXECUTION: _("execution — fixable"),
        ProblemKind.COMMUNICATION: _("communication — a red flag"),
        ProblemKind.EXPECTATIONS: _("expectations"),
    }[value]


def recommendation(value: Recommendation) -> str:
    return {
        Recommendation.WALK: _("walk away"),
        Recommendation.RERUN: _("fix and re-run"),
        Recommendation.EXPAND: _("expand to the next rung"),
    }[value]


def decision(value: Decision) -> str:
    return {
        Decision.EXPAND: _("expand"),
        Decision.RERUN: _("fix and re-run"),
        Decision.WALK: _("walk away"),
        Decision.PAUSE: _("pause"),
    }[value]


def decision_button(value: Decision) -> str:
    return {
        Decision.EXPAND: _("📈 Expand"),
        Decision.RERUN: _("🔁 Fix and re-run"),
        Decision.WALK: _("🚪 Walk away"),
        Decision.PAUSE: _("⏸ Pause"),
    }[value]


def reason(value: RecReason) -> str:
    if value is RecReason.MISSING_BASICS:
        return _(
            "basics were missed in {misses} of the last {window} campaigns: that is training mode indefinitely"
        ).format(misses=BASICS_MISSES_TO_WALK, window=BASICS_WINDOW)
    if value is RecReason.LOW_QUALITY:
        return _("quality rated {max} or lower").format(max=LOW_QUALITY_MAX)
    return {
        RecReason.RESISTED_DOCS: _("they resisted documentation or process — a dealbreaker"),
        RecReason.MISSED_SILENT: _("a deadline was missed without notice"),
        RecReason.FAR_BELOW_SCOPE: _("the deliverable was significantly below scope"),
        RecReason.COMM_PROBLEM: _("a communication problem — a red flag"),
        RecReason.COMM_GAP: _("a communication gap was logged: consistency matters, async or sync"),
        RecReason.EXECUTION: _("an execution problem — fixable"),
        RecReason.BELOW_SCOPE: _("the deliverable was below scope"),
        RecReason.MISSED_NOTICE: _("a deadline was missed, with notice"),
        RecReason.EXPECTATIONS: _("expectations did not match: agree on them again before the next campaign"),
        RecReason.ALIGNED: _("you were aligned on the basics"),
        RecReason.ON_SCOPE: _("they delivered on scope"),
    }[value]
