"""Evidence: case-study signals, per-market summaries and input parsing."""

import pytest

from bot.domain.evidence import (
    CASES_PER_MARKET_THRESHOLD,
    LONG_RELATIONSHIP_MONTHS,
    CaseStudy,
    ConversationSignal,
    ConversationSignals,
    Outcome,
    Signal,
    derive_signals,
    parse_months,
    summarize_markets,
    validate_brand,
    validate_testimonial,
)
from bot.domain.partners import Market, MarketCoverage

RU, US = Market.RU, Market.US
OK, FAIL = Outcome.SUCCESS, Outcome.FAILURE


def cases(market, n, outcome=OK, months=3):
    """n case studies in one market with distinct brands."""
    return [CaseStudy(market, f"{market}-brand-{i}", outcome, months) for i in range(n)]


def test_thresholds_match_field_notes():
    assert CASES_PER_MARKET_THRESHOLD == 3  # ">3 кейсов в обоих рынках"
    assert LONG_RELATIONSHIP_MONTHS == 6  # ">6 месяцев"


@pytest.mark.parametrize(
    ("ru", "us", "strong"),
    [
        (0, 0, False),
        (3, 3, False),
        (4, 3, False),
        (3, 4, False),
        (4, 4, True),
        (10, 4, True),
        (10, 0, False),
    ],
)
def test_strong_in_both_markets_needs_more_than_three_in_each(ru, us, strong):
    signals = derive_signals(cases(RU, ru) + cases(US, us), MarketCoverage.BOTH)
    assert signals.strong_in_both_markets is strong


@pytest.mark.parametrize(
    ("months", "long"),
    [(0, False), (6, False), (7, True), (600, True)],
)
def test_long_relationship_is_more_than_six_months(months, long):
    signals = derive_signals([CaseStudy(RU, "b", OK, months)], MarketCoverage.RU)
    assert signals.long_relationship is long


def test_long_relationship_any_case_counts():
    signals = derive_signals([CaseStudy(RU, "a", OK, 2), CaseStudy(US, "b", FAIL, 7)], MarketCoverage.BOTH)
    assert signals.long_relationship is True


@pytest.mark.parametrize(
    ("outcomes", "shows"),
    [
        ((), False),
        ((OK, OK, OK), False),
        ((OK, FAIL), True),
        ((FAIL,), True),
    ],
)
def test_shows_failures(outcomes, shows):
    listed = [CaseStudy(RU, f"b{i}", o, 1) for i, o in enumerate(outcomes)]
    assert derive_signals(listed, MarketCoverage.RU).shows_failures is shows


@pytest.mark.parametrize(
    ("ru", "us", "worked"),
    [(0, 0, False), (5, 0, False), (0, 5, False), (1, 1, True), (4, 1, True)],
)
def test_worked_other_market_means_cases_in_both(ru, us, worked):
    for coverage in MarketCoverage:
        signals = derive_signals(cases(RU, ru) + cases(US, us), coverage)
        assert signals.worked_other_market is worked


@pytest.mark.parametrize(
    ("coverage", "ru", "us", "thin"),
    [
        (MarketCoverage.BOTH, 4, 4, ()),
        (MarketCoverage.BOTH, 4, 3, (US,)),
        (MarketCoverage.BOTH, 0, 0, (RU, US)),
        (MarketCoverage.RU, 4, 0, ()),
        (MarketCoverage.US, 4, 0, (US,)),
        (MarketCoverage.US, 0, 4, ()),
    ],
)
def test_thin_markets_only_for_claimed_markets(coverage, ru, us, thin):
    assert derive_signals(cases(RU, ru) + cases(US, us), coverage).thin_markets == thin


def test_market_summaries_are_separate():
    listed = [
        CaseStudy(RU, "Acme", OK, 12),
        CaseStudy(RU, "acme ", FAIL, 2),
        CaseStudy(RU, "Beta", OK, 5),
        CaseStudy(US, "Gamma", OK, 1),
    ]
    summaries = summarize_markets(listed)
    ru, us = summaries[RU], summaries[US]
    assert (ru.count, ru.successes, ru.failures, ru.longest_months, ru.brands) == (3, 2, 1, 12, 2)
    assert (us.count, us.successes, us.failures, us.longest_months, us.brands) == (1, 1, 0, 1, 1)
    assert list(summaries) == [RU, US]


def test_empty_market_summary():
    summary = summarize_markets([])[US]
    assert (summary.count, summary.longest_months, summary.brands, summary.strong) == (0, None, 0, False)


@pytest.mark.parametrize(("n", "strong"), [(3, False), (4, True)])
def test_market_summary_strong_boundary(n, strong):
    assert summarize_markets(cases(US, n))[US].strong is strong


def test_signal_items_order_and_values():
    signals = derive_signals(cases(RU, 4, months=7) + cases(US, 4, outcome=FAIL), MarketCoverage.BOTH)
    assert signals.items() == (
        (Signal.BOTH_MARKETS, True),
        (Signal.LONG_RELATION, True),
        (Signal.SHOWS_FAILURES, True),
        (Signal.OTHER_MARKET, True),
    )


def test_conversation_signals_toggle():
    signals = ConversationSignals()
    assert signals.ticked == 0
    on = signals.toggled(ConversationSignal.SYSTEMATIC_PROCESS)
    assert on.systematic_process is True
    assert on.get(ConversationSignal.SYSTEMATIC_PROCESS) is True
    assert on.ticked == 1
    assert signals.systematic_process is False  # frozen original untouched
    assert on.toggled(ConversationSignal.SYSTEMATIC_PROCESS) == signals


@pytest.mark.parametrize("enum", [Outcome, ConversationSignal, Signal])
def test_enum_values_short(enum):
    assert all(1 <= len(m.value) <= 12 for m in enum)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("0", 0),
        ("7", 7),
        (" 12 ", 12),
        ("600", 600),
        ("601", None),
        ("-1", None),
        ("+3", None),
        ("3.5", None),
        ("", None),
        ("abc", None),
        ("١٢", None),
        ("²", None),
        (None, None),
        ("99999", None),
    ],
)
def test_parse_months(text, expected):
    assert parse_months(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Nike", "Nike"),
        ("  Ozon ", "Ozon"),
        ("b" * 100, "b" * 100),
        ("b" * 101, None),
        ("", None),
        ("a\nb", None),
    ],
)
def test_validate_brand(text, expected):
    assert validate_brand(text) == expected


def test_validate_testimonial_allows_lines():
    assert validate_testimonial("Great\nteam") == "Great\nteam"
    assert validate_testimonial("t" * 1001) is None
