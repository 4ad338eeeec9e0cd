"""Every word on the report pictures and in their captions, built in the caller's language before drawing.

The drawing runs in a worker thread; it gets these plain strings, so it needs no locale of its own.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import ngettext
from babel.dates import format_date

from bot import labels
from bot.domain.references import DIMENSIONS, Dimension
from bot.domain.scorecard import MIN_OTHERS_TO_COMPARE, SCORE_GROUPS, ScoreGroup
from bot.reports.data import FUNNEL, FunnelStep, Missing, PartnerReport, PortfolioReport
from bot.views import debrief_texts
from bot.views.formatting import score, user_text
from bot.views.partner_card import dimension_label

CAPTION_NAME_MAX = 60  # a caption is at most 1024 characters; a long partner name must not crowd it out
CHART_NAME_MAX = 40  # characters of a partner's name on a chart
# Our reading of "consistency matters" (not a number from the notes): the caption names partners below this.
QUIET_ANSWER_RATE = 0.5


def chart_safe(text: str, limit: int = CHART_NAME_MAX) -> str:
    """A name someone typed, shortened, with `$` kept literal (matplotlib reads $…$ as maths)."""
    value = " ".join(text.split())
    if len(value) > limit:
        value = value[: limit - 1] + "…"
    return value.replace("$", r"\$")


def rung_label(rung: int) -> str:
    return {1: _("Pilot"), 2: _("Rung 2 (3 campaigns)"), 3: _("Rung 3 (5 campaigns)")}.get(rung, str(rung))


def missing_label(item: Missing) -> str:
    """What is missing, and how to add it."""
    return {
        Missing.SCORECARD: _("Scorecard: nobody on the team has scored this partner yet (📊 Scorecard on the card)."),
        Missing.REFERENCES: _("References: no creator has answered yet (🗣 References on the card)."),
        Missing.CAMPAIGNS: _("Campaigns: no campaign has been debriefed yet (🏁 Debrief on the card)."),
        Missing.CHECKINS: _(
            "Check-ins: no weekly check-in round has closed yet (/checkin in the partnership's group)."
        ),
    }[item]


def _chart_missing(item: Missing) -> str:
    """The same, as a panel of the picture says it (the chart font has no emoji)."""
    return {
        Missing.SCORECARD: _("Nobody has scored this partner yet. Fill in the scorecard from the partner card."),
        Missing.REFERENCES: _("No reference answers yet. Send creators a reference link from the partner card."),
        Missing.CAMPAIGNS: _("No debriefed campaign yet. Debrief the pilot to see its quality here."),
        Missing.CHECKINS: _(
            "No weekly check-in yet. Add the bot to the partnership's group and send /checkin there."
        ),
    }[item]


@dataclass(frozen=True)
class PartnerChartText:
    title: str
    next_step: str
    score_title: str
    score_axis: str
    groups: dict[ScoreGroup, str]
    partner_legend: str
    workspace_legend: str
    score_missing: str
    comparison_missing: str
    references_title: str
    dimensions: dict[Dimension, str]
    references_axis: str
    again: str
    references_missing: str
    quality_title: str
    quality_axis: str
    rungs: dict[int, str]
    campaign_ticks: dict[int, str]
    quality_missing: str
    checkins_title: str
    checkins_axis: str
    weeks: list[str]
    checkins_missing: str
    empty_title: str = ""
    empty_intro: str = ""
    empty_items: list[str] = field(default_factory=list)

    def all_strings(self) -> list[str]:
        """Every string handed to the drawing (tests check the language of each)."""
        values: list[str] = []
        for value in vars(self).values():
            if isinstance(value, str):
                values.append(value)
            elif isinstance(value, dict):
                values.extend(str(v) for v in value.values())
            elif isinstance(value, list):
                values.extend(str(v) for v in value)
        return [v for v in values if v]


def partner_chart_text(report: PartnerReport, locale: str) -> PartnerChartText:
    """The partner picture's words in the current locale."""
    name = chart_safe(report.name)
    step = report.next_step
    score_missing = (
        _("Teammates have scored this partner. Submit your own scorecard to see the ratings (blind scoring).")
        if report.score_hidden
        else _chart_missing(Missing.SCORECARD)
    )
    quality_missing = _chart_missing(Missing.CAMPAIGNS)
    if report.campaigns_running:
        quality_missing += " " + _("A campaign is running: debrief it when it ends.")
    text = PartnerChartText(
        title=_("{name} · stage: {stage}").format(name=name, stage=labels.stage(report.stage)),
        next_step=_("Next step: {action} — {reason}").format(
            action=labels.next_action(step.action, step.market), reason=labels.reason(step.reason)
        ),
        score_title=_("Scorecard by group"),
        score_axis=_("Average rating, 1–5"),
        groups={group: labels.score_group(group) for group in SCORE_GROUPS},
        partner_legend=name,
        workspace_legend=ngettext(
            "Workspace average ({count} partner)", "Workspace average ({count} partners)", report.workspace_partners
        ).format(count=report.workspace_partners),
        score_missing=score_missing,
        comparison_missing=ngettext(
            "No workspace average beside it: that takes {min} other partner you have scored ({count} so far).",
            "No workspace average beside it: that takes {min} other partners you have scored ({count} so far).",
            MIN_OTHERS_TO_COMPARE,
        ).format(min=MIN_OTHERS_TO_COMPARE, count=report.workspace_partners),
        references_title=ngettext(
            "What creators say ({count} answer)", "What creators say ({count} answers)", report.reference_count
        ).format(count=report.reference_count),
        dimensions={d: dimension_label(d) for d in DIMENSIONS},
        references_axis=_("Average rating, 1–5"),
        again=_("Would work with them again: {yes} of {count}").format(
            yes=report.again_yes, count=report.reference_count
        ),
        references_missing=_chart_missing(Missing.REFERENCES),
        quality_title=_("Quality per campaign along the ladder"),
        quality_axis=_("Debrief quality, 1–5"),
        rungs={rung: rung_label(rung) for rung in (1, 2, 3)},
        campaign_ticks={p.number: _("#{number}").format(number=p.number) for p in report.campaigns},
        quality_missing=quality_missing,
        checkins_title=_("Check-in answer rate per week"),
        checkins_axis=_("Answered, %"),
        weeks=[format_date(w.week, format="d MMM", locale=locale) for w in report.weeks],
        checkins_missing=_chart_missing(Missing.CHECKINS),
    )
    if report.empty:
        return PartnerChartText(
            **{
                **vars(text),
                "empty_title": _("{name}: not enough data for a report yet").format(name=name),
                "empty_intro": _("The report draws four things, and none has data yet. What is missing:"),
                "empty_items": [_chart_missing(item) for item in report.missing],
            }
        )
    return text


def partner_caption(report: PartnerReport) -> str:
    """Short, HTML: who, where, the next step and the last recommendation; what is missing."""
    step = report.next_step
    lines = [
        _("📈 <b>{name}</b> · {stage}").format(
            name=user_text(report.name, CAPTION_NAME_MAX), stage=labels.stage(report.stage)
        ),
        _("<b>Next step:</b> {action} — {reason}").format(
            action=labels.next_action(step.action, step.market), reason=labels.reason(step.reason)
        ),
    ]
    if report.last_debrief is not None:
        lines.append(
            _("Last debrief: recommended {recommendation}; decided {decision}.").format(
                recommendation=debrief_texts.recommendation(report.last_debrief.recommendation.recommendation),
                decision=debrief_texts.decision(report.last_debrief.decision),
            )
        )
    if report.missing:
        lines.append(_("<b>Missing:</b>"))
        lines.extend("• " + missing_label(item) for item in report.missing)
    return "\n".join(lines)


@dataclass(frozen=True)
class PortfolioChartText:
    title: str
    funnel_title: str
    funnel_axis: str
    steps: dict[FunnelStep, str]
    health_title: str
    score_axis: str
    rate_axis: str
    names: list[str]  # in the order of report.partners
    note: str = ""  # what the right-hand chart could not show

    def all_strings(self) -> list[str]:
        return [self.title, self.funnel_title, self.funnel_axis, *self.steps.values(), self.health_title,
                self.score_axis, self.rate_axis, *self.names, self.note]


def funnel_label(step: FunnelStep) -> str:
    return {
        FunnelStep.CANDIDATE: _("Candidates"),
        FunnelStep.GUT_CHECK: _("Gut check passed"),
        FunnelStep.PILOT: _("Pilot"),
        FunnelStep.RUNG2: _("Rung 2 (3 campaigns)"),
        FunnelStep.RUNG3: _("Rung 3 (5 campaigns)"),
        FunnelStep.WALKED: _("Walked away"),
    }[step]


def portfolio_chart_text(report: PortfolioReport, workspace_name: str) -> PortfolioChartText:
    count = len(report.partners)
    notes = []
    if not report.checkins_exist:
        notes.append(_("No check-in data yet: set up /checkin in a partnership's group chat. Showing scores only."))
    if not report.scored:
        notes.append(_("No scores to show: a score appears for partners you have scored yourself."))
    left_out = count - len(report.both) if report.checkins_exist and report.scored else 0
    if left_out:
        notes.append(
            ngettext(
                "Not shown: {count} partner without your score or without closed check-ins.",
                "Not shown: {count} partners without your score or without closed check-ins.",
                left_out,
            ).format(count=left_out)
        )
    return PortfolioChartText(
        title=ngettext(
            "Portfolio of {workspace}: {count} active partner",
            "Portfolio of {workspace}: {count} active partners",
            count,
        ).format(workspace=chart_safe(workspace_name), count=count),
        funnel_title=_("Stage funnel"),
        funnel_axis=_("Partners"),
        steps={step: funnel_label(step) for step in FUNNEL},
        health_title=_("Score against communication health"),
        score_axis=_("Team score, 1–5"),
        rate_axis=_("Check-in answer rate, %"),
        names=[chart_safe(p.name, 24) for p in report.partners],
        note="\n".join(notes),
    )


def portfolio_caption(report: PortfolioReport, workspace_name: str, locale: str) -> str:
    funnel = report.funnel()
    lines = [
        _("📊 <b>Portfolio</b> of {workspace}").format(workspace=user_text(workspace_name, CAPTION_NAME_MAX)),
        _("Active partners: {count} · in a pilot or beyond: {pilot} · walked away: {walked}").format(
            count=len(report.partners), pilot=funnel[FunnelStep.PILOT], walked=funnel[FunnelStep.WALKED]
        ),
    ]
    scored = sorted(report.scored, key=lambda p: p.score or 0, reverse=True)
    if scored:
        best = scored[0]
        lines.append(
            _("Highest team score: {name} ({score})").format(
                name=user_text(best.name, CAPTION_NAME_MAX), score=score(best.score or 0, locale)
            )
        )
    quiet = [p for p in report.partners if p.answer_rate is not None and p.answer_rate < QUIET_ANSWER_RATE]
    if quiet:
        names = ", ".join(user_text(p.name, 30) for p in quiet[:5])
        lines.append(_("Check-in answer rate under 50%: {names}").format(names=names))
    if not report.checkins_exist:
        lines.append(_("No check-in data yet: communication health is not drawn."))
    return "\n".join(lines)


def empty_portfolio_text() -> str:
    return _("No active partners yet, so there is nothing to draw. Add one with /newpartner.")
