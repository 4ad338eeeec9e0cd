"""Scorecard: weights, totals, weakest criterion, team view and visibility."""

import pytest

from bot.domain.scorecard import (
    CRITERIA,
    DISAGREEMENT_GAP,
    GROUP_WEIGHTS,
    RATING_MAX,
    RATING_MIN,
    Criterion,
    ScoreBand,
    ScoreGroup,
    can_see_team,
    next_criterion,
    parse_rating,
    score_band,
    score_card,
    team_view,
    visible_ratings,
)

C = Criterion
OPS = (C.DOCUMENTED_WORKFLOWS, C.ONBOARDING, C.AUDITABLE_METRICS)
CUL = (C.SIMILAR_SPEED, C.PROACTIVE, C.OWNS_FAILURES)
MKT = (C.NAVIGATED_MARKETS, C.LOCAL_EXPERTISE, C.EXPLAINS_DIFFERENCES)


def card(default=3, **overrides):
    """A complete scorecard with every criterion at `default`, overridden by criterion value."""
    ratings = {criterion: default for criterion in CRITERIA}
    ratings.update({Criterion(k): v for k, v in overrides.items()})
    return ratings


def by_group(ops, cul, mkt):
    """A card with each group's criteria all at one rating."""
    return {**dict.fromkeys(OPS, ops), **dict.fromkeys(CUL, cul), **dict.fromkeys(MKT, mkt)}


def test_nine_criteria_three_per_group_in_order():
    assert CRITERIA == OPS + CUL + MKT
    for group, members in (
        (ScoreGroup.OPERATIONAL, OPS),
        (ScoreGroup.CULTURAL, CUL),
        (ScoreGroup.MARKET, MKT),
    ):
        assert all(c.group is group for c in members)


def test_weights_sum_to_one_and_market_weighs_most():
    assert sum(GROUP_WEIGHTS.values()) == pytest.approx(1.0)
    assert GROUP_WEIGHTS[ScoreGroup.MARKET] > GROUP_WEIGHTS[ScoreGroup.OPERATIONAL]
    assert GROUP_WEIGHTS[ScoreGroup.MARKET] > GROUP_WEIGHTS[ScoreGroup.CULTURAL]
    assert (RATING_MIN, RATING_MAX) == (1, 5)


@pytest.mark.parametrize(
    ("ratings", "total"),
    [
        (by_group(1, 1, 1), 1.0),
        (by_group(5, 5, 5), 5.0),
        (by_group(3, 3, 3), 3.0),
        (by_group(5, 1, 1), 0.30 * 5 + 0.25 * 1 + 0.45 * 1),
        (by_group(1, 5, 1), 0.30 * 1 + 0.25 * 5 + 0.45 * 1),
        (by_group(1, 1, 5), 0.30 * 1 + 0.25 * 1 + 0.45 * 5),
    ],
)
def test_total_is_weighted_mean_of_group_means(ratings, total):
    assert score_card(ratings).total == pytest.approx(total)


def test_market_strength_moves_total_most():
    strong_market = score_card(by_group(1, 1, 5)).total
    strong_ops = score_card(by_group(5, 1, 1)).total
    strong_culture = score_card(by_group(1, 5, 1)).total
    assert strong_market > strong_ops > strong_culture


def test_group_means():
    ratings = card(workflows=5, onboarding=4, metrics=3, speed=2, proactive=2, owns_fail=2)
    result = score_card(ratings)
    assert result.by_group == {
        ScoreGroup.OPERATIONAL: pytest.approx(4.0),
        ScoreGroup.CULTURAL: pytest.approx(2.0),
        ScoreGroup.MARKET: pytest.approx(3.0),
    }
    assert result.total == pytest.approx(0.3 * 4 + 0.25 * 2 + 0.45 * 3)


@pytest.mark.parametrize(
    ("ratings", "weakest"),
    [
        (card(onboarding=1), C.ONBOARDING),
        (card(4, speed=2, local=3), C.SIMILAR_SPEED),
        (card(4, workflows=2, local=2), C.LOCAL_EXPERTISE),  # tie → market group first
        (card(4, workflows=2, owns_fail=2), C.DOCUMENTED_WORKFLOWS),  # tie → heavier group, then order
        (card(4, proactive=2, speed=2), C.SIMILAR_SPEED),  # tie in a group → asking order
        (card(3), C.NAVIGATED_MARKETS),  # all equal → first market criterion
        (card(4, differences=1, navigated=1), C.NAVIGATED_MARKETS),
    ],
)
def test_weakest_criterion(ratings, weakest):
    result = score_card(ratings)
    assert result.weakest is weakest
    assert result.weakest_rating == min(ratings.values())


@pytest.mark.parametrize(
    "ratings",
    [
        {},
        {c: 3 for c in CRITERIA[:-1]},
        card(workflows=0),
        card(workflows=6),
        card(workflows=True),
        card(workflows=2.5),
        {**card(), "extra": 3},
    ],
)
def test_invalid_cards_raise(ratings):
    with pytest.raises(ValueError):
        score_card(ratings)


@pytest.mark.parametrize(
    ("ratings", "expected"),
    [({}, C.DOCUMENTED_WORKFLOWS), ({c: 3 for c in CRITERIA[:4]}, C.PROACTIVE), (card(), None)],
)
def test_next_criterion_resumes(ratings, expected):
    assert next_criterion(ratings) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1", 1),
        ("5", 5),
        (" 3 ", 3),
        ("0", None),
        ("6", None),
        ("", None),
        (None, None),
        ("३", None),
        ("12", None),
    ],
)
def test_parse_rating(text, expected):
    assert parse_rating(text) == expected


@pytest.mark.parametrize(
    ("gap_ratings", "disagree"),
    [((3, 3), False), ((3, 4), False), ((3, 5), True), ((2, 4), True), ((1, 5), True), ((3, 4, 2), True)],
)
def test_disagreement_gap(gap_ratings, disagree):
    assert DISAGREEMENT_GAP == 2
    per_rater = {uid: card(3, local=r) for uid, r in enumerate(gap_ratings, start=1)}
    team = team_view(per_rater)
    assert (C.LOCAL_EXPERTISE in team.disagreements) is disagree
    assert team.disagreements == ((C.LOCAL_EXPERTISE,) if disagree else ())


def test_team_averages():
    team = team_view({10: by_group(5, 5, 5), 20: by_group(1, 3, 3)})
    assert team.raters == 2
    assert team.by_group == {
        ScoreGroup.OPERATIONAL: pytest.approx(3.0),
        ScoreGroup.CULTURAL: pytest.approx(4.0),
        ScoreGroup.MARKET: pytest.approx(4.0),
    }
    one = score_card(by_group(5, 5, 5)).total
    two = score_card(by_group(1, 3, 3)).total
    assert team.average_total == pytest.approx((one + two) / 2)
    assert team.by_criterion[C.ONBOARDING] == pytest.approx(3.0)
    assert set(team.disagreements) == set(OPS) | set(CUL) | set(MKT)
    assert team.weakest is C.DOCUMENTED_WORKFLOWS
    assert team.result.total == pytest.approx(team.average_total)


def test_team_view_empty_and_incomplete():
    assert team_view({}) is None
    with pytest.raises(ValueError):
        team_view({1: card(), 2: {C.ONBOARDING: 3}})


def test_visibility_before_and_after_submitting():
    submitted = {1: card(5), 2: card(2)}
    assert visible_ratings(3, submitted) == {}
    assert not can_see_team(3, submitted)
    after = {**submitted, 3: card(4)}
    assert visible_ratings(3, after) == after
    assert can_see_team(1, submitted)
    assert visible_ratings(1, submitted) == submitted
    assert visible_ratings(1, {}) == {}


@pytest.mark.parametrize(
    ("total", "band"),
    [
        (5.0, ScoreBand.STRONG),
        (4.0, ScoreBand.STRONG),
        (3.99, ScoreBand.MIXED),
        (3.0, ScoreBand.MIXED),
        (2.99, ScoreBand.WEAK),
        (1.0, ScoreBand.WEAK),
    ],
)
def test_score_band(total, band):
    assert score_band(total) is band


@pytest.mark.parametrize("enum", [ScoreGroup, Criterion, ScoreBand])
def test_enum_values_short(enum):
    assert all(1 <= len(m.value) <= 12 for m in enum)
