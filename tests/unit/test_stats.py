"""Learning loop: quality gain over long partnerships and one-and-done problem kinds."""

import pytest

from bot.domain.campaigns import ProblemKind
from bot.domain.stats import (
    FIELD_NOTES_QUALITY_GAIN,
    MIN_PARTNERSHIPS_FOR_STATS,
    PartnershipOutcome,
    one_and_done_problems,
    quality_gain,
)

P = ProblemKind


def test_field_notes_figures():
    assert FIELD_NOTES_QUALITY_GAIN == 0.28
    assert MIN_PARTNERSHIPS_FOR_STATS == 3


@pytest.mark.parametrize(
    ("partnerships", "value", "sample", "enough"),
    [
        ((), None, 0, False),
        # Exactly 3 campaigns do not count (">3 кампаний").
        (([2, 3, 4], [2, 3, 4], [2, 3, 4]), None, 0, False),
        # Two eligible partnerships: not enough.
        (([2, 3, 4, 5], [2, 2, 2, 3], [5]), None, 2, False),
        (([2, 5, 5, 3], [3, 3, 3, 3], [3, 1, 1, 1, 4]), (10 / 3 - 8 / 3) / (8 / 3), 3, True),
        (([4, 4, 4, 2], [4, 4, 4, 2], [4, 4, 4, 2]), -0.5, 3, True),
        (([3, 3, 3, 3], [3, 3, 3, 3], [3, 3, 3, 3], [1, 5, 5]), 0.0, 3, True),
    ],
)
def test_quality_gain(partnerships, value, sample, enough):
    result = quality_gain(partnerships)
    assert result.sample == sample
    assert result.enough is enough
    if value is None:
        assert result.value is None
    else:
        assert result.value == pytest.approx(value)


def test_quality_gain_reproduces_field_notes_figure():
    # Ten partnerships past 3 campaigns: first-campaign average 2.5, latest 3.2 → +28%.
    firsts = [2] * 5 + [3] * 5
    lasts = [3] * 8 + [4] * 2
    partnerships = [[first, 3, 3, last] for first, last in zip(firsts, lasts, strict=True)]
    result = quality_gain(partnerships)
    assert result.value == pytest.approx(FIELD_NOTES_QUALITY_GAIN)
    assert (result.sample, result.enough) == (10, True)


def test_quality_gain_rejects_bad_quality():
    with pytest.raises(ValueError):
        quality_gain([[0, 1, 2, 3]])


def outcome(*problems, walked=True):
    return PartnershipOutcome(tuple(problems), walked)


@pytest.mark.parametrize(
    ("partnerships", "sample", "enough", "top", "expectations"),
    [
        ((), 0, False, None, 0),
        ((outcome(P.EXPECTATIONS),), 1, False, P.EXPECTATIONS, 1),
        # Not walked, or walked after more than one campaign: not counted.
        ((outcome(P.EXPECTATIONS, walked=False), outcome(P.NONE, P.EXECUTION)), 0, False, None, 0),
        (
            (outcome(P.EXPECTATIONS), outcome(P.EXPECTATIONS), outcome(P.EXECUTION)),
            3,
            True,
            P.EXPECTATIONS,
            2,
        ),
        ((outcome(P.EXPECTATIONS), outcome(P.COMMUNICATION), outcome(P.EXECUTION)), 3, True, None, 1),
        (
            (outcome(P.COMMUNICATION), outcome(P.COMMUNICATION), outcome(P.EXPECTATIONS)),
            3,
            True,
            P.COMMUNICATION,
            1,
        ),
    ],
)
def test_one_and_done_problems(partnerships, sample, enough, top, expectations):
    tally = one_and_done_problems(partnerships)
    assert tally.sample == sample
    assert tally.enough is enough
    assert tally.top is top
    assert tally.counts[P.EXPECTATIONS] == expectations
    assert sum(tally.counts.values()) == sample
    assert tally.matches_field_notes is (top is P.EXPECTATIONS)
