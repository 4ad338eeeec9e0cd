"""What the report pictures show, read through the caller's workspace; numbers only, no text and no matplotlib.

Tables of other features (references, check-ins) are read only when they exist and hold rows, so a report
works on any schema version and says what is missing instead of drawing empty axes.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from statistics import fmean

from bot.domain.campaigns import Recommendation
from bot.domain.checkins import HEALTH_WINDOW_ROUNDS, RoundOutcome, answer_rate
from bot.domain.next_step import NextStep
from bot.domain.partners import LADDER_STAGES, Stage
from bot.domain.references import DIMENSIONS, Again, Dimension
from bot.domain.scorecard import MIN_OTHERS_TO_COMPARE, SCORE_GROUPS, Criterion, ScoreGroup, team_view
from bot.storage.campaigns import Debrief
from bot.storage.db import Database
from bot.storage.reports import ReportRepo
from bot.views.partner_card import CardData

# Issue 7 "check-in answer rate per week": how many recent weeks the partner report draws.
WEEKS_SHOWN = 12


class Missing(StrEnum):
    """A part of the partner report that has no data yet."""

    SCORECARD = "scorecard"
    REFERENCES = "references"
    CAMPAIGNS = "campaigns"
    CHECKINS = "checkins"


@dataclass(frozen=True, slots=True)
class CampaignPoint:
    """One debriefed campaign on the ladder: its number in the partnership, its rung, its quality."""

    number: int
    rung: int
    quality: int


@dataclass(frozen=True, slots=True)
class WeekRate:
    """Answers / expected answers over the closed check-in rounds of one week (Monday first)."""

    week: date
    answered: int
    expected: int

    @property
    def rate(self) -> float:
        return self.answered / self.expected if self.expected else 0.0


@dataclass(frozen=True)
class PartnerReport:
    name: str
    stage: Stage
    next_step: NextStep
    score_by_group: Mapping[ScoreGroup, float] | None = None  # the team's, once the viewer submitted theirs
    score_hidden: bool = False  # teammates scored, the viewer has not (blind scoring: shown after their own)
    workspace_by_group: Mapping[ScoreGroup, float] | None = None  # the other partners', when enough to compare
    workspace_partners: int = 0  # how many other partners the viewer has scored
    references: Mapping[Dimension, float] | None = None
    reference_count: int = 0
    again_yes: int = 0
    campaigns: tuple[CampaignPoint, ...] = ()
    campaigns_running: int = 0
    weeks: tuple[WeekRate, ...] = ()
    last_debrief: Debrief | None = None

    @property
    def missing(self) -> tuple[Missing, ...]:
        gaps = []
        if self.score_by_group is None:
            gaps.append(Missing.SCORECARD)
        if self.references is None:
            gaps.append(Missing.REFERENCES)
        if not self.campaigns:
            gaps.append(Missing.CAMPAIGNS)
        if not self.weeks:
            gaps.append(Missing.CHECKINS)
        return tuple(gaps)

    @property
    def empty(self) -> bool:
        """Nothing to draw at all: the report becomes a list of what is missing."""
        return len(self.missing) == len(Missing)

    @property
    def last_recommendation(self) -> Recommendation | None:
        return self.last_debrief.recommendation.recommendation if self.last_debrief else None


class FunnelStep(StrEnum):
    """Issue 7 "candidate → gut check → pilot → rung 2 → rung 3, walked"."""

    CANDIDATE = "candidate"
    GUT_CHECK = "gut_check"
    PILOT = "pilot"
    RUNG2 = "rung2"
    RUNG3 = "rung3"
    WALKED = "walked"


FUNNEL: tuple[FunnelStep, ...] = tuple(FunnelStep)


@dataclass(frozen=True, slots=True)
class PortfolioPartner:
    name: str
    stage: Stage
    gut_passed: bool
    top_rung: int  # highest rung a campaign was scoped on; 0 before the pilot
    score: float | None  # the team's weighted total, where the viewer has scored too
    answer_rate: float | None  # over the last closed check-in rounds; None without any

    def reached(self, step: FunnelStep) -> bool:
        """How far the partner got; walking away keeps the steps reached before it."""
        rung = max(self.top_rung, LADDER_STAGES.index(self.stage) + 1 if self.stage in LADDER_STAGES else 0)
        return {
            FunnelStep.CANDIDATE: True,
            FunnelStep.GUT_CHECK: self.gut_passed or rung >= 1 or self.stage is Stage.READY_PILOT,
            FunnelStep.PILOT: rung >= 1,
            FunnelStep.RUNG2: rung >= 2,
            FunnelStep.RUNG3: rung >= 3,
            FunnelStep.WALKED: self.stage is Stage.WALKED,
        }[step]


@dataclass(frozen=True)
class PortfolioReport:
    partners: tuple[PortfolioPartner, ...]
    checkins_exist: bool = False  # any closed check-in round in the workspace

    def funnel(self) -> dict[FunnelStep, int]:
        return {step: sum(p.reached(step) for p in self.partners) for step in FUNNEL}

    @property
    def scored(self) -> tuple[PortfolioPartner, ...]:
        return tuple(p for p in self.partners if p.score is not None)

    @property
    def both(self) -> tuple[PortfolioPartner, ...]:
        """Partners with a score and a communication-health figure: the scatter's points."""
        return tuple(p for p in self.partners if p.score is not None and p.answer_rate is not None)


# ---- reading ---------------------------------------------------------------------------------------------


def workspace_average(
    cards: Mapping[int, Mapping[int, Mapping[Criterion, int]]], viewer_id: int, partner_id: int
) -> tuple[dict[ScoreGroup, float] | None, int]:
    """Mean of the team group scores of the other partners the viewer has scored (blind scoring holds), and how many
    they are; no mean below MIN_OTHERS_TO_COMPARE of them (a partner is never compared with itself)."""
    views = [team_view(per_rater) for pid, per_rater in cards.items() if pid != partner_id and viewer_id in per_rater]
    teams = [view for view in views if view is not None]
    if len(teams) < MIN_OTHERS_TO_COMPARE:
        return None, len(teams)
    return {group: fmean(team.by_group[group] for team in teams) for group in SCORE_GROUPS}, len(teams)


def weekly_rates(rounds: Iterable[tuple[str, int, int]], weeks: int = WEEKS_SHOWN) -> tuple[WeekRate, ...]:
    """(occurrence ISO, answered, expected) per closed round → one point per week, the last `weeks` weeks."""
    buckets: dict[date, list[int]] = {}
    for occurrence, answered, expected in rounds:
        if not expected:
            continue
        day = datetime.fromisoformat(occurrence).date()
        monday = day - timedelta(days=day.weekday())
        bucket = buckets.setdefault(monday, [0, 0])
        bucket[0] += answered
        bucket[1] += expected
    ordered = sorted(buckets.items())[-weeks:]
    return tuple(WeekRate(week, answered, expected) for week, (answered, expected) in ordered)


async def load_partner_report(db: Database, card: CardData, workspace_id: int) -> PartnerReport:
    """The card's data plus what only the report shows: the workspace average and the weekly answer rate."""
    team = card.team
    reports = ReportRepo(db)
    cards = await reports.latest_scorecards(workspace_id)
    average, averaged = workspace_average(cards, card.viewer_id, card.partner.id)
    visible = card.visible_score()
    references = [stored.reference for stored in card.reference_answers]
    reference_means = None
    if references:
        reference_means = {
            d: fmean(r.ratings[d] for r in references if r.ratings.get(d) is not None)
            for d in DIMENSIONS
            if any(r.ratings.get(d) is not None for r in references)
        }
    quality = {d.campaign_id: d.quality for d in card.debriefs}
    points = tuple(
        CampaignPoint(number, c.rung, quality[c.id]) for number, c in enumerate(card.campaigns, 1) if c.id in quality
    )
    rounds = await reports.closed_rounds(workspace_id, card.partner.id)
    return PartnerReport(
        name=card.partner.name,
        stage=card.partner.stage,
        next_step=card.next_step(),
        score_by_group=dict(visible.by_group) if visible is not None else None,
        score_hidden=team is not None and visible is None,
        workspace_by_group=average if visible is not None else None,
        workspace_partners=averaged,
        references=reference_means or None,
        reference_count=len(references),
        again_yes=sum(r.again is Again.YES for r in references),
        campaigns=points,
        campaigns_running=sum(c.running for c in card.campaigns),
        weeks=weekly_rates((r.occurrence, r.answered, r.expected) for r in rounds),
        last_debrief=card.debriefs[-1] if card.debriefs else None,
    )


async def load_portfolio(db: Database, workspace_id: int, viewer_id: int) -> PortfolioReport:
    """Every active (not archived) partner of the workspace with its stage, reach, score and answer rate."""
    reports = ReportRepo(db)
    rows = await reports.portfolio_partners(workspace_id)
    cards = await reports.latest_scorecards(workspace_id)
    rounds_by_partner: dict[int, list[RoundOutcome]] = {}
    for closed in await reports.closed_rounds(workspace_id):
        rounds_by_partner.setdefault(closed.partner_id, []).append(RoundOutcome(closed.expected, closed.answered, 0, 0))
    partners = []
    for row in rows:
        per_rater = cards.get(row.partner_id, {})
        team = team_view(per_rater) if viewer_id in per_rater else None
        rounds = rounds_by_partner.get(row.partner_id, [])
        partners.append(
            PortfolioPartner(
                name=row.name,
                stage=row.stage,
                gut_passed=row.gut_passed,
                top_rung=row.top_rung,
                score=team.average_total if team is not None else None,
                answer_rate=answer_rate(rounds[-HEALTH_WINDOW_ROUNDS:]) if rounds else None,
            )
        )
    return PortfolioReport(tuple(partners), checkins_exist=bool(rounds_by_partner))

