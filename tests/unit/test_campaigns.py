"""Pilot scope, campaign log, recommendation rules and the ladder."""

from datetime import date

import pytest

from bot.domain.campaigns import (
    BASICS_MISSES_TO_WALK,
    BASICS_WINDOW,
    PILOT_DEFAULT_DAYS,
    PILOT_DELIVERABLES,
    PILOT_MAX_CREATORS,
    RUNGS,
    CampaignOutcome,
    ChecklistItem,
    Decision,
    EventKind,
    ProblemKind,
    Recommendation,
    RecReason,
    ScopeDraft,
    ScopeWarning,
    basics_misses_in_window,
    campaigns_planned,
    can_expand,
    can_move_to,
    creators_need_confirmation,
    decision_differs,
    due_date,
    market_checklist,
    missed_basics,
    next_rung,
    on_time_share,
    parse_creators,
    parse_days,
    parse_revision_limit,
    recommend,
    revisions_left,
    rung_finished,
    rung_of_stage,
    scope_warnings,
    stage_after_decision,
    stage_of_rung,
)
from bot.domain.partners import MarketCoverage, Stage

E = EventKind
P = ProblemKind
R = RecReason
WALK, RERUN, EXPAND = Recommendation.WALK, Recommendation.RERUN, Recommendation.EXPAND

COMPLETE = ScopeDraft(
    creators=2,
    deliverables=1,
    days=14,
    metrics="3 videos, CTR ≥ 1%",
    metrics_agreed=True,
    payment_terms="50% upfront",
    revision_limit=2,
    market=MarketCoverage.US,
    charter_success="CTR ≥ 1%",
    charter_failure="one late video",
    charter_renegotiate="after 2 misses",
)


def draft(**changes):
    """The complete scope with some fields changed."""
    fields = {name: getattr(COMPLETE, name) for name in COMPLETE.__dataclass_fields__}
    return ScopeDraft(**{**fields, **changes})


def test_pilot_constants_match_field_notes():
    assert (PILOT_MAX_CREATORS, PILOT_DELIVERABLES, PILOT_DEFAULT_DAYS) == (2, 1, 14)
    assert ScopeDraft().days == 14


@pytest.mark.parametrize(
    ("changes", "warnings"),
    [
        ({}, ()),
        ({"creators": 1}, ()),
        ({"creators": 2}, ()),
        ({"creators": 3}, (ScopeWarning.TOO_MANY_CREATORS,)),
        ({"deliverables": 2}, (ScopeWarning.TOO_MANY_DELIV,)),
        ({"days": 14}, ()),
        ({"days": 15}, (ScopeWarning.LONG_TIMELINE,)),
        ({"metrics": None}, (ScopeWarning.NO_METRICS,)),
        ({"metrics_agreed": False}, (ScopeWarning.METRICS_NOT_AGREED,)),
        ({"metrics_agreed": None}, (ScopeWarning.METRICS_NOT_AGREED,)),
        ({"payment_terms": ""}, (ScopeWarning.NO_PAYMENT_TERMS,)),
        ({"revision_limit": None}, (ScopeWarning.NO_REVISION_LIMIT,)),
        ({"revision_limit": 0}, ()),
        ({"charter_failure": None}, (ScopeWarning.NO_CHARTER,)),
        (
            {"creators": 5, "days": 30, "metrics_agreed": False},
            (ScopeWarning.TOO_MANY_CREATORS, ScopeWarning.LONG_TIMELINE, ScopeWarning.METRICS_NOT_AGREED),
        ),
    ],
)
def test_scope_warnings(changes, warnings):
    assert scope_warnings(draft(**changes)) == warnings


@pytest.mark.parametrize(("creators", "confirm"), [(1, False), (2, False), (3, True)])
def test_bigger_pilot_needs_confirmation(creators, confirm):
    assert creators_need_confirmation(creators) is confirm


@pytest.mark.parametrize(
    ("coverage", "items"),
    [
        (
            MarketCoverage.US,
            (ChecklistItem.WRITTEN_CONTRACT, ChecklistItem.BOUNDARIES, ChecklistItem.USAGE_RIGHTS),
        ),
        (MarketCoverage.RU, (ChecklistItem.TURNAROUND, ChecklistItem.FLEXIBILITY)),
        (
            MarketCoverage.BOTH,
            (
                ChecklistItem.TURNAROUND,
                ChecklistItem.FLEXIBILITY,
                ChecklistItem.WRITTEN_CONTRACT,
                ChecklistItem.BOUNDARIES,
                ChecklistItem.USAGE_RIGHTS,
            ),
        ),
    ],
)
def test_market_checklist(coverage, items):
    assert market_checklist(coverage) == items


@pytest.mark.parametrize(
    ("parser", "text", "expected"),
    [
        (parse_creators, "2", 2),
        (parse_creators, "0", None),
        (parse_creators, "50", 50),
        (parse_creators, "51", None),
        (parse_creators, "two", None),
        (parse_days, "14", 14),
        (parse_days, "0", None),
        (parse_days, "365", 365),
        (parse_days, "366", None),
        (parse_revision_limit, "0", 0),
        (parse_revision_limit, "20", 20),
        (parse_revision_limit, "21", None),
        (parse_revision_limit, None, None),
        (parse_revision_limit, "-1", None),
    ],
)
def test_parsers(parser, text, expected):
    assert parser(text) == expected


def test_due_date():
    assert due_date(date(2025, 2, 20), PILOT_DEFAULT_DAYS) == date(2025, 3, 6)


@pytest.mark.parametrize(
    ("events", "share"),
    [
        ((), None),
        ((E.ITER_FAST, E.REVISION_USED), None),
        ((E.DEADLINE_MET,), 1.0),
        ((E.DEADLINE_MET, E.DEADLINE_MISSED_NOTICE), 0.5),
        ((E.DEADLINE_MET, E.DEADLINE_MET, E.DEADLINE_MET, E.DEADLINE_MISSED_SILENT), 0.75),
        ((E.DEADLINE_MISSED_SILENT, E.COMM_GAP), 0.0),
    ],
)
def test_on_time_share(events, share):
    assert on_time_share(events) == share


@pytest.mark.parametrize(
    ("limit", "events", "left"),
    [
        (None, (E.REVISION_USED,), None),
        (2, (), 2),
        (2, (E.REVISION_USED, E.DEADLINE_MET), 1),
        (2, (E.REVISION_USED, E.REVISION_USED), 0),
        (1, (E.REVISION_USED, E.REVISION_USED), -1),
    ],
)
def test_revisions_left(limit, events, left):
    assert revisions_left(limit, events) == left


@pytest.mark.parametrize(
    ("events", "missed"),
    [
        ((), False),
        ((E.DEADLINE_MET, E.DELIV_AT_SCOPE, E.ITER_SLOW, E.COMM_GAP), False),
        ((E.DEADLINE_MISSED_NOTICE,), True),
        ((E.DEADLINE_MISSED_SILENT,), True),
        ((E.DELIV_BELOW,), True),
        ((E.DELIV_FAR_BELOW,), True),
    ],
)
def test_missed_basics(events, missed):
    assert missed_basics(events) is missed


CLEAN = (E.DEADLINE_MET, E.DELIV_AT_SCOPE)


@pytest.mark.parametrize(
    ("events", "problem", "quality", "rec", "reasons"),
    [
        # Each walk rule alone.
        ((E.RESISTED_DOCS,), P.NONE, 4, WALK, (R.RESISTED_DOCS,)),
        ((E.DEADLINE_MISSED_SILENT,), P.NONE, 4, WALK, (R.MISSED_SILENT,)),
        ((E.DELIV_FAR_BELOW,), P.NONE, 4, WALK, (R.FAR_BELOW_SCOPE,)),
        (CLEAN, P.COMMUNICATION, 4, WALK, (R.COMM_PROBLEM,)),
        ((*CLEAN, E.COMM_GAP), P.NONE, 4, WALK, (R.COMM_GAP,)),
        # Each re-run rule alone.
        (CLEAN, P.EXECUTION, 4, RERUN, (R.EXECUTION,)),
        ((E.DELIV_BELOW,), P.NONE, 4, RERUN, (R.BELOW_SCOPE,)),
        ((E.DEADLINE_MISSED_NOTICE,), P.NONE, 4, RERUN, (R.MISSED_NOTICE,)),
        (CLEAN, P.EXPECTATIONS, 4, RERUN, (R.EXPECTATIONS,)),
        (CLEAN, P.NONE, 2, RERUN, (R.LOW_QUALITY,)),
        # Expand.
        (CLEAN, P.NONE, 3, EXPAND, (R.ALIGNED, R.ON_SCOPE)),
        ((), P.NONE, 5, EXPAND, (R.ALIGNED, R.ON_SCOPE)),
        ((E.ITER_SLOW, E.MOSTLY_SYNC, E.REVISION_USED), P.NONE, 4, EXPAND, (R.ALIGNED, R.ON_SCOPE)),
        # Combinations: every walk reason is listed, walk beats re-run.
        (
            (E.RESISTED_DOCS, E.DEADLINE_MISSED_SILENT, E.DELIV_FAR_BELOW, E.COMM_GAP),
            P.COMMUNICATION,
            1,
            WALK,
            (R.RESISTED_DOCS, R.MISSED_SILENT, R.FAR_BELOW_SCOPE, R.COMM_PROBLEM, R.COMM_GAP),
        ),
        ((E.DEADLINE_MISSED_SILENT,), P.EXECUTION, 2, WALK, (R.MISSED_SILENT,)),
        (CLEAN, P.COMMUNICATION, 1, WALK, (R.COMM_PROBLEM,)),
        (
            (E.DELIV_BELOW, E.DEADLINE_MISSED_NOTICE),
            P.EXECUTION,
            2,
            RERUN,
            (R.EXECUTION, R.BELOW_SCOPE, R.MISSED_NOTICE, R.LOW_QUALITY),
        ),
        ((E.DELIV_BELOW, E.DELIV_FAR_BELOW), P.EXECUTION, 3, WALK, (R.FAR_BELOW_SCOPE,)),
    ],
)
def test_recommendation_rules(events, problem, quality, rec, reasons):
    result = recommend(events, problem, quality)
    assert result.recommendation is rec
    assert result.reasons == reasons


def past(*events, problem=P.NONE, quality=4):
    return CampaignOutcome(tuple(events), problem, quality)


MISS = past(E.DEADLINE_MISSED_NOTICE, problem=P.EXECUTION)
BELOW = past(E.DELIV_BELOW, problem=P.EXECUTION)
OK = past(*CLEAN)


@pytest.mark.parametrize(
    ("history", "current", "misses", "rec"),
    [
        # No history: one miss is only an execution problem.
        ((), (E.DEADLINE_MISSED_NOTICE,), 1, RERUN),
        # Pilot missed, its re-run misses again → 2 of the last 2 → walk.
        ((MISS,), (E.DELIV_BELOW,), 2, WALK),
        # 2 of the last 3 (older miss, then ok, then miss now).
        ((MISS, OK), (E.DEADLINE_MISSED_NOTICE,), 2, WALK),
        # Misses in campaigns 1 and 2 of 4: the last 3 hold only one miss.
        ((MISS, BELOW, OK), CLEAN, 1, EXPAND),
        ((MISS, BELOW, OK), (E.DELIV_BELOW,), 2, WALK),
        # Misses in campaigns 1 and 3 of 4, clean now: the window (2, 3, 4) holds one.
        ((MISS, OK, BELOW), CLEAN, 1, EXPAND),
        # Misses in campaigns 2 and 3 of 4, clean now → still 2 of the last 3.
        ((OK, MISS, BELOW), CLEAN, 2, WALK),
        # Old misses long gone.
        ((MISS, MISS, OK, OK), (E.DEADLINE_MISSED_NOTICE,), 1, RERUN),
        # Misses only in history, clean now, both inside the window.
        ((MISS, BELOW), CLEAN, 2, WALK),
    ],
)
def test_missing_basics_window(history, current, misses, rec):
    assert (BASICS_WINDOW, BASICS_MISSES_TO_WALK) == (3, 2)
    assert basics_misses_in_window(current, history) == misses
    result = recommend(current, P.NONE, 4, history)
    assert result.recommendation is rec
    assert (R.MISSING_BASICS in result.reasons) is (rec is WALK)


def test_missing_basics_listed_with_other_walk_reasons():
    result = recommend((E.DEADLINE_MISSED_SILENT,), P.NONE, 3, (MISS,))
    assert result.reasons == (R.MISSED_SILENT, R.MISSING_BASICS)


@pytest.mark.parametrize("quality", [0, 6, True, 3.5])
def test_recommend_rejects_bad_quality(quality):
    with pytest.raises(ValueError):
        recommend(CLEAN, P.NONE, quality)


@pytest.mark.parametrize(
    ("rec", "decision", "differs"),
    [
        (WALK, Decision.WALK, False),
        (WALK, Decision.EXPAND, True),
        (RERUN, Decision.RERUN, False),
        (EXPAND, Decision.EXPAND, False),
        (EXPAND, Decision.PAUSE, True),
        (RERUN, Decision.WALK, True),
    ],
)
def test_decision_differs(rec, decision, differs):
    assert decision_differs(rec, decision) is differs


def test_rungs():
    assert RUNGS == (1, 3, 5)
    assert [campaigns_planned(r) for r in (1, 2, 3)] == [1, 3, 5]
    assert [next_rung(r) for r in (1, 2, 3)] == [2, 3, None]
    for bad in (0, 4):
        with pytest.raises(ValueError):
            campaigns_planned(bad)


@pytest.mark.parametrize(
    ("planned", "debriefed", "finished"),
    [(1, 0, False), (1, 1, True), (3, 2, False), (3, 3, True), (5, 4, False), (5, 6, True)],
)
def test_rung_finished(planned, debriefed, finished):
    assert rung_finished(planned, debriefed) is finished


@pytest.mark.parametrize(
    ("rung", "debriefed", "last", "ok"),
    [
        (1, 0, None, False),
        (1, 1, Decision.EXPAND, True),
        (1, 1, Decision.RERUN, False),
        (1, 2, Decision.EXPAND, True),  # pilot re-run once, then expand
        (2, 2, Decision.EXPAND, False),  # rung 2 not finished
        (2, 3, Decision.EXPAND, True),
        (2, 3, Decision.PAUSE, False),
        (3, 5, Decision.EXPAND, False),  # no rung above the top
    ],
)
def test_can_expand(rung, debriefed, last, ok):
    assert can_expand(rung, debriefed, last) is ok


@pytest.mark.parametrize(
    ("current", "target", "ok"),
    [(1, 2, True), (1, 3, False), (2, 3, True), (2, 1, False), (1, 1, False), (3, 4, False)],
)
def test_ladder_never_skips(current, target, ok):
    assert can_move_to(current, target, 5, Decision.EXPAND) is ok


@pytest.mark.parametrize(
    ("stage", "decision", "debriefed", "expected"),
    [
        (Stage.PILOT, Decision.EXPAND, 1, Stage.RUNG2),
        (Stage.PILOT, Decision.RERUN, 1, Stage.PILOT),
        (Stage.PILOT, Decision.WALK, 1, Stage.WALKED),
        (Stage.PILOT, Decision.PAUSE, 1, Stage.PAUSED),
        (Stage.RUNG2, Decision.EXPAND, 1, Stage.RUNG2),
        (Stage.RUNG2, Decision.EXPAND, 3, Stage.RUNG3),
        (Stage.RUNG3, Decision.EXPAND, 5, Stage.RUNG3),
        (Stage.READY_PILOT, Decision.EXPAND, 1, Stage.READY_PILOT),
    ],
)
def test_stage_after_decision(stage, decision, debriefed, expected):
    assert stage_after_decision(stage, decision, debriefed) is expected


def test_stage_rung_mapping():
    assert [stage_of_rung(r) for r in (1, 2, 3)] == [Stage.PILOT, Stage.RUNG2, Stage.RUNG3]
    assert [rung_of_stage(s) for s in (Stage.PILOT, Stage.RUNG2, Stage.RUNG3, Stage.CANDIDATE)] == [
        1,
        2,
        3,
        None,
    ]


@pytest.mark.parametrize(
    "enum", [ScopeWarning, ChecklistItem, EventKind, ProblemKind, Recommendation, Decision, RecReason]
)
def test_enum_values_short(enum):
    assert all(1 <= len(m.value) <= 12 for m in enum)
    assert len({m.value for m in enum}) == len(enum)
