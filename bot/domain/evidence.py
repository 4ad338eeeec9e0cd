"""Evidence before any pilot: case studies, testimonials, community activity and derived signals."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from enum import StrEnum

from bot.domain.numbers import whole_or_none
from bot.domain.partners import MARKETS, Market, MarketCoverage
from bot.domain.text import clean_block, clean_line

# Field notes "имели >3 кейсов в обоих рынках = выше вероятность успеха": strictly more than this, per market.
CASES_PER_MARKET_THRESHOLD = 3
# Field notes "долгоживущие отношения с предыдущими брендами (>6 месяцев)": strictly more months than this.
LONG_RELATIONSHIP_MONTHS = 6
# Field notes "могут показать вам неудачные кейсы, а не только победы": failed cases needed for honesty.
MIN_FAILURES_SHOWN = 1
# Field notes "уже работали с кем-то еще из другого рынка": case studies needed in each market.
OTHER_MARKET_MIN_CASES = 1
# Issue 3 "relationship length in months": accepted range (0 = under a month, 600 = fifty years).
MONTHS_MIN = 0
MONTHS_MAX = 600
# Issue 3 "brand": longest brand name accepted.
BRAND_MAX_LEN = 100
# Issue 3 "a testimonial (text, who)": longest testimonial text and author.
TESTIMONIAL_MAX_LEN = 1000
AUTHOR_MAX_LEN = 100
# Issue 3 "community participation (text, link)": longest description.
COMMUNITY_MAX_LEN = 500



class Outcome(StrEnum):
    """How a case study ended for the brand."""

    SUCCESS = "success"
    FAILURE = "failure"


@dataclass(frozen=True, slots=True)
class CaseStudy:
    """One documented piece of work for a brand in one market."""

    market: Market
    brand: str
    outcome: Outcome
    months: int
    link: str | None = None


@dataclass(frozen=True, slots=True)
class Testimonial:
    """What someone who worked with the partner said about them."""

    text: str
    author: str | None = None


@dataclass(frozen=True, slots=True)
class CommunityActivity:
    """The partner's participation in a community (talks, groups, open resources)."""

    text: str
    link: str | None = None


class ConversationSignal(StrEnum):
    """Signals a manager ticks after a conversation (field notes "Сигналы, что партнер будет хорош")."""

    TALKED_FAILURES = "failures"
    SYSTEMATIC_PROCESS = "process"
    ASKED_CONSTRAINTS = "constraints"


# Fixed display order of the conversation signals.
CONVERSATION_SIGNALS: tuple[ConversationSignal, ...] = tuple(ConversationSignal)


@dataclass(frozen=True, slots=True)
class ConversationSignals:
    """Which conversation signals the manager ticked."""

    talked_failures: bool = False
    systematic_process: bool = False
    asked_constraints: bool = False

    def get(self, signal: ConversationSignal) -> bool:
        """Whether one signal is ticked."""
        return bool(getattr(self, _CONVERSATION_FIELDS[signal]))

    def toggled(self, signal: ConversationSignal) -> ConversationSignals:
        """A copy with one signal flipped."""
        field = _CONVERSATION_FIELDS[signal]
        return replace(self, **{field: not getattr(self, field)})

    @property
    def ticked(self) -> int:
        """How many signals are ticked."""
        return sum(self.get(signal) for signal in CONVERSATION_SIGNALS)


_CONVERSATION_FIELDS: Mapping[ConversationSignal, str] = {
    ConversationSignal.TALKED_FAILURES: "talked_failures",
    ConversationSignal.SYSTEMATIC_PROCESS: "systematic_process",
    ConversationSignal.ASKED_CONSTRAINTS: "asked_constraints",
}


class Signal(StrEnum):
    """Evidence signals derived from case studies."""

    BOTH_MARKETS = "both_markets"
    LONG_RELATION = "long_rel"
    SHOWS_FAILURES = "failures"
    OTHER_MARKET = "other_mkt"


@dataclass(frozen=True, slots=True)
class MarketSummary:
    """Evidence in one market; strength in one market says nothing about the other."""

    market: Market
    count: int
    successes: int
    failures: int
    longest_months: int | None
    brands: int

    @property
    def strong(self) -> bool:
        """More than CASES_PER_MARKET_THRESHOLD case studies in this market."""
        return self.count > CASES_PER_MARKET_THRESHOLD


@dataclass(frozen=True, slots=True)
class EvidenceSignals:
    """The four case-study signals plus the claimed markets whose evidence is thin."""

    strong_in_both_markets: bool
    long_relationship: bool
    shows_failures: bool
    worked_other_market: bool
    thin_markets: tuple[Market, ...] = ()

    def items(self) -> tuple[tuple[Signal, bool], ...]:
        """The signals with their values, in display order."""
        return (
            (Signal.BOTH_MARKETS, self.strong_in_both_markets),
            (Signal.LONG_RELATION, self.long_relationship),
            (Signal.SHOWS_FAILURES, self.shows_failures),
            (Signal.OTHER_MARKET, self.worked_other_market),
        )


def summarize_market(cases: Iterable[CaseStudy], market: Market) -> MarketSummary:
    """Summary of the case studies in one market."""
    own = [case for case in cases if case.market is market]
    return MarketSummary(
        market=market,
        count=len(own),
        successes=sum(case.outcome is Outcome.SUCCESS for case in own),
        failures=sum(case.outcome is Outcome.FAILURE for case in own),
        longest_months=max((case.months for case in own), default=None),
        brands=len({clean_brand_key(case.brand) for case in own}),
    )


def summarize_markets(cases: Iterable[CaseStudy]) -> dict[Market, MarketSummary]:
    """Summaries for every market (RU, US), including empty ones."""
    listed = tuple(cases)
    return {market: summarize_market(listed, market) for market in MARKETS}


def derive_signals(cases: Iterable[CaseStudy], partner_markets: MarketCoverage) -> EvidenceSignals:
    """Evidence signals of a partner from its case studies and claimed markets."""
    listed = tuple(cases)
    summaries = summarize_markets(listed)
    # "Has worked with someone from the other market" is read as: case studies in both RU and US,
    # because the partner's home market is not recorded — only which markets it claims to cover.
    return EvidenceSignals(
        strong_in_both_markets=all(summary.strong for summary in summaries.values()),
        long_relationship=any(case.months > LONG_RELATIONSHIP_MONTHS for case in listed),
        shows_failures=sum(case.outcome is Outcome.FAILURE for case in listed) >= MIN_FAILURES_SHOWN,
        worked_other_market=all(s.count >= OTHER_MARKET_MIN_CASES for s in summaries.values()),
        thin_markets=tuple(m for m in partner_markets.markets if not summaries[m].strong),
    )


def clean_brand_key(brand: str) -> str:
    """Key under which two spellings of a brand count as one (casefold, single spaces)."""
    return " ".join(brand.casefold().split())


def parse_months(text: str | None) -> int | None:
    """A relationship length in whole months (0–600) from digits only, or None."""
    return whole_or_none(text, MONTHS_MIN, MONTHS_MAX)


def validate_brand(text: str | None) -> str | None:
    """A brand name of 1–100 characters on one line, or None."""
    return clean_line(text, BRAND_MAX_LEN)


def validate_testimonial(text: str | None) -> str | None:
    """Testimonial text of 1–1000 characters, or None."""
    return clean_block(text, TESTIMONIAL_MAX_LEN)


def validate_author(text: str | None) -> str | None:
    """Who gave a testimonial, 1–100 characters on one line, or None."""
    return clean_line(text, AUTHOR_MAX_LEN)


def validate_community(text: str | None) -> str | None:
    """A community-participation description of 1–500 characters, or None."""
    return clean_block(text, COMMUNITY_MAX_LEN)
