"""The scorecard: nine criteria in three weighted groups, one rater or a whole team."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from statistics import fmean

from bot.domain.numbers import whole_or_none


class ScoreGroup(StrEnum):
    """The three groups of field notes "Evaluation criteria"."""

    OPERATIONAL = "operational"
    CULTURAL = "cultural"
    MARKET = "market"


class Criterion(StrEnum):
    """One scorecard question (field notes "Evaluation criteria", three per group)."""

    DOCUMENTED_WORKFLOWS = "workflows"
    ONBOARDING = "onboarding"
    AUDITABLE_METRICS = "metrics"
    SIMILAR_SPEED = "speed"
    PROACTIVE = "proactive"
    OWNS_FAILURES = "owns_fail"
    NAVIGATED_MARKETS = "navigated"
    LOCAL_EXPERTISE = "local"
    EXPLAINS_DIFFERENCES = "differences"

    @property
    def group(self) -> ScoreGroup:
        """The group this criterion belongs to."""
        return CRITERION_GROUPS[self]


# Field notes "For operational health / For cultural fit / For cross-market savvy": criteria in asking order.
CRITERIA: tuple[Criterion, ...] = tuple(Criterion)
CRITERION_GROUPS: Mapping[Criterion, ScoreGroup] = {
    Criterion.DOCUMENTED_WORKFLOWS: ScoreGroup.OPERATIONAL,  # "Do they have documented workflows?"
    Criterion.ONBOARDING: ScoreGroup.OPERATIONAL,  # "onboard new team members without starting from zero?"
    Criterion.AUDITABLE_METRICS: ScoreGroup.OPERATIONAL,  # "track metrics in a format you can audit?"
    Criterion.SIMILAR_SPEED: ScoreGroup.CULTURAL,  # "Do they move at similar speed?"
    Criterion.PROACTIVE: ScoreGroup.CULTURAL,  # "reactive or proactive with problems?"
    Criterion.OWNS_FAILURES: ScoreGroup.CULTURAL,  # "do they own it or blame externals?"
    Criterion.NAVIGATED_MARKETS: ScoreGroup.MARKET,  # "successfully navigated different markets before?"
    Criterion.LOCAL_EXPERTISE: ScoreGroup.MARKET,  # "local expertise or ... scaling one playbook?"
    Criterion.EXPLAINS_DIFFERENCES: ScoreGroup.MARKET,  # "explain the differences between Russian and US"
}
# Groups in display order.
SCORE_GROUPS: tuple[ScoreGroup, ...] = tuple(ScoreGroup)

# PRODUCT "each rated 1–5 with a short anchor text": lowest and highest rating.
RATING_MIN = 1
RATING_MAX = 5
# Issue 3 "a short anchor text for 1, 3 and 5": ratings that carry an anchor text.
ANCHOR_RATINGS: tuple[int, ...] = (1, 3, 5)

# Field notes "we weight 'market knowledge' very highly. A partner who understands Russian and US dynamics
# is rare and valuable" → market savvy weighs most; operational health next ("can the partnership survive
# without you?"); cultural fit least, since a pilot tests it directly ("This tells you if you actually
# work together").
GROUP_WEIGHTS: Mapping[ScoreGroup, float] = {
    ScoreGroup.OPERATIONAL: 0.30,
    ScoreGroup.CULTURAL: 0.25,
    ScoreGroup.MARKET: 0.45,
}
assert abs(sum(GROUP_WEIGHTS.values()) - 1.0) < 1e-9, "group weights must sum to 1"
assert max(GROUP_WEIGHTS, key=GROUP_WEIGHTS.__getitem__) is ScoreGroup.MARKET, "market must weigh most"

# Issue 3 "where the raters disagree by 2 points or more": max − min rating that counts as disagreement.
DISAGREEMENT_GAP = 2
# Our banding of the 1–5 anchors (not in the notes): a total at or above this is strong.
STRONG_BAND_MIN = 4.0
# Our banding of the 1–5 anchors (not in the notes): a total below the middle anchor 3 is weak.
WEAK_BAND_BELOW = 3.0


class ScoreBand(StrEnum):
    """Coarse reading of a weighted total."""

    STRONG = "strong"
    MIXED = "mixed"
    WEAK = "weak"


@dataclass(frozen=True, slots=True)
class ScoreResult:
    """A weighted total on the 1–5 scale, group means, per-criterion ratings and the weakest criterion."""

    total: float
    by_group: Mapping[ScoreGroup, float]
    ratings: Mapping[Criterion, float]
    weakest: Criterion

    @property
    def weakest_rating(self) -> float:
        """The rating of the weakest criterion."""
        return self.ratings[self.weakest]


@dataclass(frozen=True, slots=True)
class TeamScore:
    """Averages over the raters who submitted, and where they disagree."""

    average_total: float
    by_group: Mapping[ScoreGroup, float]
    by_criterion: Mapping[Criterion, float]
    disagreements: tuple[Criterion, ...]
    raters: int
    weakest: Criterion

    @property
    def result(self) -> ScoreResult:
        """The team average as a ScoreResult (for the partner card and the next step)."""
        return ScoreResult(self.average_total, self.by_group, self.by_criterion, self.weakest)


def is_valid_rating(value: object) -> bool:
    """Whether value is an int rating within RATING_MIN..RATING_MAX (bools are not ratings)."""
    return isinstance(value, int) and not isinstance(value, bool) and RATING_MIN <= value <= RATING_MAX


def parse_rating(text: str | None) -> int | None:
    """A rating from callback or typed text ("1".."5"), or None."""
    return whole_or_none(text, RATING_MIN, RATING_MAX)


def next_criterion(ratings: Mapping[Criterion, int]) -> Criterion | None:
    """The first criterion not rated yet (where a resumed scorecard continues), or None."""
    for criterion in CRITERIA:
        if criterion not in ratings:
            return criterion
    return None


def _check_complete(ratings: Mapping[Criterion, int]) -> None:
    """ValueError unless every criterion has a valid rating and nothing else is present."""
    unknown = [key for key in ratings if key not in CRITERION_GROUPS]
    missing = [criterion for criterion in CRITERIA if criterion not in ratings]
    if unknown or missing:
        raise ValueError(f"scorecard incomplete or unknown: missing={missing!r} unknown={unknown!r}")
    bad = [criterion for criterion in CRITERIA if not is_valid_rating(ratings[criterion])]
    if bad:
        raise ValueError(f"ratings must be integers {RATING_MIN}..{RATING_MAX}: {bad!r}")


def _weakest(ratings: Mapping[Criterion, float]) -> Criterion:
    """Lowest-rated criterion; ties go to the heavier group (market first), then asking order."""
    return min(
        CRITERIA,
        key=lambda c: (ratings[c], -GROUP_WEIGHTS[c.group], CRITERIA.index(c)),
    )


def _group_means(ratings: Mapping[Criterion, float]) -> dict[ScoreGroup, float]:
    """Mean rating of each group."""
    return {
        group: fmean(ratings[c] for c in CRITERIA if CRITERION_GROUPS[c] is group) for group in SCORE_GROUPS
    }


def _weighted_total(by_group: Mapping[ScoreGroup, float]) -> float:
    """Weighted mean of the group means."""
    return sum(GROUP_WEIGHTS[group] * by_group[group] for group in SCORE_GROUPS)


def score_card(ratings: Mapping[Criterion, int]) -> ScoreResult:
    """Score one complete scorecard; ValueError when incomplete or out of range."""
    _check_complete(ratings)
    as_float = {criterion: float(ratings[criterion]) for criterion in CRITERIA}
    by_group = _group_means(as_float)
    return ScoreResult(
        total=_weighted_total(by_group),
        by_group=by_group,
        ratings=as_float,
        weakest=_weakest(as_float),
    )

# Issue 16 "a comparison is drawn only against a group it does not belong to and that is big enough to mean
# something (say at least 3 others)": a partner's scores are set beside the average of this many others at least.
MIN_OTHERS_TO_COMPARE = 3


def team_view(per_rater: Mapping[int, Mapping[Criterion, int]]) -> TeamScore | None:
    """Team averages over submitted scorecards (keyed by rater id); None when nobody has submitted."""
    if not per_rater:
        return None
    for card in per_rater.values():
        _check_complete(card)
    cards = list(per_rater.values())
    by_criterion = {criterion: fmean(card[criterion] for card in cards) for criterion in CRITERIA}
    by_group = _group_means(by_criterion)
    disagreements = tuple(
        criterion
        for criterion in CRITERIA
        if max(card[criterion] for card in cards) - min(card[criterion] for card in cards) >= DISAGREEMENT_GAP
    )
    return TeamScore(
        average_total=_weighted_total(by_group),
        by_group=by_group,
        by_criterion=by_criterion,
        disagreements=disagreements,
        raters=len(cards),
        weakest=_weakest(by_criterion),
    )


def can_see_team(viewer_id: int, per_rater: Mapping[int, Mapping[Criterion, int]]) -> bool:
    """A member sees the others' ratings only after submitting their own (structured-interview rule)."""
    return viewer_id in per_rater


def visible_ratings(
    viewer_id: int, per_rater: Mapping[int, Mapping[Criterion, int]]
) -> dict[int, Mapping[Criterion, int]]:
    """The submitted scorecards the viewer may see: all after submitting their own, none before."""
    if not can_see_team(viewer_id, per_rater):
        return {}
    return dict(per_rater)


def score_band(total: float) -> ScoreBand:
    """Strong, mixed or weak reading of a weighted total."""
    if total >= STRONG_BAND_MIN:
        return ScoreBand.STRONG
    if total < WEAK_BAND_BELOW:
        return ScoreBand.WEAK
    return ScoreBand.MIXED
