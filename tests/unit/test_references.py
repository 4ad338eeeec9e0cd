"""References: the red-flag rule, the aggregation on the card, link states and the questionnaire's order."""

from datetime import UTC, datetime, timedelta

import pytest

from bot.domain.references import (
    DIMENSIONS,
    EDITABLE_STEPS,
    MIN_PLAUSIBLE_SECONDS,
    RED_FLAG_RELIABILITY_MAX,
    Again,
    Dimension,
    Duration,
    LinkStatus,
    Reference,
    Step,
    count_links,
    duration_of,
    is_bare_number,
    is_red_flag,
    is_too_fast,
    link_status,
    looks_like_token,
    next_step,
    parse_months,
    parse_rating,
    previous_step,
    summarize,
)

D = Dimension
NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)


def ratings(consistency=4, respect=4, reliability=4, growth=4):
    return {D.CONSISTENCY: consistency, D.RESPECT: respect, D.RELIABILITY: reliability, D.GROWTH: growth}


def ref(again=Again.YES, seconds=300.0, **scores):
    return Reference(ratings=ratings(**scores), again=again, seconds_taken=seconds)


@pytest.mark.parametrize(
    ("reliability", "again", "flag"),
    [
        (5, Again.YES, False),
        (3, Again.YES, False),
        (3, Again.MAYBE, False),
        (RED_FLAG_RELIABILITY_MAX, Again.YES, True),  # reliability 2 is a flag
        (1, Again.YES, True),
        (5, Again.NO, True),  # "no" to working again is a flag whatever the ratings
        (1, Again.NO, True),
    ],
)
def test_red_flag_rule(reliability, again, flag):
    assert is_red_flag(ratings(reliability=reliability), again) is flag
    assert ref(again=again, reliability=reliability).red_flag is flag


@pytest.mark.parametrize(
    ("seconds", "fast"),
    [(None, False), (0, True), (MIN_PLAUSIBLE_SECONDS - 0.5, True), (MIN_PLAUSIBLE_SECONDS, False), (600, False)],
)
def test_implausibly_fast(seconds, fast):
    assert is_too_fast(seconds) is fast


def test_nothing_to_summarize():
    assert summarize([]) is None


@pytest.mark.parametrize(
    ("references", "count", "averages", "again_share", "red_flags", "too_fast"),
    [
        ([ref()], 1, {D.CONSISTENCY: 4, D.RESPECT: 4, D.RELIABILITY: 4, D.GROWTH: 4}, 1.0, (), ()),
        (
            [ref(consistency=5, respect=4, reliability=5, growth=4), ref(again=Again.NO, consistency=3, reliability=2)],
            2,
            {D.CONSISTENCY: 4.0, D.RESPECT: 4.0, D.RELIABILITY: 3.5, D.GROWTH: 4.0},
            0.5,
            (2,),
            (),
        ),
        (
            [ref(again=Again.MAYBE), ref(seconds=12), ref(again=Again.NO, seconds=5, growth=1)],
            3,
            {D.CONSISTENCY: 4, D.RESPECT: 4, D.RELIABILITY: 4, D.GROWTH: 3.0},
            1 / 3,  # "maybe" is not a yes
            (3,),
            (2, 3),
        ),
        (
            [ref(reliability=1), ref(reliability=2), ref(reliability=3)],
            3,
            {D.CONSISTENCY: 4, D.RESPECT: 4, D.RELIABILITY: 2.0, D.GROWTH: 4},
            1.0,
            (1, 2),
            (),
        ),
    ],
)
def test_summary(references, count, averages, again_share, red_flags, too_fast):
    summary = summarize(references)
    assert summary is not None
    assert summary.count == count
    assert summary.averages == pytest.approx(averages)
    assert summary.again_share == pytest.approx(again_share)
    assert summary.red_flags == red_flags
    assert summary.too_fast == too_fast
    assert sum(summary.again_counts.values()) == count


def test_summary_counts_each_answer_to_work_again():
    summary = summarize([ref(), ref(again=Again.MAYBE), ref(again=Again.NO), ref()])
    assert summary is not None
    assert summary.again_counts == {Again.YES: 2, Again.MAYBE: 1, Again.NO: 1}


EXPIRES = NOW + timedelta(days=14)


@pytest.mark.parametrize(
    ("kwargs", "status"),
    [
        ({"exists": False}, LinkStatus.UNKNOWN),
        ({}, LinkStatus.SENT),
        ({"opened_at": NOW}, LinkStatus.OPENED),
        ({"now": EXPIRES}, LinkStatus.EXPIRED),
        ({"now": EXPIRES, "opened_at": NOW}, LinkStatus.EXPIRED),
        ({"now": EXPIRES, "opened_at": NOW, "started": True}, LinkStatus.OPENED),  # may finish what was started
        ({"revoked_at": NOW}, LinkStatus.REVOKED),
        ({"revoked_at": NOW, "started": True}, LinkStatus.REVOKED),  # a revoke stops even a started one
        ({"answered_at": NOW}, LinkStatus.ANSWERED),
        ({"answered_at": NOW, "revoked_at": NOW, "now": EXPIRES}, LinkStatus.ANSWERED),
    ],
)
def test_link_status(kwargs, status):
    args = {
        "exists": True,
        "expires_at": EXPIRES,
        "revoked_at": None,
        "opened_at": None,
        "answered_at": None,
        "now": NOW,
        **kwargs,
    }
    assert link_status(**args) is status
    assert status.usable is (status in (LinkStatus.SENT, LinkStatus.OPENED))


def test_link_counts():
    statuses = [LinkStatus.SENT, LinkStatus.OPENED, LinkStatus.ANSWERED, LinkStatus.EXPIRED, LinkStatus.REVOKED]
    counts = count_links(statuses, [False, True, True, True, False])
    assert (counts.sent, counts.opened, counts.answered, counts.expired, counts.revoked) == (5, 3, 1, 1, 1)


@pytest.mark.parametrize(
    ("months", "bucket"),
    [(0, Duration.UNDER_3), (2, Duration.UNDER_3), (3, Duration.FROM_3), (5, Duration.FROM_3),
     (6, Duration.FROM_6), (11, Duration.FROM_6), (12, Duration.FROM_12), (40, Duration.FROM_12)],
)
def test_duration_buckets(months, bucket):
    assert duration_of(months) is bucket


def test_only_a_bare_number_is_taken_for_a_late_rating():
    assert all(is_bare_number(text) for text in ("4", " 5 ", "+3", "4.5", "4,5"))
    assert not any(is_bare_number(text) for text in (None, "", "4 stars", "5/5", "good", "две"))


@pytest.mark.parametrize(
    ("text", "months"), [("8", 8), (" 12 ", 12), ("0", 0), ("600", 600), ("601", None), ("8 months", None),
                         ("-3", None), ("", None), (None, None)]
)
def test_parse_months(text, months):
    assert parse_months(text) == months


@pytest.mark.parametrize(("text", "rating"), [("1", 1), (" 5 ", 5), ("0", None), ("6", None), ("45", None),
                                              ("five", None), (None, None)])
def test_parse_rating(text, rating):
    assert parse_rating(text) == rating


def test_token_shape():
    assert looks_like_token("A" * 32)
    assert looks_like_token("abc_DEF-123" * 3)
    assert not looks_like_token("short")
    assert not looks_like_token("x" * 61)
    assert not looks_like_token("a" * 20 + "!")


def test_questionnaire_order_and_editing():
    assert [s for s in Step if s.is_rating] == [Step.CONSISTENCY, Step.RESPECT, Step.RELIABILITY, Step.GROWTH]
    assert [s.dimension for s in Step if s.is_rating] == list(DIMENSIONS)
    assert next_step(Step.MONTHS) is Step.MARKET
    assert next_step(Step.CONSISTENCY) is Step.CONSISTENCY_NOTE
    assert next_step(Step.CONSISTENCY_NOTE) is Step.RESPECT
    assert next_step(Step.ANYTHING_ELSE) is Step.SUMMARY
    # Editing one answer from the summary: its comment follows a rating, then straight back.
    assert next_step(Step.RESPECT, editing=True) is Step.RESPECT_NOTE
    assert next_step(Step.RESPECT_NOTE, editing=True) is Step.SUMMARY
    assert next_step(Step.MONTHS, editing=True) is Step.SUMMARY
    assert previous_step(Step.MONTHS) is None
    assert previous_step(Step.RESPECT) is Step.CONSISTENCY_NOTE
    assert Step.SUMMARY not in EDITABLE_STEPS and not any(s.is_note for s in EDITABLE_STEPS)


def test_a_questionnaire_saved_before_ranges_were_kept_resumes_with_its_range() -> None:
    from bot.handlers.references import ReferenceDraft

    old = ReferenceDraft.from_stored({"link_hash": "h", "partner_id": 1, "step": "market", "months": 8})
    assert (old.duration, old.months) == (Duration.FROM_6.value, 8)
    assert ReferenceDraft.from_stored({"duration": "bogus"}).duration is None
    assert ReferenceDraft.from_stored({"duration": "12plus"}).duration == Duration.FROM_12.value
