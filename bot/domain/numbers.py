"""The one strict parser for whole numbers a person types or a button carries.

Python is generous with numbers: `"²".isdigit()` is true yet `int("²")` raises, `int("１２")` (full-width) and
`int("٣")` (Arabic-Indic) succeed, `int("5_000")`, `int(" +5 ")` and `int("-0")` too, and `int("9" * 5000)` builds
a huge number before any bound is checked. Here only ASCII digits count, ordinary spaces around them are dropped,
the length is capped before `int()`, and the answer says why a text is not taken, so the prompt can name the range.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

ASCII_DIGITS = frozenset("0123456789")
# Only these are trimmed around a typed number: a no-break space or an ideographic one is not "ordinary".
ORDINARY_SPACES = " \t\r\n"
# SQLite's INTEGER is 64-bit signed: the largest id a button may carry (a bigger one would not even bind to SQL).
ID_MAX = 2**63 - 1
# Input sanity (not in the notes): a list page a button may ask for; far beyond any workspace, and small enough that
# page * page size stays a 64-bit SQL offset.
PAGE_MAX = 100_000
# Input sanity: the largest small count a button carries (ratings 1–5, away weeks up to 12, quality 1–5); each
# handler checks its own exact range and answers a stale-button notice outside it.
SMALL_MAX = 100


class NumberProblem(StrEnum):
    """Why a text is not a number the step takes."""

    NOT_A_NUMBER = "not_a_number"
    TOO_SMALL = "too_small"
    TOO_BIG = "too_big"


@dataclass(frozen=True, slots=True)
class WholeNumber:
    """A parsed whole number, or the problem that kept it from being one (exactly one of the two is set)."""

    value: int | None = None
    problem: NumberProblem | None = None

    @property
    def ok(self) -> bool:
        return self.value is not None


def parse_whole(text: str | None, low: int, high: int) -> WholeNumber:
    """A whole number in low..high written with ASCII digits only (leading zeros fine, no sign, no exponent, no
    separators); a leading ASCII '-' before digits reads as "too small" when negatives are out of range."""
    if low > high:
        raise ValueError(f"empty range {low}..{high}")
    value = (text or "").strip(ORDINARY_SPACES)
    negative = value.startswith("-")
    digits = value[1:] if negative else value
    if not digits or not set(digits) <= ASCII_DIGITS:
        return WholeNumber(problem=NumberProblem.NOT_A_NUMBER)
    significant = digits.lstrip("0") or "0"
    # Longer than the widest bound: out of range whatever the digits, and never handed to int().
    if len(significant) > max(len(str(abs(low))), len(str(abs(high)))):
        return WholeNumber(problem=NumberProblem.TOO_SMALL if negative else NumberProblem.TOO_BIG)
    number = -int(significant) if negative else int(significant)
    if negative and low >= 0:
        return WholeNumber(problem=NumberProblem.TOO_SMALL)  # "-0" too: nobody means zero by it
    if number < low:
        return WholeNumber(problem=NumberProblem.TOO_SMALL)
    if number > high:
        return WholeNumber(problem=NumberProblem.TOO_BIG)
    return WholeNumber(value=number)


def whole_or_none(text: str | None, low: int, high: int) -> int | None:
    """parse_whole's value, or None whatever the problem (for steps with one hint for every bad number)."""
    return parse_whole(text, low, high).value


def spelt_by_bot(value: str, low: int, high: int) -> int | None:
    """A number in low..high exactly as the bot writes one into a button's data (ASCII digits, nothing around
    them), or None: forged or stale data, not something a person typed."""
    try:
        return strict_int(value, low, high)
    except ValueError:
        return None


def strict_int(value: object, low: int, high: int) -> int:
    """An int in low..high from an int (not a bool) or a strict digit string; ValueError otherwise. For data that
    arrives from outside, such as a pressed button's callback data, which a modified client can forge."""
    if isinstance(value, bool):
        raise ValueError("a bool is not a number")
    if isinstance(value, int):
        if low <= value <= high:
            return value
        raise ValueError(f"{value} is outside {low}..{high}")
    if isinstance(value, str) and value.strip(ORDINARY_SPACES) == value:
        parsed = parse_whole(value, low, high)
        if parsed.value is not None:
            return parsed.value
        raise ValueError(f"not a number in {low}..{high}: {parsed.problem}")
    raise ValueError("not a number")
