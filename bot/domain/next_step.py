"""The partner card's next recommended step and its red flags."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

from bot.domain.evidence import EvidenceSignals, MarketSummary
from bot.domain.gutcheck import GutVerdict
from bot.domain.partners import MARKETS, Market, Stage
from bot.domain.scorecard import ScoreBand, ScoreGroup, ScoreResult, score_band

# Field notes "They either commit too early or they reject too quickly": a failed gut check with at least
# this many yes-answers is a near miss worth re-running; fewer suggests walking.
GUT_RERUN_MIN_SCORE = 2
# Field notes "we weight 'market knowledge' very highly": a cross-market criterion rated at or below this
# is a red flag.
WEAK_MARKET_RATING_MAX = 2


class NextAction(StrEnum):
    """What the manager should do next."""

    ADD_CASE_STUDIES = "add_cases"
    ADD_CASES_IN = "cases_in"
    RUN_GUT_CHECK = "gut_check"
    RERUN_GUT_CHECK = "gut_rerun"
    CONSIDER_WALKING = "walk_away"
    FILL_SCORECARD = "scorecard"
    REVIEW_SCORE = "review_score"
    READY_FOR_PILOT = "ready_pilot"
    SCOPE_CAMPAIGN = "scope_camp"
    LOG_EVENTS = "log_events"
    DEBRIEF = "debrief"
    NONE = "none"


class Reason(StrEnum):
    """Why that step is next."""

    NO_EVIDENCE = "no_evidence"
    NO_GUT_CHECK = "no_gut"
    GUT_NEAR_MISS = "gut_near"
    GUT_FAILED = "gut_failed"
    NO_CASES_IN = "no_cases_in"
    NO_SCORECARD = "no_score"
    WEAK_SCORE = "weak_score"
    READY = "ready"
    READY_FLAGS = "ready_flags"
    NO_CAMPAIGN = "no_campaign"
    RUNNING = "running"
    DUE = "due"
    WALKED = "walked"
    PAUSED = "paused"
    WALK_ADVISED = "walk_advised"


class CampaignPhase(StrEnum):
    """State of the partner's current campaign on the ladder."""

    NONE = "none"
    RUNNING = "running"
    DUE = "due"


class RedFlag(StrEnum):
    """Warnings shown on the partner card."""

    ONLY_WINS = "only_wins"
    NO_OTHER_MKT = "no_other_mkt"
    WEAK_MARKET = "weak_market"
    METRICS = "metrics"


@dataclass(frozen=True, slots=True)
class NextStep:
    """The next step, why, the market it concerns, and claimed markets with thin evidence (advice)."""

    action: NextAction
    reason: Reason
    market: Market | None = None
    thin_markets: tuple[Market, ...] = ()


def red_flags(
    signals: EvidenceSignals,
    summaries: Mapping[Market, MarketSummary],
    score: ScoreResult | None,
    metrics_agreed: bool | None = None,
) -> tuple[RedFlag, ...]:
    """Red flags from evidence, scorecard and (if a pilot was scoped) metric agreement, in display order."""
    flags: list[RedFlag] = []
    has_cases = any(summary.count for summary in summaries.values())
    if has_cases and not signals.shows_failures:  # "могут показать вам неудачные кейсы, а не только победы"
        flags.append(RedFlag.ONLY_WINS)
    # "Они уже работали с кем-то еще из другого рынка (это важно!)"
    if has_cases and not signals.worked_other_market:
        flags.append(RedFlag.NO_OTHER_MKT)
    if score is not None and any(
        rating <= WEAK_MARKET_RATING_MAX
        for criterion, rating in score.ratings.items()
        if criterion.group is ScoreGroup.MARKET
    ):
        flags.append(RedFlag.WEAK_MARKET)
    if metrics_agreed is False:  # "Метрики согласованы заранее? Если нет, красный флаг"
        flags.append(RedFlag.METRICS)
    return tuple(flags)


def _vetting_step(
    gut: GutVerdict | None,
    signals: EvidenceSignals,
    summaries: Mapping[Market, MarketSummary],
    score: ScoreResult | None,
    flags: Sequence[RedFlag],
) -> NextStep:
    """Next step before a pilot: evidence, gut check, market evidence, scorecard, then ready."""
    thin = signals.thin_markets
    if not any(summary.count for summary in summaries.values()):
        return NextStep(NextAction.ADD_CASE_STUDIES, Reason.NO_EVIDENCE, None, thin)
    if gut is None:
        return NextStep(NextAction.RUN_GUT_CHECK, Reason.NO_GUT_CHECK, None, thin)
    if not gut.passed:
        if gut.score >= GUT_RERUN_MIN_SCORE:
            return NextStep(NextAction.RERUN_GUT_CHECK, Reason.GUT_NEAR_MISS, None, thin)
        return NextStep(NextAction.CONSIDER_WALKING, Reason.GUT_FAILED, None, thin)
    empty = [m for m in MARKETS if m in thin and summaries[m].count == 0]
    if empty:
        return NextStep(NextAction.ADD_CASES_IN, Reason.NO_CASES_IN, empty[0], thin)
    if score is None:
        return NextStep(NextAction.FILL_SCORECARD, Reason.NO_SCORECARD, None, thin)
    if score_band(score.total) is ScoreBand.WEAK:
        return NextStep(NextAction.REVIEW_SCORE, Reason.WEAK_SCORE, None, thin)
    reason = Reason.READY_FLAGS if flags else Reason.READY
    return NextStep(NextAction.READY_FOR_PILOT, reason, None, thin)


def next_step(
    stage: Stage,
    gut_history_latest: GutVerdict | None,
    signals: EvidenceSignals,
    market_summaries: Mapping[Market, MarketSummary],
    score: ScoreResult | None,
    flags: Sequence[RedFlag],
    campaign: CampaignPhase = CampaignPhase.NONE,
    walk_advised: bool = False,
) -> NextStep:
    """The single next step for a partner; thin-market evidence gaps ride along as advice. `walk_advised`: the last
    debrief recommended walking away and the manager chose otherwise."""
    if stage is Stage.WALKED:
        return NextStep(NextAction.NONE, Reason.WALKED)
    if stage is Stage.PAUSED:
        return NextStep(NextAction.NONE, Reason.PAUSED)
    if stage.in_campaigns:
        if campaign is CampaignPhase.DUE:
            return NextStep(NextAction.DEBRIEF, Reason.DUE)
        if campaign is CampaignPhase.RUNNING:
            return NextStep(NextAction.LOG_EVENTS, Reason.RUNNING)
        # Field notes "Walking points": the reasons a debrief gave for walking do not lapse because the manager
        # chose another try: the next step says so until another campaign is scoped (the red flags stay).
        if walk_advised:
            return NextStep(NextAction.CONSIDER_WALKING, Reason.WALK_ADVISED)
        return NextStep(NextAction.SCOPE_CAMPAIGN, Reason.NO_CAMPAIGN)
    return _vetting_step(gut_history_latest, signals, market_summaries, score, flags)
