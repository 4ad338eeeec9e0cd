"""What the debrief says: the translated names of its codes (problem kinds, recommendations, their reasons,
decisions), its steps' prompts, the recommendation and what happens next on the ladder."""

from __future__ import annotations

from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import ngettext

from bot.domain.campaigns import (
    BASICS_MISSES_TO_WALK,
    BASICS_WINDOW,
    LOW_QUALITY_MAX,
    QUALITY_MAX,
    QUALITY_MIN,
    Decision,
    LadderPosition,
    ProblemKind,
    Recommendation,
    RecommendationResult,
    RecReason,
    campaigns_planned,
    rung_of_stage,
)
from bot.domain.partners import Stage
from bot.storage.campaigns import Campaign
from bot.storage.partners import Partner
from bot.views.formatting import user_text


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


# ---- the conversation's texts (bot/handlers/debrief.py asks them) ---------------------------------------

# What the debrief's steps take, and how much of each answer the recommendation message repeats.
ANSWER_MAX_LEN = 1000  # what worked / what didn't
REASON_MAX_LEN = 500  # why the decision departs from the recommendation
RECAP_LEN = 300
STEPS = 5


def step(index: int) -> str:
    return _("Step {index} of {total}.").format(index=index, total=STEPS)


def title(partner: Partner, campaign: Campaign, number: int) -> str:
    return _("<b>Debrief: {name}</b> · campaign #{number}, rung {rung} — {deliverable}").format(
        name=user_text(partner.name),
        number=number,
        rung=campaign.rung,
        deliverable=user_text(campaign.scope.deliverable, 80),
    )


def ask_what_worked() -> str:
    return step(1) + " " + _("What worked? Send a short text (up to {max} characters).").format(max=ANSWER_MAX_LEN)


def ask_what_didnt() -> str:
    return step(2) + " " + _("What didn't work? Send a short text (up to {max} characters).").format(max=ANSWER_MAX_LEN)


def ask_problem() -> str:
    return step(3) + " " + _("What kind of problem was it?")


def ask_quality() -> str:
    return (
        step(4)
        + " "
        + _("How good was the work? Rate the quality from {min} to {max}.").format(min=QUALITY_MIN, max=QUALITY_MAX)
    )


def ask_override(chosen: Decision | None, recommended: Recommendation | None) -> str:
    return _(
        "You chose <b>{decision}</b>, and I recommended <b>{recommendation}</b>. Why? "
        "Your reason is kept with the debrief (up to {max} characters)."
    ).format(
        decision=decision(chosen) if chosen else "",
        recommendation=recommendation(recommended) if recommended else "",
        max=REASON_MAX_LEN,
    )


def recap(what_worked: str, what_didnt: str, kind: ProblemKind | None, quality: int | None) -> list[str]:
    lines = [
        _("What worked: {text}").format(text=user_text(what_worked, RECAP_LEN)),
        _("What didn't: {text}").format(text=user_text(what_didnt, RECAP_LEN)),
    ]
    if kind is not None:
        lines.append(_("Problem: {kind}").format(kind=problem(kind)))
    if quality:
        lines.append(_("Quality: {quality} of {max}").format(quality=quality, max=QUALITY_MAX))
    return lines


def recommendation_text(
    heading: str, answers: list[str], result: RecommendationResult, position: LadderPosition
) -> str:
    lines = [heading, "", *answers, ""]
    lines.append(
        _("<b>My recommendation: {recommendation}</b>").format(recommendation=recommendation(result.recommendation))
    )
    lines.append(_("Because:"))
    lines += [f"• {reason(why)}" for why in result.reasons]
    lines.append("")
    lines.append(
        ngettext(
            "Ladder: rung {rung}, {done} of {planned} campaign counted so far; this one counts unless you decide "
            "to re-run or pause.",
            "Ladder: rung {rung}, {done} of {planned} campaigns counted so far; this one counts unless you decide "
            "to re-run or pause.",
            position.planned,
        ).format(rung=position.rung, done=position.counted, planned=position.planned)
    )
    lines.append(step(5) + " " + _("The decision is yours:"))
    return "\n".join(lines)


def already_debriefed(partner: Partner) -> str:
    return _("This campaign of <b>{name}</b> has already been debriefed.").format(name=user_text(partner.name))


def next_text(partner: Partner, decision: Decision, position: LadderPosition, new_stage: Stage) -> str:
    """What happens next on the ladder after this decision; `position` counts this campaign if it counts."""
    name = user_text(partner.name)
    rung, planned, counted = position.rung, position.planned, position.counted
    remaining = max(planned - counted, 0)
    if decision is Decision.WALK:
        return _("🚪 You walked away from <b>{name}</b>. The whole record stays on the card.").format(name=name)
    if decision is Decision.PAUSE:
        return _("⏸ <b>{name}</b> is paused. When you pick it up again, scope the next campaign from the card.").format(
            name=name
        )
    new_rung = rung_of_stage(new_stage)
    if new_rung is not None and new_rung > rung:
        planned_next = campaigns_planned(new_rung)
        return ngettext(
            "📈 Rung {rung} is open: {count} campaign. Scope the next campaign from the card.",
            "📈 Rung {rung} is open: {count} campaigns. Scope the next campaign from the card.",
            planned_next,
        ).format(rung=new_rung, count=planned_next)
    if decision is Decision.RERUN:
        return _(
            "🔁 Fix what went wrong and re-run: scope the next campaign on rung {rung}. A re-run takes the same "
            "place in the plan, so it is not counted: {done} of {planned} counted."
        ).format(rung=rung, done=counted, planned=planned)
    if remaining > 0:
        return ngettext(
            "Rung {rung}: {done} of {planned} counted. It needs {count} more campaign before the next rung opens "
            "— re-runs and pauses don't count, and the ladder never skips a rung. Scope the next campaign on "
            "this rung.",
            "Rung {rung}: {done} of {planned} counted. It needs {count} more campaigns before the next rung opens "
            "— re-runs and pauses don't count, and the ladder never skips a rung. Scope the next campaign on "
            "this rung.",
            remaining,
        ).format(rung=rung, done=counted, planned=planned, count=remaining)
    return ngettext(
        "Rung {rung} is the top of the ladder ({count} campaign): keep going at this scale.",
        "Rung {rung} is the top of the ladder ({count} campaigns): keep going at this scale.",
        planned,
    ).format(rung=rung, count=planned)
