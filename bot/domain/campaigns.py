"""Phase 2 and 3: pilot scope, the campaign log, debrief recommendations and the 1 → 3 → 5 ladder."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from bot.domain.numbers import whole_or_none
from bot.domain.partners import LADDER_STAGES, MARKETS, Market, MarketCoverage, Stage

# ---- Pilot scope --------------------------------------------------------------------------------------

# Field notes "We define ONE small scope (1-2 creators, ...)": fewest creators in a pilot.
PILOT_MIN_CREATORS = 1
# Field notes "(1-2 creators, 1 deliverable, 2-week timeline)": more creators than this is flagged.
PILOT_MAX_CREATORS = 2
# Field notes "1 deliverable": deliverables in a pilot; more is flagged.
PILOT_DELIVERABLES = 1
# Field notes "2-week timeline": default pilot length in days.
PILOT_DEFAULT_DAYS = 14
# Field notes "2-week timeline": a pilot longer than this many days is flagged.
PILOT_MAX_DAYS = 14
# Issue 4 input sanity (not in the notes): largest creator count, timeline and revision limit accepted.
CREATORS_INPUT_MAX = 50
DAYS_INPUT_MAX = 365
REVISIONS_INPUT_MAX = 20



class ScopeWarning(StrEnum):
    """What makes a pilot scope bigger or vaguer than the method allows."""

    TOO_MANY_CREATORS = "creators"
    TOO_MANY_DELIV = "deliverables"
    LONG_TIMELINE = "timeline"
    NO_METRICS = "no_metrics"
    METRICS_NOT_AGREED = "not_agreed"
    NO_PAYMENT_TERMS = "no_payment"
    NO_REVISION_LIMIT = "no_revisions"
    NO_CHARTER = "no_charter"


@dataclass(frozen=True, slots=True)
class ScopeDraft:
    """What a manager has entered for a campaign scope so far."""

    creators: int = PILOT_MIN_CREATORS
    deliverables: int = PILOT_DELIVERABLES
    days: int = PILOT_DEFAULT_DAYS
    metrics: str | None = None
    metrics_agreed: bool | None = None
    payment_terms: str | None = None
    revision_limit: int | None = None
    market: MarketCoverage | None = None
    charter_success: str | None = None
    charter_failure: str | None = None
    charter_renegotiate: str | None = None


def creators_need_confirmation(creators: int) -> bool:
    """More than 1–2 creators needs an explicit "yes, a bigger pilot" (and is still flagged)."""
    return creators > PILOT_MAX_CREATORS


def scope_warnings(draft: ScopeDraft) -> tuple[ScopeWarning, ...]:
    """Every way the scope departs from "ONE small scope" with documented terms, in a fixed order."""
    warnings: list[ScopeWarning] = []
    if draft.creators > PILOT_MAX_CREATORS:
        warnings.append(ScopeWarning.TOO_MANY_CREATORS)
    if draft.deliverables > PILOT_DELIVERABLES:
        warnings.append(ScopeWarning.TOO_MANY_DELIV)
    if draft.days > PILOT_MAX_DAYS:
        warnings.append(ScopeWarning.LONG_TIMELINE)
    if not draft.metrics:
        # Field notes "We document everything: success metrics, payment terms, revision limits".
        warnings.append(ScopeWarning.NO_METRICS)
    if draft.metrics_agreed is not True:
        # Field notes "Метрики согласованы заранее? Если нет, красный флаг".
        warnings.append(ScopeWarning.METRICS_NOT_AGREED)
    if not draft.payment_terms:
        warnings.append(ScopeWarning.NO_PAYMENT_TERMS)
    if draft.revision_limit is None:
        warnings.append(ScopeWarning.NO_REVISION_LIMIT)
    if not (draft.charter_success and draft.charter_failure and draft.charter_renegotiate):
        # Field notes "What does success look like? What's acceptable failure? When do we renegotiate?"
        warnings.append(ScopeWarning.NO_CHARTER)
    return tuple(warnings)


def _parse_whole(text: str | None, low: int, high: int) -> int | None:
    """A whole number in low..high from ASCII digits only (bot/domain/numbers.py), or None."""
    return whole_or_none(text, low, high)


def parse_creators(text: str | None) -> int | None:
    """Creator count 1–50, or None."""
    return _parse_whole(text, PILOT_MIN_CREATORS, CREATORS_INPUT_MAX)


def parse_days(text: str | None) -> int | None:
    """Timeline in days 1–365, or None."""
    return _parse_whole(text, 1, DAYS_INPUT_MAX)


def parse_revision_limit(text: str | None) -> int | None:
    """Revision rounds allowed 0–20, or None."""
    return _parse_whole(text, 0, REVISIONS_INPUT_MAX)


def due_date(start: date, days: int) -> date:
    """The day a campaign of `days` days starting on `start` is due for its debrief."""
    return start + timedelta(days=days)


class ChecklistItem(StrEnum):
    """What a campaign's creators expect, by market."""

    WRITTEN_CONTRACT = "contract"
    BOUNDARIES = "boundaries"
    USAGE_RIGHTS = "usage_rights"
    TURNAROUND = "turnaround"
    FLEXIBILITY = "flexibility"


# Field notes "US creators want clear contracts and boundaries" (+ usage rights, issue 4).
US_CHECKLIST: tuple[ChecklistItem, ...] = (
    ChecklistItem.WRITTEN_CONTRACT,
    ChecklistItem.BOUNDARIES,
    ChecklistItem.USAGE_RIGHTS,
)
# Field notes "Russian creators are used to faster turnarounds and more flexibility".
RU_CHECKLIST: tuple[ChecklistItem, ...] = (ChecklistItem.TURNAROUND, ChecklistItem.FLEXIBILITY)
_CHECKLISTS = {Market.RU: RU_CHECKLIST, Market.US: US_CHECKLIST}


def market_checklist(coverage: MarketCoverage) -> tuple[ChecklistItem, ...]:
    """Checklist for the creators' market; both markets get both ("code-switch between these styles")."""
    return tuple(item for market in MARKETS if coverage.covers(market) for item in _CHECKLISTS[market])


# ---- Campaign log -------------------------------------------------------------------------------------


class EventKind(StrEnum):
    """One-tap events a manager logs during a campaign."""

    DEADLINE_MET = "dl_met"
    DEADLINE_MISSED_NOTICE = "dl_notice"
    DEADLINE_MISSED_SILENT = "dl_silent"
    DELIV_AT_SCOPE = "deliv_ok"
    DELIV_BELOW = "deliv_below"
    DELIV_FAR_BELOW = "deliv_far"
    RESISTED_DOCS = "resisted"
    COMM_GAP = "comm_gap"
    ITER_FAST = "iter_fast"
    ITER_SLOW = "iter_slow"
    MOSTLY_ASYNC = "async"
    MOSTLY_SYNC = "sync"
    REVISION_USED = "revision"


# Events that count as a deadline outcome for the on-time share.
DEADLINE_EVENTS = frozenset(
    {EventKind.DEADLINE_MET, EventKind.DEADLINE_MISSED_NOTICE, EventKind.DEADLINE_MISSED_SILENT}
)
# Field notes "consistently missing basics": a missed deadline of any kind or a deliverable below scope.
BASICS_MISS_EVENTS = frozenset(
    {
        EventKind.DEADLINE_MISSED_NOTICE,
        EventKind.DEADLINE_MISSED_SILENT,
        EventKind.DELIV_BELOW,
        EventKind.DELIV_FAR_BELOW,
    }
)


def on_time_share(events: Iterable[EventKind]) -> float | None:
    """Share of deadline events that were met (0..1), or None when no deadline was logged."""
    deadlines = [event for event in events if event in DEADLINE_EVENTS]
    if not deadlines:
        return None
    return sum(event is EventKind.DEADLINE_MET for event in deadlines) / len(deadlines)


def revisions_used(events: Iterable[EventKind]) -> int:
    """Revision rounds logged."""
    return sum(event is EventKind.REVISION_USED for event in events)


def revisions_left(limit: int | None, events: Iterable[EventKind]) -> int | None:
    """Rounds left under the agreed limit (negative = over it), or None when no limit was agreed."""
    if limit is None:
        return None
    return limit - revisions_used(events)


def missed_basics(events: Iterable[EventKind]) -> bool:
    """Whether a campaign missed basics: any missed deadline or any below-scope deliverable."""
    return any(event in BASICS_MISS_EVENTS for event in events)


# ---- Debrief and recommendation -----------------------------------------------------------------------

# Issue 4 "quality 1–5": lowest and highest debrief quality.
QUALITY_MIN = 1
QUALITY_MAX = 5
# Field notes "they deliver on scope = move to Phase 3" (our reading): quality at or below this is off scope.
LOW_QUALITY_MAX = 2
# Field notes "consistently missing basics after 2-3 campaigns": campaigns looked back over, current included.
BASICS_WINDOW = 3
# Field notes "consistently missing basics after 2-3 campaigns": misses within the window that mean walk.
BASICS_MISSES_TO_WALK = 2


class ProblemKind(StrEnum):
    """What kind of problem a debrief found."""

    NONE = "none"
    EXECUTION = "execution"
    COMMUNICATION = "comm"
    EXPECTATIONS = "expectations"


class Recommendation(StrEnum):
    """What the bot recommends after a debrief."""

    WALK = "walk"
    RERUN = "rerun"
    EXPAND = "expand"


class Decision(StrEnum):
    """What the manager decided after a debrief."""

    EXPAND = "expand"
    RERUN = "rerun"
    WALK = "walk"
    PAUSE = "pause"


class RecReason(StrEnum):
    """One reason behind a recommendation."""

    RESISTED_DOCS = "resisted"
    MISSED_SILENT = "dl_silent"
    FAR_BELOW_SCOPE = "far_below"
    COMM_PROBLEM = "comm_problem"
    COMM_GAP = "comm_gap"
    MISSING_BASICS = "basics"
    EXECUTION = "execution"
    BELOW_SCOPE = "below_scope"
    MISSED_NOTICE = "dl_notice"
    EXPECTATIONS = "expectations"
    LOW_QUALITY = "low_quality"
    ALIGNED = "aligned"
    ON_SCOPE = "on_scope"


@dataclass(frozen=True, slots=True)
class CampaignOutcome:
    """A debriefed campaign as the rules and the learning loop see it."""

    events: tuple[EventKind, ...]
    problem: ProblemKind
    quality: int


@dataclass(frozen=True, slots=True)
class RecommendationResult:
    """The recommendation and every reason that produced it."""

    recommendation: Recommendation
    reasons: tuple[RecReason, ...]


def is_valid_quality(value: object) -> bool:
    """Whether value is an int quality within QUALITY_MIN..QUALITY_MAX (bools are not qualities)."""
    return isinstance(value, int) and not isinstance(value, bool) and QUALITY_MIN <= value <= QUALITY_MAX


def basics_misses_in_window(current: Iterable[EventKind], history: Sequence[CampaignOutcome]) -> int:
    """Campaigns that missed basics among the last BASICS_WINDOW, the current one included."""
    window = [*(outcome.events for outcome in history), tuple(current)][-BASICS_WINDOW:]
    return sum(missed_basics(events) for events in window)


def _walk_reasons(
    events: frozenset[EventKind],
    problem: ProblemKind,
    current: tuple[EventKind, ...],
    history: Sequence[CampaignOutcome],
) -> list[RecReason]:
    """Reasons to walk (field notes "Walking points")."""
    reasons: list[RecReason] = []
    if EventKind.RESISTED_DOCS in events:  # "They resist documentation/processes (this is a dealbreaker)"
        reasons.append(RecReason.RESISTED_DOCS)
    if EventKind.DEADLINE_MISSED_SILENT in events:  # "They miss deadlines without notice"
        reasons.append(RecReason.MISSED_SILENT)
    if EventKind.DELIV_FAR_BELOW in events:  # "Deliverables are significantly below scope"
        reasons.append(RecReason.FAR_BELOW_SCOPE)
    if problem is ProblemKind.COMMUNICATION:  # "проблема в коммуникации, это красный флаг"
        reasons.append(RecReason.COMM_PROBLEM)
    if EventKind.COMM_GAP in events:  # "Communication gaps (async or sync doesn't matter; consistency does)"
        reasons.append(RecReason.COMM_GAP)
    if basics_misses_in_window(current, history) >= BASICS_MISSES_TO_WALK:  # "training mode indefinitely"
        reasons.append(RecReason.MISSING_BASICS)
    return reasons


def _rerun_reasons(events: frozenset[EventKind], problem: ProblemKind, quality: int) -> list[RecReason]:
    """Reasons to fix and re-run ("Если это была проблема в выполнении, можно исправить")."""
    reasons: list[RecReason] = []
    if problem is ProblemKind.EXECUTION:
        reasons.append(RecReason.EXECUTION)
    if EventKind.DELIV_BELOW in events:
        reasons.append(RecReason.BELOW_SCOPE)
    if EventKind.DEADLINE_MISSED_NOTICE in events:
        reasons.append(RecReason.MISSED_NOTICE)
    # "распались после 1 кампании: ... проблема с ожиданиями" — renegotiate expectations, not competence.
    if problem is ProblemKind.EXPECTATIONS:
        reasons.append(RecReason.EXPECTATIONS)
    if quality <= LOW_QUALITY_MAX:
        reasons.append(RecReason.LOW_QUALITY)
    return reasons


def recommend(
    campaign_events: Iterable[EventKind],
    problem_kind: ProblemKind,
    quality: int,
    history: Sequence[CampaignOutcome] = (),
) -> RecommendationResult:
    """Walk, re-run or expand after a debrief, with all reasons of the deciding tier; history oldest first."""
    if not is_valid_quality(quality):
        raise ValueError(f"quality must be an integer {QUALITY_MIN}..{QUALITY_MAX}")
    current = tuple(campaign_events)
    events = frozenset(current)
    walk = _walk_reasons(events, problem_kind, current, history)
    if walk:
        return RecommendationResult(Recommendation.WALK, tuple(walk))
    rerun = _rerun_reasons(events, problem_kind, quality)
    if rerun:
        return RecommendationResult(Recommendation.RERUN, tuple(rerun))
    # "Threshold: Clear alignment + they deliver on scope = move to Phase 3".
    return RecommendationResult(Recommendation.EXPAND, (RecReason.ALIGNED, RecReason.ON_SCOPE))


def decision_differs(recommendation: Recommendation, decision: Decision) -> bool:
    """Whether the manager's decision departs from the recommendation (then the bot asks why)."""
    return recommendation.value != decision.value


# ---- Ladder -------------------------------------------------------------------------------------------

# Field notes "We grow incrementally: 1 → 3 → 5": campaigns planned on rung 1 (pilot), 2 and 3.
RUNGS: tuple[int, ...] = (1, 3, 5)
# Rung numbers are 1-based, as shown to users.
FIRST_RUNG = 1
LAST_RUNG = len(RUNGS)


def _check_rung(rung: int) -> None:
    """ValueError for a rung number outside 1..LAST_RUNG."""
    if not FIRST_RUNG <= rung <= LAST_RUNG:
        raise ValueError(f"rung must be {FIRST_RUNG}..{LAST_RUNG}, got {rung}")


def campaigns_planned(rung: int) -> int:
    """Campaigns planned on a rung (1-based): 1, 3 or 5."""
    _check_rung(rung)
    return RUNGS[rung - 1]


def next_rung(current: int) -> int | None:
    """The rung after `current`, or None at the top; never more than one step."""
    _check_rung(current)
    return current + 1 if current < LAST_RUNG else None


def rung_finished(planned: int, counted: int) -> bool:
    """A rung is finished when all its planned campaigns are counted (see `counts_toward_rung`)."""
    return counted >= planned


def can_expand(rung: int, counted: int, last_decision: Decision | None) -> bool:
    """Expand only from a finished rung whose last debrief decided "expand", if a next rung exists."""
    return (
        next_rung(rung) is not None
        and rung_finished(campaigns_planned(rung), counted)
        and last_decision is Decision.EXPAND
    )


def can_move_to(current: int, target: int, counted: int, last_decision: Decision | None) -> bool:
    """Whether moving from rung `current` to `target` is allowed: one rung up, never skipping."""
    return target == next_rung(current) and can_expand(current, counted, last_decision)


# Which debriefed campaigns fill a place in their rung's plan. Field notes "After one successful campaign, we
# don't automatically scale to five. We grow incrementally: 1 → 3 → 5" — a rung is earned by campaigns that
# went ahead, and "Если это была проблема в выполнении, можно исправить" (an execution problem can be fixed):
# a re-run is that fix, the same place in the plan run again, not a new one; a pause halts the partnership
# where it stands. So a campaign counts once debriefed with any decision but these two (an expand, or a walk,
# which ends the ladder anyway). Issue 15: on rung 2 two re-runs and one expand opened rung 3 after one success.
NOT_COUNTED_DECISIONS = frozenset({Decision.RERUN, Decision.PAUSE})


@dataclass(frozen=True, slots=True)
class FinishedCampaign:
    """A debriefed (no longer running) campaign as the ladder sees it: its rung and the debrief's decision."""

    rung: int
    decision: Decision | None  # None: no decision stored (older data); it counts, as it always did


def counts_toward_rung(decision: Decision | None) -> bool:
    """Whether a campaign debriefed with `decision` fills a place in its rung's plan."""
    return decision not in NOT_COUNTED_DECISIONS


def counted_toward_rung(finished: Iterable[FinishedCampaign], rung: int) -> int:
    """Debriefed campaigns on `rung` that count toward its plan (re-runs and pauses do not)."""
    return sum(1 for c in finished if c.rung == rung and counts_toward_rung(c.decision))


@dataclass(frozen=True, slots=True)
class LadderPosition:
    """Where a partner stands on one rung: campaigns planned, counted toward the plan and debriefed in all."""

    rung: int
    planned: int
    counted: int
    finished: int

    @property
    def not_counted(self) -> int:
        """Debriefed campaigns on this rung that were re-run or paused."""
        return self.finished - self.counted

    @property
    def full(self) -> bool:
        """Every planned place of the rung is filled."""
        return rung_finished(self.planned, self.counted)

    def after(self, decision: Decision) -> LadderPosition:
        """The position once the campaign being debriefed now is decided with `decision`."""
        counted = self.counted + (1 if counts_toward_rung(decision) else 0)
        return LadderPosition(self.rung, self.planned, counted, self.finished + 1)

    def can_expand(self, last_decision: Decision | None) -> bool:
        """Whether the next rung opens: this one is full and the last debrief decided "expand"."""
        return can_expand(self.rung, self.counted, last_decision)


def ladder_position(finished: Iterable[FinishedCampaign], rung: int) -> LadderPosition:
    """The position on `rung` from the partner's debriefed campaigns (any rung; the others are ignored)."""
    on_rung = [c for c in finished if c.rung == rung]
    return LadderPosition(rung, campaigns_planned(rung), counted_toward_rung(on_rung, rung), len(on_rung))


def stage_of_rung(rung: int) -> Stage:
    """Partner stage for a rung: pilot, rung2 or rung3."""
    _check_rung(rung)
    return LADDER_STAGES[rung - 1]


def rung_of_stage(stage: Stage) -> int | None:
    """Rung number of a ladder stage, or None outside the ladder."""
    return LADDER_STAGES.index(stage) + 1 if stage in LADDER_STAGES else None


def stage_after_decision(stage: Stage, decision: Decision, counted_in_rung: int) -> Stage:
    """Stage after a debrief decision: walk/pause end or halt; expand climbs only from a finished rung.

    `counted_in_rung` includes the campaign just decided when the decision counts (`LadderPosition.after`)."""
    if decision is Decision.WALK:
        return Stage.WALKED
    if decision is Decision.PAUSE:
        return Stage.PAUSED
    rung = rung_of_stage(stage)
    if rung is None or decision is Decision.RERUN or not can_expand(rung, counted_in_rung, decision):
        return stage
    upper = next_rung(rung)
    return stage_of_rung(upper) if upper is not None else stage
