"""The weekly check-in's rules: occurrences across DST, catch-up, answers, roster and communication health."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from bot.domain.checkins import (
    HEALTH_WINDOW_ROUNDS,
    MISSED_PROMPT_GRACE,
    MISSED_ROUNDS_FOR_GAP,
    Answer,
    MemberStatus,
    Participant,
    RosterEntry,
    RoundOutcome,
    WeeklyTime,
    answer_rate,
    blocker_or_none,
    classify_roster,
    communication_gap,
    digest_time,
    gap_starts_now,
    health,
    median_delay,
    missed_in_a_row,
    next_occurrence,
    outcome_of,
    parse_answer,
    parse_away_weeks,
    parse_digest_hours,
    parse_time,
    partner_missed,
    previous_occurrence,
    reminder_time,
    resolve_timezone,
    says_yes,
    should_catch_up,
)
from bot.i18n import create_i18n
from bot.plumbing.telegram_limits import MESSAGE_TEXT_MAX, visible_text
from bot.storage.checkins import StoredAnswer
from bot.views.checkin_texts import digest_parts, health_lines


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


MONDAY_9_LA = WeeklyTime(0, 9, 0, "America/Los_Angeles")


@pytest.mark.parametrize(
    ("when", "after", "expected"),
    [
        (WeeklyTime(1, 10, 0, "Europe/Moscow"), utc(2026, 11, 24, 6, 59), utc(2026, 11, 24, 7, 0)),
        (WeeklyTime(1, 10, 0, "Europe/Moscow"), utc(2026, 11, 24, 7, 0), utc(2026, 12, 1, 7, 0)),
        (MONDAY_9_LA, utc(2027, 3, 3), utc(2027, 3, 8, 17, 0)),  # PST, UTC-8
        (MONDAY_9_LA, utc(2027, 3, 8, 17, 0), utc(2027, 3, 15, 16, 0)),  # PDT after 14 March
        (MONDAY_9_LA, utc(2026, 10, 27), utc(2026, 11, 2, 17, 0)),  # back to PST after 1 November
        # 02:30 does not exist on the spring-forward night in New York: it comes at 03:30 EDT.
        (WeeklyTime(6, 2, 30, "America/New_York"), utc(2027, 3, 13), utc(2027, 3, 14, 7, 30)),
        # 01:30 happens twice on the autumn night: the first one (EDT) counts.
        (WeeklyTime(6, 1, 30, "America/New_York"), utc(2026, 10, 31), utc(2026, 11, 1, 5, 30)),
    ],
)
def test_next_occurrence_is_local_wall_time(when: WeeklyTime, after: datetime, expected: datetime) -> None:
    assert next_occurrence(when, after) == expected


def test_previous_occurrence_is_the_latest_at_or_before() -> None:
    assert previous_occurrence(MONDAY_9_LA, utc(2027, 3, 15, 16, 0)) == utc(2027, 3, 15, 16, 0)
    assert previous_occurrence(MONDAY_9_LA, utc(2027, 3, 15, 15, 59)) == utc(2027, 3, 8, 17, 0)


@pytest.mark.parametrize(
    ("late", "sent"),
    [(timedelta(0), True), (timedelta(hours=2), True), (MISSED_PROMPT_GRACE - timedelta(seconds=1), True),
     (MISSED_PROMPT_GRACE, False), (timedelta(hours=20), False), (timedelta(seconds=-1), False)],
)
def test_a_missed_prompt_is_caught_up_only_within_the_grace(late: timedelta, sent: bool) -> None:
    due = utc(2026, 12, 3, 7, 0)
    assert should_catch_up(due, due + late) is sent


def test_the_reminder_comes_halfway_to_the_digest() -> None:
    sent = utc(2026, 11, 25, 15, 30)
    assert reminder_time(sent, 24) == utc(2026, 11, 26, 3, 30)
    assert reminder_time(sent, 12) == utc(2026, 11, 25, 21, 30)
    assert digest_time(sent, 24) == utc(2026, 11, 26, 15, 30)


@pytest.mark.parametrize(
    ("text", "expected"),
    [("9:30", (9, 30)), ("09.30", (9, 30)), ("18ч00", (18, 0)), ("18", (18, 0)), ("23:59", (23, 59)),
     ("24:00", None), ("9:7", None), ("noon", None), ("", None)],
)
def test_parse_time(text: str, expected: tuple[int, int] | None) -> None:
    assert parse_time(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [("Europe/Moscow", "Europe/Moscow"), ("america/new_york", "America/New_York"), (" Asia/Almaty ", "Asia/Almaty"),
     ("Mars/Base", None), ("../../etc/passwd", None), ("", None), ("x" * 100, None)],
)
def test_typed_time_zones_are_checked_against_the_database(text: str, expected: str | None) -> None:
    assert resolve_timezone(text) == expected


def test_digest_hours_and_away_weeks() -> None:
    assert parse_digest_hours("24") == 24 and parse_digest_hours("48h") == 48
    assert parse_digest_hours("0") is None and parse_digest_hours("145") is None and parse_digest_hours("x") is None
    assert parse_away_weeks("2") == 2 and parse_away_weeks("0") == 0 and parse_away_weeks("back") == 0
    assert parse_away_weeks("13") is None and parse_away_weeks("soon") is None and parse_away_weeks(None) is None


@pytest.mark.parametrize(
    ("text", "shipped", "next_", "blockers", "call"),
    [
        ("1. Landing page\n2. Videos\n3. none\n4. no", "Landing page", "Videos", None, False),
        ("Shipped: X\nNext: Y\nBlockers: waiting on the brief\nCall: yes", "X", "Y", "waiting on the brief", True),
        ("X\nY\nZ\nyes", "X", "Y", "Z", True),
        ("Shipped two videos, all good", "Shipped two videos, all good", None, None, False),
        ("We need a call about the budget", "We need a call about the budget", None, None, True),
        ("all good, no call needed", "all good, no call needed", None, None, False),
        ("Сделали: ролики\nДальше: монтаж\nБлокеры: нет\nСозвон: да", "ролики", "монтаж", None, True),
        ("Отгрузили ролики. Нужен созвон по бюджету", "Отгрузили ролики. Нужен созвон по бюджету", None, None, True),
        ("Blockers:\n- contract unsigned\n- no brief", None, None, "contract unsigned / no brief", False),
    ],
)
def test_parse_answer(text: str, shipped: str | None, next_: str | None, blockers: str | None, call: bool) -> None:
    answer = parse_answer(text)
    assert (answer.shipped, answer.next, answer.blockers, answer.needs_call) == (shipped, next_, blockers, call)


def test_yes_and_no_blockers() -> None:
    assert says_yes("да, давайте") and says_yes("Yes please") and not says_yes("no") and not says_yes(None)
    assert blocker_or_none("нет блокеров") is None and blocker_or_none("None") is None
    assert blocker_or_none("No access to the brand's account yet") == "No access to the brand's account yet"


def test_roster_counts_away_members_apart_and_measures_delay() -> None:
    sent, closes = utc(2026, 11, 25, 15, 30), utc(2026, 11, 26, 15, 30)
    people = [
        Participant(1, "Anna"),
        Participant(2, "Bob"),
        Participant(3, "Carl", away_from=utc(2026, 11, 20), away_until=utc(2026, 12, 4)),
        Participant(4, "Dana", away_from=utc(2026, 11, 1), away_until=utc(2026, 11, 15)),  # back before the round
    ]
    answered = {2: ("Bob", sent + timedelta(hours=3)), 5: ("Eve", sent + timedelta(hours=1))}
    entries = classify_roster(people, answered, frozenset({1}), sent, closes)
    by_name = {e.name: e for e in entries}
    assert [e.name for e in entries] == ["Anna", "Bob", "Carl", "Dana", "Eve"]
    assert by_name["Carl"].status is MemberStatus.AWAY and by_name["Dana"].status is MemberStatus.MISSING
    assert by_name["Bob"].delay == timedelta(hours=3) and by_name["Bob"].partner_side
    assert not by_name["Anna"].partner_side
    outcome = outcome_of(entries)
    assert outcome == RoundOutcome(expected=4, answered=2, partner_expected=3, partner_answered=2,
                                   delays=(timedelta(hours=3), timedelta(hours=1)))


def outcome(answered: int, expected: int = 3, partner_answered: int | None = None, hours: float = 2) -> RoundOutcome:
    partner = answered if partner_answered is None else partner_answered
    return RoundOutcome(expected, answered, 2, min(partner, 2), tuple(timedelta(hours=hours) for _ in range(answered)))


def test_two_missed_rounds_in_a_row_by_the_partner_side_is_a_gap() -> None:
    assert MISSED_ROUNDS_FOR_GAP == 2
    ours_only = outcome(1, partner_answered=0)
    assert partner_missed(ours_only)
    assert not communication_gap([outcome(2), ours_only])
    assert communication_gap([outcome(2), ours_only, ours_only])
    assert gap_starts_now([outcome(2), ours_only, ours_only])
    assert not gap_starts_now([ours_only, ours_only, ours_only])  # logged once, when the streak reaches two
    assert missed_in_a_row([ours_only, ours_only, outcome(2)]) == 0
    # Nobody from the partner's side known yet: a round nobody answered counts as missed.
    assert partner_missed(RoundOutcome(1, 0, 0, 0)) and not partner_missed(RoundOutcome(1, 1, 0, 0))
    assert not partner_missed(RoundOutcome(0, 0, 0, 0))


def test_health_uses_the_last_eight_rounds() -> None:
    assert HEALTH_WINDOW_ROUNDS == 8
    old = [outcome(0, hours=50) for _ in range(4)]
    recent = [outcome(3, hours=1)] * 6 + [outcome(0), outcome(0)]
    result = health(old + recent)
    assert result.rounds == 8
    assert result.answer_rate == pytest.approx(18 / 24)
    assert result.median_delay == timedelta(hours=1)
    assert result.missed_in_a_row == 2 and result.gap
    assert answer_rate([]) is None and median_delay([outcome(0)]) is None


def test_a_long_digest_is_split_under_telegrams_limit_and_suggests_no_call_unasked() -> None:
    sent = utc(2026, 11, 25, 15, 30)
    i18n = create_i18n("en")
    entries = [RosterEntry(i, f"Member {i}", MemberStatus.ANSWERED, True, timedelta(hours=1)) for i in range(60)]
    answers = [
        StoredAnswer(i, f"Member {i}", Answer("shipped " * 40, "next " * 60, "blocked " * 25, False), None, sent)
        for i in range(60)
    ]
    with i18n.context(), i18n.use_locale("en"):
        parts = digest_parts("BlueWave", sent, entries, answers, None, "en", final=True)
        call = replace(answers[0], answer=replace(answers[0].answer, needs_call=True))
        asked = digest_parts("BlueWave", sent, entries[:1], [call], None, "en", final=True)
    assert len(parts) > 1 and all(len(visible_text(part)) <= MESSAGE_TEXT_MAX for part in parts)
    assert "asked for a call" not in "".join(parts) and "Member 0 asked for a call" in "".join(asked)
    with i18n.context(), i18n.use_locale("ru"):
        lines = health_lines(health([outcome(3, hours=3), outcome(0), outcome(0)]), "ru")
    assert lines[0].startswith("📡 Чек-ины за последние 3 раунда") and "3 часа" in lines[0]
    assert "2 чек-ина подряд" in lines[1]

