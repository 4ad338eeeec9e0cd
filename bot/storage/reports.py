"""What the report pictures read beyond the partner card: every query filtered by the caller's workspace."""

from __future__ import annotations

import json
from dataclasses import dataclass

from bot.domain.partners import Stage
from bot.domain.scorecard import Criterion
from bot.storage.db import Database
from bot.storage.schema import table_has_rows


@dataclass(frozen=True, slots=True)
class ClosedRound:
    """One closed check-in round: who answered, out of those expected to (away members count in neither)."""

    partner_id: int
    occurrence: str  # ISO moment the round was scheduled for
    answered: int
    expected: int


@dataclass(frozen=True, slots=True)
class PortfolioRow:
    """An active partner as the portfolio report places it."""

    partner_id: int
    name: str
    stage: Stage
    gut_passed: bool
    top_rung: int  # highest rung a campaign was scoped on; 0 before the pilot


class ReportRepo:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def latest_scorecards(self, workspace_id: int) -> dict[int, dict[int, dict[Criterion, int]]]:
        """Each rater's latest scorecard per active partner of the workspace: {partner: {rater: ratings}}."""
        rows = await self._db.fetchall(
            "SELECT s.partner_id, s.rater_id, s.ratings FROM scorecards s JOIN partners p ON p.id = s.partner_id "
            "WHERE p.workspace_id = ? AND p.archived = 0 AND s.rater_id IS NOT NULL AND s.id = "
            "(SELECT MAX(t.id) FROM scorecards t WHERE t.partner_id = s.partner_id AND t.rater_id = s.rater_id)",
            (workspace_id,),
        )
        cards: dict[int, dict[int, dict[Criterion, int]]] = {}
        for row in rows:
            ratings = {Criterion(key): int(value) for key, value in json.loads(row["ratings"]).items()}
            cards.setdefault(row["partner_id"], {})[row["rater_id"]] = ratings
        return cards

    async def closed_rounds(self, workspace_id: int, partner_id: int | None = None) -> list[ClosedRound]:
        """Closed check-in rounds of the workspace (of one partner, if given), oldest first; none where check-ins
        were never used (the table may not even exist in an older file)."""
        if not await table_has_rows(self._db, "checkin_rounds"):
            return []
        only_partner = "AND r.partner_id = ? " if partner_id is not None else ""
        params: tuple[int, ...] = (workspace_id, partner_id) if partner_id is not None else (workspace_id,)
        rows = await self._db.fetchall(
            "SELECT r.partner_id, r.occurrence, "
            "COALESCE(SUM(m.status = 'answered'), 0) AS answered, COALESCE(SUM(m.status != 'away'), 0) AS expected "
            "FROM checkin_rounds r JOIN partners p ON p.id = r.partner_id AND p.workspace_id = ? "
            "LEFT JOIN checkin_round_members m ON m.round_id = r.id "
            f"WHERE r.status = 'closed' {only_partner}GROUP BY r.id ORDER BY r.occurrence, r.id",
            params,
        )
        return [ClosedRound(r["partner_id"], r["occurrence"], int(r["answered"]), int(r["expected"])) for r in rows]

    async def portfolio_partners(self, workspace_id: int) -> list[PortfolioRow]:
        """Every active (not archived) partner of the workspace, in name order."""
        rows = await self._db.fetchall(
            "SELECT p.id, p.name, p.stage, "
            "EXISTS (SELECT 1 FROM gut_checks g WHERE g.partner_id = p.id AND g.passed = 1) AS gut_passed, "
            "COALESCE((SELECT MAX(c.rung) FROM campaigns c WHERE c.partner_id = p.id), 0) AS top_rung "
            "FROM partners p WHERE p.workspace_id = ? AND p.archived = 0 ORDER BY p.name_key, p.id",
            (workspace_id,),
        )
        return [
            PortfolioRow(r["id"], r["name"], Stage(r["stage"]), bool(r["gut_passed"]), int(r["top_rung"]))
            for r in rows
        ]
