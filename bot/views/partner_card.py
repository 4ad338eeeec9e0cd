"""The partner card: one message that tells a manager where a partner stands, and its buttons."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import date
from typing import TypeVar

from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import ngettext

from bot import labels
from bot.clock import Clock
from bot.domain.campaigns import (
    Decision,
    FinishedCampaign,
    Recommendation,
    RecReason,
    ladder_position,
    on_time_share,
    rung_of_stage,
)
from bot.domain.checkins import CommunicationHealth
from bot.domain.evidence import CONVERSATION_SIGNALS, CaseStudy, derive_signals, summarize_markets
from bot.domain.next_step import CampaignPhase, NextStep, RedFlag, next_step, red_flags
from bot.domain.partners import MARKETS, Stage
from bot.domain.references import (
    DIMENSIONS,
    Again,
    Dimension,
    Duration,
    LinkCounts,
    count_links,
    summarize,
)
from bot.domain.scorecard import SCORE_GROUPS, ScoreResult, TeamScore, team_view
from bot.keyboards.callbacks import PartnerAction, PartnerCallback
from bot.keyboards.checkin_callbacks import CheckinPartnerCallback
from bot.keyboards.grid import ButtonGrid
from bot.keyboards.reference_callbacks import ReferenceAction, ReferenceCallback
from bot.storage.assessments import AssessmentRepo, GutRun, Submission
from bot.storage.campaigns import Campaign, CampaignRepo, Debrief, LoggedEvent
from bot.storage.checkins import CheckinRepo
from bot.storage.db import reads_together
from bot.storage.evidence import EvidenceRepo
from bot.storage.partners import Partner, PartnerRepo
from bot.storage.references import ReferenceRepo, StoredAnswer
from bot.views import debrief_texts
from bot.views.checkin_texts import health_lines
from bot.views.formatting import score, short_date, user_text

T = TypeVar("T")

GUT_HISTORY_SHOWN = 3
CHECK = "✅"
CROSS = "▫️"


@dataclass(frozen=True)
class CardData:
    partner: Partner
    cases: tuple[CaseStudy, ...]
    testimonials: int
    community: int
    gut_runs: tuple[GutRun, ...]
    scorecards: dict[int, Submission]
    viewer_id: int
    today: date
    campaigns: tuple[Campaign, ...] = ()
    events: tuple[LoggedEvent, ...] = ()
    debriefs: tuple[Debrief, ...] = field(default_factory=tuple)
    reference_answers: tuple[StoredAnswer, ...] = ()  # creator 1, 2, … in the order they answered
    reference_links: LinkCounts = field(default_factory=LinkCounts)
    health: CommunicationHealth | None = None  # the weekly check-ins' answer rate and delay

    @property
    def finished_on_ladder(self) -> list[FinishedCampaign]:
        """Debriefed campaigns with their decisions, as the ladder counts them (CampaignRepo.finished_on_ladder)."""
        decisions = {d.campaign_id: d.decision for d in self.debriefs}
        return [FinishedCampaign(c.rung, decisions.get(c.id)) for c in self.campaigns if not c.running]

    @property
    def running(self) -> Campaign | None:
        return next((c for c in reversed(self.campaigns) if c.running), None)

    def campaign_phase(self) -> CampaignPhase:
        running = self.running
        if running is None:
            return CampaignPhase.NONE
        return CampaignPhase.DUE if running.scope.due_date <= self.today else CampaignPhase.RUNNING

    @property
    def team(self) -> TeamScore | None:
        return team_view({rater: s.ratings for rater, s in self.scorecards.items()})

    @property
    def viewer_scored(self) -> bool:
        return self.viewer_id in self.scorecards

    def visible_score(self) -> ScoreResult | None:
        """The team's score, for a viewer who has submitted their own (structured-interview rule)."""
        team = self.team
        return team.result if team is not None and self.viewer_scored else None

    @property
    def last_debrief(self) -> Debrief | None:
        return max(self.debriefs, key=lambda d: d.created_at, default=None)

    def walk_reasons(self) -> tuple[RecReason, ...]:
        """Why the last debrief recommended walking away, when the manager chose to go on (else nothing)."""
        last = self.last_debrief
        if last is None or last.recommendation.recommendation is not Recommendation.WALK:
            return ()
        return last.recommendation.reasons if last.decision is not Decision.WALK else ()

    def flags(self) -> tuple[RedFlag, ...]:
        signals = derive_signals(self.cases, self.partner.markets)
        latest = self.campaigns[-1] if self.campaigns else None
        agreed = latest.scope.metrics_agreed if latest is not None else None
        return red_flags(signals, summarize_markets(self.cases), self.visible_score(), agreed)

    def next_step(self) -> NextStep:
        signals = derive_signals(self.cases, self.partner.markets)
        latest = self.gut_runs[0].verdict if self.gut_runs else None
        return next_step(
            self.partner.stage,
            latest,
            signals,
            summarize_markets(self.cases),
            self.visible_score(),
            self.flags(),
            self.campaign_phase(),
            walk_advised=bool(self.walk_reasons()),
        )


@dataclass(frozen=True)
class PartnerCards:
    """What the card reads from; injected into handlers as `cards`."""

    partners: PartnerRepo
    evidence: EvidenceRepo
    assessments: AssessmentRepo
    campaigns: CampaignRepo
    clock: Clock
    references: ReferenceRepo | None = None
    checkins: CheckinRepo | None = None

    async def load(self, workspace_id: int, partner_id: int, viewer_id: int) -> CardData | None:
        """Everything the card shows, read through the viewer's workspace; None if not theirs.

        After the partner, the reads do not depend on each other, so they are sent together: the database runs
        them back to back instead of waiting for the loop between each (a card is a dozen reads)."""
        partner = await self.partners.get(workspace_id, partner_id)
        if partner is None:
            return None
        w, p = workspace_id, partner_id
        with reads_together():  # and in one trip to the database's thread
            (cases, links, answers, testimonials, community, gut_runs, scorecards, campaigns, events, debriefs,
             health) = await asyncio.gather(
                self.evidence.cases(w, p),
                self.references.links(w, p) if self.references else _ready([]),
                self.references.answers(w, p) if self.references else _ready([]),
                self.evidence.testimonials(w, p),
                self.evidence.community(w, p),
                self.assessments.gut_checks(w, p),
                self.assessments.latest_scorecards(w, p),
                self.campaigns.for_partner(w, p),
                self.campaigns.events_for_partner(w, p),
                self.campaigns.debriefs_for_partner(w, p),
                self.checkins.health_for_partner(w, p) if self.checkins else _ready(None),
            )
        now = self.clock.now()
        return CardData(
            partner=partner,
            cases=tuple(stored.item for stored in cases),
            testimonials=len(testimonials),
            community=len(community),
            gut_runs=tuple(gut_runs),
            scorecards=scorecards,
            viewer_id=viewer_id,
            today=now.date(),
            campaigns=tuple(campaigns),
            events=tuple(events),
            debriefs=tuple(debriefs),
            reference_answers=tuple(answers),
            reference_links=count_links(
                (link.status(now) for link in links), (link.opened_at is not None for link in links)
            ),
            health=health,
        )


async def _ready(value: T) -> T:
    """What a repository the card was built without would have read."""
    return value


def _title(text: str) -> str:
    return f"<b>{text}</b>"


def render_card(data: CardData, locale: str) -> str:
    sections = [
        _header(data),
        _evidence(data),
        _conversation(data),
        _gut_check(data, locale),
        _scorecard(data, locale),
        _campaigns(data, locale),
        _health(data, locale),
        _references(data, locale),
        _flags(data),
        _next(data),
    ]
    return "\n\n".join(section for section in sections if section)


def _header(data: CardData) -> str:
    p = data.partner
    lines = [
        f"<b>{user_text(p.name)}</b>" + (" " + _("(archived)") if p.archived else ""),
        _("{kind} · {markets}").format(kind=labels.kind(p.kind), markets=labels.coverage(p.markets)),
        _("Stage: {stage}").format(stage=labels.stage(p.stage)),
    ]
    if p.contact:
        lines.append(_("Contact: {contact}").format(contact=user_text(p.contact, 200)))
    lines.extend(user_text(link, 200) for link in p.links[:5])
    return "\n".join(lines)


def _evidence(data: CardData) -> str:
    summaries = summarize_markets(data.cases)
    lines = [_title(_("Evidence"))]
    for market in MARKETS:
        s = summaries[market]
        if s.count == 0:
            lines.append(_("{market}: no case studies yet").format(market=labels.market(market)))
            continue
        cases = ngettext("{count} case study", "{count} case studies", s.count).format(count=s.count)
        lines.append(
            _("{market}: {cases} — successes {successes}, failures {failures}; longest {months} mo.").format(
                market=labels.market(market),
                cases=cases,
                successes=s.successes,
                failures=s.failures,
                months=s.longest_months or 0,
            )
        )
    signals = derive_signals(data.cases, data.partner.markets)
    for signal, on in signals.items():
        lines.append(f"{CHECK if on else CROSS} {labels.evidence_signal(signal)}")
    lines.append(
        _("Testimonials: {testimonials} · Community: {community}").format(
            testimonials=data.testimonials, community=data.community
        )
    )
    return "\n".join(lines)


def _conversation(data: CardData) -> str:
    lines = [_title(_("Conversation signals"))]
    for signal in CONVERSATION_SIGNALS:
        on = data.partner.signals.get(signal)
        lines.append(f"{CHECK if on else CROSS} {labels.conversation_signal(signal)}")
    return "\n".join(lines)


def _gut_check(data: CardData, locale: str) -> str:
    title = _title(_("Gut check"))
    if not data.gut_runs:
        return title + "\n" + _("Not run yet.")
    lines = [title]
    for run in data.gut_runs[:GUT_HISTORY_SHOWN]:
        when = short_date(run.created_at, locale)
        if run.verdict.passed:
            lines.append(_("{date}: passed {score}/3").format(date=when, score=run.verdict.score))
        else:
            failed = "; ".join(labels.gut_question(q) for q in run.verdict.failed)
            lines.append(
                _("{date}: not passed {score}/3 — no to: {failed}").format(
                    date=when, score=run.verdict.score, failed=failed
                )
            )
    hidden = len(data.gut_runs) - GUT_HISTORY_SHOWN
    if hidden > 0:
        lines.append(ngettext("…and {count} earlier run", "…and {count} earlier runs", hidden).format(count=hidden))
    return "\n".join(lines)


def _scorecard(data: CardData, locale: str) -> str:
    title = _title(_("Scorecard"))
    team = data.team
    if team is None:
        return title + "\n" + _("Nobody has scored this partner yet.")
    if not data.viewer_scored:
        scored = ngettext("{count} teammate has scored.", "{count} teammates have scored.", team.raters).format(
            count=team.raters
        )
        return title + "\n" + scored + " " + _("Submit your own scorecard to see the ratings.")
    lines = [
        title,
        _("Weighted total: <b>{total}</b> of 5 (raters: {raters})").format(
            total=score(team.average_total, locale), raters=team.raters
        ),
    ]
    for group in SCORE_GROUPS:
        lines.append(f"• {labels.score_group(group)}: {score(team.by_group[group], locale)}")
    lines.append(
        _("Weakest: {criterion} ({rating})").format(
            criterion=labels.criterion(team.weakest), rating=score(team.by_criterion[team.weakest], locale)
        )
    )
    if team.disagreements:
        names = "; ".join(labels.criterion(c) for c in team.disagreements)
        lines.append(_("Raters disagree by 2+ points on: {criteria}").format(criteria=names))
    return "\n".join(lines)


EVENTS_SHOWN = 5


def _campaigns(data: CardData, locale: str) -> str:
    if not data.campaigns:
        return ""
    lines = [_title(_("Campaigns"))]
    rung = rung_of_stage(data.partner.stage)
    if rung is not None:
        position = ladder_position(data.finished_on_ladder, rung)
        lines.append(
            ngettext(
                "Rung {rung} of 3: {done} of {planned} campaign counted",
                "Rung {rung} of 3: {done} of {planned} campaigns counted",
                position.planned,
            ).format(rung=rung, done=position.counted, planned=position.planned)
        )
        if position.not_counted:
            lines.append(_("Re-run or paused, not counted: {count}").format(count=position.not_counted))
    quality = {d.campaign_id: d.quality for d in data.debriefs}
    if quality:
        per_campaign = ", ".join(
            f"#{number} ★{quality[c.id]}" for number, c in enumerate(data.campaigns, 1) if c.id in quality
        )
        lines.append(_("Quality per campaign: {list}").format(list=per_campaign))
    share = on_time_share(e.kind for e in data.events)
    if share is not None:
        lines.append(_("On time: {percent}% of logged deadlines").format(percent=round(share * 100)))
    running = data.running
    if running is not None:
        lines.append(
            _("Running: {deliverable}, due {date}").format(
                deliverable=user_text(running.scope.deliverable, 80), date=short_date(running.scope.due_date, locale)
            )
        )
    for event in data.events[-EVENTS_SHOWN:]:
        note = f" — {user_text(event.note, 60)}" if event.note else ""
        lines.append(f"· {short_date(event.created_at, locale)}: {labels.event(event.kind)}{note}")
    return "\n".join(lines)


REFERENCES_SHOWN = 5  # creators listed one by one on the card; every answer counts in the averages
REFERENCE_COMMENTS_SHOWN = 3  # comments per listed creator
REFERENCE_COMMENT_LEN = 80  # characters of a comment on the card


def dimension_label(dimension: Dimension) -> str:
    return {
        Dimension.CONSISTENCY: _("Consistency"),
        Dimension.RESPECT: _("Respect"),
        Dimension.RELIABILITY: _("Reliability"),
        Dimension.GROWTH: _("Growth"),
    }[dimension]


def again_label(again: Again) -> str:
    return {Again.YES: _("yes"), Again.MAYBE: _("maybe"), Again.NO: _("no")}[again]


def duration_label(duration: Duration) -> str:
    return {
        Duration.UNDER_3: _("under 3 months"),
        Duration.FROM_3: _("3–6 months"),
        Duration.FROM_6: _("6–12 months"),
        Duration.FROM_12: _("12+ months"),
    }[duration]


def link_counts_text(counts: LinkCounts) -> str:
    return _("Links: {sent} sent · {opened} opened · {answered} answered · {expired} expired").format(
        sent=counts.sent, opened=counts.opened, answered=counts.answered, expired=counts.expired
    )


def _creators(numbers: tuple[int, ...]) -> str:
    listed = ", ".join(str(n) for n in numbers)
    return ngettext("creator {numbers}", "creators {numbers}", len(numbers)).format(numbers=listed)


def _health(data: CardData, locale: str) -> str:
    lines = health_lines(data.health, locale)
    return "\n".join([_title(_("Communication health")), *lines]) if lines else ""


def _references(data: CardData, locale: str) -> str:
    lines = [_title(_("References"))]
    references = [stored.reference for stored in data.reference_answers]
    summary = summarize(references)
    counts = data.reference_links
    if summary is None:
        lines.append(
            _("No answers yet.") if counts.sent else _("None yet. Ask creators who worked with them: 🗣 References.")
        )
    else:
        yes = summary.again_counts[Again.YES]
        lines.append(
            ngettext("{count} creator answered", "{count} creators answered", summary.count).format(count=summary.count)
            + " · "
            + _("would work with them again: {yes} of {count} ({percent}%)").format(
                yes=yes, count=summary.count, percent=round(summary.again_share * 100)
            )
        )
        lines.append(
            " · ".join(
                f"{dimension_label(d)} {score(summary.averages[d], locale)}"
                for d in DIMENSIONS
                if d in summary.averages
            )
        )
        if summary.red_flags:
            lines.append(
                "🚩 "
                + _("Red flag: {creators} — reliability 2 or lower, or “no” to working with them again").format(
                    creators=_creators(summary.red_flags)
                )
            )
        if summary.too_fast:
            lines.append(
                "⚡ " + _("Implausibly fast (under 30 s): {creators}").format(creators=_creators(summary.too_fast))
            )
        numbered = list(enumerate(references, 1))
        for number, reference in numbered[-REFERENCES_SHOWN:]:
            ratings = "/".join(str(reference.ratings.get(d, "–")) for d in DIMENSIONS)
            head = _("Creator {number}").format(number=number)
            line = (
                f"{'🚩 ' if reference.red_flag else ''}{head} · {labels.coverage(reference.market)} · "
                f"{duration_label(reference.duration)} · {ratings} · "
                + _("again: {answer}").format(answer=again_label(reference.again))
            )
            lines.append(line + (" ⚡" if reference.too_fast else ""))
            comments = [(dimension_label(d), reference.comments[d]) for d in DIMENSIONS if reference.comments.get(d)]
            if reference.anything_else:
                comments.append((_("Anything else"), reference.anything_else))
            for label, comment in comments[:REFERENCE_COMMENTS_SHOWN]:
                lines.append(f"   › {label}: “{user_text(comment, REFERENCE_COMMENT_LEN)}”")
        hidden = len(numbered) - REFERENCES_SHOWN
        if hidden > 0:
            lines.append(
                ngettext("…and {count} earlier answer", "…and {count} earlier answers", hidden).format(count=hidden)
            )
    if counts.sent:
        lines.append(link_counts_text(counts))
    return "\n".join(lines)


def _flags(data: CardData) -> str:
    flags, walk = data.flags(), data.walk_reasons()
    if not flags and not walk:
        return ""
    lines = [_title(_("Red flags")), *(f"🚩 {labels.red_flag(flag)}" for flag in flags)]
    if walk:
        lines.append("🚩 " + _("The last debrief recommended walking away: {reasons}").format(
            reasons="; ".join(debrief_texts.reason(reason) for reason in walk)
        ))
    return "\n".join(lines)


def _next(data: CardData) -> str:
    step = data.next_step()
    text = _("<b>Next step:</b> {action} — {reason}").format(
        action=labels.next_action(step.action, step.market), reason=labels.reason(step.reason)
    )
    thin = [m for m in step.thin_markets if m is not step.market]
    if thin and step.action.value != "cases_in":
        markets = ", ".join(labels.market(m) for m in thin)
        text += "\n" + _("Worth adding: more case studies from {markets}.").format(markets=markets)
    return text


def card_keyboard(data: CardData) -> InlineKeyboardMarkup:
    pid = data.partner.id
    b = ButtonGrid()
    b.button(text=_("📚 Evidence"), callback_data=PartnerCallback(action=PartnerAction.EVIDENCE, partner_id=pid))
    b.button(text=_("💬 Signals"), callback_data=PartnerCallback(action=PartnerAction.SIGNALS, partner_id=pid))
    b.button(text=_("✅ Gut check"), callback_data=PartnerCallback(action=PartnerAction.GUT_CHECK, partner_id=pid))
    b.button(text=_("📊 Scorecard"), callback_data=PartnerCallback(action=PartnerAction.SCORECARD, partner_id=pid))
    stage = data.partner.stage
    if data.running is not None:
        b.button(text=_("📝 Log event"), callback_data=PartnerCallback(action=PartnerAction.LOG, partner_id=pid))
        b.button(text=_("🏁 Debrief"), callback_data=PartnerCallback(action=PartnerAction.DEBRIEF, partner_id=pid))
    elif stage.is_vetting:
        b.button(text=_("🚀 Pilot"), callback_data=PartnerCallback(action=PartnerAction.SCOPE, partner_id=pid))
    elif stage in (Stage.PILOT, Stage.RUNG2, Stage.RUNG3, Stage.PAUSED):
        b.button(text=_("🚀 Next campaign"), callback_data=PartnerCallback(action=PartnerAction.SCOPE, partner_id=pid))
    b.button(
        text=_("🗣 References"),
        callback_data=ReferenceCallback(action=ReferenceAction.LIST, partner_id=pid),
    )
    b.button(text=_("📈 Report"), callback_data=PartnerCallback(action=PartnerAction.REPORT, partner_id=pid))
    if not data.partner.archived:  # the weekly check-in is set up here, in private, never inside the group
        b.button(text=_("🗓 Weekly check-in"), callback_data=CheckinPartnerCallback(partner_id=pid))
    if data.partner.archived:
        b.button(text=_("♻️ Unarchive"), callback_data=PartnerCallback(action=PartnerAction.UNARCHIVE, partner_id=pid))
    else:
        b.button(text=_("🗄 Archive"), callback_data=PartnerCallback(action=PartnerAction.ARCHIVE, partner_id=pid))
    b.button(
        text=_("« All partners"),
        callback_data=PartnerCallback(action=PartnerAction.LIST, archived=data.partner.archived),
    )
    b.adjust(2)
    return b.as_markup()
