"""Phase 1: the quick gut check — three yes/no questions after one conversation."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from bot.domain.partners import VETTING_STAGES, Stage


class GutQuestion(StrEnum):
    """The three gut-check questions of field notes "Phase 1: Quick gut check (1 conversation)"."""

    UNDERSTANDS_UGC = "ugc"
    KNOWS_BOTH_MARKETS = "markets"
    ASKED_GOOD_QUESTIONS = "questions"


# Field notes "Do they understand UGC? / familiar with both markets? / ask good questions": in this order.
GUT_QUESTIONS: tuple[GutQuestion, ...] = (
    GutQuestion.UNDERSTANDS_UGC,
    GutQuestion.KNOWS_BOTH_MARKETS,
    GutQuestion.ASKED_GOOD_QUESTIONS,
)
# Field notes "Threshold: 3/3 = move to Phase 2": yes-answers needed to pass.
GUT_PASS_THRESHOLD = 3


@dataclass(frozen=True, slots=True)
class GutVerdict:
    """Result of one gut-check run."""

    passed: bool
    score: int
    failed: tuple[GutQuestion, ...]


def next_gut_question(answers: Mapping[GutQuestion, bool]) -> GutQuestion | None:
    """The first question not answered yet, or None when all are answered."""
    for question in GUT_QUESTIONS:
        if question not in answers:
            return question
    return None


def gut_check_verdict(answers: Mapping[GutQuestion, bool]) -> GutVerdict:
    """Verdict of a complete run; ValueError when an answer is missing, unknown or not a bool."""
    unknown = [key for key in answers if key not in GUT_QUESTIONS]
    if unknown:
        raise ValueError(f"unknown gut-check questions: {unknown!r}")
    missing = [question for question in GUT_QUESTIONS if question not in answers]
    if missing:
        raise ValueError(f"gut check incomplete, missing: {missing!r}")
    if not all(isinstance(answers[question], bool) for question in GUT_QUESTIONS):
        raise ValueError("gut-check answers must be booleans")
    failed = tuple(question for question in GUT_QUESTIONS if not answers[question])
    score = len(GUT_QUESTIONS) - len(failed)
    return GutVerdict(passed=score >= GUT_PASS_THRESHOLD, score=score, failed=failed)


def stage_after_gut_check(stage: Stage, verdict: GutVerdict) -> Stage:
    """New stage after a run: only a partner still being vetted moves; later stages keep theirs."""
    if stage not in VETTING_STAGES:
        return stage
    return Stage.READY_PILOT if verdict.passed else Stage.GUT_FAILED
