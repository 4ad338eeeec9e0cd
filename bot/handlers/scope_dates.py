"""Start dates of a campaign scope: what a manager may type or tap, as pure functions of `today`."""

from __future__ import annotations

import re
from datetime import date, timedelta
from enum import StrEnum

# Issue 4 input sanity: a start date this many days before or after today at most (a typo guard).
START_DATE_MAX_DISTANCE_DAYS = 365

_FULL = re.compile(r"(\d{1,2})\.(\d{1,2})\.(\d{4})", re.ASCII)  # dd.mm.yyyy
_SHORT = re.compile(r"(\d{1,2})\.(\d{1,2})\.?", re.ASCII)  # dd.mm (the year is the nearest one)
_ISO = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})", re.ASCII)  # yyyy-mm-dd


class QuickStart(StrEnum):
    """The start-date buttons."""

    TODAY = "today"
    TOMORROW = "tomorrow"
    NEXT_MONDAY = "monday"


def next_monday(today: date) -> date:
    """The first Monday after today (a week ahead when today is a Monday)."""
    return today + timedelta(days=7 - today.weekday())


def quick_start(choice: QuickStart, today: date) -> date:
    """The date a start-date button stands for."""
    if choice is QuickStart.TODAY:
        return today
    if choice is QuickStart.TOMORROW:
        return today + timedelta(days=1)
    return next_monday(today)


def _make(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _nearest_year(day: int, month: int, today: date) -> date | None:
    """dd.mm in the year that puts it closest to today (28.12 typed on 2 January is last December)."""
    candidates = [found for year in (today.year - 1, today.year, today.year + 1) if (found := _make(year, month, day))]
    if not candidates:
        return None
    return min(candidates, key=lambda found: (abs((found - today).days), found < today))


def parse_start_date(text: str | None, today: date) -> date | None:
    """dd.mm.yyyy, dd.mm or yyyy-mm-dd within START_DATE_MAX_DISTANCE_DAYS of today; None otherwise."""
    if text is None:
        return None
    value = text.strip()
    found: date | None = None
    if match := _FULL.fullmatch(value):
        found = _make(int(match.group(3)), int(match.group(2)), int(match.group(1)))
    elif match := _ISO.fullmatch(value):
        found = _make(int(match.group(1)), int(match.group(2)), int(match.group(3)))
    elif match := _SHORT.fullmatch(value):
        found = _nearest_year(int(match.group(1)), int(match.group(2)), today)
    if found is None or abs((found - today).days) > START_DATE_MAX_DISTANCE_DAYS:
        return None
    return found
