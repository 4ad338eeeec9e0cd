"""Gut-check runs and scorecard submissions, kept as history; scoped through the partner's workspace."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from bot.domain.gutcheck import GutQuestion, GutVerdict, gut_check_verdict
from bot.domain.scorecard import Criterion, score_card
from bot.storage.db import Database

_OWNED = "partner_id IN (SELECT id FROM partners WHERE id = ? AND workspace_id = ?)"


@dataclass(frozen=True, slots=True)
class GutRun:
    id: int
    answers: Mapping[GutQuestion, bool]
    verdict: GutVerdict
    note: str | None
    run_by: int | None
    created_at: str


@dataclass(frozen=True, slots=True)
class Submission:
    id: int
    rater_id: int | None
    ratings: Mapping[Criterion, int]
    total: float
    created_at: str


class AssessmentRepo:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def add_gut_check(
        self,
        workspace_id: int,
        partner_id: int,
        answers: Mapping[GutQuestion, bool],
        note: str | None,
        by: int,
        now: datetime,
    ) -> GutVerdict | None:
        """Store a complete run; None when the partner is not in this workspace."""
        verdict = gut_check_verdict(answers)
        async with self._db.session() as s:
            count = await s.execute_rowcount(
                "INSERT INTO gut_checks (partner_id, run_by, understands_ugc, knows_both_markets, "
                "asked_good_questions, passed, note, created_at) SELECT ?, ?, ?, ?, ?, ?, ?, ? "
                "WHERE EXISTS (SELECT 1 FROM partners WHERE id = ? AND workspace_id = ?)",
                (
                    partner_id,
                    by,
                    int(answers[GutQuestion.UNDERSTANDS_UGC]),
                    int(answers[GutQuestion.KNOWS_BOTH_MARKETS]),
                    int(answers[GutQuestion.ASKED_GOOD_QUESTIONS]),
                    int(verdict.passed),
                    note,
                    now.isoformat(),
                    partner_id,
                    workspace_id,
                ),
            )
        return verdict if count == 1 else None

    async def gut_checks(self, workspace_id: int, partner_id: int) -> list[GutRun]:
        """Every run, newest first."""
        rows = await self._db.fetchall(
            "SELECT id, run_by, understands_ugc, knows_both_markets, asked_good_questions, note, created_at "
            f"FROM gut_checks WHERE {_OWNED} ORDER BY id DESC",
            (partner_id, workspace_id),
        )
        runs = []
        for r in rows:
            answers = {
                GutQuestion.UNDERSTANDS_UGC: bool(r["understands_ugc"]),
                GutQuestion.KNOWS_BOTH_MARKETS: bool(r["knows_both_markets"]),
                GutQuestion.ASKED_GOOD_QUESTIONS: bool(r["asked_good_questions"]),
            }
            runs.append(
                GutRun(r["id"], answers, gut_check_verdict(answers), r["note"], r["run_by"], r["created_at"])
            )
        return runs

    async def add_scorecard(
        self, workspace_id: int, partner_id: int, ratings: Mapping[Criterion, int], by: int, now: datetime
    ) -> float | None:
        """Store a complete submission; returns its weighted total, None for another workspace's partner."""
        result = score_card(ratings)
        payload = json.dumps({criterion.value: int(value) for criterion, value in ratings.items()})
        count = await self._db.execute_rowcount(
            "INSERT INTO scorecards (partner_id, rater_id, ratings, total, created_at) SELECT ?, ?, ?, ?, ? "
            "WHERE EXISTS (SELECT 1 FROM partners WHERE id = ? AND workspace_id = ?)",
            (partner_id, by, payload, result.total, now.isoformat(), partner_id, workspace_id),
        )
        return result.total if count == 1 else None

    async def latest_scorecards(self, workspace_id: int, partner_id: int) -> dict[int, Submission]:
        """Each rater's most recent submission, by rater id (the team view uses these)."""
        rows = await self._db.fetchall(
            "SELECT id, rater_id, ratings, total, created_at FROM scorecards s "
            f"WHERE {_OWNED} AND rater_id IS NOT NULL "
            "AND id = (SELECT MAX(id) FROM scorecards t WHERE t.partner_id = s.partner_id AND t.rater_id = s.rater_id)",
            (partner_id, workspace_id),
        )
        return {r["rater_id"]: _submission(r) for r in rows}

    async def scorecard_history(self, workspace_id: int, partner_id: int) -> list[Submission]:
        rows = await self._db.fetchall(
            f"SELECT id, rater_id, ratings, total, created_at FROM scorecards WHERE {_OWNED} ORDER BY id DESC",
            (partner_id, workspace_id),
        )
        return [_submission(r) for r in rows]


def _submission(r: object) -> Submission:
    raw = json.loads(r["ratings"])  # type: ignore[index]
    ratings = {Criterion(key): int(value) for key, value in raw.items()}
    return Submission(r["id"], r["rater_id"], ratings, r["total"], r["created_at"])  # type: ignore[index]
