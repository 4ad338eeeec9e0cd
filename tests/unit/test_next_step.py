"""Next step and red flags on the partner card."""

import pytest

from bot.domain.evidence import CaseStudy, Outcome, derive_signals, summarize_markets
from bot.domain.gutcheck import GutVerdict
from bot.domain.next_step import (
    CampaignPhase,
    NextAction,
    NextStep,
    Reason,
    RedFlag,
    next_step,
    red_flags,
)
from bot.domain.partners import Market, MarketCoverage, Stage
from bot.domain.scorecard import CRITERIA, Criterion, score_card

RU, US = Market.RU, Market.US
PASS = GutVerdict(True, 3, ())
NEAR = GutVerdict(False, 2, ())
FAIL = GutVerdict(False, 1, ())
GOOD = score_card(dict.fromkeys(CRITERIA, 4))
WEAK = score_card(dict.fromkeys(CRITERIA, 2))


def evidence(ru, us, coverage=MarketCoverage.BOTH, failure=True):
    """Signals and summaries for ru/us case counts (one failure included when asked)."""
    listed = [CaseStudy(RU, f"r{i}", Outcome.SUCCESS, 3) for i in range(ru)]
    listed += [CaseStudy(US, f"u{i}", Outcome.SUCCESS, 3) for i in range(us)]
    if failure and listed:
        first = listed[0]
        listed[0] = CaseStudy(first.market, first.brand, Outcome.FAILURE, first.months)
    return derive_signals(listed, coverage), summarize_markets(listed)


def step(stage, gut, ru, us, score, flags=(), coverage=MarketCoverage.BOTH, campaign=CampaignPhase.NONE):
    signals, summaries = evidence(ru, us, coverage)
    return next_step(stage, gut, signals, summaries, score, flags, campaign)


@pytest.mark.parametrize(
    ("stage", "gut", "ru", "us", "score", "flags", "action", "reason", "market"),
    [
        # Nothing at all: evidence first.
        (Stage.CANDIDATE, None, 0, 0, None, (), NextAction.ADD_CASE_STUDIES, Reason.NO_EVIDENCE, None),
        # No evidence beats everything before a pilot, even a passed gut check.
        (Stage.READY_PILOT, PASS, 0, 0, GOOD, (), NextAction.ADD_CASE_STUDIES, Reason.NO_EVIDENCE, None),
        # Some evidence, no gut check: the cheap conversation comes next, before market gaps.
        (Stage.CANDIDATE, None, 1, 0, None, (), NextAction.RUN_GUT_CHECK, Reason.NO_GUT_CHECK, None),
        (Stage.CANDIDATE, None, 4, 4, GOOD, (), NextAction.RUN_GUT_CHECK, Reason.NO_GUT_CHECK, None),
        # Failed gut check: near miss → re-run, clear miss → consider walking.
        (Stage.GUT_FAILED, NEAR, 4, 4, GOOD, (), NextAction.RERUN_GUT_CHECK, Reason.GUT_NEAR_MISS, None),
        (Stage.GUT_FAILED, FAIL, 4, 4, GOOD, (), NextAction.CONSIDER_WALKING, Reason.GUT_FAILED, None),
        (
            Stage.GUT_FAILED,
            GutVerdict(False, 0, ()),
            4,
            4,
            None,
            (),
            NextAction.CONSIDER_WALKING,
            Reason.GUT_FAILED,
            None,
        ),
        # Passed, but a claimed market without a single case study.
        (Stage.READY_PILOT, PASS, 2, 0, None, (), NextAction.ADD_CASES_IN, Reason.NO_CASES_IN, US),
        (Stage.READY_PILOT, PASS, 0, 2, GOOD, (), NextAction.ADD_CASES_IN, Reason.NO_CASES_IN, RU),
        # Passed, evidence everywhere claimed, not scored.
        (Stage.READY_PILOT, PASS, 1, 1, None, (), NextAction.FILL_SCORECARD, Reason.NO_SCORECARD, None),
        # Weak score.
        (Stage.READY_PILOT, PASS, 4, 4, WEAK, (), NextAction.REVIEW_SCORE, Reason.WEAK_SCORE, None),
        # Ready (thin markets are advice, not a gate).
        (Stage.READY_PILOT, PASS, 4, 4, GOOD, (), NextAction.READY_FOR_PILOT, Reason.READY, None),
        (Stage.READY_PILOT, PASS, 1, 1, GOOD, (), NextAction.READY_FOR_PILOT, Reason.READY, None),
        (
            Stage.READY_PILOT,
            PASS,
            4,
            4,
            GOOD,
            (RedFlag.ONLY_WINS,),
            NextAction.READY_FOR_PILOT,
            Reason.READY_FLAGS,
            None,
        ),
        # Ladder stages.
        (Stage.PILOT, PASS, 4, 4, GOOD, (), NextAction.SCOPE_CAMPAIGN, Reason.NO_CAMPAIGN, None),
        (Stage.WALKED, PASS, 4, 4, GOOD, (), NextAction.NONE, Reason.WALKED, None),
        (Stage.PAUSED, PASS, 4, 4, GOOD, (), NextAction.NONE, Reason.PAUSED, None),
    ],
)
def test_next_step_order(stage, gut, ru, us, score, flags, action, reason, market):
    result = step(stage, gut, ru, us, score, flags)
    assert (result.action, result.reason, result.market) == (action, reason, market)


@pytest.mark.parametrize(
    ("coverage", "ru", "us", "thin", "action"),
    [
        (MarketCoverage.BOTH, 4, 4, (), NextAction.READY_FOR_PILOT),
        (MarketCoverage.BOTH, 4, 3, (US,), NextAction.READY_FOR_PILOT),
        (MarketCoverage.BOTH, 3, 3, (RU, US), NextAction.READY_FOR_PILOT),
        (MarketCoverage.RU, 4, 0, (), NextAction.READY_FOR_PILOT),
        (MarketCoverage.RU, 3, 0, (RU,), NextAction.READY_FOR_PILOT),
        (MarketCoverage.US, 4, 0, (US,), NextAction.ADD_CASES_IN),
    ],
)
def test_thin_markets_ride_along_as_advice(coverage, ru, us, thin, action):
    result = step(Stage.READY_PILOT, PASS, ru, us, GOOD, coverage=coverage)
    assert result.thin_markets == thin
    assert result.action is action


@pytest.mark.parametrize(
    ("stage", "campaign", "action", "reason"),
    [
        (Stage.PILOT, CampaignPhase.NONE, NextAction.SCOPE_CAMPAIGN, Reason.NO_CAMPAIGN),
        (Stage.PILOT, CampaignPhase.RUNNING, NextAction.LOG_EVENTS, Reason.RUNNING),
        (Stage.PILOT, CampaignPhase.DUE, NextAction.DEBRIEF, Reason.DUE),
        (Stage.RUNG2, CampaignPhase.RUNNING, NextAction.LOG_EVENTS, Reason.RUNNING),
        (Stage.RUNG3, CampaignPhase.DUE, NextAction.DEBRIEF, Reason.DUE),
        (Stage.WALKED, CampaignPhase.DUE, NextAction.NONE, Reason.WALKED),
    ],
)
def test_campaign_steps(stage, campaign, action, reason):
    assert step(stage, PASS, 4, 4, GOOD, campaign=campaign) == NextStep(action, reason)


def test_two_of_three_gut_check_never_says_ready():
    result = step(Stage.GUT_FAILED, NEAR, 4, 4, GOOD)
    assert result.action is not NextAction.READY_FOR_PILOT


def flags_for(ru, us, failure=True, score=None, metrics_agreed=None):
    signals, summaries = evidence(ru, us, failure=failure)
    return red_flags(signals, summaries, score, metrics_agreed)


def market_card(rating):
    ratings = dict.fromkeys(CRITERIA, 4)
    ratings[Criterion.EXPLAINS_DIFFERENCES] = rating
    return score_card(ratings)


@pytest.mark.parametrize(
    ("ru", "us", "failure", "score", "agreed", "expected"),
    [
        (0, 0, False, None, None, ()),
        (4, 4, True, GOOD, True, ()),
        (4, 4, False, None, None, (RedFlag.ONLY_WINS,)),
        (3, 0, True, None, None, (RedFlag.NO_OTHER_MKT,)),
        (3, 0, False, None, None, (RedFlag.ONLY_WINS, RedFlag.NO_OTHER_MKT)),
        (4, 4, True, market_card(2), None, (RedFlag.WEAK_MARKET,)),
        (4, 4, True, market_card(3), None, ()),
        (4, 4, True, market_card(1), False, (RedFlag.WEAK_MARKET, RedFlag.METRICS)),
        (4, 4, True, score_card({**dict.fromkeys(CRITERIA, 4), Criterion.ONBOARDING: 1}), None, ()),
    ],
)
def test_red_flags(ru, us, failure, score, agreed, expected):
    assert flags_for(ru, us, failure, score, agreed) == expected


@pytest.mark.parametrize("enum", [NextAction, Reason, RedFlag, CampaignPhase])
def test_enum_values_short(enum):
    assert all(1 <= len(m.value) <= 12 for m in enum)
