"""References: what creators who worked with a partner say about them, and how the card sums it up.

Field notes: "ask the creators you're partnering with … they can tell you so much more than the partner
can tell you about themselves" — consistency, respect, reliability, growth; issue 5 turns that into a
short questionnaire opened by a single-use deep link. Pure rules: no aiogram, no SQL.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from bot.domain.numbers import whole_or_none
from bot.domain.partners import MarketCoverage

# Issue 5 "valid 14 days": how long a reference link works after it is created.
LINK_TTL = timedelta(days=14)
# Issue 5 "the whole start parameter within Telegram's 64 characters": what precedes the token.
START_PREFIX = "ref_"
# Issue 5 "token from secrets, ≥ 128 bits": 24 random bytes = 192 bits, 32 URL-safe characters.
TOKEN_BYTES = 24
# Issue 5 "1–5 with anchor texts": the rating scale of each dimension.
RATING_MIN, RATING_MAX = 1, 5
# Issue 5 "reliability ≤ 2 … is marked as a red flag": the highest reliability that still raises a flag.
RED_FLAG_RELIABILITY_MAX = 2
# Issue 5 "a questionnaire finished implausibly fast (under 30 seconds) is marked".
MIN_PLAUSIBLE_SECONDS = 30
# Issue 5 "how long they worked with the partner": the longest duration accepted when typed (50 years).
MONTHS_MAX = 600
# Issue 5 "each with an optional comment": the longest comment kept for one dimension.
COMMENT_MAX_LEN = 1000
# Issue 5 "anything else": the longest free-text remark kept.
ANYTHING_ELSE_MAX_LEN = 2000
# Issue 5 "optionally the creator's name": the longest label a manager may give a link.
LABEL_MAX_LEN = 60
# Issue 5 duration buttons "<3", "3–6", "6–12", "12+" months: the lower bound of each bucket above the first.
DURATION_BOUNDS = (3, 6, 12)

_TOKEN = re.compile(r"^[A-Za-z0-9_-]{16,60}$")


class Dimension(StrEnum):
    """The four things a creator cares about in a partner (field notes, "from a creator's perspective")."""

    CONSISTENCY = "consistency"  # comes back with briefs, not "we'll figure it out later"
    RESPECT = "respect"  # asks what you do well
    RELIABILITY = "reliability"  # payments on time, clear feedback, no surprise scope creep
    GROWTH = "growth"  # wants to help you grow your audience/platform


DIMENSIONS: tuple[Dimension, ...] = tuple(Dimension)
# The anchors shown under each rating question.
ANCHOR_RATINGS = (1, 3, 5)


class Again(StrEnum):
    """Would you work with them again?"""

    YES = "yes"
    MAYBE = "maybe"
    NO = "no"


class Duration(StrEnum):
    """How long a creator worked with the partner, as the buttons offer it: a range, kept as a range (a tap on
    "6–12" is not 6 months)."""

    UNDER_3 = "lt3"
    FROM_3 = "3to6"
    FROM_6 = "6to12"
    FROM_12 = "12plus"


def duration_of(months: int) -> Duration:
    """The bucket a number of months falls into, for showing typed and pressed answers alike."""
    low, mid, high = DURATION_BOUNDS
    if months < low:
        return Duration.UNDER_3
    if months < mid:
        return Duration.FROM_3
    if months < high:
        return Duration.FROM_6
    return Duration.FROM_12


def parse_months(text: str | None) -> int | None:
    """A typed number of months, 0..MONTHS_MAX; None for anything else."""
    return whole_or_none(text, 0, MONTHS_MAX)


_BARE_NUMBER = re.compile(r"\s*[+-]?\d+(?:[.,]\d+)?\s*")


def is_bare_number(text: str | None) -> bool:
    """A comment that is only a number: a rating typed one step late, not something the creator meant to say."""
    return text is not None and _BARE_NUMBER.fullmatch(text) is not None


def parse_rating(text: str | None) -> int | None:
    """A typed rating: one digit from RATING_MIN to RATING_MAX."""
    return whole_or_none(text, RATING_MIN, RATING_MAX)


def is_valid_rating(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and RATING_MIN <= value <= RATING_MAX


def looks_like_token(token: str) -> bool:
    """Cheap shape check before any lookup: only what `secrets.token_urlsafe` can produce."""
    return bool(_TOKEN.match(token))


# ---- links --------------------------------------------------------------------------------------------------


class LinkStatus(StrEnum):
    SENT = "sent"  # created, nobody has opened it yet
    OPENED = "opened"  # a creator opened it and has not sent an answer yet
    ANSWERED = "answered"  # used: an answer came through it
    EXPIRED = "expired"  # 14 days passed without an answer
    REVOKED = "revoked"  # the team withdrew it
    UNKNOWN = "unknown"  # no such token: made up or cut when copied

    @property
    def usable(self) -> bool:
        return self in (LinkStatus.SENT, LinkStatus.OPENED)


def link_status(
    *,
    exists: bool,
    expires_at: datetime | None,
    revoked_at: datetime | None,
    opened_at: datetime | None,
    answered_at: datetime | None,
    now: datetime,
    started: bool = False,
) -> LinkStatus:
    """Where a link stands. Answered wins over revoked/expired: what was sent stays sent.

    `started`: the creator already opened it before it expired and is mid-questionnaire; expiry then does not
    take their typed answers away (only a revoke does).
    """
    if not exists:
        return LinkStatus.UNKNOWN
    if answered_at is not None:
        return LinkStatus.ANSWERED
    if revoked_at is not None:
        return LinkStatus.REVOKED
    if expires_at is not None and expires_at <= now and not started:
        return LinkStatus.EXPIRED
    return LinkStatus.OPENED if opened_at is not None else LinkStatus.SENT


@dataclass(frozen=True)
class LinkCounts:
    """The card's line about links: sent, opened, answered, expired (and revoked)."""

    sent: int = 0
    opened: int = 0
    answered: int = 0
    expired: int = 0
    revoked: int = 0


def count_links(statuses: Iterable[LinkStatus], opened_flags: Iterable[bool]) -> LinkCounts:
    """Every link counts as sent; opened counts any link a creator opened, answered or not."""
    sent = opened = answered = expired = revoked = 0
    for status, was_opened in zip(statuses, opened_flags, strict=True):
        sent += 1
        opened += int(was_opened)
        answered += int(status is LinkStatus.ANSWERED)
        expired += int(status is LinkStatus.EXPIRED)
        revoked += int(status is LinkStatus.REVOKED)
    return LinkCounts(sent, opened, answered, expired, revoked)


# ---- answers ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Reference:
    """One creator's answer, as the card sees it (no Telegram identity anywhere)."""

    ratings: Mapping[Dimension, int]
    again: Again
    duration: Duration = Duration.UNDER_3
    months: int | None = None  # only when the creator typed a number
    market: MarketCoverage = MarketCoverage.BOTH
    comments: Mapping[Dimension, str] = field(default_factory=dict)
    anything_else: str | None = None
    seconds_taken: float | None = None

    @property
    def too_fast(self) -> bool:
        return is_too_fast(self.seconds_taken)

    @property
    def red_flag(self) -> bool:
        return is_red_flag(self.ratings, self.again)


def is_too_fast(seconds_taken: float | None) -> bool:
    """Issue 5: under MIN_PLAUSIBLE_SECONDS from the greeting to Send is not a considered answer."""
    return seconds_taken is not None and seconds_taken < MIN_PLAUSIBLE_SECONDS


def is_red_flag(ratings: Mapping[Dimension, int], again: Again) -> bool:
    """Issue 5: reliability ≤ 2, or "no" to working with them again."""
    reliability = ratings.get(Dimension.RELIABILITY)
    return again is Again.NO or (reliability is not None and reliability <= RED_FLAG_RELIABILITY_MAX)


@dataclass(frozen=True)
class ReferenceSummary:
    count: int
    averages: dict[Dimension, float]
    again_counts: dict[Again, int]
    red_flags: tuple[int, ...]  # 1-based creator numbers
    too_fast: tuple[int, ...]  # 1-based creator numbers

    @property
    def again_share(self) -> float:
        """The share who would work with them again ("yes"; "maybe" is not a yes)."""
        return self.again_counts[Again.YES] / self.count if self.count else 0.0


def summarize(references: Sequence[Reference]) -> ReferenceSummary | None:
    """Count, average per dimension, who would work again, which creators raise a flag; None when empty."""
    if not references:
        return None
    averages = {}
    for dimension in DIMENSIONS:
        values = [r.ratings[dimension] for r in references if dimension in r.ratings]
        if values:
            averages[dimension] = sum(values) / len(values)
    again_counts = {choice: sum(1 for r in references if r.again is choice) for choice in Again}
    return ReferenceSummary(
        count=len(references),
        averages=averages,
        again_counts=again_counts,
        red_flags=tuple(number for number, r in enumerate(references, 1) if r.red_flag),
        too_fast=tuple(number for number, r in enumerate(references, 1) if r.too_fast),
    )


# ---- the questionnaire --------------------------------------------------------------------------------------


class Step(StrEnum):
    """The questionnaire in order; short values, since they travel in button data."""

    MONTHS = "mo"
    MARKET = "mk"
    CONSISTENCY = "c"
    CONSISTENCY_NOTE = "cn"
    RESPECT = "r"
    RESPECT_NOTE = "rn"
    RELIABILITY = "l"
    RELIABILITY_NOTE = "ln"
    GROWTH = "g"
    GROWTH_NOTE = "gn"
    AGAIN = "ag"
    ANYTHING_ELSE = "ae"
    SUMMARY = "sm"

    @property
    def dimension(self) -> Dimension | None:
        """The dimension a rating step or its comment step is about."""
        return _STEP_DIMENSION.get(self)

    @property
    def is_rating(self) -> bool:
        return self in _RATING_STEPS

    @property
    def is_note(self) -> bool:
        return self in _NOTE_STEPS


STEPS: tuple[Step, ...] = tuple(Step)
_RATING_STEPS = {
    Step.CONSISTENCY: Dimension.CONSISTENCY,
    Step.RESPECT: Dimension.RESPECT,
    Step.RELIABILITY: Dimension.RELIABILITY,
    Step.GROWTH: Dimension.GROWTH,
}
_NOTE_STEPS = {
    Step.CONSISTENCY_NOTE: Dimension.CONSISTENCY,
    Step.RESPECT_NOTE: Dimension.RESPECT,
    Step.RELIABILITY_NOTE: Dimension.RELIABILITY,
    Step.GROWTH_NOTE: Dimension.GROWTH,
}
_STEP_DIMENSION = {**_RATING_STEPS, **_NOTE_STEPS}
# What "Edit" on the summary offers: each question once (a rating's comment follows its rating).
EDITABLE_STEPS: tuple[Step, ...] = tuple(s for s in STEPS if not s.is_note and s is not Step.SUMMARY)


def rating_step(dimension: Dimension) -> Step:
    return next(step for step, d in _RATING_STEPS.items() if d is dimension)


def next_step(step: Step, *, editing: bool = False) -> Step:
    """The step after `step`; while editing one answer from the summary, back to the summary once it is done."""
    if step is Step.SUMMARY:
        return Step.SUMMARY
    following = STEPS[STEPS.index(step) + 1]
    if editing and not following.is_note:
        return Step.SUMMARY
    return following


def previous_step(step: Step) -> Step | None:
    index = STEPS.index(step)
    return STEPS[index - 1] if index > 0 else None
