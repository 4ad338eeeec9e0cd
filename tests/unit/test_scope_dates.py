"""Start dates of a campaign scope: typed formats, the nearest year for dd.mm, the buttons."""

from __future__ import annotations

from datetime import date

import pytest

from bot.handlers.scope_dates import QuickStart, next_monday, parse_start_date, quick_start

TUESDAY = date(2026, 11, 24)


@pytest.mark.parametrize(
    ("typed", "today", "expected"),
    [
        ("01.12.2026", TUESDAY, date(2026, 12, 1)),
        ("1.12.2026", TUESDAY, date(2026, 12, 1)),
        (" 2026-12-01 ", TUESDAY, date(2026, 12, 1)),
        ("2026-1-5", TUESDAY, date(2026, 1, 5)),
        ("01.12", TUESDAY, date(2026, 12, 1)),
        ("1.12.", TUESDAY, date(2026, 12, 1)),
        ("20.11", TUESDAY, date(2026, 11, 20)),  # a few days ago: this year, not next
        ("05.01", date(2026, 12, 28), date(2027, 1, 5)),  # early January typed in late December
        ("28.12", date(2027, 1, 3), date(2026, 12, 28)),  # late December typed in early January
        ("29.02", date(2028, 1, 10), date(2028, 2, 29)),  # only the leap year has it
        ("31.02.2026", TUESDAY, None),
        ("29.02.2027", TUESDAY, None),
        ("2026-13-01", TUESDAY, None),
        ("00.12.2026", TUESDAY, None),
        ("01.12.2030", TUESDAY, None),  # further than a year away
        ("01.12.2024", TUESDAY, None),
        ("12/01/2026", TUESDAY, None),  # ambiguous: US or European order
        ("tomorrow", TUESDAY, None),
        ("", TUESDAY, None),
        ("０１.１２.２０２６", TUESDAY, None),  # full-width digits are not ASCII
        (None, TUESDAY, None),
    ],
)
def test_parse_start_date(typed: str | None, today: date, expected: date | None) -> None:
    assert parse_start_date(typed, today) == expected


@pytest.mark.parametrize(
    ("today", "expected"),
    [
        (date(2026, 11, 23), date(2026, 11, 30)),  # Monday: the one a week ahead
        (TUESDAY, date(2026, 11, 30)),
        (date(2026, 11, 29), date(2026, 11, 30)),  # Sunday: tomorrow
    ],
)
def test_next_monday(today: date, expected: date) -> None:
    assert next_monday(today) == expected
    assert next_monday(today).weekday() == 0


def test_quick_start_buttons() -> None:
    assert quick_start(QuickStart.TODAY, TUESDAY) == TUESDAY
    assert quick_start(QuickStart.TOMORROW, date(2026, 12, 31)) == date(2027, 1, 1)
    assert quick_start(QuickStart.NEXT_MONDAY, TUESDAY) == date(2026, 11, 30)
