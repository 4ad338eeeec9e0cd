"""/export's reads: one method per sheet, every one joined to the partners of the caller's workspace.

Values come back as stored (codes, ISO moments); naming them in the reader's language is bot/reports/export.py's.
Creators who gave references are never identified: a reference row has no respondent key, no link, no Telegram id.
Scorecards follow blind scoring: a partner's are read only for someone who has scored it too.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass

from bot.domain.references import DIMENSIONS, Dimension
from bot.storage.db import Database
from bot.storage.schema import table_exists

# A record of a partner's: in the workspace only through its partner.
_IN_WORKSPACE = "JOIN partners p ON p.id = x.partner_id AND p.workspace_id = ?"
# A record of a campaign's: in the workspace through the campaign's partner.
_IN_CAMPAIGN = "JOIN campaigns c ON c.id = x.campaign_id JOIN partners p ON p.id = c.partner_id AND p.workspace_id = ?"


@dataclass(frozen=True, slots=True)
class PartnerRow:
    id: int
    name: str
    kind: str
    markets: str
    stage: str
    archived: bool
    contact: str | None
    links: tuple[str, ...]
    shared_doc: str | None
    talked_failures: bool
    systematic_process: bool
    asked_constraints: bool
    author: str | None  # the display name of whoever added it
    created_at: str
    updated_at: str


@dataclass(frozen=True, slots=True)
class CaseStudyRow:
    id: int
    partner_id: int
    partner: str
    market: str
    brand: str
    outcome: str
    months: int
    link: str | None
    author: str | None
    created_at: str


@dataclass(frozen=True, slots=True)
class QuoteRow:
    """A testimonial (named apart so that test collectors leave it alone)."""

    id: int
    partner_id: int
    partner: str
    text: str
    author: str  # as typed: who said it
    adder: str | None
    created_at: str


@dataclass(frozen=True, slots=True)
class CommunityRow:
    id: int
    partner_id: int
    partner: str
    text: str
    link: str | None
    adder: str | None
    created_at: str


@dataclass(frozen=True, slots=True)
class GutCheckRow:
    id: int
    partner_id: int
    partner: str
    understands_ugc: bool
    knows_both_markets: bool
    asked_good_questions: bool
    passed: bool
    note: str | None
    runner: str | None
    created_at: str


@dataclass(frozen=True, slots=True)
class ScorecardRow:
    id: int
    partner_id: int
    partner: str
    rater: str | None
    ratings: Mapping[str, int]  # criterion code → rating, as stored
    total: float
    created_at: str


@dataclass(frozen=True, slots=True)
class CampaignRow:
    id: int
    partner_id: int
    partner: str
    rung: int
    creators: int
    deliverable: str
    start_date: str
    days: int
    due_date: str
    metrics: str
    metrics_agreed: bool
    payment_terms: str
    revision_limit: int
    creators_market: str
    charter_success: str
    charter_failure: str
    charter_renegotiate: str
    manager: str | None
    status: str
    created_at: str


@dataclass(frozen=True, slots=True)
class EventRow:
    id: int
    partner_id: int
    partner: str
    campaign_id: int
    kind: str
    note: str | None
    source: str
    author: str | None
    created_at: str


@dataclass(frozen=True, slots=True)
class DebriefRow:
    campaign_id: int
    partner_id: int
    partner: str
    what_worked: str
    what_didnt: str
    problem: str
    quality: int
    recommendation: str
    reasons: tuple[str, ...]  # reason codes
    decision: str
    override_reason: str | None
    decider: str | None
    created_at: str


@dataclass(frozen=True, slots=True)
class ReferenceRow:
    """Only the answer: nothing that identifies the creator."""

    id: int
    partner_id: int
    partner: str
    worked_range: str
    worked_months: int | None
    market: str
    ratings: Mapping[Dimension, int | None]
    comments: Mapping[Dimension, str | None]
    again: str
    anything_else: str | None
    locale: str
    finished_at: str
    too_fast: bool


@dataclass(frozen=True, slots=True)
class RoundRow:
    id: int
    partner_id: int
    partner: str
    chat_title: str | None
    occurrence: str
    status: str
    sent_at: str | None
    closed_at: str | None
    expected: int
    answered: int
    away: int


@dataclass(frozen=True, slots=True)
class CheckinAnswerRow:
    round_id: int
    partner_id: int
    partner: str
    name: str
    shipped: str | None
    next_steps: str | None
    blockers: str | None
    needs_call: bool
    answered_at: str


class ExportRepo:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def partners(self, workspace_id: int) -> list[PartnerRow]:
        rows = await self._db.fetchall(
            "SELECT p.*, u.display_name AS author FROM partners p LEFT JOIN users u ON u.id = p.created_by "
            "WHERE p.workspace_id = ? ORDER BY p.name_key, p.id",
            (workspace_id,),
        )
        return [
            PartnerRow(
                r["id"], r["name"], r["kind"], r["markets"], r["stage"], bool(r["archived"]), r["contact"],
                tuple(json.loads(r["links"] or "[]")), r["shared_doc"], bool(r["talked_failures"]),
                bool(r["systematic_process"]), bool(r["asked_constraints"]), r["author"], r["created_at"],
                r["updated_at"],
            )
            for r in rows
        ]

    async def case_studies(self, workspace_id: int) -> list[CaseStudyRow]:
        rows = await self._db.fetchall(
            f"SELECT x.*, p.name AS partner, u.display_name AS author FROM case_studies x {_IN_WORKSPACE} "
            "LEFT JOIN users u ON u.id = x.added_by ORDER BY p.name_key, x.id",
            (workspace_id,),
        )
        return [
            CaseStudyRow(
                r["id"], r["partner_id"], r["partner"], r["market"], r["brand"], r["outcome"], r["months"], r["link"],
                r["author"], r["created_at"],
            )
            for r in rows
        ]

    async def testimonials(self, workspace_id: int) -> list[QuoteRow]:
        rows = await self._db.fetchall(
            f"SELECT x.*, p.name AS partner, u.display_name AS adder FROM testimonials x {_IN_WORKSPACE} "
            "LEFT JOIN users u ON u.id = x.added_by ORDER BY p.name_key, x.id",
            (workspace_id,),
        )
        return [
            QuoteRow(r["id"], r["partner_id"], r["partner"], r["text"], r["author"], r["adder"], r["created_at"])
            for r in rows
        ]

    async def community(self, workspace_id: int) -> list[CommunityRow]:
        rows = await self._db.fetchall(
            f"SELECT x.*, p.name AS partner, u.display_name AS adder FROM community_activities x {_IN_WORKSPACE} "
            "LEFT JOIN users u ON u.id = x.added_by ORDER BY p.name_key, x.id",
            (workspace_id,),
        )
        return [
            CommunityRow(r["id"], r["partner_id"], r["partner"], r["text"], r["link"], r["adder"], r["created_at"])
            for r in rows
        ]

    async def gut_checks(self, workspace_id: int) -> list[GutCheckRow]:
        rows = await self._db.fetchall(
            f"SELECT x.*, p.name AS partner, u.display_name AS runner FROM gut_checks x {_IN_WORKSPACE} "
            "LEFT JOIN users u ON u.id = x.run_by ORDER BY p.name_key, x.id",
            (workspace_id,),
        )
        return [
            GutCheckRow(
                r["id"], r["partner_id"], r["partner"], bool(r["understands_ugc"]), bool(r["knows_both_markets"]),
                bool(r["asked_good_questions"]), bool(r["passed"]), r["note"], r["runner"], r["created_at"],
            )
            for r in rows
        ]

    async def scorecards(self, workspace_id: int, viewer_id: int) -> list[ScorecardRow]:
        """Every scorecard of a partner the viewer has scored too (blind scoring); none of the others."""
        rows = await self._db.fetchall(
            f"SELECT x.*, p.name AS partner, u.display_name AS rater FROM scorecards x {_IN_WORKSPACE} "
            "LEFT JOIN users u ON u.id = x.rater_id "
            "WHERE EXISTS (SELECT 1 FROM scorecards own WHERE own.partner_id = x.partner_id AND own.rater_id = ?) "
            "ORDER BY p.name_key, x.id",
            (workspace_id, viewer_id),
        )
        return [
            ScorecardRow(
                r["id"], r["partner_id"], r["partner"], r["rater"], json.loads(r["ratings"]), r["total"],
                r["created_at"],
            )
            for r in rows
        ]

    async def campaigns(self, workspace_id: int) -> list[CampaignRow]:
        rows = await self._db.fetchall(
            f"SELECT x.*, p.name AS partner, u.display_name AS manager FROM campaigns x {_IN_WORKSPACE} "
            "LEFT JOIN users u ON u.id = x.manager_id ORDER BY p.name_key, x.id",
            (workspace_id,),
        )
        return [
            CampaignRow(
                r["id"], r["partner_id"], r["partner"], r["rung"], r["creators"], r["deliverable"], r["start_date"],
                r["days"], r["due_date"], r["metrics"], bool(r["metrics_agreed"]), r["payment_terms"],
                r["revision_limit"], r["creators_market"], r["charter_success"], r["charter_failure"],
                r["charter_renegotiate"], r["manager"], r["status"], r["created_at"],
            )
            for r in rows
        ]

    async def events(self, workspace_id: int) -> list[EventRow]:
        rows = await self._db.fetchall(
            f"SELECT x.*, p.id AS pid, p.name AS partner, u.display_name AS author FROM campaign_events x "
            f"{_IN_CAMPAIGN} LEFT JOIN users u ON u.id = x.logged_by ORDER BY p.name_key, x.id",
            (workspace_id,),
        )
        return [
            EventRow(
                r["id"], r["pid"], r["partner"], r["campaign_id"], r["kind"], r["note"], r["source"], r["author"],
                r["created_at"],
            )
            for r in rows
        ]

    async def debriefs(self, workspace_id: int) -> list[DebriefRow]:
        rows = await self._db.fetchall(
            f"SELECT x.*, p.id AS pid, p.name AS partner, u.display_name AS decider FROM debriefs x {_IN_CAMPAIGN} "
            "LEFT JOIN users u ON u.id = x.decided_by ORDER BY p.name_key, x.campaign_id",
            (workspace_id,),
        )
        return [
            DebriefRow(
                r["campaign_id"], r["pid"], r["partner"], r["what_worked"], r["what_didnt"], r["problem"],
                r["quality"], r["recommendation"], tuple(json.loads(r["reasons"] or "[]")), r["decision"],
                r["override_reason"], r["decider"], r["created_at"],
            )
            for r in rows
        ]

    async def reference_answers(self, workspace_id: int) -> list[ReferenceRow] | None:
        """None when this database has no references table at all (the sheet is left out, not left empty)."""
        if not await table_exists(self._db, "reference_answers"):
            return None
        # Only the answer's columns leave here, never the respondent key or the link: nothing that names the creator.
        rows = await self._db.fetchall(
            f"SELECT x.*, p.name AS partner FROM reference_answers x {_IN_WORKSPACE} ORDER BY p.name_key, x.id",
            (workspace_id,),
        )
        return [
            ReferenceRow(
                r["id"], r["partner_id"], r["partner"], r["worked_range"], r["worked_months"], r["market"],
                {d: r[d.value] for d in DIMENSIONS}, {d: r[f"{d.value}_comment"] for d in DIMENSIONS}, r["again"],
                r["anything_else"], r["locale"], r["finished_at"], bool(r["too_fast"]),
            )
            for r in rows
        ]

    async def checkin_rounds(self, workspace_id: int) -> list[RoundRow] | None:
        """None when this database has no check-in rounds table."""
        if not await table_exists(self._db, "checkin_rounds"):
            return None
        rows = await self._db.fetchall(
            "SELECT x.*, p.name AS partner, ch.title AS chat_title, "
            "(SELECT COUNT(*) FROM checkin_round_members m WHERE m.round_id = x.id AND m.status != 'away') "
            "AS expected, "
            "(SELECT COUNT(*) FROM checkin_round_members m WHERE m.round_id = x.id AND m.status = 'answered') "
            "AS answered, "
            "(SELECT COUNT(*) FROM checkin_round_members m WHERE m.round_id = x.id AND m.status = 'away') AS away "
            "FROM checkin_rounds x JOIN checkin_schedules s ON s.id = x.schedule_id "
            "JOIN partners p ON p.id = x.partner_id AND p.workspace_id = ? "
            "LEFT JOIN chats ch ON ch.id = s.chat_id ORDER BY x.id",
            (workspace_id,),
        )
        return [
            RoundRow(
                r["id"], r["partner_id"], r["partner"], r["chat_title"], r["occurrence"], r["status"], r["sent_at"],
                r["closed_at"], r["expected"], r["answered"], r["away"],
            )
            for r in rows
        ]

    async def checkin_answers(self, workspace_id: int) -> list[CheckinAnswerRow] | None:
        """None when this database has no check-in answers table."""
        if not await table_exists(self._db, "checkin_answers"):
            return None
        rows = await self._db.fetchall(
            "SELECT x.*, p.id AS pid, p.name AS partner FROM checkin_answers x "
            "JOIN checkin_rounds cr ON cr.id = x.round_id "
            "JOIN partners p ON p.id = cr.partner_id AND p.workspace_id = ? ORDER BY x.round_id, x.answered_at",
            (workspace_id,),
        )
        return [
            CheckinAnswerRow(
                r["round_id"], r["pid"], r["partner"], r["name"], r["shipped"], r["next_steps"], r["blockers"],
                bool(r["needs_call"]), r["answered_at"],
            )
            for r in rows
        ]
