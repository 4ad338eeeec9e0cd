"""Translated names for the domain's codes: one place, so the card, lists and flows say the same thing."""

from __future__ import annotations

from aiogram.utils.i18n import gettext as _

from bot.domain.campaigns import EventKind
from bot.domain.evidence import ConversationSignal, Outcome, Signal
from bot.domain.gutcheck import GutQuestion
from bot.domain.next_step import NextAction, Reason, RedFlag
from bot.domain.partners import Market, MarketCoverage, PartnerKind, Stage
from bot.domain.scorecard import Criterion, ScoreGroup


def kind(value: PartnerKind) -> str:
    return {
        PartnerKind.AGENCY: _("Agency"),
        PartnerKind.CREATOR: _("Creator"),
        PartnerKind.NETWORK: _("Manager / network"),
    }[value]


def market(value: Market) -> str:
    return {Market.RU: _("🇷🇺 Russia"), Market.US: _("🇺🇸 USA")}[value]


def coverage(value: MarketCoverage) -> str:
    return {
        MarketCoverage.RU: _("🇷🇺 Russia"),
        MarketCoverage.US: _("🇺🇸 USA"),
        MarketCoverage.BOTH: _("🇷🇺 Russia + 🇺🇸 USA"),
    }[value]


def stage(value: Stage) -> str:
    return {
        Stage.CANDIDATE: _("candidate"),
        Stage.GUT_FAILED: _("gut check not passed"),
        Stage.READY_PILOT: _("ready for a pilot"),
        Stage.PILOT: _("pilot"),
        Stage.RUNG2: _("3 campaigns"),
        Stage.RUNG3: _("5 campaigns"),
        Stage.WALKED: _("walked away"),
        Stage.PAUSED: _("paused"),
    }[value]


def outcome(value: Outcome) -> str:
    return {Outcome.SUCCESS: _("success"), Outcome.FAILURE: _("failure")}[value]


def evidence_signal(value: Signal) -> str:
    return {
        Signal.BOTH_MARKETS: _("More than 3 case studies in both markets"),
        Signal.LONG_RELATION: _("A relationship with a brand longer than 6 months"),
        Signal.SHOWS_FAILURES: _("Shows failed cases, not only wins"),
        Signal.OTHER_MARKET: _("Has worked with the other market"),
    }[value]


def conversation_signal(value: ConversationSignal) -> str:
    return {
        ConversationSignal.TALKED_FAILURES: _("Talked about their failures"),
        ConversationSignal.SYSTEMATIC_PROCESS: _("Has a systematic process, not intuition"),
        ConversationSignal.ASKED_CONSTRAINTS: _("Asked about our constraints"),
    }[value]


def gut_question(value: GutQuestion) -> str:
    return {
        GutQuestion.UNDERSTANDS_UGC: _("Do they understand UGC?"),
        GutQuestion.KNOWS_BOTH_MARKETS: _("Are they familiar with both markets, Russian and US?"),
        GutQuestion.ASKED_GOOD_QUESTIONS: _("Did they ask good questions about our goals?"),
    }[value]


def score_group(value: ScoreGroup) -> str:
    return {
        ScoreGroup.OPERATIONAL: _("Operational health"),
        ScoreGroup.CULTURAL: _("Cultural fit"),
        ScoreGroup.MARKET: _("Cross-market savvy"),
    }[value]


def criterion(value: Criterion) -> str:
    return {
        Criterion.DOCUMENTED_WORKFLOWS: _("Documented workflows"),
        Criterion.ONBOARDING: _("Onboards a new team member without starting from zero"),
        Criterion.AUDITABLE_METRICS: _("Tracks metrics in a format we can audit"),
        Criterion.SIMILAR_SPEED: _("Moves at our speed"),
        Criterion.PROACTIVE: _("Proactive rather than reactive with problems"),
        Criterion.OWNS_FAILURES: _("Owns a failure rather than blaming externals"),
        Criterion.NAVIGATED_MARKETS: _("Has navigated different markets before"),
        Criterion.LOCAL_EXPERTISE: _("Local expertise rather than one playbook"),
        Criterion.EXPLAINS_DIFFERENCES: _("Can explain how Russian and US audiences differ"),
    }[value]


def criterion_anchors(value: Criterion) -> tuple[str, str, str]:
    """What a 1, a 3 and a 5 look like for this criterion."""
    return {
        Criterion.DOCUMENTED_WORKFLOWS: (
            _("nothing written down"),
            _("some steps documented, gaps elsewhere"),
            _("written playbooks they can show you"),
        ),
        Criterion.ONBOARDING: (
            _("everything lives in one person's head"),
            _("onboarding takes weeks of hand-holding"),
            _("a newcomer is productive in days"),
        ),
        Criterion.AUDITABLE_METRICS: (
            _("no numbers, only impressions"),
            _("numbers exist, in their own format"),
            _("shared dashboards we can check"),
        ),
        Criterion.SIMILAR_SPEED: (
            _("weeks where we need days"),
            _("keeps up with reminders"),
            _("matches or beats our pace"),
        ),
        Criterion.PROACTIVE: (
            _("we find their problems first"),
            _("tells us when asked"),
            _("raises risks before they hit"),
        ),
        Criterion.OWNS_FAILURES: (
            _("blames clients and platforms"),
            _("admits it when pressed"),
            _("names the mistake and the fix"),
        ),
        Criterion.NAVIGATED_MARKETS: (
            _("one market only"),
            _("some cross-market work"),
            _("proven results in both markets"),
        ),
        Criterion.LOCAL_EXPERTISE: (
            _("the same playbook everywhere"),
            _("adapts some things locally"),
            _("people on the ground in each market"),
        ),
        Criterion.EXPLAINS_DIFFERENCES: (
            _("treats both audiences the same"),
            _("names the obvious differences"),
            _("explains them with examples"),
        ),
    }[value]


def red_flag(value: RedFlag) -> str:
    return {
        RedFlag.ONLY_WINS: _("Only wins shown: ask for a case that went wrong"),
        RedFlag.NO_OTHER_MKT: _("No work in the other market yet"),
        RedFlag.WEAK_MARKET: _("Weak cross-market savvy on the scorecard"),
        RedFlag.METRICS: _("Success metrics were not agreed before the start"),
    }[value]


def next_action(value: NextAction, market_value: Market | None = None) -> str:
    if value is NextAction.ADD_CASES_IN and market_value is not None:
        return _("Add case studies from the {market} market").format(market=market(market_value))
    return {
        NextAction.ADD_CASE_STUDIES: _("Add case studies"),
        NextAction.ADD_CASES_IN: _("Add case studies from the other market"),
        NextAction.RUN_GUT_CHECK: _("Run the gut check"),
        NextAction.RERUN_GUT_CHECK: _("Run the gut check again after another conversation"),
        NextAction.CONSIDER_WALKING: _("Consider walking away"),
        NextAction.FILL_SCORECARD: _("Fill in the scorecard"),
        NextAction.REVIEW_SCORE: _("Review the weak scores before any pilot"),
        NextAction.READY_FOR_PILOT: _("Ready for a pilot"),
        NextAction.SCOPE_CAMPAIGN: _("Scope the next campaign"),
        NextAction.LOG_EVENTS: _("Log what happens in the campaign"),
        NextAction.DEBRIEF: _("Debrief the campaign"),
        NextAction.NONE: _("Nothing for now"),
    }[value]


def reason(value: Reason) -> str:
    return {
        Reason.NO_EVIDENCE: _("case studies matter more than follower counts, and there are none yet"),
        Reason.NO_GUT_CHECK: _("one conversation and three questions decide whether a pilot is worth it"),
        Reason.GUT_NEAR_MISS: _("the last gut check missed one question"),
        Reason.GUT_FAILED: _("the last gut check failed on most questions"),
        Reason.NO_CASES_IN: _("strength in one market says nothing about the other"),
        Reason.NO_SCORECARD: _("the scorecard checks process, fit and market knowledge"),
        Reason.WEAK_SCORE: _("the weighted score is below 3 of 5"),
        Reason.READY: _("the gut check passed 3/3 and the scorecard holds up"),
        Reason.READY_FLAGS: _("the gut check passed and the scorecard holds up, but see the red flags"),
        Reason.NO_CAMPAIGN: _("no campaign is running"),
        Reason.RUNNING: _("a campaign is running"),
        Reason.DUE: _("the campaign's due date has passed"),
        Reason.WALKED: _("you decided to walk away"),
        Reason.PAUSED: _("the partnership is paused"),
        Reason.WALK_ADVISED: _("the last debrief recommended walking away (see the red flags); scope another "
                               "campaign only if what went wrong has changed"),
    }[value]


def event(value: EventKind) -> str:
    return {
        EventKind.DEADLINE_MET: _("deadline met"),
        EventKind.DEADLINE_MISSED_NOTICE: _("deadline missed, with notice"),
        EventKind.DEADLINE_MISSED_SILENT: _("deadline missed without notice"),
        EventKind.DELIV_AT_SCOPE: _("deliverable at scope"),
        EventKind.DELIV_BELOW: _("deliverable below scope"),
        EventKind.DELIV_FAR_BELOW: _("deliverable significantly below scope"),
        EventKind.RESISTED_DOCS: _("resisted documentation or process"),
        EventKind.COMM_GAP: _("communication gap"),
        EventKind.ITER_FAST: _("fast iteration"),
        EventKind.ITER_SLOW: _("slow iteration"),
        EventKind.MOSTLY_ASYNC: _("mostly async"),
        EventKind.MOSTLY_SYNC: _("mostly sync"),
        EventKind.REVISION_USED: _("revision round used"),
    }[value]
