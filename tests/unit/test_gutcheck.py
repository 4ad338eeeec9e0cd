"""Gut check: 3/3 to move on, failed questions named, stage transitions."""

import itertools

import pytest

from bot.domain.gutcheck import (
    GUT_PASS_THRESHOLD,
    GUT_QUESTIONS,
    GutQuestion,
    GutVerdict,
    gut_check_verdict,
    next_gut_question,
    stage_after_gut_check,
)
from bot.domain.partners import Stage

UGC, MARKETS, QUESTIONS = GUT_QUESTIONS


def test_threshold_is_three_of_three():
    assert GUT_PASS_THRESHOLD == 3 == len(GUT_QUESTIONS)
    assert GUT_QUESTIONS == (
        GutQuestion.UNDERSTANDS_UGC,
        GutQuestion.KNOWS_BOTH_MARKETS,
        GutQuestion.ASKED_GOOD_QUESTIONS,
    )


@pytest.mark.parametrize(("a", "b", "c"), list(itertools.product([True, False], repeat=3)))
def test_every_answer_combination(a, b, c):
    verdict = gut_check_verdict({UGC: a, MARKETS: b, QUESTIONS: c})
    assert verdict.score == sum((a, b, c))
    assert verdict.passed is (a and b and c)
    assert verdict.failed == tuple(q for q, ok in zip(GUT_QUESTIONS, (a, b, c), strict=True) if not ok)


def test_two_of_three_does_not_pass_and_names_the_failed_question():
    verdict = gut_check_verdict({UGC: True, MARKETS: False, QUESTIONS: True})
    assert verdict == GutVerdict(passed=False, score=2, failed=(MARKETS,))


@pytest.mark.parametrize(
    "answers",
    [
        {},
        {UGC: True, MARKETS: True},
        {UGC: True, QUESTIONS: True},
        {UGC: True, MARKETS: True, QUESTIONS: 1},
        {UGC: True, MARKETS: True, QUESTIONS: True, "extra": True},
    ],
)
def test_incomplete_or_bad_answers_raise(answers):
    with pytest.raises(ValueError):
        gut_check_verdict(answers)


@pytest.mark.parametrize(
    ("answers", "expected"),
    [
        ({}, UGC),
        ({UGC: False}, MARKETS),
        ({UGC: True, MARKETS: True}, QUESTIONS),
        ({UGC: True, QUESTIONS: True}, MARKETS),
        ({UGC: True, MARKETS: True, QUESTIONS: False}, None),
    ],
)
def test_next_gut_question_resumes(answers, expected):
    assert next_gut_question(answers) == expected


PASS = GutVerdict(True, 3, ())
FAIL = GutVerdict(False, 2, (MARKETS,))


@pytest.mark.parametrize(
    ("stage", "verdict", "expected"),
    [
        (Stage.CANDIDATE, PASS, Stage.READY_PILOT),
        (Stage.CANDIDATE, FAIL, Stage.GUT_FAILED),
        (Stage.GUT_FAILED, PASS, Stage.READY_PILOT),
        (Stage.READY_PILOT, FAIL, Stage.GUT_FAILED),
        (Stage.PILOT, FAIL, Stage.PILOT),
        (Stage.RUNG2, PASS, Stage.RUNG2),
        (Stage.WALKED, PASS, Stage.WALKED),
    ],
)
def test_stage_after_gut_check(stage, verdict, expected):
    assert stage_after_gut_check(stage, verdict) is expected


def test_values_short():
    assert all(len(q.value) <= 12 for q in GutQuestion)
