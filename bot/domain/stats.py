"""The learning loop: the workspace's own version of the field notes' two figures."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from statistics import fmean

from bot.domain.campaigns import ProblemKind, is_valid_quality

# Field notes "Партнерства, которые продолжились >3 кампаний: среднее качество увеличилось на 28%".
FIELD_NOTES_QUALITY_GAIN = 0.28
# Field notes "распались после 1 кампании: обычно это была проблема с ожиданиями, а не с компетенцией".
FIELD_NOTES_ONE_AND_DONE = ProblemKind.EXPECTATIONS
# Field notes "продолжились >3 кампаний": a partnership counts once it has strictly more campaigns than this.
LONG_PARTNERSHIP_CAMPAIGNS = 3
# Field notes "распались после 1 кампании": campaigns after which an ended partnership is "one and done".
ONE_AND_DONE_CAMPAIGNS = 1
# Issue 4 "'not enough data yet' below 3 partnerships": smallest sample a figure is shown for.
MIN_PARTNERSHIPS_FOR_STATS = 3


@dataclass(frozen=True, slots=True)
class StatResult:
    """A figure with its sample size; value is None until the sample is big enough."""

    value: float | None
    sample: int
    enough: bool


@dataclass(frozen=True, slots=True)
class PartnershipOutcome:
    """A partnership's debriefed problem kinds (oldest first) and whether it ended in a walk."""

    problems: tuple[ProblemKind, ...]
    walked: bool


@dataclass(frozen=True, slots=True)
class ProblemTally:
    """Problem kinds behind partnerships that ended after one campaign."""

    counts: dict[ProblemKind, int]
    sample: int
    enough: bool
    top: ProblemKind | None

    @property
    def matches_field_notes(self) -> bool:
        """Whether the most common kind is the notes' "expectations, not competence"."""
        return self.top is FIELD_NOTES_ONE_AND_DONE


def quality_gain(partnerships: Sequence[Sequence[int]]) -> StatResult:
    """Relative change of average quality, first → latest campaign, over partnerships past 3 campaigns."""
    if not all(is_valid_quality(quality) for q in partnerships for quality in q):
        raise ValueError("qualities must be integers 1..5")
    eligible = [list(q) for q in partnerships if len(q) > LONG_PARTNERSHIP_CAMPAIGNS]
    sample = len(eligible)
    enough = sample >= MIN_PARTNERSHIPS_FOR_STATS
    if not enough:
        return StatResult(None, sample, False)
    first = fmean(q[0] for q in eligible)
    latest = fmean(q[-1] for q in eligible)
    return StatResult((latest - first) / first, sample, True)


def one_and_done_problems(partnerships: Sequence[PartnershipOutcome]) -> ProblemTally:
    """Counts of problem kinds behind partnerships walked away from after exactly one campaign."""
    ended = [p for p in partnerships if p.walked and len(p.problems) == ONE_AND_DONE_CAMPAIGNS]
    counts = Counter(p.problems[0] for p in ended)
    ranked = counts.most_common()
    top = None
    if ranked and (len(ranked) == 1 or ranked[0][1] > ranked[1][1]):
        top = ranked[0][0]
    return ProblemTally(
        counts={kind: counts.get(kind, 0) for kind in ProblemKind},
        sample=len(ended),
        enough=len(ended) >= MIN_PARTNERSHIPS_FOR_STATS,
        top=top,
    )
