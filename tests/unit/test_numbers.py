"""The strict number parser (bot/domain/numbers.py) and every typed-number step that uses it."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from bot.domain.campaigns import parse_creators, parse_days, parse_revision_limit
from bot.domain.checkins import parse_away_weeks, parse_digest_hours, parse_time
from bot.domain.evidence import parse_months as parse_case_months
from bot.domain.numbers import ID_MAX, NumberProblem, WholeNumber, parse_whole, strict_int, whole_or_none
from bot.domain.references import parse_months as parse_reference_months
from bot.domain.references import parse_rating as parse_reference_rating
from bot.domain.scorecard import parse_rating as parse_score_rating

NOT, SMALL, BIG = NumberProblem.NOT_A_NUMBER, NumberProblem.TOO_SMALL, NumberProblem.TOO_BIG
# Inputs Python's own int() or str.isdigit() get wrong, and none of which any step may take.
TRICKY = ("²", "٣", "１２", "-0", "1e3", "99999999999999999999", "+5", "5_000", "5.0", "0x10", "\u00a05", "5\u3000",
          "\u200b5", "5\u200b", "", " ", "-", "--5", "٣٣", "𝟓", "Ⅴ", "five", "пять", "\u202e5")


@pytest.mark.parametrize(
    ("text", "low", "high", "expected"),
    [
        ("5", 1, 5, WholeNumber(value=5)),
        (" 5 ", 1, 5, WholeNumber(value=5)),
        ("\t3\n", 1, 5, WholeNumber(value=3)),
        ("05", 1, 5, WholeNumber(value=5)),
        ("0", 0, 12, WholeNumber(value=0)),
        ("000000000000000000000000000007", 0, 12, WholeNumber(value=7)),
        ("0", 1, 5, WholeNumber(problem=SMALL)),
        ("6", 1, 5, WholeNumber(problem=BIG)),
        ("10", 1, 5, WholeNumber(problem=BIG)),
        ("99999999999999999999", 1, 5, WholeNumber(problem=BIG)),
        ("9" * 5000, 0, ID_MAX, WholeNumber(problem=BIG)),
        (str(ID_MAX), 0, ID_MAX, WholeNumber(value=ID_MAX)),
        (str(ID_MAX + 1), 0, ID_MAX, WholeNumber(problem=BIG)),
        ("-1", 0, 12, WholeNumber(problem=SMALL)),
        ("-0", 0, 12, WholeNumber(problem=SMALL)),
        ("-99999999999999999999", 0, 12, WholeNumber(problem=SMALL)),
        ("-3", -5, 5, WholeNumber(value=-3)),
        ("²", 0, 12, WholeNumber(problem=NOT)),
        ("٣", 0, 12, WholeNumber(problem=NOT)),
        ("１２", 0, 12, WholeNumber(problem=NOT)),
        ("1e3", 0, 10_000, WholeNumber(problem=NOT)),
        ("+5", 0, 12, WholeNumber(problem=NOT)),
        ("5_000", 0, 10_000, WholeNumber(problem=NOT)),
        ("\u00a05", 0, 12, WholeNumber(problem=NOT)),
        ("\u200b5", 0, 12, WholeNumber(problem=NOT)),
        ("", 0, 12, WholeNumber(problem=NOT)),
        (None, 0, 12, WholeNumber(problem=NOT)),
    ],
)
def test_parse_whole(text: str | None, low: int, high: int, expected: WholeNumber) -> None:
    assert parse_whole(text, low, high) == expected
    assert whole_or_none(text, low, high) == expected.value
    assert parse_whole(text, low, high).ok is (expected.value is not None)


def test_an_empty_range_is_a_programming_error() -> None:
    with pytest.raises(ValueError):
        parse_whole("1", 5, 1)


@pytest.mark.parametrize(
    ("value", "expected"),
    [(5, 5), ("5", 5), ("05", 5), (0, 0), (ID_MAX, ID_MAX), (str(ID_MAX), ID_MAX)],
)
def test_strict_int_takes_the_bots_own_spelling(value: object, expected: int) -> None:
    assert strict_int(value, 0, ID_MAX) == expected


@pytest.mark.parametrize(
    "value", [True, False, -1, ID_MAX + 1, " 5", "5 ", 5.0, None, b"5", *TRICKY],
)
def test_strict_int_refuses_everything_else(value: object) -> None:
    with pytest.raises(ValueError):
        strict_int(value, 0, ID_MAX)


STEPS: list[tuple[str, Callable[[str], object], str, object]] = [
    ("creators", parse_creators, "2", 2),
    ("days", parse_days, "14", 14),
    ("revisions", parse_revision_limit, "0", 0),
    ("case months", parse_case_months, "8", 8),
    ("reference months", parse_reference_months, "8", 8),
    ("reference rating", parse_reference_rating, "4", 4),
    ("scorecard rating", parse_score_rating, "4", 4),
    ("digest hours", parse_digest_hours, "24", 24),
    ("away weeks", parse_away_weeks, "2", 2),
    ("check-in time", parse_time, "9", (9, 0)),
]


@pytest.mark.parametrize(("name", "parse", "good", "value"), STEPS, ids=[s[0] for s in STEPS])
@pytest.mark.parametrize("tricky", TRICKY)
def test_every_typed_number_step_refuses_tricky_digits(
    name: str, parse: Callable[[str], object], good: str, value: object, tricky: str
) -> None:
    assert parse(good) == value
    assert parse(tricky) is None, f"{name} took {tricky!r}"


def test_away_weeks_reads_the_first_word_only() -> None:
    assert parse_away_weeks("2 weeks") == 2 and parse_away_weeks("2 недели") == 2
    assert parse_away_weeks("²") is None and parse_away_weeks("２ weeks") is None and parse_away_weeks("-1") is None


@pytest.mark.parametrize("text", ["１２:３０", "١٢:٣٠", "12:3٠", "²:30", "12\u00a0:30", "１２"])
def test_check_in_time_takes_ascii_digits_only(text: str) -> None:
    assert parse_time(text) is None


@pytest.mark.parametrize(("text", "expected"), [("18Ч00", (18, 0)), ("18ч00", (18, 0)), ("18H00", (18, 0))])
def test_check_in_time_separators_in_either_case(text: str, expected: tuple[int, int]) -> None:
    assert parse_time(text) == expected
