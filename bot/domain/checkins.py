"""The weekly async check-in: when it falls due, what an answer says, and what the rhythm says about a partner.

Field notes: "weekly but async-first ... синхронные звонки только когда нужно решить сложный вопрос" and
"Communication gaps (async or sync doesn't matter; consistency does)". Pure functions: no I/O, no Telegram.
"""

from __future__ import annotations

import re
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from bot.domain.numbers import ORDINARY_SPACES, whole_or_none

# ---- Scheduling ---------------------------------------------------------------------------------------

# Field notes "weekly but async-first": one prompt a week, on the weekday and local time the group chose.
DAYS_IN_WEEK = 7
# Issue 6 "sent once on start if it is less than 12 hours late": an older missed prompt is skipped.
MISSED_PROMPT_GRACE = timedelta(hours=12)
# Issue 6 "how many hours until the digest (default 24)".
DEFAULT_DIGEST_HOURS = 24
# The digest must come before next week's prompt (a week is 168 h); leave a day of margin.
DIGEST_HOURS_MAX = 144
DIGEST_HOURS_MIN = 1
# Issue 6 "halfway to the digest the bot posts one gentle reminder": the reminder's place in the window.
REMINDER_FRACTION = 0.5
# Issue 6 "/away for N weeks": the longest absence one command sets (a quarter); 0 means "I'm back".
AWAY_WEEKS_MAX = 12

# ---- Communication health -----------------------------------------------------------------------------

# Issue 6 "answer rate and median answer delay over the last 8 rounds": the health window.
HEALTH_WINDOW_ROUNDS = 8
# Field notes "Communication gaps ... consistency does": two missed rounds in a row by the partner's side.
MISSED_ROUNDS_FOR_GAP = 2

# The three zones offered as buttons: the markets' capitals of the method (RU, US east, US west coast).
MOSCOW = "Europe/Moscow"
NEW_YORK = "America/New_York"
LOS_ANGELES = "America/Los_Angeles"
ZONE_CHOICES = (MOSCOW, NEW_YORK, LOS_ANGELES)
# Where a weekly time is always shown too: "the point is to find the overlap" (PRODUCT.md).
OVERLAP_ZONES = (MOSCOW, NEW_YORK)

# re.ASCII: "\d" would also take "١٢" or "１２", and int() reads them.
_TIME = re.compile(r"^\s*([01]?\d|2[0-3])\s*[:.hHчЧ]\s*([0-5]\d)\s*$", re.ASCII)
_HOUR_ONLY = re.compile(r"^\s*([01]?\d|2[0-3])\s*$", re.ASCII)


@dataclass(frozen=True, slots=True)
class WeeklyTime:
    """A weekday (Monday = 0) and a wall-clock time in an IANA time zone."""

    weekday: int
    hour: int
    minute: int
    timezone: str

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


def occurrence_on(day: date, when: WeeklyTime) -> datetime:
    """The UTC moment of `when`'s wall time on a local date.

    A wall time skipped by a DST jump (02:30 on the spring-forward night) lands after the jump (03:30);
    a repeated one (the autumn night) is taken the first time it happens.
    """
    local = datetime(day.year, day.month, day.day, when.hour, when.minute, tzinfo=when.zone)
    return local.astimezone(UTC)


def next_occurrence(when: WeeklyTime, after: datetime) -> datetime:
    """The first prompt strictly after `after` (UTC)."""
    local_day = after.astimezone(when.zone).date()
    for offset in range(DAYS_IN_WEEK + 1):
        day = local_day + timedelta(days=offset)
        if day.weekday() == when.weekday:
            moment = occurrence_on(day, when)
            if moment > after:
                return moment
    raise AssertionError("a weekday recurs within eight days")  # pragma: no cover


def previous_occurrence(when: WeeklyTime, at: datetime) -> datetime:
    """The latest prompt at or before `at` (UTC)."""
    local_day = at.astimezone(when.zone).date()
    for offset in range(DAYS_IN_WEEK + 1):
        day = local_day - timedelta(days=offset)
        if day.weekday() == when.weekday:
            moment = occurrence_on(day, when)
            if moment <= at:
                return moment
    raise AssertionError("a weekday recurs within eight days")  # pragma: no cover


def should_catch_up(occurrence: datetime, now: datetime) -> bool:
    """A prompt that fell due while the bot was down is still worth sending."""
    return timedelta(0) <= now - occurrence < MISSED_PROMPT_GRACE


def reminder_time(sent_at: datetime, digest_hours: int) -> datetime:
    """Halfway between the prompt and its digest."""
    return sent_at + timedelta(hours=digest_hours) * REMINDER_FRACTION


def digest_time(sent_at: datetime, digest_hours: int) -> datetime:
    return sent_at + timedelta(hours=digest_hours)


def parse_time(text: str) -> tuple[int, int] | None:
    """"9:30", "09.30", "18h00", "18" → (hour, minute); anything else → None."""
    match = _TIME.match(text)
    if match:
        return int(match.group(1)), int(match.group(2))
    match = _HOUR_ONLY.match(text)
    return (int(match.group(1)), 0) if match else None


@cache
def _zones_by_lower_name() -> dict[str, str]:
    return {name.lower(): name for name in available_timezones()}


def resolve_timezone(text: str) -> str | None:
    """A typed IANA name ("europe/berlin" is fine) → its canonical spelling; unknown names → None."""
    name = text.strip().replace(" ", "_")
    if not name or len(name) > 64:
        return None
    canonical = _zones_by_lower_name().get(name.lower())
    if canonical is None:
        return None
    try:
        ZoneInfo(canonical)
    except (ZoneInfoNotFoundError, ValueError):
        return None
    return canonical


def parse_digest_hours(text: str) -> int | None:
    """"24", "48h", "48 ч" → hours in DIGEST_HOURS_MIN..DIGEST_HOURS_MAX; anything else → None."""
    value = text.strip(ORDINARY_SPACES).lower().removesuffix("h").removesuffix("ч")
    return whole_or_none(value, DIGEST_HOURS_MIN, DIGEST_HOURS_MAX)


def parse_away_weeks(text: str | None) -> int | None:
    """"/away 2" (or "2 weeks") → 2; "0", "back", "вернулся" → 0 (back); anything else → None."""
    value = (text or "").strip(ORDINARY_SPACES).lower()
    if value in {"back", "off", "вернулся", "вернулась", "назад"}:
        return 0
    value = value.split(" ", 1)[0]
    return whole_or_none(value, 0, AWAY_WEEKS_MAX)


# ---- Answers ------------------------------------------------------------------------------------------

ANSWER_FIELDS = ("shipped", "next", "blockers", "call")
_LABELS = {
    "shipped": ("shipped", "done", "did", "отгрузили", "сделали", "сделано", "готово"),
    "next": ("next", "next up", "plans", "дальше", "далее", "план", "планы", "следующее"),
    "blockers": ("blockers", "blocker", "blocked", "blocking", "блокеры", "блокер", "проблемы", "мешает"),
    "call": ("call", "sync", "sync call", "созвон", "звонок", "нужен созвон", "need a call"),
}
_LABEL = re.compile(
    r"^\s*(?:[-•*]\s*)?(?:(?P<number>[1-4])\s*[.)]\s*)?(?:(?P<label>"
    + "|".join(sorted((re.escape(w) for ws in _LABELS.values() for w in ws), key=len, reverse=True))
    + r")\s*[:\-—–?]+\s*)?(?P<rest>.*)$",
    re.IGNORECASE,
)
_YES = frozenset({"yes", "y", "yep", "yeah", "sure", "need", "needed", "please", "+", "✅", "👍", "да", "ага",
                  "нужен", "нужна", "нужно", "надо", "давайте", "давай", "хотим"})
_NONE = frozenset({"no", "none", "nope", "nothing", "n/a", "na", "-", "—", "–", "0", "нет", "ничего", "нету",
                   "не", "никаких", "ok", "ок"})
_CALL_REQUEST = re.compile(
    r"\b(need|needs|want|let'?s have|let'?s do|book|schedule)\b[^.!?\n]{0,20}\b(call|sync|meeting)\b"
    r"|\b(нуж\w*|надо|давайте|хотим|предлагаю)\s+(бы\s+)?(созвон\w*|звон\w*|встрет\w*|встреч\w*|колл\w*)",
    re.IGNORECASE,
)
_NO_CALL = re.compile(r"\b(no|not|don'?t|без|не)\b[^.!?\n]{0,12}(call|sync|созвон|звон)", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Answer:
    """One member's answer to one round."""

    shipped: str | None
    next: str | None
    blockers: str | None
    needs_call: bool


def _first_word(text: str) -> str:
    words = text.strip().lower().split()
    return words[0].strip(".,!;:()") if words else ""


def says_yes(text: str | None) -> bool:
    """The answer to "do we need a call?"."""
    if not text:
        return False
    if _NO_CALL.search(text):
        return False
    return _first_word(text) in _YES or bool(_CALL_REQUEST.search(text))


def blocker_or_none(text: str | None) -> str | None:
    """"no", "none", "нет блокеров" → no blocker; anything else is the blocker itself."""
    if text is None or not text.strip():
        return None
    words = text.strip().lower().split()
    if _first_word(text) in _NONE and len(words) <= 3:
        return None
    return text.strip()


def parse_answer(text: str) -> Answer:
    """Read a free-text reply to the prompt: numbered or labelled lines map to the four questions,
    unlabelled lines fill them in order; a single line is what shipped, and a call is asked for only
    when the reply says so."""
    fields: dict[str, list[str]] = {name: [] for name in ANSWER_FIELDS}
    unlabelled: list[str] = []
    current: str | None = None
    for line in (line for line in text.strip().splitlines() if line.strip()):
        match = _LABEL.match(line)
        assert match is not None  # every part of the pattern is optional
        rest = match.group("rest").strip()
        if match.group("label"):
            label = match.group("label").lower()
            current = next(name for name, words in _LABELS.items() if label in words)
        elif match.group("number"):
            current = ANSWER_FIELDS[int(match.group("number")) - 1]
        elif current is None:
            unlabelled.append(rest)
            continue
        if rest:
            fields[current].append(rest)  # a labelled line, or one continuing the label above it
    if len(unlabelled) == 1:
        fields["shipped"].insert(0, unlabelled[0])
    else:
        free = iter(name for name in ANSWER_FIELDS if not fields[name])
        for line in unlabelled:
            fields[next(free, "shipped")].append(line)

    def joined(name: str) -> str | None:
        value = " / ".join(part for part in fields[name] if part)
        return value or None

    call_text = joined("call")
    needs_call = says_yes(call_text) if call_text is not None else bool(_CALL_REQUEST.search(text))
    if _NO_CALL.search(text) and call_text is None:
        needs_call = False
    return Answer(joined("shipped"), joined("next"), blocker_or_none(joined("blockers")), needs_call)


# ---- Rounds and communication health ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RoundOutcome:
    """A closed round as the health rules read it; away members are in neither count."""

    expected: int
    answered: int
    partner_expected: int
    partner_answered: int
    delays: tuple[timedelta, ...] = ()


@dataclass(frozen=True, slots=True)
class CommunicationHealth:
    rounds: int
    answer_rate: float | None  # 0..1; None when nobody was expected to answer
    median_delay: timedelta | None
    missed_in_a_row: int
    gap: bool


def partner_missed(outcome: RoundOutcome) -> bool:
    """The partner's side sent nothing in a round where someone of theirs was expected.

    When the bot knows nobody from the partner's side yet, a round nobody answered counts as missed."""
    if outcome.partner_expected:
        return outcome.partner_answered == 0
    return outcome.expected > 0 and outcome.answered == 0


def missed_in_a_row(rounds: Sequence[RoundOutcome]) -> int:
    """Rounds missed by the partner's side at the end of the list (oldest first)."""
    count = 0
    for outcome in reversed(rounds):
        if not partner_missed(outcome):
            break
        count += 1
    return count


def communication_gap(rounds: Sequence[RoundOutcome]) -> bool:
    """Field notes "Communication gaps": two missed rounds in a row by the partner's side."""
    return missed_in_a_row(rounds) >= MISSED_ROUNDS_FOR_GAP


def answer_rate(rounds: Sequence[RoundOutcome]) -> float | None:
    window = list(rounds)[-HEALTH_WINDOW_ROUNDS:]
    expected = sum(r.expected for r in window)
    return None if expected == 0 else sum(r.answered for r in window) / expected


def median_delay(rounds: Sequence[RoundOutcome]) -> timedelta | None:
    delays = [d for r in list(rounds)[-HEALTH_WINDOW_ROUNDS:] for d in r.delays]
    if not delays:
        return None
    return timedelta(seconds=statistics.median(d.total_seconds() for d in delays))


def health(rounds: Sequence[RoundOutcome]) -> CommunicationHealth:
    """The partnership's communication health over its last rounds (oldest first)."""
    window = list(rounds)[-HEALTH_WINDOW_ROUNDS:]
    streak = missed_in_a_row(rounds)
    return CommunicationHealth(
        rounds=len(window),
        answer_rate=answer_rate(window),
        median_delay=median_delay(window),
        missed_in_a_row=streak,
        gap=streak >= MISSED_ROUNDS_FOR_GAP,
    )


def gap_starts_now(rounds: Sequence[RoundOutcome]) -> bool:
    """True exactly when the latest round makes the streak reach the gap, so a gap is logged once."""
    return missed_in_a_row(rounds) == MISSED_ROUNDS_FOR_GAP


def away_during(away_from: datetime | None, away_until: datetime | None, start: datetime, end: datetime) -> bool:
    """Someone away for any part of a round's window is not counted as missing."""
    if away_until is None:
        return False
    return away_until > start and (away_from is None or away_from <= end)


class MemberStatus(StrEnum):
    ANSWERED = "answered"
    MISSING = "missing"
    AWAY = "away"


@dataclass(frozen=True, slots=True)
class Participant:
    """Someone the bot has seen in the group (privacy mode shows it nobody else)."""

    user_id: int
    name: str
    away_from: datetime | None = None
    away_until: datetime | None = None


@dataclass(frozen=True, slots=True)
class RosterEntry:
    user_id: int
    name: str
    status: MemberStatus
    partner_side: bool
    delay: timedelta | None = None


def classify_roster(
    participants: Sequence[Participant],
    answered_at: dict[int, tuple[str, datetime]],
    our_side: set[int] | frozenset[int],
    sent_at: datetime,
    closes_at: datetime,
) -> list[RosterEntry]:
    """Who answered (and how late), who is away for this round, who did not answer; by name."""
    entries: dict[int, RosterEntry] = {}
    for person in participants:
        if person.user_id in answered_at:
            continue
        status = (
            MemberStatus.AWAY
            if away_during(person.away_from, person.away_until, sent_at, closes_at)
            else MemberStatus.MISSING
        )
        entries[person.user_id] = RosterEntry(person.user_id, person.name, status, person.user_id not in our_side)
    for user_id, (name, moment) in answered_at.items():
        delay = max(moment - sent_at, timedelta(0))
        entries[user_id] = RosterEntry(user_id, name, MemberStatus.ANSWERED, user_id not in our_side, delay)
    return sorted(entries.values(), key=lambda e: (e.name.casefold(), e.user_id))


def outcome_of(entries: Sequence[RosterEntry]) -> RoundOutcome:
    counted = [e for e in entries if e.status is not MemberStatus.AWAY]
    answered = [e for e in counted if e.status is MemberStatus.ANSWERED]
    return RoundOutcome(
        expected=len(counted),
        answered=len(answered),
        partner_expected=sum(e.partner_side for e in counted),
        partner_answered=sum(e.partner_side for e in answered),
        delays=tuple(e.delay for e in answered if e.delay is not None),
    )
