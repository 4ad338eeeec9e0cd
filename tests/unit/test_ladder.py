"""The 1 → 3 → 5 ladder: which debriefed campaigns count toward a rung, and where decisions take a partner.

Issue 15, item 4: on rung 2, two re-runs and one expand opened rung 3 after a single success. The rule under
test is bot/domain/campaigns.py `counts_toward_rung`; the expectation here is written independently, as the
plan laid out place by place: only a campaign that went ahead (expand, or walk) fills a place.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import permutations, product

import pytest

from bot.domain.campaigns import (
    Decision,
    FinishedCampaign,
    LadderPosition,
    counted_toward_rung,
    counts_toward_rung,
    ladder_position,
    rung_of_stage,
    stage_after_decision,
    stage_of_rung,
)
from bot.domain.partners import Stage

RERUN, PAUSE, EXPAND, WALK = Decision.RERUN, Decision.PAUSE, Decision.EXPAND, Decision.WALK

# ---- what the bot does, through the domain functions the handlers use ---------------------------------


def climb(decisions: Sequence[Decision]) -> tuple[Stage, LadderPosition]:
    """Debriefs one campaign per decision the way the bot does and returns the stage and the last rung's position.

    Each campaign is scoped on the stage's rung (a paused partner's on the last campaign's rung, as
    campaign_scope.rung_to_scope does); the debrief reads the position before it and moves the stage with it."""
    stage, rung = Stage.PILOT, 1
    finished: list[FinishedCampaign] = []
    for decision in decisions:
        assert stage is not Stage.WALKED, "nothing is scoped after a walk"
        rung = rung_of_stage(stage) or rung
        stage = stage_of_rung(rung)  # scoping the campaign puts the partner on its rung's stage
        position = ladder_position(finished, rung).after(decision)
        stage = stage_after_decision(stage, decision, position.counted)
        finished.append(FinishedCampaign(rung, decision))
    rung = rung_of_stage(stage) or rung
    return stage, ladder_position(finished, rung)


# ---- the independent expectation ------------------------------------------------------------------------

# Field notes "We grow incrementally: 1 → 3 → 5", written out place by place: the pilot, rung 2's three, rung 3's five.
PLACES = (1, 2, 2, 2, 3, 3, 3, 3, 3)
FIRST_PLACE = {1: 0, 2: 1, 3: 4}
LADDER_STAGE = {1: Stage.PILOT, 2: Stage.RUNG2, 3: Stage.RUNG3}
GOES_AHEAD = {EXPAND, WALK}  # a re-run redoes the same place; a pause halts where it stands


def place_rung(filled: int) -> int:
    """The rung of the next open place; past the last place the partnership keeps going on the top rung."""
    return PLACES[min(filled, len(PLACES) - 1)]


def expected(decisions: Sequence[Decision]) -> tuple[Stage, int, int, int]:
    """Stage, rung, campaigns counted on it and campaigns debriefed on it, from the plan's places."""
    filled = 0
    on_rung: dict[int, list[Decision]] = {1: [], 2: [], 3: []}
    rung = 1
    for decision in decisions:
        rung = place_rung(filled)
        on_rung[rung].append(decision)
        if decision in GOES_AHEAD:
            filled += 1
    if decisions and decisions[-1] is WALK:
        stage = Stage.WALKED
    elif decisions and decisions[-1] is PAUSE:
        stage = Stage.PAUSED
    else:
        rung = place_rung(filled)
        stage = LADDER_STAGE[rung]
    return stage, rung, filled - FIRST_PLACE[rung], len(on_rung[rung])


def sequences(longest: int) -> list[tuple[Decision, ...]]:
    """Every order of re-run, pause and expand up to `longest` debriefs, each also ending in a walk."""
    found: list[tuple[Decision, ...]] = []
    for length in range(longest + 1):
        for head in product((RERUN, PAUSE, EXPAND), repeat=length):
            found += [head, (*head, WALK)]
    return found


# ---- the tests -------------------------------------------------------------------------------------------


def test_re_run_and_pause_do_not_count_expand_and_walk_do():
    assert [counts_toward_rung(d) for d in (RERUN, PAUSE, EXPAND, WALK)] == [False, False, True, True]
    assert counts_toward_rung(None)  # a finished campaign without a stored decision counts, as it always did


def test_counted_toward_rung_looks_at_one_rung_only():
    finished = [FinishedCampaign(1, RERUN), FinishedCampaign(1, EXPAND), FinishedCampaign(2, EXPAND),
                FinishedCampaign(2, RERUN), FinishedCampaign(2, PAUSE), FinishedCampaign(2, None)]
    assert [counted_toward_rung(finished, rung) for rung in (1, 2, 3)] == [1, 2, 0]
    assert ladder_position(finished, 2) == LadderPosition(rung=2, planned=3, counted=2, finished=4)
    assert ladder_position(finished, 2).not_counted == 2


def _ids(order: Sequence[Decision]) -> str:
    return "-".join(d.value for d in order)


@pytest.mark.parametrize("order", sorted(set(permutations((RERUN, RERUN, EXPAND)))), ids=_ids)
def test_reported_case_two_re_runs_and_an_expand_stay_on_rung_2(order):
    stage, position = climb((EXPAND, *order))  # the pilot expanded, then rung 2 in every order
    assert stage is Stage.RUNG2
    assert (position.rung, position.counted, position.planned, position.finished) == (2, 1, 3, 3)
    assert not position.can_expand(EXPAND)


@pytest.mark.parametrize("order", sorted(set(permutations((RERUN, PAUSE, EXPAND, EXPAND, EXPAND)))), ids=_ids)
def test_rung_2_opens_rung_3_only_on_the_third_counted_campaign(order):
    stage, position = climb((EXPAND, *order))
    third_expand = [i for i, d in enumerate(order) if d is EXPAND][2]
    on_rung_3 = len(order) - third_expand - 1  # what came after it was debriefed on rung 3
    assert (position.rung, position.counted, position.finished) == (3, 0, on_rung_3)
    assert stage is (Stage.PAUSED if order[-1] is PAUSE else Stage.RUNG3)


def test_every_order_of_decisions_over_the_three_rungs_matches_the_plan():
    mismatches = []
    for decisions in sequences(9):  # nine counted campaigns fill the whole plan
        stage, position = climb(decisions)
        got = (stage, position.rung, position.counted, position.finished)
        want = expected(decisions)
        if got != want:
            mismatches.append((decisions, got, want))
    assert not mismatches, mismatches[:5]


def test_the_whole_ladder_takes_nine_counted_campaigns_whatever_comes_between():
    for filler in (RERUN, PAUSE):
        decisions = [d for _ in range(9) for d in (filler, EXPAND)]
        stage, position = climb(decisions)
        assert stage is Stage.RUNG3 and (position.counted, position.finished) == (5, 10)
        assert not position.can_expand(EXPAND)  # no rung above the top
        assert climb(decisions[:-1])[1] == LadderPosition(rung=3, planned=5, counted=4, finished=9)
        assert climb(decisions[:8])[1] == LadderPosition(rung=3, planned=5, counted=0, finished=0)
        assert climb(decisions[:7])[1] == LadderPosition(rung=2, planned=3, counted=2, finished=5)
