"""Partners: enums, stages and validation of typed input."""

import pytest

from bot.domain.partners import (
    NAME_MAX_LEN,
    URL_MAX_LEN,
    Market,
    MarketCoverage,
    NameProblem,
    PartnerKind,
    Stage,
    can_scope_campaign,
    can_scope_pilot,
    normalize_name_for_duplicates,
    validate_contact,
    validate_partner_name,
    validate_url,
)

ALL_ENUMS = (PartnerKind, Market, MarketCoverage, Stage, NameProblem)


@pytest.mark.parametrize("enum", ALL_ENUMS)
def test_enum_values_are_short_lowercase(enum):
    for member in enum:
        assert member.value == member.value.lower()
        assert 1 <= len(member.value) <= 12


def test_stage_values_are_stable():
    assert [s.value for s in Stage] == [
        "candidate",
        "gut_failed",
        "ready_pilot",
        "pilot",
        "rung2",
        "rung3",
        "walked",
        "paused",
    ]
    assert "archived" not in {s.value for s in Stage}


@pytest.mark.parametrize(
    ("coverage", "markets"),
    [
        (MarketCoverage.RU, (Market.RU,)),
        (MarketCoverage.US, (Market.US,)),
        (MarketCoverage.BOTH, (Market.RU, Market.US)),
    ],
)
def test_coverage_markets(coverage, markets):
    assert coverage.markets == markets
    assert all(coverage.covers(m) for m in markets)
    assert MarketCoverage.of(markets) is coverage


def test_coverage_of_empty_raises():
    with pytest.raises(ValueError):
        MarketCoverage.of([])


def test_market_other():
    assert Market.RU.other is Market.US
    assert Market.US.other is Market.RU
    assert not MarketCoverage.RU.covers(Market.US)


@pytest.mark.parametrize(
    ("stage", "pilot", "campaign", "vetting"),
    [
        (Stage.CANDIDATE, False, False, True),
        (Stage.GUT_FAILED, False, False, True),
        (Stage.READY_PILOT, True, True, True),
        (Stage.PILOT, False, True, False),
        (Stage.RUNG2, False, True, False),
        (Stage.RUNG3, False, True, False),
        (Stage.WALKED, False, False, False),
        (Stage.PAUSED, False, False, False),
    ],
)
def test_stage_gates(stage, pilot, campaign, vetting):
    assert can_scope_pilot(stage) is pilot
    assert can_scope_campaign(stage) is campaign
    assert stage.is_vetting is vetting


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Acme UGC", "Acme UGC"),
        ("  Мост Медиа  ", "Мост Медиа"),
        ("x", "x"),
        ("a" * NAME_MAX_LEN, "a" * NAME_MAX_LEN),
        ("a" * (NAME_MAX_LEN + 1), NameProblem.TOO_LONG),
        ("  " + "a" * NAME_MAX_LEN + "  ", "a" * NAME_MAX_LEN),
        ("", NameProblem.EMPTY),
        ("   \t ", NameProblem.EMPTY),
        (None, NameProblem.EMPTY),
        ("two\nlines", NameProblem.CONTROL),
        ("bell\x07", NameProblem.CONTROL),
        ("sep\u2028x", NameProblem.CONTROL),
        ("👨‍👩‍👧 family", "👨‍👩‍👧 family"),
    ],
)
def test_validate_partner_name(text, expected):
    assert validate_partner_name(text) == expected


@pytest.mark.parametrize(
    ("a", "b", "same"),
    [
        ("Acme  UGC", "acme ugc", True),
        ("  ACME UGC ", "Acme Ugc", True),
        ("Ёлка", "елка", True),
        ("Straße", "STRASSE", True),
        ("Acme", "Acme Co", False),
    ],
)
def test_normalize_name_for_duplicates(a, b, same):
    assert (normalize_name_for_duplicates(a) == normalize_name_for_duplicates(b)) is same


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("https://example.com", "https://example.com"),
        ("http://example.com/a?b=1#c", "http://example.com/a?b=1#c"),
        ("example.com/x", "https://example.com/x"),
        ("  t.me/creator  ", "https://t.me/creator"),
        ("HTTPS://Example.com/P", "https://Example.com/P"),
        ("http://localhost:8080/x", "http://localhost:8080/x"),
        ("localhost", "https://localhost"),
        ("example.com:8080/x", "https://example.com:8080/x"),
        ("https://пример.рф/путь", "https://пример.рф/путь"),
        ("javascript:alert(1)", None),
        ("JavaScript:alert(1)", None),
        ("mailto:a@b.com", None),
        ("ftp://example.com", None),
        ("data:text/html,hi", None),
        ("http://exa mple.com", None),
        ("example.com/a b", None),
        ("http://x", None),
        ("intranet", None),
        ("http://exa..com", None),
        ("http://user@evil.com", None),
        ("https://example.com:99999", None),
        ("https://", None),
        ("", None),
        (None, None),
        ("https://e.co/" + "a" * (URL_MAX_LEN - len("https://e.co/")), "https://e.co/" + "a" * 2035),
        ("https://e.co/" + "a" * (URL_MAX_LEN - len("https://e.co/") + 1), None),
    ],
)
def test_validate_url(text, expected):
    assert validate_url(text) == expected


def test_bare_url_at_limit_may_not_grow_past_it():
    bare = "e.co/" + "a" * (URL_MAX_LEN - len("e.co/"))
    assert len(bare) == URL_MAX_LEN
    assert validate_url(bare) is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("@acme_ugc", "@acme_ugc"),
        ("  tg: @a\nmail: a@b.c  ", "tg: @a\nmail: a@b.c"),
        ("c" * 200, "c" * 200),
        ("c" * 201, None),
        ("", None),
        ("  ", None),
        (None, None),
        ("nul\x00", None),
    ],
)
def test_validate_contact(text, expected):
    assert validate_contact(text) == expected
